package dynamo

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/deskline/deskline/shared/deskline"
)

// Item types of the real-time features.
const (
	TypeNotification = "notification"
	TypeConnection   = "connection"
	TypeMessage      = "message"
	TypeConversation = "conversation"
)

// Notifications live in their recipient's partition (SK "NOTIF#<id>", ids
// sort by time). While unread, GSI1 indexes them under "UNREAD#<user>"; GSI2
// indexes them under their actor ("NACTOR#<user>") for the related list.
func notifSK(id string) string          { return "NOTIF#" + id }
func unreadPK(userID string) string     { return "UNREAD#" + userID }
func notifActorPK(userID string) string { return "NACTOR#" + userID }

// notificationItem is a notification as stored: its type is kept as
// notificationType, since "type" is the item type.
type notificationItem struct {
	keys
	ID               string    `json:"id"`
	UserID           string    `json:"userId"`
	NotificationType string    `json:"notificationType"`
	Message          string    `json:"message"`
	TicketID         string    `json:"ticketId,omitempty"`
	TaskID           string    `json:"taskId,omitempty"`
	MessageID        string    `json:"messageId,omitempty"`
	ActorID          string    `json:"actorId"`
	IsRead           bool      `json:"isRead"`
	CreatedAt        time.Time `json:"createdAt"`
}

func (it *notificationItem) notification() *deskline.Notification {
	return &deskline.Notification{
		ID: it.ID, UserID: it.UserID, Type: deskline.NotificationType(it.NotificationType), Message: it.Message,
		TicketID: it.TicketID, TaskID: it.TaskID, MessageID: it.MessageID, ActorID: it.ActorID, IsRead: it.IsRead, CreatedAt: it.CreatedAt,
	}
}

var errNotificationNotFound = deskline.Errorf(deskline.ENOTFOUND, "Notification not found")

// PutNotifications stores notifications that do not exist yet and returns
// those it created: a replayed change creates (and pushes) nothing twice.
func (s *Store) PutNotifications(ctx context.Context, ns []deskline.Notification) ([]deskline.Notification, error) {
	var (
		mu      sync.Mutex
		created []deskline.Notification
		errs    []error
		wg      sync.WaitGroup
		sem     = make(chan struct{}, 16)
	)
	for i := range ns {
		n := ns[i]
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			k := keys{PK: userPK(n.UserID), SK: notifSK(n.ID), Type: TypeNotification, GSI2PK: notifActorPK(n.ActorID), GSI2SK: n.ID}
			if !n.IsRead {
				k.GSI1PK, k.GSI1SK = unreadPK(n.UserID), n.ID
			}
			item, err := marshalItem(notificationItem{
				keys: k, ID: n.ID, UserID: n.UserID, NotificationType: string(n.Type), Message: n.Message,
				TicketID: n.TicketID, TaskID: n.TaskID, MessageID: n.MessageID, ActorID: n.ActorID, IsRead: n.IsRead, CreatedAt: n.CreatedAt,
			})
			if err == nil {
				_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
					TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)"),
				})
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				created = append(created, n)
			case !isConditionFailed(err):
				errs = append(errs, fmt.Errorf("put notification %s: %w", n.ID, err))
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return created, errs[0]
	}
	sort.Slice(created, func(i, j int) bool { return created[i].ID < created[j].ID })
	return created, nil
}

// NotificationFilter narrows a notification list.
type NotificationFilter struct {
	IsRead *bool
	Type   deskline.NotificationType
	Limit  int
	Cursor string
}

func decodeNotification(raw map[string]types.AttributeValue) (*deskline.Notification, error) {
	var it notificationItem
	if err := unmarshalItem(raw, &it); err != nil {
		return nil, err
	}
	return it.notification(), nil
}

// ListNotifications lists a user's notifications, newest first.
func (s *Store) ListNotifications(ctx context.Context, userID string, f NotificationFilter) (Page[*deskline.Notification], error) {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :n)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(userPK(userID)), ":n": str("NOTIF#")},
		ScanIndexForward:          aws.Bool(false),
	}
	notificationFilters(in, f)
	return queryPage(ctx, s, in, f.Limit, f.Cursor, []string{"PK", "SK"}, "PK", userPK(userID), decodeNotification)
}

// ListRelatedNotifications lists the notifications the user caused (GSI2),
// newest first.
func (s *Store) ListRelatedNotifications(ctx context.Context, userID string, f NotificationFilter) (Page[*deskline.Notification], error) {
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String(GSI2),
		KeyConditionExpression:    aws.String("GSI2PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(notifActorPK(userID))},
		ScanIndexForward:          aws.Bool(false),
	}
	notificationFilters(in, f)
	return queryPage(ctx, s, in, f.Limit, f.Cursor, []string{"PK", "SK", "GSI2PK", "GSI2SK"}, "GSI2PK", notifActorPK(userID), decodeNotification)
}

func notificationFilters(in *dynamodb.QueryInput, f NotificationFilter) {
	var fs []string
	if f.IsRead != nil {
		in.ExpressionAttributeValues[":r"] = &types.AttributeValueMemberBOOL{Value: *f.IsRead}
		fs = append(fs, "isRead = :r")
	}
	if f.Type != "" {
		in.ExpressionAttributeValues[":nt"] = str(string(f.Type))
		fs = append(fs, "notificationType = :nt")
	}
	if len(fs) > 0 {
		in.FilterExpression = aws.String(strings.Join(fs, " AND "))
	}
}

// UnreadCount counts a user's unread notifications (a keys-only count of
// the sparse unread index).
func (s *Store) UnreadCount(ctx context.Context, userID string) (int, error) {
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String(GSI1),
		KeyConditionExpression:    aws.String("GSI1PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(unreadPK(userID))},
		Select:                    types.SelectCount,
	}
	total := 0
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return 0, fmt.Errorf("count unread of %s: %w", userID, err)
		}
		total += int(out.Count)
		if len(out.LastEvaluatedKey) == 0 {
			return total, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// MarkNotificationRead marks one of the user's notifications read.
func (s *Store) MarkNotificationRead(ctx context.Context, userID, id string) (*deskline.Notification, error) {
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(userPK(userID), notifSK(id)),
		UpdateExpression:          aws.String("SET isRead = :t REMOVE GSI1PK, GSI1SK"),
		ConditionExpression:       aws.String("attribute_exists(PK)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}},
		ReturnValues:              types.ReturnValueAllNew,
	})
	if isConditionFailed(err) {
		return nil, errNotificationNotFound
	} else if err != nil {
		return nil, fmt.Errorf("mark notification %s read: %w", id, err)
	}
	return decodeNotification(out.Attributes)
}

// MarkAllNotificationsRead marks every unread notification of the user read
// and returns how many it marked.
func (s *Store) MarkAllNotificationsRead(ctx context.Context, userID string) (int, error) {
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String(GSI1),
		KeyConditionExpression:    aws.String("GSI1PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(unreadPK(userID))},
		ProjectionExpression:      aws.String("PK, SK"),
	}
	n := 0
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return n, fmt.Errorf("list unread of %s: %w", userID, err)
		}
		for _, it := range out.Items {
			sk := it["SK"].(*types.AttributeValueMemberS).Value
			if _, err := s.MarkNotificationRead(ctx, userID, strings.TrimPrefix(sk, "NOTIF#")); err != nil && deskline.ErrorCode(err) != deskline.ENOTFOUND {
				return n, err
			}
			n++
		}
		if len(out.LastEvaluatedKey) == 0 {
			return n, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// Connections of the WebSocket API live in their user's partition
// (SK "CONN#<connection id>") until they close or expire.
func connSK(id string) string { return "CONN#" + id }

// PutConnection records a live WebSocket connection of a user.
func (s *Store) PutConnection(ctx context.Context, userID, connID string, expiresAt time.Time) error {
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: map[string]types.AttributeValue{
		"PK": str(userPK(userID)), "SK": str(connSK(connID)), "type": str(TypeConnection),
		"connectionId": str(connID), "userId": str(userID), TTLAttribute: num(expiresAt.Unix()),
	}})
	if err != nil {
		return fmt.Errorf("put connection %s: %w", connID, err)
	}
	return nil
}

// DeleteConnection forgets a connection.
func (s *Store) DeleteConnection(ctx context.Context, userID, connID string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: key(userPK(userID), connSK(connID))})
	if err != nil {
		return fmt.Errorf("delete connection %s: %w", connID, err)
	}
	return nil
}

// Connections lists a user's live (unexpired) connection ids.
func (s *Store) Connections(ctx context.Context, userID string) ([]string, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :c)"),
		FilterExpression:          aws.String("expiresAt > :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(userPK(userID)), ":c": str("CONN#"), ":now": num(s.clock.Now().Unix())},
		ProjectionExpression:      aws.String("connectionId"),
	})
	if err != nil {
		return nil, fmt.Errorf("list connections of %s: %w", userID, err)
	}
	ids := make([]string, 0, len(out.Items))
	for _, it := range out.Items {
		if v, ok := it["connectionId"].(*types.AttributeValueMemberS); ok {
			ids = append(ids, v.Value)
		}
	}
	return ids, nil
}

// DepartmentHeads lists the approved heads of a department.
func (s *Store) DepartmentHeads(ctx context.Context, deptID string) ([]string, error) {
	page, err := s.ListUsers(ctx, UserFilter{DepartmentID: deptID, Role: deskline.RoleDepartmentHead, Status: deskline.StatusApproved, Limit: 100})
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(page.Items))
	for i, u := range page.Items {
		ids[i] = u.ID
	}
	return ids, nil
}

// Commenters lists the distinct authors of a ticket's or task's comments.
func (s *Store) Commenters(ctx context.Context, entityType, entityID string) ([]string, error) {
	pk, _ := EntityPK(entityType, entityID)
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :c)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk), ":c": str(commentPrefix)},
		ProjectionExpression:      aws.String("authorId"),
	}
	seen := map[string]bool{}
	var ids []string
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list commenters of %s: %w", entityID, err)
		}
		for _, it := range out.Items {
			if v, ok := it["authorId"].(*types.AttributeValueMemberS); ok && !seen[v.Value] {
				seen[v.Value] = true
				ids = append(ids, v.Value)
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return ids, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}
