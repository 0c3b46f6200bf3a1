package dynamo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/deskline/deskline/shared/deskline"
)

// TypeFile is the item type of file attachments.
const TypeFile = "file"

// Files live in their parent's partition, like comments: a ticket's or a
// task's own files under SK "F#<fileId>", a comment's files in the
// partition of the comment's ticket or task under SK
// "F#<commentId>#<fileId>". An alias item (PK "FILE#<fileId>") finds the
// file from its id. One Query (begins_with) lists a parent's files; a
// cascade of the partition removes them with everything else.
const filePrefix = "F#"

// PendingFileGrace is how long a pending file outlives its presigned
// upload: an upload begun just before the policy expired may still be
// arriving. After that nothing can arrive, and the pending file is gone:
// reads hide it at once, and the item and its alias carry the TTL
// attribute so DynamoDB deletes them (late). A checked file loses it.
const PendingFileGrace = time.Hour

func fileAliasPK(id string) string { return "FILE#" + id }

func fileSK(f *deskline.File) string {
	if f.CommentID != "" {
		return filePrefix + f.CommentID + "#" + f.ID
	}
	return filePrefix + f.ID
}

// fileItem is a file as stored: the metadata plus where its bytes are.
type fileItem struct {
	keys
	ObjectKey string `json:"objectKey"`
	ExpiresAt int64  `json:"expiresAt,omitempty"` // while pending (TTL)
	*deskline.File
}

// expired reports whether a pending file outlived its upload.
func (fi fileItem) expired(now time.Time) bool {
	return fi.Status == deskline.FilePending && fi.ExpiresAt != 0 && now.Unix() >= fi.ExpiresAt
}

// fileAliasItem finds a file's item from its id.
type fileAliasItem struct {
	PK        string `json:"PK"`
	SK        string `json:"SK"`
	Type      string `json:"type"`
	ParentPK  string `json:"parentPK"` // the ticket's or task's partition
	ParentSK  string `json:"parentSK"` // the ticket or task item in it
	ItemSK    string `json:"itemSK"`   // the file item in it
	CommentID string `json:"commentId,omitempty"`
	ExpiresAt int64  `json:"expiresAt,omitempty"` // while the file is pending (TTL)
}

var (
	errFileNotFound = deskline.Errorf(deskline.ENOTFOUND, "File not found")
	errFileGone     = deskline.Errorf(deskline.ECONFLICT, "The file was deleted or already checked")
)

// IsFileGone reports whether a MarkFile failed because the file is no longer
// pending under that object key (deleted, or checked already).
func IsFileGone(err error) bool { return err == errFileGone }

// FileRecord is a file with what the store knows around it.
type FileRecord struct {
	File *deskline.File
	// ObjectKey is where the file's bytes are in the bucket.
	ObjectKey string
	// Parent is the ticket or task the file (or its comment) belongs to.
	Parent Parent
	// Comment is the comment the file is on, if any.
	Comment *deskline.Comment

	pk, sk string
}

// FileTarget says where a new file goes: on a ticket or a task, or on a
// comment of one (CommentID set).
type FileTarget struct {
	EntityType string // TypeTicket or TypeTask
	EntityID   string
	CommentID  string
}

// CreateFile stores a new pending file and its alias, if its parent (and
// comment) still exist. Both expire PendingFileGrace after uploadExpires,
// when the presigned upload does, unless MarkFile checks the file first.
func (s *Store) CreateFile(ctx context.Context, f *deskline.File, objectKey string, t FileTarget, uploadExpires time.Time) error {
	f.Version = 1
	pk, psk := EntityPK(t.EntityType, t.EntityID)
	expires := uploadExpires.Add(PendingFileGrace).Unix()
	item, err := marshalItem(fileItem{keys: keys{PK: pk, SK: fileSK(f), Type: TypeFile}, ObjectKey: objectKey, ExpiresAt: expires, File: f})
	if err != nil {
		return fmt.Errorf("marshal file %s: %w", f.ID, err)
	}
	alias, err := marshalItem(fileAliasItem{PK: fileAliasPK(f.ID), SK: "REF", Type: TypeAlias, ParentPK: pk, ParentSK: psk, ItemSK: fileSK(f), CommentID: f.CommentID, ExpiresAt: expires})
	if err != nil {
		return fmt.Errorf("marshal file alias: %w", err)
	}
	items := []types.TransactWriteItem{
		putNew(s.table, item),
		putNew(s.table, alias),
		{ConditionCheck: &types.ConditionCheck{TableName: aws.String(s.table), Key: key(pk, psk), ConditionExpression: aws.String("attribute_exists(PK)")}},
	}
	gone := deskline.Errorf(deskline.ENOTFOUND, "The ticket or task was deleted")
	reasons := []error{errStale("file"), errStale("file"), gone}
	if t.CommentID != "" {
		items = append(items, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
			TableName: aws.String(s.table), Key: key(pk, commentSK(t.CommentID)), ConditionExpression: aws.String("attribute_exists(PK)"),
		}})
		reasons = append(reasons, errCommentNotFound)
	}
	if _, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items}); err != nil {
		return txError("create file "+f.ID, err, reasons)
	}
	return nil
}

// GetFile returns a file with its parent (and comment): one GetItem of the
// alias, then one BatchGetItem. A file whose parent or comment is gone (a
// cascade is on its way) is not found.
func (s *Store) GetFile(ctx context.Context, id string) (*FileRecord, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(fileAliasPK(id), "REF"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("get file alias %s: %w", id, err)
	}
	if out.Item == nil {
		return nil, errFileNotFound
	}
	var a fileAliasItem
	if err := unmarshalItem(out.Item, &a); err != nil {
		return nil, fmt.Errorf("unmarshal file alias: %w", err)
	}
	ks := []map[string]types.AttributeValue{key(a.ParentPK, a.ItemSK), key(a.ParentPK, a.ParentSK)}
	if a.CommentID != "" {
		ks = append(ks, key(a.ParentPK, commentSK(a.CommentID)))
	}
	items, err := s.batchGet(ctx, ks)
	if err != nil {
		return nil, fmt.Errorf("get file %s: %w", id, err)
	}
	raw, ok := items[keyID(a.ParentPK, a.ItemSK)]
	if !ok {
		return nil, errFileNotFound
	}
	rec := &FileRecord{File: &deskline.File{}, pk: a.ParentPK, sk: a.ItemSK}
	fi := fileItem{File: rec.File}
	if err := unmarshalItem(raw, &fi); err != nil {
		return nil, fmt.Errorf("unmarshal file %s: %w", id, err)
	}
	if fi.expired(s.clock.Now()) {
		return nil, errFileNotFound
	}
	rec.ObjectKey = fi.ObjectKey
	praw := items[keyID(a.ParentPK, a.ParentSK)]
	if praw == nil {
		return nil, errFileNotFound
	}
	if rec.Parent, err = decodeParent(praw); err != nil {
		return nil, err
	}
	if a.CommentID != "" {
		craw := items[keyID(a.ParentPK, commentSK(a.CommentID))]
		if craw == nil {
			return nil, errFileNotFound
		}
		rec.Comment = &deskline.Comment{}
		if err := unmarshalItem(craw, rec.Comment); err != nil {
			return nil, fmt.Errorf("unmarshal comment %s: %w", a.CommentID, err)
		}
	}
	return rec, nil
}

// MarkFile records the outcome of a pending file's check: available, or
// rejected with a reason, and takes the expiry off the file and its alias.
// It writes only while the file is still pending under the same object key
// (even past its expiry, if DynamoDB has not deleted it yet: the upload did
// arrive); otherwise it fails with an error IsFileGone accepts.
func (s *Store) MarkFile(ctx context.Context, rec *FileRecord, status deskline.FileStatus, reason string, now time.Time) error {
	expr := "SET #st = :st, updated_at = :now, version = version + :one"
	values := map[string]types.AttributeValue{
		":st": str(string(status)), ":now": str(now.UTC().Format(time.RFC3339Nano)), ":one": num(1),
		":pending": str(string(deskline.FilePending)), ":key": str(rec.ObjectKey),
	}
	if reason != "" {
		expr += ", reason = :reason"
		values[":reason"] = str(reason)
	}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{
			TableName: aws.String(s.table), Key: key(rec.pk, rec.sk),
			UpdateExpression:          aws.String(expr + " REMOVE expiresAt"),
			ConditionExpression:       aws.String("attribute_exists(PK) AND #st = :pending AND objectKey = :key"),
			ExpressionAttributeNames:  map[string]string{"#st": "status"},
			ExpressionAttributeValues: values,
		}},
		{Update: &types.Update{
			TableName: aws.String(s.table), Key: key(fileAliasPK(rec.File.ID), "REF"),
			UpdateExpression:    aws.String("REMOVE expiresAt"),
			ConditionExpression: aws.String("attribute_exists(PK)"),
		}},
	}})
	if err != nil {
		return txError("mark file "+rec.File.ID+" "+string(status), err, []error{errFileGone, errFileGone})
	}
	rec.File.Status, rec.File.Reason, rec.File.UpdatedAt = status, reason, now
	rec.File.Version++
	return nil
}

// DeleteFile deletes a file's item and alias. Its object is deleted by the
// caller, and again by the stream projector when it sees the item go.
func (s *Store) DeleteFile(ctx context.Context, rec *FileRecord) error {
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Delete: &types.Delete{TableName: aws.String(s.table), Key: key(rec.pk, rec.sk), ConditionExpression: aws.String("attribute_exists(PK)")}},
		{Delete: &types.Delete{TableName: aws.String(s.table), Key: key(fileAliasPK(rec.File.ID), "REF")}},
	}})
	if err != nil {
		return txError("delete file "+rec.File.ID, err, []error{errFileNotFound})
	}
	return nil
}

// FileParent names a parent whose files to list: a ticket or a task
// (Parent), or one comment on it (CommentID set).
type FileParent struct {
	Parent    Parent
	CommentID string
}

// ListFiles lists a parent's files, newest first, one page at a time. A
// ticket's or task's list holds its own files, not its comments'.
func (s *Store) ListFiles(ctx context.Context, p FileParent, limit int, cursor string) (Page[*deskline.File], error) {
	var pk string
	switch {
	case p.Parent.Ticket != nil:
		pk, _ = EntityPK(TypeTicket, p.Parent.Ticket.ID)
	case p.Parent.Task != nil:
		pk, _ = EntityPK(TypeTask, p.Parent.Task.ID)
	default:
		return Page[*deskline.File]{}, errFileNotFound
	}
	prefix := filePrefix + deskline.PrefixFile + "-"
	if p.CommentID != "" {
		prefix = filePrefix + p.CommentID + "#"
	}
	in := &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :f)"),
		// Pending files whose upload can no longer arrive are gone.
		FilterExpression:         aws.String("#st <> :pending OR attribute_not_exists(expiresAt) OR expiresAt > :now"),
		ExpressionAttributeNames: map[string]string{"#st": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(pk), ":f": str(prefix), ":pending": str(string(deskline.FilePending)), ":now": num(s.clock.Now().Unix()),
		},
		ScanIndexForward: aws.Bool(false),
		ConsistentRead:   aws.Bool(true),
	}
	return queryPage(ctx, s, in, limit, cursor, []string{"PK", "SK"}, "PK", pk, func(raw map[string]types.AttributeValue) (*deskline.File, error) {
		f := &deskline.File{}
		err := unmarshalItem(raw, f)
		return f, err
	})
}

// DeleteCommentFiles deletes the items and aliases of a deleted comment's
// files (the stream projector then deletes their objects). Safe to repeat.
func (s *Store) DeleteCommentFiles(ctx context.Context, entityType, entityID, commentID string) error {
	pk, _ := EntityPK(entityType, entityID)
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :f)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk), ":f": str(filePrefix + commentID + "#")},
		ProjectionExpression:      aws.String("PK, SK, id"),
		ConsistentRead:            aws.Bool(true),
	}
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return fmt.Errorf("query files of comment %s: %w", commentID, err)
		}
		var ks []map[string]types.AttributeValue
		for _, it := range out.Items {
			ks = append(ks, map[string]types.AttributeValue{"PK": it["PK"], "SK": it["SK"]})
			if id, _ := it["id"].(*types.AttributeValueMemberS); id != nil {
				ks = append(ks, key(fileAliasPK(id.Value), "REF"))
			}
		}
		if err := s.batchDelete(ctx, ks); err != nil {
			return fmt.Errorf("delete files of comment %s: %w", commentID, err)
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// FileObjectKey returns the object key in a file item's stream image (the
// projector deletes it when the item goes).
func FileObjectKey(image map[string]types.AttributeValue) string {
	if v, ok := image["objectKey"].(*types.AttributeValueMemberS); ok && strings.HasPrefix(v.Value, "files/") {
		return v.Value
	}
	return ""
}
