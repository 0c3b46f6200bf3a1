// Package projector is the table's second stream consumer (the notifier is
// the first): it derives data from changes of tickets, tasks and comments.
// It records history (every field change, with who and when, and every
// comment) and cascades deletes (a deleted ticket or task loses its
// comments, history, dependency links and attachments). Every write is
// keyed by the change it records, so a replayed record does no harm twice.
package projector

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/dynamo"
)

// ItemTypes are the item types the projector consumes (its event source
// mapping filters on them).
var ItemTypes = []string{dynamo.TypeTicket, dynamo.TypeTask, dynamo.TypeComment, dynamo.TypeFile}

// Store is what the projector writes through.
type Store interface {
	WriteHistory(ctx context.Context, entityType, entityID string, recs []dynamo.HistoryRecord) error
	CascadeDelete(ctx context.Context, entityType, entityID string) error
	RemoveFromGraph(ctx context.Context, deptID, taskID string) error
	DeleteCommentFiles(ctx context.Context, entityType, entityID, commentID string) error
	CommentDeleter(ctx context.Context, commentID string) (string, error)
}

// Aggregator folds a change into derived data (analytics aggregates and the
// activity log); it must be idempotent per record.
type Aggregator interface {
	Apply(ctx context.Context, rec events.DynamoDBEventRecord) error
}

// Projector handles stream batches.
type Projector struct {
	store      Store
	aggregator Aggregator    // nil: none
	objects    ObjectDeleter // nil: attachment objects are not deleted (see files.go)
	log        *slog.Logger
}

// New returns a Projector. aggregator may be nil.
func New(store Store, aggregator Aggregator, log *slog.Logger) *Projector {
	return &Projector{store: store, aggregator: aggregator, log: log}
}

// Handle processes a batch in order. On the first record that fails it
// stops and reports that record, so Lambda retries from it and nothing
// after it is skipped.
func (p *Projector) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var resp events.DynamoDBEventResponse
	for _, rec := range ev.Records {
		err := p.record(ctx, rec)
		if err == nil && p.aggregator != nil {
			err = p.aggregator.Apply(ctx, rec)
		}
		if err != nil {
			p.log.ErrorContext(ctx, "projector record failed", slog.String("eventId", rec.EventID),
				slog.String("sequence", rec.Change.SequenceNumber), slog.String("error", err.Error()))
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: rec.Change.SequenceNumber})
			return resp, nil
		}
	}
	return resp, nil
}

// image is a decoded stream image: attributes by name.
type image map[string]types.AttributeValue

func (im image) str(name string) string {
	if v, ok := im[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func (p *Projector) record(ctx context.Context, rec events.DynamoDBEventRecord) error {
	newImg, err := dynamo.StreamImage(rec.Change.NewImage)
	if err != nil {
		return fmt.Errorf("new image: %w", err)
	}
	oldImg, err := dynamo.StreamImage(rec.Change.OldImage)
	if err != nil {
		return fmt.Errorf("old image: %w", err)
	}
	nw, old := image(newImg), image(oldImg)
	typ := nw.str("type")
	if typ == "" {
		typ = old.str("type")
	}
	at := rec.Change.ApproximateCreationDateTime.UTC()
	switch typ {
	case dynamo.TypeTicket, dynamo.TypeTask:
		return p.entity(ctx, typ, rec, old, nw)
	case dynamo.TypeComment:
		if err := p.comment(ctx, rec, old, nw, at); err != nil {
			return err
		}
		if rec.EventName == "REMOVE" {
			return p.commentFiles(ctx, old)
		}
		return nil
	case dynamo.TypeFile:
		return p.file(ctx, rec, old)
	}
	return nil
}

// entity records a ticket's or task's creation and changes, and cascades
// its deletion.
func (p *Projector) entity(ctx context.Context, typ string, rec events.DynamoDBEventRecord, old, nw image) error {
	var id string
	switch rec.EventName {
	case "REMOVE":
		id = old.str("id")
		if err := p.store.CascadeDelete(ctx, typ, id); err != nil {
			return err
		}
		if typ == dynamo.TypeTask {
			return p.store.RemoveFromGraph(ctx, old.str("departmentId"), id)
		}
		return nil
	case "INSERT":
		id = nw.str("id")
		e, err := decode(typ, nw)
		if err != nil {
			return err
		}
		e.Action = "created"
		return p.store.WriteHistory(ctx, typ, id, []dynamo.HistoryRecord{{Entry: e, Discrim: fmt.Sprintf("v%09d#created", e.Version), EventID: rec.EventID}})
	}
	id = nw.str("id")
	oldVals, err := values(old)
	if err != nil {
		return err
	}
	newVals, err := values(nw)
	if err != nil {
		return err
	}
	base, err := decode(typ, nw)
	if err != nil {
		return err
	}
	base.Action = "updated"
	var recs []dynamo.HistoryRecord
	for _, f := range changedFields(oldVals, newVals) {
		e := base
		e.Field, e.OldValue, e.NewValue = f, orNil(oldVals[f]), orNil(newVals[f])
		recs = append(recs, dynamo.HistoryRecord{Entry: e, Discrim: fmt.Sprintf("v%09d#%s", e.Version, f), EventID: rec.EventID})
	}
	if len(recs) == 0 {
		return nil
	}
	return p.store.WriteHistory(ctx, typ, id, recs)
}

// decode reads the common history fields of a ticket or task image: who
// made this version, when, and which version it is.
func decode(typ string, im image) (deskline.HistoryEntry, error) {
	e := deskline.HistoryEntry{EntityType: typ, EntityID: im.str("id")}
	if typ == dynamo.TypeTicket {
		var t deskline.Ticket
		if err := dynamo.UnmarshalEntity(im, &t); err != nil {
			return e, fmt.Errorf("decode ticket: %w", err)
		}
		e.ActorID, e.At, e.Version = t.UpdatedBy, t.UpdatedAt, t.Version
		if e.ActorID == "" {
			e.ActorID = t.CreatedBy
		}
		return e, nil
	}
	var t deskline.Task
	if err := dynamo.UnmarshalEntity(im, &t); err != nil {
		return e, fmt.Errorf("decode task: %w", err)
	}
	e.ActorID, e.At, e.Version = t.UpdatedBy, t.UpdatedAt, t.Version
	if e.ActorID == "" {
		e.ActorID = t.CreatedBy
	}
	return e, nil
}

// ignored are attributes whose changes are not history: keys, bookkeeping,
// and timestamps that follow from a status change.
var ignored = []string{
	"PK", "SK", "type", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "searchText", "version",
	"updatedAt", "updated_by", "updatedBy", "resolved_at", "closed_at", "completedAt",
}

func values(im image) (map[string]any, error) {
	out := map[string]any{}
	if err := dynamo.UnmarshalEntity(im, &out); err != nil {
		return nil, fmt.Errorf("decode image: %w", err)
	}
	return out, nil
}

// changedFields lists the fields whose values differ, sorted.
func changedFields(old, nw map[string]any) []string {
	var out []string
	for k, v := range nw {
		if !slices.Contains(ignored, k) && !equal(old[k], v) {
			out = append(out, k)
		}
	}
	for k, v := range old {
		if _, ok := nw[k]; !ok && !slices.Contains(ignored, k) && !equal(v, nil) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// orNil records empty values as null.
func orNil(v any) any {
	if equal(v, nil) {
		return nil
	}
	return v
}

// equal treats absent, null and empty as the same value.
func equal(a, b any) bool {
	empty := func(v any) bool {
		if v == nil {
			return true
		}
		rv := reflect.ValueOf(v)
		return (rv.Kind() == reflect.String || rv.Kind() == reflect.Slice || rv.Kind() == reflect.Map) && rv.Len() == 0
	}
	if empty(a) && empty(b) {
		return true
	}
	return reflect.DeepEqual(a, b)
}

// comment records a comment's addition, edit or deletion on its parent.
func (p *Projector) comment(ctx context.Context, rec events.DynamoDBEventRecord, old, nw image, at time.Time) error {
	im := nw
	if rec.EventName == "REMOVE" {
		im = old
	}
	var c deskline.Comment
	if err := dynamo.UnmarshalEntity(im, &c); err != nil {
		return fmt.Errorf("decode comment: %w", err)
	}
	typ, parent := dynamo.TypeTicket, c.TicketID
	if c.TaskID != "" {
		typ, parent = dynamo.TypeTask, c.TaskID
	}
	e := deskline.HistoryEntry{EntityType: typ, EntityID: parent, CommentID: c.ID, ActorID: c.AuthorID, Version: c.Version}
	var discrim string
	switch rec.EventName {
	case "INSERT":
		e.Action, e.At, e.NewValue = "comment_added", c.CreatedAt, c.Content
		discrim = "c#" + c.ID + "#added"
	case "MODIFY":
		var prev deskline.Comment
		if err := dynamo.UnmarshalEntity(old, &prev); err != nil {
			return fmt.Errorf("decode comment: %w", err)
		}
		if prev.Content == c.Content {
			return nil
		}
		e.Action, e.At, e.OldValue, e.NewValue = "comment_edited", c.UpdatedAt, prev.Content, c.Content
		discrim = fmt.Sprintf("c#%s#v%09d#edited", c.ID, c.Version)
	case "REMOVE":
		// Who deleted it is not in the image; the deletion left a note.
		// The stream's time has whole seconds; never place the deletion
		// before (or at: it would sort before the edit) the comment's last
		// change.
		if !at.After(c.UpdatedAt) {
			at = c.UpdatedAt.Add(time.Nanosecond)
		}
		by, err := p.store.CommentDeleter(ctx, c.ID)
		if err != nil {
			return err
		}
		e.Action, e.At, e.OldValue, e.ActorID = "comment_deleted", at, c.Content, by
		discrim = "c#" + c.ID + "#deleted"
	}
	return p.store.WriteHistory(ctx, typ, parent, []dynamo.HistoryRecord{{Entry: e, Discrim: discrim, EventID: rec.EventID}})
}
