package analytics

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/deskline/deskline/shared/deskline"
)

// Entity types as the table's items name them (dynamo.TypeTicket, …).
const (
	EntityTicket  = "ticket"
	EntityTask    = "task"
	EntityComment = "comment"
)

// HistoryRow is one history item of a ticket or task, with its sort key
// ("H#<time>#<discriminator>"), which makes activity keys unique.
type HistoryRow struct {
	SK    string
	Entry deskline.HistoryEntry
}

// ActivityKey names one activity log entry: a user's partition and a sort
// key that starts with the time.
type ActivityKey struct {
	UserID string `json:"u"`
	SK     string `json:"k"`
}

// Activity is one entry of a user's activity log: one history item whose
// actor is the user (what they did, when, on what).
type Activity struct {
	ID         string    `json:"id"` // the entry's sort key
	UserID     string    `json:"userId"`
	At         time.Time `json:"timestamp"`
	Action     string    `json:"action"` // created, updated, comment_added, comment_edited
	EntityType string    `json:"entityType"`
	EntityID   string    `json:"entityId"`
	Field      string    `json:"field,omitempty"`
	OldValue   any       `json:"oldValue,omitempty"`
	NewValue   any       `json:"newValue,omitempty"`
	CommentID  string    `json:"commentId,omitempty"`
	// DepartmentID is the department the ticket or task belonged to when
	// it happened (after the change, for a move), as events count in
	// buckets; it makes the entry findable by department.
	DepartmentID string `json:"departmentId,omitempty"`
}

// Key returns the entry's key.
func (a *Activity) Key() ActivityKey { return ActivityKey{UserID: a.UserID, SK: a.ID} }

// valueFields are the fields whose old and new values an activity entry
// repeats: short, coded values. Free text (titles, descriptions, comments,
// tags) stays in the item's history, where its access rules apply.
var valueFields = []string{"status", "priority", "category", "department_id", "departmentId", "assigned_to", "assignedToId",
	"due_date", "dueDate", "progress"}

// ActivityActions are the history actions the activity log records. A
// comment deletion is not one: it takes nothing back from the aggregates,
// and the stream sees it as the comment's removal, not as the parent's
// change (its history entry names who deleted it, and stays in the
// history).
var ActivityActions = []string{"created", "updated", "comment_added", "comment_edited"}

// ActivityOf turns a history item of an entity then in department dept
// into an activity entry; false when the item has no actor or its action is
// not one of ActivityActions.
func ActivityOf(r HistoryRow, dept string) (Activity, bool) {
	e := r.Entry
	if e.ActorID == "" || !slices.Contains(ActivityActions, e.Action) {
		return Activity{}, false
	}
	rest := strings.TrimPrefix(r.SK, "H#")
	a := Activity{
		ID: rest + "#" + e.EntityType + "#" + e.EntityID, UserID: e.ActorID, At: e.At.UTC(), Action: e.Action,
		EntityType: e.EntityType, EntityID: e.EntityID, Field: e.Field, CommentID: e.CommentID, DepartmentID: dept,
	}
	if e.Action == "updated" && slices.Contains(valueFields, e.Field) {
		a.OldValue, a.NewValue = e.OldValue, e.NewValue
	}
	return a, true
}

// EntityState is what the aggregator remembers of one ticket or task: what
// it needs to attribute its comments (department, creator, first response)
// and everything it has counted so far (Contrib, by Key.String(), and its
// activity entries), so that deleting the item takes exactly that back.
type EntityState struct {
	Type          string           `json:"entityType"`
	ID            string           `json:"entityId"`
	Dept          string           `json:"departmentId"`
	CreatedBy     string           `json:"createdBy"`
	CreatedAt     time.Time        `json:"createdAt"`
	FirstResponse *FirstResponse   `json:"firstResponse,omitempty"`
	Contrib       map[string]int64 `json:"contrib"`
	Activity      []ActivityKey    `json:"activity"`
	Version       int64            `json:"version"`
}

func (s *EntityState) clone() *EntityState {
	c := *s
	c.Contrib = maps.Clone(s.Contrib)
	if c.Contrib == nil {
		c.Contrib = map[string]int64{}
	}
	c.Activity = slices.Clone(s.Activity)
	if s.FirstResponse != nil {
		fr := *s.FirstResponse
		c.FirstResponse = &fr
	}
	return &c
}

// count adds deltas to the contribution.
func (s *EntityState) count(d Deltas) {
	if s.Contrib == nil {
		s.Contrib = map[string]int64{}
	}
	for k, v := range d {
		ks := k.String()
		if s.Contrib[ks] += v; s.Contrib[ks] == 0 {
			delete(s.Contrib, ks)
		}
	}
}

// Contribution returns what the entity has counted, as deltas.
func (s *EntityState) Contribution() Deltas {
	d := Deltas{}
	for ks, v := range s.Contrib {
		if k, ok := ParseKey(ks); ok {
			d[k] += v
		}
	}
	return d
}

// Write is everything one stream record changes, applied atomically with the
// record's dedupe marker (more than one transaction's worth is split into
// several, each with its own marker; the state goes with the last).
type Write struct {
	Deltas Deltas
	// State is the entity's state after the record; with DeleteState it is
	// deleted instead.
	State       *EntityState
	DeleteState bool
	// PrevVersion is the version of the state read before (0: there was
	// none); the write is conditional on it.
	PrevVersion    int64
	PutActivity    []Activity
	DeleteActivity []ActivityKey
}

// Store is what the aggregator reads and writes through (package dynamo).
type Store interface {
	// DecodeStreamImage decodes a stream image into an entity struct by
	// JSON field names.
	DecodeStreamImage(img map[string]events.DynamoDBAttributeValue, out any) error
	// EntityState returns the state of a ticket or task, or nil.
	EntityState(ctx context.Context, entityType, id string) (*EntityState, error)
	// EventHistory returns the history items the projector wrote for a
	// stream record (identified by eventID) at time at.
	EventHistory(ctx context.Context, entityType, id, eventID string, at time.Time) ([]HistoryRow, error)
	// WriteAggregates applies w once per eventID: a replayed record changes
	// nothing.
	WriteAggregates(ctx context.Context, eventID string, w *Write) error
}

// Aggregator keeps the aggregates and activity logs current from the
// stream. The projector calls Apply for every ticket, task and comment
// record, after it has written the record's history.
type Aggregator struct {
	store Store
	log   *slog.Logger
}

// NewAggregator returns an Aggregator writing through store.
func NewAggregator(store Store, log *slog.Logger) *Aggregator {
	if log == nil {
		log = slog.Default()
	}
	return &Aggregator{store: store, log: log}
}

// Apply folds one stream record into the aggregates, idempotently.
func (a *Aggregator) Apply(ctx context.Context, rec events.DynamoDBEventRecord) error {
	var head struct {
		Type string `json:"type"`
	}
	img := rec.Change.NewImage
	if len(img) == 0 {
		img = rec.Change.OldImage
	}
	if err := a.store.DecodeStreamImage(img, &head); err != nil {
		return fmt.Errorf("analytics: %w", err)
	}
	switch head.Type {
	case EntityTicket:
		return a.ticket(ctx, rec)
	case EntityTask:
		return a.task(ctx, rec)
	case EntityComment:
		return a.comment(ctx, rec)
	}
	return nil
}

func actorOf(updatedBy, createdBy string) string {
	if updatedBy != "" {
		return updatedBy
	}
	return createdBy
}

func (a *Aggregator) ticket(ctx context.Context, rec events.DynamoDBEventRecord) error {
	var old, nw deskline.Ticket
	if err := a.decode(rec, &old, &nw); err != nil {
		return err
	}
	if rec.EventName == "REMOVE" {
		return a.remove(ctx, rec, EntityTicket, old.ID)
	}
	st, err := a.store.EntityState(ctx, EntityTicket, nw.ID)
	if err != nil {
		return err
	}
	d := Deltas{}
	if rec.EventName == "INSERT" {
		if st != nil {
			return nil // counted already
		}
		TicketCreated(d, SnapTicket(&nw))
		next := &EntityState{Type: EntityTicket, ID: nw.ID, Dept: nw.DepartmentID, CreatedBy: nw.CreatedBy, CreatedAt: nw.CreatedAt}
		return a.commit(ctx, rec, nil, next, d, nw.UpdatedAt)
	}
	if st == nil {
		// The creation was never counted (the aggregator came later, or its
		// record failed for good): count the previous version as created.
		// `analytics-rebuild` makes such an entity exact again.
		TicketCreated(d, SnapTicket(&old))
	}
	TicketChanged(d, SnapTicket(&old), SnapTicket(&nw), nw.UpdatedAt, actorOf(nw.UpdatedBy, nw.CreatedBy))
	next := &EntityState{Type: EntityTicket, ID: nw.ID, CreatedBy: nw.CreatedBy, CreatedAt: nw.CreatedAt}
	if st != nil {
		next = st.clone()
	}
	next.Dept = nw.DepartmentID
	return a.commit(ctx, rec, st, next, d, nw.UpdatedAt)
}

func (a *Aggregator) task(ctx context.Context, rec events.DynamoDBEventRecord) error {
	var old, nw deskline.Task
	if err := a.decode(rec, &old, &nw); err != nil {
		return err
	}
	if rec.EventName == "REMOVE" {
		return a.remove(ctx, rec, EntityTask, old.ID)
	}
	st, err := a.store.EntityState(ctx, EntityTask, nw.ID)
	if err != nil {
		return err
	}
	d := Deltas{}
	if rec.EventName == "INSERT" {
		if st != nil {
			return nil
		}
		TaskCreated(d, SnapTask(&nw))
		next := &EntityState{Type: EntityTask, ID: nw.ID, Dept: nw.DepartmentID, CreatedBy: nw.CreatedBy, CreatedAt: nw.CreatedAt}
		return a.commit(ctx, rec, nil, next, d, nw.UpdatedAt)
	}
	if st == nil {
		TaskCreated(d, SnapTask(&old))
	}
	TaskChanged(d, SnapTask(&old), SnapTask(&nw), nw.UpdatedAt, actorOf(nw.UpdatedBy, nw.CreatedBy))
	next := &EntityState{Type: EntityTask, ID: nw.ID, CreatedBy: nw.CreatedBy, CreatedAt: nw.CreatedAt}
	if st != nil {
		next = st.clone()
	}
	next.Dept = nw.DepartmentID
	return a.commit(ctx, rec, st, next, d, nw.UpdatedAt)
}

func (a *Aggregator) comment(ctx context.Context, rec events.DynamoDBEventRecord) error {
	if rec.EventName == "REMOVE" {
		return nil // a deletion takes nothing back: comments written stay written
	}
	var old, c deskline.Comment
	if err := a.decode(rec, &old, &c); err != nil {
		return err
	}
	typ, parent := EntityTicket, c.TicketID
	if c.TaskID != "" {
		typ, parent = EntityTask, c.TaskID
	}
	st, err := a.store.EntityState(ctx, typ, parent)
	if err != nil || st == nil {
		return err // an unknown parent is gone or was never counted
	}
	next, d, at := st.clone(), Deltas{}, c.CreatedAt
	if rec.EventName == "INSERT" {
		CommentAdded(d, st.Dept, c.AuthorID, c.CreatedAt)
		if typ == EntityTicket && c.AuthorID != st.CreatedBy {
			fr := &FirstResponse{At: c.CreatedAt, CommentID: c.ID, Actor: c.AuthorID, Dept: st.Dept, Seconds: Seconds(st.CreatedAt, c.CreatedAt)}
			if fr.Before(st.FirstResponse) {
				if st.FirstResponse != nil {
					st.FirstResponse.Count(d, -1)
				}
				fr.Count(d, 1)
				next.FirstResponse = fr
			}
		}
	} else {
		at = c.UpdatedAt
		if old.Content != c.Content {
			CommentEdited(d, st.Dept, c.AuthorID, c.UpdatedAt)
		}
	}
	return a.commit(ctx, rec, st, next, d, at)
}

// decode reads a record's images into old and nw.
func (a *Aggregator) decode(rec events.DynamoDBEventRecord, old, nw any) error {
	if len(rec.Change.OldImage) > 0 {
		if err := a.store.DecodeStreamImage(rec.Change.OldImage, old); err != nil {
			return fmt.Errorf("analytics: old image: %w", err)
		}
	}
	if len(rec.Change.NewImage) > 0 {
		if err := a.store.DecodeStreamImage(rec.Change.NewImage, nw); err != nil {
			return fmt.Errorf("analytics: new image: %w", err)
		}
	}
	return nil
}

// commit adds the record's activity entries (the history items it produced,
// in the entity's department after the record) and writes everything with
// the entity's new state.
func (a *Aggregator) commit(ctx context.Context, rec events.DynamoDBEventRecord, prev, next *EntityState, d Deltas, at time.Time) error {
	rows, err := a.store.EventHistory(ctx, next.Type, next.ID, rec.EventID, at)
	if err != nil {
		return err
	}
	var acts []Activity
	for _, r := range rows {
		if act, ok := ActivityOf(r, next.Dept); ok {
			acts = append(acts, act)
			Action(d, act.UserID, act.At)
			next.Activity = append(next.Activity, act.Key())
		}
	}
	d = d.NonZero()
	if prev != nil && len(d) == 0 && len(acts) == 0 {
		return nil
	}
	next.count(d)
	w := &Write{Deltas: d, State: next, PutActivity: acts}
	if prev != nil {
		w.PrevVersion = prev.Version
	}
	next.Version = w.PrevVersion + 1
	return a.store.WriteAggregates(ctx, rec.EventID, w)
}

// remove takes back everything a deleted ticket or task had counted.
func (a *Aggregator) remove(ctx context.Context, rec events.DynamoDBEventRecord, typ, id string) error {
	st, err := a.store.EntityState(ctx, typ, id)
	if err != nil || st == nil {
		return err
	}
	return a.store.WriteAggregates(ctx, rec.EventID, &Write{
		Deltas: st.Contribution().Negate().NonZero(), State: st, DeleteState: true, PrevVersion: st.Version,
		DeleteActivity: st.Activity,
	})
}
