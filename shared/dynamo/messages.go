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

// A conversation between two users is one partition ("CONV#<a>#<b>", ids
// sorted) of messages ("MSG#<id>", ids sort by time). Each user has one
// conversation item per peer ("PEER#<peer>" in the user's partition) with the
// last message and the unread count, indexed in GSI1 under "CONVS#<user>"
// by the last message's time.
func convPK(a, b string) string {
	if b < a {
		a, b = b, a
	}
	return "CONV#" + a + "#" + b
}
func peerSK(peer string) string    { return "PEER#" + peer }
func convsPK(userID string) string { return "CONVS#" + userID }
func messageSK(id string) string   { return "MSG#" + id }

type messageItem struct {
	keys
	*deskline.Message
}

// Conversation is one user's view of a conversation with a peer.
type Conversation struct {
	PeerID      string            `json:"peerId"`
	LastMessage *deskline.Message `json:"lastMessage"`
	Unread      int               `json:"unreadCount"`
	UpdatedAt   time.Time         `json:"updatedAt"`
}

type conversationItem struct {
	keys
	PeerID      string            `json:"peerId"`
	LastMessage *deskline.Message `json:"lastMessage"`
	Unread      int               `json:"unread"`
	UpdatedAt   time.Time         `json:"updatedAt"`
}

// SendMessage stores a message and updates both users' conversation items,
// in one transaction.
func (s *Store) SendMessage(ctx context.Context, m *deskline.Message, rec *Idem) error {
	item, err := marshalItem(messageItem{keys: keys{PK: convPK(m.FromUserID, m.ToUserID), SK: messageSK(m.ID), Type: TypeMessage}, Message: m})
	if err != nil {
		return fmt.Errorf("marshal message: %w", err)
	}
	last, err := marshalItem(struct {
		M *deskline.Message `json:"m"`
	}{m})
	if err != nil {
		return fmt.Errorf("marshal message: %w", err)
	}
	at := m.CreatedAt.UTC().Format(time.RFC3339Nano)
	peer := func(user, other string, unread int64) types.TransactWriteItem {
		return types.TransactWriteItem{Update: &types.Update{
			TableName: aws.String(s.table), Key: key(userPK(user), peerSK(other)),
			UpdateExpression: aws.String("SET #t = :type, peerId = :peer, lastMessage = :last, updatedAt = :at, " +
				"GSI1PK = :gpk, GSI1SK = :gsk, unread = if_not_exists(unread, :zero) + :inc"),
			ExpressionAttributeNames: map[string]string{"#t": "type"},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":type": str(TypeConversation), ":peer": str(other), ":last": last["m"], ":at": str(at),
				":gpk": str(convsPK(user)), ":gsk": str(sortTime(m.CreatedAt) + "#" + other), ":zero": num(0), ":inc": num(unread),
			},
		}}
	}
	items := []types.TransactWriteItem{putNew(s.table, item), peer(m.FromUserID, m.ToUserID, 0), peer(m.ToUserID, m.FromUserID, 1)}
	reasons := []error{errStale("message"), nil, nil}
	if items, reasons, err = s.withIdem(items, reasons, rec); err != nil {
		return err
	}
	if _, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items}); err != nil {
		return txError("send message "+m.ID, err, reasons)
	}
	return nil
}

// ListConversations lists a user's conversations, most recent first.
func (s *Store) ListConversations(ctx context.Context, userID string, limit int, cursor string) (Page[*Conversation], error) {
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String(GSI1),
		KeyConditionExpression:    aws.String("GSI1PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(convsPK(userID))},
		ScanIndexForward:          aws.Bool(false),
	}
	return queryPage(ctx, s, in, limit, cursor, []string{"PK", "SK", "GSI1PK", "GSI1SK"}, "GSI1PK", convsPK(userID), func(raw map[string]types.AttributeValue) (*Conversation, error) {
		var it conversationItem
		if err := unmarshalItem(raw, &it); err != nil {
			return nil, err
		}
		return &Conversation{PeerID: it.PeerID, LastMessage: it.LastMessage, Unread: it.Unread, UpdatedAt: it.UpdatedAt}, nil
	})
}

// ListMessages lists the messages between two users, newest first.
func (s *Store) ListMessages(ctx context.Context, a, b string, limit int, cursor string) (Page[*deskline.Message], error) {
	pk := convPK(a, b)
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :m)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk), ":m": str("MSG#")},
		ScanIndexForward:          aws.Bool(false),
	}
	return queryPage(ctx, s, in, limit, cursor, []string{"PK", "SK"}, "PK", pk, func(raw map[string]types.AttributeValue) (*deskline.Message, error) {
		m := &deskline.Message{}
		err := unmarshalItem(raw, m)
		return m, err
	})
}

// MarkConversationRead sets a user's unread count with a peer to zero.
func (s *Store) MarkConversationRead(ctx context.Context, userID, peer string) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(userPK(userID), peerSK(peer)),
		UpdateExpression:          aws.String("SET unread = :zero"),
		ConditionExpression:       aws.String("attribute_exists(PK)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":zero": num(0)},
	})
	if isConditionFailed(err) {
		return deskline.Errorf(deskline.ENOTFOUND, "No conversation with this user")
	} else if err != nil {
		return fmt.Errorf("mark conversation read: %w", err)
	}
	return nil
}
