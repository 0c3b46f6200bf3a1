// Package notifier is the table's first stream consumer: for each change of
// a ticket, task, comment or message it decides who must hear of it (never
// the person who caused it), stores one notification per recipient, keyed by
// the change, and pushes it to the recipient's open WebSocket connections
// through the @connections API. A 410 Gone from @connections forgets the
// connection. Recipients who turned e-mail notifications on are mailed too
// (WithMail). A record that fails is reported alone, so the batch goes on
// from it and nothing after it is lost.
package notifier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi/types"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/dynamo"
)

// ItemTypes are the item types the notifier consumes.
var ItemTypes = []string{dynamo.TypeTicket, dynamo.TypeTask, dynamo.TypeComment, dynamo.TypeMessage}

// Store is what the notifier reads and writes.
type Store interface {
	GetRefs(ctx context.Context, ids dynamo.RefIDs) (*dynamo.People, error)
	DepartmentHeads(ctx context.Context, deptID string) ([]string, error)
	Commenters(ctx context.Context, entityType, entityID string) ([]string, error)
	PutNotifications(ctx context.Context, ns []deskline.Notification) ([]deskline.Notification, error)
	Connections(ctx context.Context, userID string) ([]string, error)
	DeleteConnection(ctx context.Context, userID, connID string) error
}

// Poster posts to WebSocket connections (the @connections management API).
type Poster interface {
	PostToConnection(ctx context.Context, in *apigatewaymanagementapi.PostToConnectionInput, opts ...func(*apigatewaymanagementapi.Options)) (*apigatewaymanagementapi.PostToConnectionOutput, error)
}

// MaxParallelPosts bounds concurrent @connections calls.
const MaxParallelPosts = 32

// Notifier handles stream batches.
type Notifier struct {
	store  Store
	poster Poster // nil: store only
	log    *slog.Logger

	// E-mail copies (WithMail); mailer nil: none.
	users     UserReader
	mailer    Mailer
	publicURL string
}

// New returns a Notifier. poster may be nil where no WebSocket API exists.
func New(store Store, poster Poster, log *slog.Logger) *Notifier {
	return &Notifier{store: store, poster: poster, log: log}
}

// Handle processes a batch in order; on the first failing record it stops
// and reports it.
func (n *Notifier) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var resp events.DynamoDBEventResponse
	for _, rec := range ev.Records {
		if err := n.record(ctx, rec); err != nil {
			n.log.ErrorContext(ctx, "notifier record failed", slog.String("eventId", rec.EventID),
				slog.String("sequence", rec.Change.SequenceNumber), slog.String("error", err.Error()))
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: rec.Change.SequenceNumber})
			return resp, nil
		}
	}
	return resp, nil
}

func (n *Notifier) record(ctx context.Context, rec events.DynamoDBEventRecord) error {
	if rec.EventName == "REMOVE" {
		return nil
	}
	nw, err := dynamo.StreamImage(rec.Change.NewImage)
	if err != nil {
		return fmt.Errorf("new image: %w", err)
	}
	old, err := dynamo.StreamImage(rec.Change.OldImage)
	if err != nil {
		return fmt.Errorf("old image: %w", err)
	}
	var ns []deskline.Notification
	switch itemType(nw) {
	case dynamo.TypeTicket:
		ns, err = n.ticket(ctx, rec, old, nw)
	case dynamo.TypeTask:
		ns, err = n.task(rec, old, nw)
	case dynamo.TypeComment:
		if rec.EventName == "INSERT" {
			ns, err = n.comment(ctx, rec, nw)
		}
	case dynamo.TypeMessage:
		if rec.EventName == "INSERT" {
			ns, err = n.message(ctx, rec, nw)
		}
	}
	if err != nil || len(ns) == 0 {
		return err
	}
	// Push what was written even when a write failed: the retry finds those
	// stored and pushes only what it writes itself.
	created, err := n.store.PutNotifications(ctx, ns)
	n.push(ctx, created)
	n.mail(ctx, created)
	return err
}

// dynamoAV is an attribute of a decoded stream image.
type dynamoAV = ddbtypes.AttributeValue

func itemType(im map[string]dynamoAV) string {
	if v, ok := im["type"].(*ddbtypes.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// recipients returns the users to notify: each candidate once, never the
// actor, never nobody.
func recipients(actor string, candidates ...string) []string {
	var out []string
	for _, c := range candidates {
		if c != "" && c != actor && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// notify makes one notification of base per recipient. Its id is derived
// from the change (the stream eventID) and its type: a replay finds it stored
// and writes nothing, while one change that is two things to the same person
// (a task reassigned and moved on in one update) still tells them both.
func notify(rec events.DynamoDBEventRecord, to []string, base deskline.Notification) []deskline.Notification {
	out := make([]deskline.Notification, 0, len(to))
	for _, u := range to {
		nt := base
		nt.UserID, nt.ID = u, deskline.NotificationID(rec.EventID+"#"+string(base.Type), u, base.CreatedAt)
		out = append(out, nt)
	}
	return out
}

func (n *Notifier) ticket(ctx context.Context, rec events.DynamoDBEventRecord, old, nw map[string]dynamoAV) ([]deskline.Notification, error) {
	var t, prev deskline.Ticket
	if err := dynamo.UnmarshalEntity(nw, &t); err != nil {
		return nil, fmt.Errorf("decode ticket: %w", err)
	}
	base := deskline.Notification{TicketID: t.ID, ActorID: t.UpdatedBy, CreatedAt: t.UpdatedAt}
	if base.ActorID == "" {
		base.ActorID = t.CreatedBy
	}
	if rec.EventName == "INSERT" {
		heads, err := n.store.DepartmentHeads(ctx, t.DepartmentID)
		if err != nil {
			return nil, err
		}
		base.Type, base.Message = deskline.NotifyNewTicket, fmt.Sprintf("New ticket %s: %s", t.Key, t.Title)
		return notify(rec, recipients(t.CreatedBy, append(heads, t.AssignedTo)...), base), nil
	}
	if err := dynamo.UnmarshalEntity(old, &prev); err != nil {
		return nil, fmt.Errorf("decode ticket: %w", err)
	}
	var out []deskline.Notification
	if t.AssignedTo != "" && t.AssignedTo != prev.AssignedTo {
		b := base
		b.Type, b.Message = deskline.NotifyTicketAssigned, fmt.Sprintf("You have been assigned to ticket %s: %s", t.Key, t.Title)
		out = append(out, notify(rec, recipients(base.ActorID, t.AssignedTo), b)...)
	}
	if prev.Status != t.Status {
		b := base
		b.Type = deskline.NotifyTicketStatusChanged
		b.Message = fmt.Sprintf("Ticket %s %q status changed from %s to %s", t.Key, t.Title, prev.Status, t.Status)
		out = append(out, notify(rec, recipients(base.ActorID, t.CreatedBy, t.AssignedTo), b)...)
	}
	return out, nil
}

func (n *Notifier) task(rec events.DynamoDBEventRecord, old, nw map[string]dynamoAV) ([]deskline.Notification, error) {
	var t, prev deskline.Task
	if err := dynamo.UnmarshalEntity(nw, &t); err != nil {
		return nil, fmt.Errorf("decode task: %w", err)
	}
	if rec.EventName == "MODIFY" {
		if err := dynamo.UnmarshalEntity(old, &prev); err != nil {
			return nil, fmt.Errorf("decode task: %w", err)
		}
	}
	base := deskline.Notification{TaskID: t.ID, ActorID: t.UpdatedBy, CreatedAt: t.UpdatedAt}
	if base.ActorID == "" {
		base.ActorID = t.CreatedBy
	}
	var out []deskline.Notification
	if t.AssignedToID != "" && t.AssignedToID != prev.AssignedToID {
		b := base
		b.Type, b.Message = deskline.NotifyTaskAssigned, fmt.Sprintf("You have been assigned to task %q", t.Title)
		out = append(out, notify(rec, recipients(base.ActorID, t.AssignedToID), b)...)
	}
	if rec.EventName == "MODIFY" && t.Status != prev.Status {
		b := base
		if t.Status == deskline.TaskCompleted {
			b.Type, b.Message = deskline.NotifyTaskCompleted, fmt.Sprintf("Task %q has been completed", t.Title)
			out = append(out, notify(rec, recipients(base.ActorID, t.CreatedBy), b)...)
		} else {
			b.Type, b.Message = deskline.NotifyTaskUpdated, fmt.Sprintf("Task %q status has been updated to %s", t.Title, t.Status)
			out = append(out, notify(rec, recipients(base.ActorID, t.AssignedToID, t.CreatedBy), b)...)
		}
	}
	return out, nil
}

func (n *Notifier) comment(ctx context.Context, rec events.DynamoDBEventRecord, nw map[string]dynamoAV) ([]deskline.Notification, error) {
	var c deskline.Comment
	if err := dynamo.UnmarshalEntity(nw, &c); err != nil {
		return nil, fmt.Errorf("decode comment: %w", err)
	}
	refs, err := n.store.GetRefs(ctx, dynamo.RefIDs{Users: []string{c.AuthorID}, Tickets: []string{c.TicketID}, Tasks: []string{c.TaskID}})
	if err != nil {
		return nil, err
	}
	author := c.AuthorID
	if u := refs.User(c.AuthorID); u != nil {
		author = u.Username
	}
	base := deskline.Notification{Type: deskline.NotifyCommentAdded, ActorID: c.AuthorID, CreatedAt: c.CreatedAt}
	var participants []string
	var entityType, entityID string
	switch {
	case c.TicketID != "":
		t := refs.Ticket(c.TicketID)
		if t == nil {
			return nil, nil // the ticket is gone
		}
		base.TicketID, base.Message = t.ID, fmt.Sprintf("%s commented on ticket %s: %s", author, t.Key, t.Title)
		participants, entityType, entityID = []string{t.CreatedBy, t.AssignedTo}, dynamo.TypeTicket, t.ID
	default:
		t := refs.Task(c.TaskID)
		if t == nil {
			return nil, nil
		}
		base.TaskID, base.Message = t.ID, fmt.Sprintf("%s commented on task: %s", author, t.Title)
		participants, entityType, entityID = []string{t.CreatedBy, t.AssignedToID}, dynamo.TypeTask, t.ID
	}
	others, err := n.store.Commenters(ctx, entityType, entityID)
	if err != nil {
		return nil, err
	}
	return notify(rec, recipients(c.AuthorID, append(participants, others...)...), base), nil
}

func (n *Notifier) message(ctx context.Context, rec events.DynamoDBEventRecord, nw map[string]dynamoAV) ([]deskline.Notification, error) {
	var m deskline.Message
	if err := dynamo.UnmarshalEntity(nw, &m); err != nil {
		return nil, fmt.Errorf("decode message: %w", err)
	}
	refs, err := n.store.GetRefs(ctx, dynamo.RefIDs{Users: []string{m.FromUserID}})
	if err != nil {
		return nil, err
	}
	from := m.FromUserID
	if u := refs.User(m.FromUserID); u != nil {
		from = u.Username
	}
	base := deskline.Notification{Type: deskline.NotifyMessageReceived, MessageID: m.ID, ActorID: m.FromUserID, CreatedAt: m.CreatedAt,
		Message: fmt.Sprintf("New message from %s", from)}
	return notify(rec, recipients(m.FromUserID, m.ToUserID), base), nil
}

// Frame is the WebSocket frame of a notification.
type Frame struct {
	Type string                 `json:"type"` // "notification"
	Data *deskline.Notification `json:"data"`
}

// push posts each notification to its recipient's open connections, in
// parallel with a bound. Delivery is best effort: the notification is stored
// either way. A 410 Gone forgets the connection.
func (n *Notifier) push(ctx context.Context, ns []deskline.Notification) {
	if n.poster == nil || len(ns) == 0 {
		return
	}
	type post struct {
		user, conn string
		data       []byte
	}
	var posts []post
	conns := map[string][]string{}
	for _, nt := range ns {
		if _, ok := conns[nt.UserID]; !ok {
			ids, err := n.store.Connections(ctx, nt.UserID)
			if err != nil {
				n.log.WarnContext(ctx, "list connections", slog.String("userId", nt.UserID), slog.String("error", err.Error()))
			}
			conns[nt.UserID] = ids
		}
		nt := nt
		data, _ := json.Marshal(Frame{Type: "notification", Data: &nt})
		for _, c := range conns[nt.UserID] {
			posts = append(posts, post{nt.UserID, c, data})
		}
	}
	sem := make(chan struct{}, MaxParallelPosts)
	var wg sync.WaitGroup
	for _, p := range posts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			_, err := n.poster.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(p.conn), Data: p.data})
			var gone *types.GoneException
			switch {
			case errors.As(err, &gone):
				if err := n.store.DeleteConnection(ctx, p.user, p.conn); err != nil {
					n.log.WarnContext(ctx, "forget gone connection", slog.String("connectionId", p.conn), slog.String("error", err.Error()))
				}
			case err != nil:
				n.log.WarnContext(ctx, "post to connection", slog.String("connectionId", p.conn), slog.String("error", err.Error()))
			}
		}()
	}
	wg.Wait()
}
