package projector_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/deskline/deskline/shared/dynamo"
	"github.com/deskline/deskline/shared/projector"
)

// write is one call the projector made to its store.
type write struct {
	op                 string // history, cascade, graph, files
	entityType, entity string
	dept, comment      string
	recs               []dynamo.HistoryRecord
}

// fakeStore records the projector's writes; failOn makes the n-th call
// (1-based) fail.
type fakeStore struct {
	writes   []write
	calls    int
	failOn   int
	deleters map[string]string // comment id -> who deleted it
}

func (s *fakeStore) fail() error {
	s.calls++
	if s.calls == s.failOn {
		return errors.New("store unavailable")
	}
	return nil
}

func (s *fakeStore) WriteHistory(_ context.Context, entityType, entityID string, recs []dynamo.HistoryRecord) error {
	if err := s.fail(); err != nil {
		return err
	}
	s.writes = append(s.writes, write{op: "history", entityType: entityType, entity: entityID, recs: recs})
	return nil
}

func (s *fakeStore) CascadeDelete(_ context.Context, entityType, entityID string) error {
	if err := s.fail(); err != nil {
		return err
	}
	s.writes = append(s.writes, write{op: "cascade", entityType: entityType, entity: entityID})
	return nil
}

func (s *fakeStore) RemoveFromGraph(_ context.Context, deptID, taskID string) error {
	if err := s.fail(); err != nil {
		return err
	}
	s.writes = append(s.writes, write{op: "graph", dept: deptID, entity: taskID})
	return nil
}

func (s *fakeStore) DeleteCommentFiles(_ context.Context, entityType, entityID, commentID string) error {
	if err := s.fail(); err != nil {
		return err
	}
	s.writes = append(s.writes, write{op: "files", entityType: entityType, entity: entityID, comment: commentID})
	return nil
}

func (s *fakeStore) CommentDeleter(_ context.Context, commentID string) (string, error) {
	return s.deleters[commentID], nil
}

var _ projector.Store = (*fakeStore)(nil)

func newProjector(s *fakeStore) *projector.Projector {
	return projector.New(s, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// attr converts a Go value into a stream attribute as Lambda delivers it.
func attr(t *testing.T, v any) events.DynamoDBAttributeValue {
	t.Helper()
	switch x := v.(type) {
	case nil:
		return events.NewNullAttribute()
	case string:
		return events.NewStringAttribute(x)
	case int:
		return events.NewNumberAttribute(strconv.Itoa(x))
	case bool:
		return events.NewBooleanAttribute(x)
	case time.Time:
		return events.NewStringAttribute(x.UTC().Format(time.RFC3339Nano))
	case []string:
		l := make([]events.DynamoDBAttributeValue, len(x))
		for i, s := range x {
			l[i] = events.NewStringAttribute(s)
		}
		return events.NewListAttribute(l)
	}
	t.Fatalf("attr: unsupported %T", v)
	return events.DynamoDBAttributeValue{}
}

// item is an item image: attribute name → Go value.
type item map[string]any

func (it item) with(kv ...any) item {
	out := item{}
	for k, v := range it {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func image(t *testing.T, it item) map[string]events.DynamoDBAttributeValue {
	t.Helper()
	if it == nil {
		return nil
	}
	out := map[string]events.DynamoDBAttributeValue{}
	for k, v := range it {
		out[k] = attr(t, v)
	}
	return out
}

var (
	t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	t1 = t0.Add(90 * time.Minute).Add(123456789)
	t2 = t1.Add(time.Hour)
)

// ticket is a ticket image at version 1, as the store writes it.
var ticket = item{
	"PK": "TICKET#TKT-1", "SK": "#TICKET", "type": "ticket", "GSI1PK": "TDEPT#DEP-1", "GSI1SK": "x", "GSI2PK": "TICKETS", "GSI2SK": "x",
	"searchText": "printer on fire", "id": "TKT-1", "key": "IT-1", "title": "Printer on fire", "description": "Smoke",
	"status": "open", "priority": "high", "category": "support", "department_id": "DEP-1", "assigned_to": "",
	"created_by": "USR-CREATOR", "updated_by": "USR-CREATOR", "due_date": nil, "tags": []string{}, "is_active": true,
	"resolved_at": nil, "closed_at": nil, "createdAt": t0, "updatedAt": t0, "version": 1,
}

var task = item{
	"PK": "TASK#TSK-1", "SK": "#TASK", "type": "task", "id": "TSK-1", "title": "Replace toner", "description": "Black",
	"status": "pending", "priority": "medium", "dueDate": nil, "assignedToId": "", "createdBy": "USR-HEAD", "updatedBy": "USR-HEAD",
	"departmentId": "DEP-1", "ticketId": "", "progress": 0, "dependsOn": []string{}, "isActive": true, "completedAt": nil,
	"createdAt": t0, "updatedAt": t0, "version": 1,
}

var comment = item{
	"PK": "TICKET#TKT-1", "SK": "C#CMT-1", "type": "comment", "id": "CMT-1", "content": "On it", "ticketId": "TKT-1",
	"authorId": "USR-AUTHOR", "createdAt": t0, "updatedAt": t0, "version": 1,
}

var seqNo int

func record(t *testing.T, name string, old, nw item, at time.Time) events.DynamoDBEventRecord {
	t.Helper()
	seqNo++
	return events.DynamoDBEventRecord{
		EventID: fmt.Sprintf("event-%d", seqNo), EventName: name, EventSource: "aws:dynamodb",
		Change: events.DynamoDBStreamRecord{
			SequenceNumber: fmt.Sprintf("%021d", seqNo), StreamViewType: "NEW_AND_OLD_IMAGES",
			ApproximateCreationDateTime: events.SecondsEpochTime{Time: at},
			OldImage:                    image(t, old), NewImage: image(t, nw),
		},
	}
}

func handle(t *testing.T, s *fakeStore, recs ...events.DynamoDBEventRecord) events.DynamoDBEventResponse {
	t.Helper()
	resp, err := newProjector(s).Handle(context.Background(), events.DynamoDBEvent{Records: recs})
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	return resp
}

// change is a recorded field change, for comparisons.
type change struct {
	Field     string
	Old, New  any
	Actor     string
	Version   int64
	At        time.Time
	Discrim   string
	Action    string
	CommentID string
}

func changes(recs []dynamo.HistoryRecord) []change {
	var out []change
	for _, r := range recs {
		e := r.Entry
		out = append(out, change{e.Field, e.OldValue, e.NewValue, e.ActorID, e.Version, e.At, r.Discrim, e.Action, e.CommentID})
	}
	return out
}

func TestInsertRecordsCreated(t *testing.T) {
	tests := []struct {
		name, typ, id, actor string
		img                  item
	}{
		{"ticket", "ticket", "TKT-1", "USR-CREATOR", ticket},
		{"task", "task", "TSK-1", "USR-HEAD", task},
		{"ticket without updated_by", "ticket", "TKT-1", "USR-OTHER", ticket.with("updated_by", "", "created_by", "USR-OTHER")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &fakeStore{}
			handle(t, s, record(t, "INSERT", nil, tt.img, t0))
			if len(s.writes) != 1 || s.writes[0].op != "history" || s.writes[0].entityType != tt.typ || s.writes[0].entity != tt.id {
				t.Fatalf("writes = %+v, want one history write of %s %s", s.writes, tt.typ, tt.id)
			}
			got := changes(s.writes[0].recs)
			want := []change{{Actor: tt.actor, Version: 1, At: t0, Discrim: "v000000001#created", Action: "created"}}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v, want %+v", got, want)
			}
			if e := s.writes[0].recs[0]; e.Entry.EntityType != tt.typ || e.Entry.EntityID != tt.id || e.EventID == "" {
				t.Errorf("entry names %s %s, event %q", e.Entry.EntityType, e.Entry.EntityID, e.EventID)
			}
		})
	}
}

func TestModifyRecordsEveryChangedField(t *testing.T) {
	v2 := func(base item, kv ...any) item {
		return base.with(append([]any{"version", 2, "updatedAt", t1}, kv...)...)
	}
	tests := []struct {
		name     string
		old, new item
		want     []change // Actor, Version, At, Action filled in below
	}{
		{"title", ticket, v2(ticket, "title", "Printer smoking", "updated_by", "USR-HEAD", "searchText", "printer smoking"),
			[]change{{Field: "title", Old: "Printer on fire", New: "Printer smoking"}}},
		{"status with its timestamps", ticket, v2(ticket, "status", "resolved", "resolved_at", t1, "updated_by", "USR-HEAD"),
			[]change{{Field: "status", Old: "open", New: "resolved"}}},
		{"several fields, sorted", ticket, v2(ticket, "priority", "urgent", "assigned_to", "USR-EMP", "due_date", t2, "tags", []string{"vpn"}, "updated_by", "USR-HEAD"),
			[]change{
				{Field: "assigned_to", Old: nil, New: "USR-EMP"},
				{Field: "due_date", Old: nil, New: t2.Format(time.RFC3339Nano)},
				{Field: "priority", Old: "high", New: "urgent"},
				{Field: "tags", Old: nil, New: []any{"vpn"}},
			}},
		{"unassign", ticket.with("assigned_to", "USR-EMP"), v2(ticket, "updated_by", "USR-HEAD"),
			[]change{{Field: "assigned_to", Old: "USR-EMP", New: nil}}},
		{"attribute removed", ticket.with("category", "bug"), v2(ticket.with("category", nil), "updated_by", "USR-HEAD"),
			[]change{{Field: "category", Old: "bug", New: nil}}},
		{"only bookkeeping changed", ticket, v2(ticket, "updated_by", "USR-HEAD", "searchText", "other", "GSI1SK", "y"), nil},
		{"task progress and dependencies", task, v2(task, "progress", 40, "status", "in_progress", "dependsOn", []string{"TSK-2"}, "updatedBy", "USR-HEAD"),
			[]change{
				{Field: "dependsOn", Old: nil, New: []any{"TSK-2"}},
				{Field: "progress", Old: 0.0, New: 40.0},
				{Field: "status", Old: "pending", New: "in_progress"},
			}},
		{"task completed", task, v2(task, "status", "completed", "progress", 100, "completedAt", t1, "updatedBy", "USR-EMP"),
			[]change{{Field: "progress", Old: 0.0, New: 100.0}, {Field: "status", Old: "pending", New: "completed"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &fakeStore{}
			handle(t, s, record(t, "MODIFY", tt.old, tt.new, t1))
			if tt.want == nil {
				if len(s.writes) != 0 {
					t.Errorf("writes = %+v, want none", s.writes)
				}
				return
			}
			if len(s.writes) != 1 || s.writes[0].op != "history" {
				t.Fatalf("writes = %+v, want one history write", s.writes)
			}
			actor := tt.new["updated_by"]
			if actor == nil {
				actor = tt.new["updatedBy"]
			}
			for i := range tt.want {
				w := &tt.want[i]
				w.Actor, w.Version, w.At, w.Action = actor.(string), 2, t1, "updated"
				w.Discrim = "v000000002#" + w.Field
			}
			if got := changes(s.writes[0].recs); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestReplayWritesTheSameKeys: a record delivered twice (a Lambda retry)
// makes exactly the same writes, so the store's deterministic keys leave one
// item per change; different versions never share a key.
func TestReplayWritesTheSameKeys(t *testing.T) {
	v2 := ticket.with("version", 2, "updatedAt", t1, "title", "Second", "updated_by", "USR-HEAD")
	v3 := v2.with("version", 3, "updatedAt", t2, "title", "Third")
	c2 := comment.with("version", 2, "updatedAt", t1, "content", "Edited")
	recs := []events.DynamoDBEventRecord{
		record(t, "INSERT", nil, ticket, t0),
		record(t, "MODIFY", ticket, v2, t1),
		record(t, "MODIFY", v2, v3, t2),
		record(t, "INSERT", nil, comment, t0),
		record(t, "MODIFY", comment, c2, t1),
		record(t, "REMOVE", c2, nil, t2),
	}
	first, second := &fakeStore{}, &fakeStore{}
	handle(t, first, recs...)
	handle(t, second, recs...)
	handle(t, second, recs[2:4]...) // a partial redelivery
	if !reflect.DeepEqual(first.writes, second.writes[:len(first.writes)]) {
		t.Fatalf("a redelivery wrote differently:\n%+v\n%+v", first.writes, second.writes)
	}
	keys := map[string]int{}
	for _, w := range second.writes {
		for _, r := range w.recs {
			keys[w.entity+"|"+r.Entry.At.Format(time.RFC3339Nano)+"|"+r.Discrim]++
		}
	}
	distinct := 0
	for _, w := range first.writes {
		distinct += len(w.recs)
	}
	if len(keys) != distinct {
		t.Errorf("%d distinct history keys over all deliveries, want %d (one per change): %v", len(keys), distinct, keys)
	}
}

func TestRemoveCascades(t *testing.T) {
	s := &fakeStore{}
	handle(t, s, record(t, "REMOVE", ticket, nil, t1), record(t, "REMOVE", task, nil, t1))
	want := []write{
		{op: "cascade", entityType: "ticket", entity: "TKT-1"},
		{op: "cascade", entityType: "task", entity: "TSK-1"},
		{op: "graph", dept: "DEP-1", entity: "TSK-1"},
	}
	if !reflect.DeepEqual(s.writes, want) {
		t.Errorf("writes = %+v, want %+v", s.writes, want)
	}
}

func TestCommentHistory(t *testing.T) {
	edited := comment.with("content", "Edited", "updatedAt", t1, "version", 2)
	onTask := comment.with("PK", "TASK#TSK-1", "ticketId", nil, "taskId", "TSK-1")
	tests := []struct {
		name       string
		rec        func(t *testing.T) events.DynamoDBEventRecord
		entityType string
		entity     string
		want       []change
		files      bool
	}{
		{"added", func(t *testing.T) events.DynamoDBEventRecord { return record(t, "INSERT", nil, comment, t2) }, "ticket", "TKT-1",
			[]change{{New: "On it", Actor: "USR-AUTHOR", Version: 1, At: t0, Discrim: "c#CMT-1#added", Action: "comment_added", CommentID: "CMT-1"}}, false},
		{"added on a task", func(t *testing.T) events.DynamoDBEventRecord { return record(t, "INSERT", nil, onTask, t2) }, "task", "TSK-1",
			[]change{{New: "On it", Actor: "USR-AUTHOR", Version: 1, At: t0, Discrim: "c#CMT-1#added", Action: "comment_added", CommentID: "CMT-1"}}, false},
		{"edited", func(t *testing.T) events.DynamoDBEventRecord { return record(t, "MODIFY", comment, edited, t2) }, "ticket", "TKT-1",
			[]change{{Old: "On it", New: "Edited", Actor: "USR-AUTHOR", Version: 2, At: t1, Discrim: "c#CMT-1#v000000002#edited", Action: "comment_edited", CommentID: "CMT-1"}}, false},
		{"rewritten with the same content", func(t *testing.T) events.DynamoDBEventRecord {
			return record(t, "MODIFY", comment, comment.with("version", 2, "updatedAt", t1), t2)
		}, "", "", nil, false},
		{"deleted: at the stream's time, by whoever the deletion noted", func(t *testing.T) events.DynamoDBEventRecord { return record(t, "REMOVE", edited, nil, t2) }, "ticket", "TKT-1",
			[]change{{Old: "Edited", Actor: "USR-ADMIN", Version: 2, At: t2, Discrim: "c#CMT-1#deleted", Action: "comment_deleted", CommentID: "CMT-1"}}, true},
		// Stream times are whole seconds: a deletion in the same second as
		// the edit must still come after it.
		{"deleted: never before the last edit", func(t *testing.T) events.DynamoDBEventRecord {
			return record(t, "REMOVE", edited, nil, t1.Truncate(time.Second))
		}, "ticket", "TKT-1",
			[]change{{Old: "Edited", Version: 2, At: t1.Add(time.Nanosecond), Discrim: "c#CMT-1#deleted", Action: "comment_deleted", CommentID: "CMT-1"}}, true},
		{"deleted: not at the last edit either", func(t *testing.T) events.DynamoDBEventRecord { return record(t, "REMOVE", edited, nil, t1) }, "ticket", "TKT-1",
			[]change{{Old: "Edited", Version: 2, At: t1.Add(time.Nanosecond), Discrim: "c#CMT-1#deleted", Action: "comment_deleted", CommentID: "CMT-1"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &fakeStore{}
			if strings.Contains(tt.name, "noted") {
				s.deleters = map[string]string{"CMT-1": "USR-ADMIN"}
			}
			handle(t, s, tt.rec(t))
			if tt.want == nil {
				if len(s.writes) != 0 {
					t.Errorf("writes = %+v, want none", s.writes)
				}
				return
			}
			if len(s.writes) == 0 || s.writes[0].op != "history" || s.writes[0].entityType != tt.entityType || s.writes[0].entity != tt.entity {
				t.Fatalf("writes = %+v, want history of %s %s", s.writes, tt.entityType, tt.entity)
			}
			if got := changes(s.writes[0].recs); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			if tt.files {
				if len(s.writes) != 2 || s.writes[1].op != "files" || s.writes[1].comment != "CMT-1" {
					t.Errorf("deleted comment's files: writes %+v", s.writes)
				}
			}
		})
	}
	// Ordering: the deletion's key sorts after the edit's at any instant.
	s := &fakeStore{}
	handle(t, s, record(t, "MODIFY", comment, edited, t1), record(t, "REMOVE", edited, nil, t1.Truncate(time.Second)))
	edit, del := s.writes[0].recs[0], s.writes[1].recs[0]
	sk := func(r dynamo.HistoryRecord) string {
		return r.Entry.At.UTC().Format("2006-01-02T15:04:05.000000000Z") + "#" + r.Discrim
	}
	if sk(del) <= sk(edit) {
		t.Errorf("deletion key %q sorts before edit key %q", sk(del), sk(edit))
	}
}

// TestFailureStopsTheBatch: the first failing record is reported, and no
// record after it is handled, so Lambda retries from it.
func TestFailureStopsTheBatch(t *testing.T) {
	s := &fakeStore{failOn: 2}
	r1 := record(t, "INSERT", nil, ticket, t0)
	r2 := record(t, "INSERT", nil, task, t0)
	r3 := record(t, "INSERT", nil, comment, t0)
	resp := handle(t, s, r1, r2, r3)
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != r2.Change.SequenceNumber {
		t.Errorf("failures = %+v, want record 2 (%s)", resp.BatchItemFailures, r2.Change.SequenceNumber)
	}
	if len(s.writes) != 1 || s.writes[0].entity != "TKT-1" {
		t.Errorf("writes = %+v, want only record 1's", s.writes)
	}
}

func TestOtherItemsAreIgnored(t *testing.T) {
	s := &fakeStore{}
	user := item{"PK": "USER#USR-1", "SK": "PROFILE", "type": "user", "id": "USR-1"}
	resp := handle(t, s, record(t, "INSERT", nil, user, t0), record(t, "REMOVE", user, nil, t0))
	if len(s.writes) != 0 || len(resp.BatchItemFailures) != 0 {
		t.Errorf("writes %+v, failures %+v, want none", s.writes, resp.BatchItemFailures)
	}
}

func TestMalformedImageIsReported(t *testing.T) {
	s := &fakeStore{}
	bad := record(t, "INSERT", nil, ticket, t0)
	bad.Change.NewImage["title"] = events.DynamoDBAttributeValue{} // a zero value: type B, no content
	resp := handle(t, s, bad)
	if len(resp.BatchItemFailures) != 1 || len(s.writes) != 0 {
		t.Errorf("failures %+v, writes %+v: want the record reported, nothing written", resp.BatchItemFailures, s.writes)
	}
}
