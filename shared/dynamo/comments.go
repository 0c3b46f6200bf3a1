package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/deskline/deskline/shared/deskline"
)

// Comments live in their parent's partition (SK "C#<id>"); an alias item
// (PK "CMT#<id>") finds the parent from a comment id.
func commentAliasPK(id string) string { return "CMT#" + id }
func commentSK(id string) string      { return commentPrefix + id }

var errCommentNotFound = deskline.Errorf(deskline.ENOTFOUND, "Comment not found")

// Parent is the ticket or the task a comment (or file) belongs to.
type Parent struct {
	Ticket *deskline.Ticket
	Task   *deskline.Task
}

// parentKey returns the key of a comment's parent.
func parentKey(c *deskline.Comment) (pk, sk string) {
	if c.TicketID != "" {
		return ticketPK(c.TicketID), skTicket
	}
	return taskPK(c.TaskID), skTask
}

type commentItem struct {
	keys
	*deskline.Comment
}

type aliasItem struct {
	PK       string `json:"PK"`
	SK       string `json:"SK"`
	Type     string `json:"type"`
	ParentPK string `json:"parentPK"`
	ParentSK string `json:"parentSK"`
}

func (s *Store) commentItem(c *deskline.Comment) (map[string]types.AttributeValue, error) {
	pk, _ := parentKey(c)
	item, err := marshalItem(commentItem{keys: keys{PK: pk, SK: commentSK(c.ID), Type: TypeComment}, Comment: c})
	if err != nil {
		return nil, fmt.Errorf("marshal comment %s: %w", c.ID, err)
	}
	return item, nil
}

// CreateComment stores a comment and its alias, if its parent still exists.
func (s *Store) CreateComment(ctx context.Context, c *deskline.Comment, rec *Idem) error {
	c.Version = 1
	item, err := s.commentItem(c)
	if err != nil {
		return err
	}
	ppk, psk := parentKey(c)
	alias, err := marshalItem(aliasItem{PK: commentAliasPK(c.ID), SK: "REF", Type: TypeAlias, ParentPK: ppk, ParentSK: psk})
	if err != nil {
		return fmt.Errorf("marshal comment alias: %w", err)
	}
	items := []types.TransactWriteItem{
		putNew(s.table, item),
		putNew(s.table, alias),
		{ConditionCheck: &types.ConditionCheck{TableName: aws.String(s.table), Key: key(ppk, psk), ConditionExpression: aws.String("attribute_exists(PK)")}},
	}
	reasons := []error{errStale("comment"), errStale("comment"), deskline.Errorf(deskline.ENOTFOUND, "The ticket or task was deleted")}
	if items, reasons, err = s.withIdem(items, reasons, rec); err != nil {
		return err
	}
	if _, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items}); err != nil {
		return txError("create comment "+c.ID, err, reasons)
	}
	return nil
}

// GetCommentWithParent returns a comment and its parent: one GetItem of the
// alias, then one BatchGetItem of both.
func (s *Store) GetCommentWithParent(ctx context.Context, id string) (*deskline.Comment, Parent, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(commentAliasPK(id), "REF"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, Parent{}, fmt.Errorf("get comment alias %s: %w", id, err)
	}
	if out.Item == nil || out.Item["deletedBy"] != nil {
		return nil, Parent{}, errCommentNotFound
	}
	var a aliasItem
	if err := unmarshalItem(out.Item, &a); err != nil {
		return nil, Parent{}, fmt.Errorf("unmarshal comment alias: %w", err)
	}
	items, err := s.batchGet(ctx, []map[string]types.AttributeValue{key(a.ParentPK, commentSK(id)), key(a.ParentPK, a.ParentSK)})
	if err != nil {
		return nil, Parent{}, fmt.Errorf("get comment %s: %w", id, err)
	}
	raw, ok := items[keyID(a.ParentPK, commentSK(id))]
	if !ok {
		return nil, Parent{}, errCommentNotFound
	}
	c := &deskline.Comment{}
	if err := unmarshalItem(raw, c); err != nil {
		return nil, Parent{}, fmt.Errorf("unmarshal comment %s: %w", id, err)
	}
	p, err := decodeParent(items[keyID(a.ParentPK, a.ParentSK)])
	if err != nil {
		return nil, Parent{}, err
	}
	return c, p, nil
}

func decodeParent(raw map[string]types.AttributeValue) (Parent, error) {
	var p Parent
	if raw == nil {
		return p, errCommentNotFound
	}
	switch raw["type"].(*types.AttributeValueMemberS).Value {
	case TypeTicket:
		p.Ticket = &deskline.Ticket{}
		if err := unmarshalItem(raw, &ticketItem{Ticket: p.Ticket}); err != nil {
			return p, fmt.Errorf("unmarshal ticket: %w", err)
		}
	case TypeTask:
		p.Task = &deskline.Task{}
		if err := unmarshalItem(raw, &taskItem{Task: p.Task}); err != nil {
			return p, fmt.Errorf("unmarshal task: %w", err)
		}
	}
	return p, nil
}

// UpdateComment writes next over prev, conditional on prev's version.
func (s *Store) UpdateComment(ctx context.Context, prev, next *deskline.Comment) error {
	next.Version = prev.Version + 1
	item, err := s.commentItem(next)
	if err != nil {
		return err
	}
	if err := s.putVersioned(ctx, item, prev.Version, "comment", next.ID); err != nil {
		next.Version = prev.Version
		return err
	}
	return nil
}

// DeleteComment deletes a comment and its alias.
//
// Its alias stays for a while as a note of who deleted it (the stream's
// old image cannot say), which the history reads (CommentDeleter); the TTL
// removes the note after the stream's 24 hours of retention.
func (s *Store) DeleteComment(ctx context.Context, c *deskline.Comment, actorID string) error {
	pk, _ := parentKey(c)
	now := s.clock.Now()
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Delete: &types.Delete{
			TableName: aws.String(s.table), Key: key(pk, commentSK(c.ID)),
			ConditionExpression:       aws.String("version = :v"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(c.Version)},
		}},
		{Update: &types.Update{
			TableName: aws.String(s.table), Key: key(commentAliasPK(c.ID), "REF"),
			UpdateExpression: aws.String("SET deletedBy = :by, deletedAt = :at, " + TTLAttribute + " = :exp"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":by": str(actorID), ":at": str(now.UTC().Format(time.RFC3339Nano)), ":exp": num(now.Add(deletionNoteKeep).Unix()),
			},
		}},
	}})
	if err != nil {
		return txError("delete comment "+c.ID, err, []error{errStale("comment")})
	}
	return nil
}

// deletionNoteKeep is how long a deleted comment's alias notes who deleted
// it: longer than the stream keeps the deletion's record.
const deletionNoteKeep = 48 * time.Hour

// CommentDeleter returns who deleted a comment, from the note its deletion
// left ("" when there is none: a cascade deleted it, or the note expired).
func (s *Store) CommentDeleter(ctx context.Context, commentID string) (string, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: key(commentAliasPK(commentID), "REF"),
		ProjectionExpression: aws.String("deletedBy"), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return "", fmt.Errorf("get deletion note of comment %s: %w", commentID, err)
	}
	if v, ok := out.Item["deletedBy"].(*types.AttributeValueMemberS); ok {
		return v.Value, nil
	}
	return "", nil
}

// ListComments lists a parent's comments by time (newest first unless
// oldestFirst), one page at a time.
func (s *Store) ListComments(ctx context.Context, p Parent, oldestFirst bool, limit int, cursor string) (Page[*deskline.Comment], error) {
	pk := taskPK("")
	if p.Ticket != nil {
		pk = ticketPK(p.Ticket.ID)
	} else if p.Task != nil {
		pk = taskPK(p.Task.ID)
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :c)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk), ":c": str(commentPrefix)},
		ScanIndexForward:          aws.Bool(oldestFirst),
		ConsistentRead:            aws.Bool(true),
	}
	return queryPage(ctx, s, in, limit, cursor, []string{"PK", "SK"}, "PK", pk, func(raw map[string]types.AttributeValue) (*deskline.Comment, error) {
		c := &deskline.Comment{}
		err := unmarshalItem(raw, c)
		return c, err
	})
}
