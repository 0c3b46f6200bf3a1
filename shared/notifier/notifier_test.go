package notifier_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi/types"
	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/dynamo"
	"github.com/deskline/deskline/shared/notifier"
)

// People of the tests. Department D has two heads.
const (
	dept    = "DEP-01JB0000000000000000000000"
	head1   = "USR-01JB00000000000000000HD1"
	head2   = "USR-01JB00000000000000000HD2"
	emp1    = "USR-01JB00000000000000000EM1"
	emp2    = "USR-01JB00000000000000000EM2"
	admin   = "USR-01JB00000000000000000ADM"
	outside = "USR-01JB00000000000000000OUT"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// fakeStore keeps notifications and connections in memory. failPut, when
// set, decides per call whether PutNotifications fails.
type fakeStore struct {
	mu      sync.Mutex
	heads   map[string][]string
	notes   map[string]deskline.Notification
	order   []string // ids in the order they were created
	conns   map[string][]string
	deleted []string // "user/conn"
	failPut func(ns []deskline.Notification) error
	// failOne, when set, fails the write of each notification it names
	// while the others are written, as PutNotifications' parallel writes do.
	failOne func(n deskline.Notification) bool
	puts    int
}

func newStore() *fakeStore {
	return &fakeStore{heads: map[string][]string{dept: {head1, head2}}, notes: map[string]deskline.Notification{}, conns: map[string][]string{}}
}

func (s *fakeStore) GetRefs(context.Context, dynamo.RefIDs) (*dynamo.People, error) {
	return &dynamo.People{}, nil
}

func (s *fakeStore) DepartmentHeads(_ context.Context, d string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.heads[d]), nil
}

func (s *fakeStore) Commenters(context.Context, string, string) ([]string, error) { return nil, nil }

func (s *fakeStore) PutNotifications(_ context.Context, ns []deskline.Notification) ([]deskline.Notification, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.puts++
	if s.failPut != nil {
		if err := s.failPut(ns); err != nil {
			return nil, err
		}
	}
	var created []deskline.Notification
	var err error
	for _, n := range ns {
		if _, ok := s.notes[n.ID]; ok {
			continue
		}
		if s.failOne != nil && s.failOne(n) {
			err = fmt.Errorf("put notification %s: throttled", n.ID)
			continue
		}
		s.notes[n.ID] = n
		s.order = append(s.order, n.ID)
		created = append(created, n)
	}
	return created, err
}

func (s *fakeStore) Connections(_ context.Context, u string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.conns[u]), nil
}

func (s *fakeStore) DeleteConnection(_ context.Context, u, c string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleted = append(s.deleted, u+"/"+c)
	s.conns[u] = slices.DeleteFunc(s.conns[u], func(x string) bool { return x == c })
	return nil
}

// got returns "recipient:type" of every stored notification, sorted.
func (s *fakeStore) got() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, n := range s.notes {
		out = append(out, n.UserID+":"+string(n.Type))
	}
	sort.Strings(out)
	return out
}

// fakePoster records posts; connections in gone answer 410, in broken 500.
type fakePoster struct {
	mu     sync.Mutex
	posts  map[string][][]byte
	gone   map[string]bool
	broken map[string]bool
}

func newPoster() *fakePoster {
	return &fakePoster{posts: map[string][][]byte{}, gone: map[string]bool{}, broken: map[string]bool{}}
}

func (p *fakePoster) PostToConnection(_ context.Context, in *apigatewaymanagementapi.PostToConnectionInput, _ ...func(*apigatewaymanagementapi.Options)) (*apigatewaymanagementapi.PostToConnectionOutput, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	id := aws.ToString(in.ConnectionId)
	switch {
	case p.gone[id]:
		return nil, &types.GoneException{Message: aws.String("Gone")}
	case p.broken[id]:
		return nil, errors.New("500 Internal Server Error")
	}
	p.posts[id] = append(p.posts[id], in.Data)
	return &apigatewaymanagementapi.PostToConnectionOutput{}, nil
}

func (p *fakePoster) count(conn string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.posts[conn])
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// image turns an entity into a stream image as Lambda delivers it: the
// entity's JSON fields (the store writes items by JSON names) plus its key
// attributes.
func image(t *testing.T, itemType string, v any) map[string]events.DynamoDBAttributeValue {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	out := map[string]events.DynamoDBAttributeValue{}
	for k, x := range m {
		if x == nil {
			out[k] = events.NewNullAttribute()
			continue
		}
		out[k] = attr(x)
	}
	out["type"] = events.NewStringAttribute(itemType)
	out["PK"] = events.NewStringAttribute(strings.ToUpper(itemType) + "#" + fmt.Sprint(m["id"]))
	out["SK"] = events.NewStringAttribute(strings.ToUpper(itemType))
	return out
}

func attr(x any) events.DynamoDBAttributeValue {
	switch v := x.(type) {
	case string:
		return events.NewStringAttribute(v)
	case json.Number:
		return events.NewNumberAttribute(v.String())
	case bool:
		return events.NewBooleanAttribute(v)
	case []any:
		l := make([]events.DynamoDBAttributeValue, len(v))
		for i, e := range v {
			l[i] = attr(e)
		}
		return events.NewListAttribute(l)
	case map[string]any:
		m := map[string]events.DynamoDBAttributeValue{}
		for k, e := range v {
			m[k] = attr(e)
		}
		return events.NewMapAttribute(m)
	}
	return events.NewNullAttribute()
}

var seqN int

// record is a stream record of a change; old is nil for an INSERT.
func record(t *testing.T, itemType string, old, nw any) events.DynamoDBEventRecord {
	t.Helper()
	seqN++
	r := events.DynamoDBEventRecord{
		EventID: fmt.Sprintf("ev%032d", seqN), EventName: "INSERT", EventVersion: "1.1", EventSource: "aws:dynamodb", AWSRegion: "us-east-1",
		EventSourceArn: "arn:aws:dynamodb:us-east-1:000000000000:table/test/stream/2026-03-01T00:00:00.000",
		Change: events.DynamoDBStreamRecord{
			SequenceNumber: fmt.Sprintf("%021d", 1000+seqN), StreamViewType: "NEW_AND_OLD_IMAGES", SizeBytes: 100,
			ApproximateCreationDateTime: events.SecondsEpochTime{Time: t0},
		},
	}
	r.Change.NewImage = image(t, itemType, nw)
	if old != nil {
		r.EventName = "MODIFY"
		r.Change.OldImage = image(t, itemType, old)
	}
	return r
}

func batch(recs ...events.DynamoDBEventRecord) events.DynamoDBEvent {
	return events.DynamoDBEvent{Records: recs}
}

func ticket(mod func(*deskline.Ticket)) *deskline.Ticket {
	t := &deskline.Ticket{
		ID: "TKT-01JB0000000000000000000001", Key: "OPS-1", Title: "Printer on fire", Status: deskline.TicketOpen,
		Priority: deskline.PriorityHigh, DepartmentID: dept, CreatedBy: emp1, UpdatedBy: emp1, Tags: []string{},
		IsActive: true, CreatedAt: t0, UpdatedAt: t0, Version: 1,
	}
	if mod != nil {
		mod(t)
	}
	return t
}

func task(mod func(*deskline.Task)) *deskline.Task {
	t := &deskline.Task{
		ID: "TSK-01JB0000000000000000000001", Title: "Replace toner", Status: deskline.TaskPending, Priority: deskline.PriorityMedium,
		CreatedBy: head1, UpdatedBy: head1, DepartmentID: dept, IsActive: true, CreatedAt: t0, UpdatedAt: t0, Version: 1,
	}
	if mod != nil {
		mod(t)
	}
	return t
}

func handle(t *testing.T, n *notifier.Notifier, ev events.DynamoDBEvent) events.DynamoDBEventResponse {
	t.Helper()
	resp, err := n.Handle(context.Background(), ev)
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	return resp
}

func TestRecipients(t *testing.T) {
	later := t0.Add(time.Minute)
	for _, tc := range []struct {
		name string
		rec  func(t *testing.T) events.DynamoDBEventRecord
		want []string
	}{
		{"new ticket: the department's heads, not the creating employee", func(t *testing.T) events.DynamoDBEventRecord {
			return record(t, dynamo.TypeTicket, nil, ticket(nil))
		}, []string{head1 + ":new_ticket", head2 + ":new_ticket"}},
		{"new ticket by a head, assigned: the other head and the assignee", func(t *testing.T) events.DynamoDBEventRecord {
			return record(t, dynamo.TypeTicket, nil, ticket(func(x *deskline.Ticket) { x.CreatedBy, x.UpdatedBy, x.AssignedTo = head1, head1, emp2 }))
		}, []string{emp2 + ":new_ticket", head2 + ":new_ticket"}},
		{"new ticket assigned to a head: that head once", func(t *testing.T) events.DynamoDBEventRecord {
			return record(t, dynamo.TypeTicket, nil, ticket(func(x *deskline.Ticket) { x.CreatedBy, x.UpdatedBy, x.AssignedTo = admin, admin, head2 }))
		}, []string{head1 + ":new_ticket", head2 + ":new_ticket"}},
		{"status changed by a head: creator and assignee", func(t *testing.T) events.DynamoDBEventRecord {
			old := ticket(func(x *deskline.Ticket) { x.AssignedTo = emp2 })
			nw := ticket(func(x *deskline.Ticket) {
				x.AssignedTo, x.Status, x.UpdatedBy, x.UpdatedAt, x.Version = emp2, deskline.TicketInProgress, head1, later, 2
			})
			return record(t, dynamo.TypeTicket, old, nw)
		}, []string{emp1 + ":ticket_status_changed", emp2 + ":ticket_status_changed"}},
		{"status changed by the assignee: the creator only", func(t *testing.T) events.DynamoDBEventRecord {
			old := ticket(func(x *deskline.Ticket) { x.AssignedTo = emp2 })
			nw := ticket(func(x *deskline.Ticket) {
				x.AssignedTo, x.Status, x.UpdatedBy, x.UpdatedAt = emp2, deskline.TicketResolved, emp2, later
			})
			return record(t, dynamo.TypeTicket, old, nw)
		}, []string{emp1 + ":ticket_status_changed"}},
		{"ticket assigned by a head: the assignee", func(t *testing.T) events.DynamoDBEventRecord {
			old := ticket(nil)
			nw := ticket(func(x *deskline.Ticket) {
				x.Title, x.AssignedTo, x.UpdatedBy, x.UpdatedAt = "New title", emp2, head1, later
			})
			return record(t, dynamo.TypeTicket, old, nw)
		}, []string{emp2 + ":ticket_assigned"}},
		{"ticket reassigned and its status changed: new assignee twice, creator once", func(t *testing.T) events.DynamoDBEventRecord {
			old := ticket(func(x *deskline.Ticket) { x.AssignedTo = emp2 })
			nw := ticket(func(x *deskline.Ticket) {
				x.AssignedTo, x.Status, x.UpdatedBy, x.UpdatedAt = head2, deskline.TicketInProgress, head1, later
			})
			return record(t, dynamo.TypeTicket, old, nw)
		}, []string{emp1 + ":ticket_status_changed", head2 + ":ticket_assigned", head2 + ":ticket_status_changed"}},
		{"ticket taken by its new assignee: nobody", func(t *testing.T) events.DynamoDBEventRecord {
			old := ticket(nil)
			nw := ticket(func(x *deskline.Ticket) { x.AssignedTo, x.UpdatedBy, x.UpdatedAt = head1, head1, later })
			return record(t, dynamo.TypeTicket, old, nw)
		}, nil},
		{"ticket unassigned or edited: nobody", func(t *testing.T) events.DynamoDBEventRecord {
			old := ticket(func(x *deskline.Ticket) { x.AssignedTo = emp2 })
			nw := ticket(func(x *deskline.Ticket) {
				x.Title, x.Priority, x.AssignedTo, x.UpdatedBy, x.UpdatedAt = "New title", deskline.PriorityHigh, "", head1, later
			})
			return record(t, dynamo.TypeTicket, old, nw)
		}, nil},
		{"task created assigned: the assignee", func(t *testing.T) events.DynamoDBEventRecord {
			return record(t, dynamo.TypeTask, nil, task(func(x *deskline.Task) { x.AssignedToID = emp1 }))
		}, []string{emp1 + ":task_assigned"}},
		{"task created assigned to its creator: nobody", func(t *testing.T) events.DynamoDBEventRecord {
			return record(t, dynamo.TypeTask, nil, task(func(x *deskline.Task) { x.AssignedToID = head1 }))
		}, nil},
		{"task reassigned: the new assignee only", func(t *testing.T) events.DynamoDBEventRecord {
			old := task(func(x *deskline.Task) { x.AssignedToID = emp1 })
			nw := task(func(x *deskline.Task) { x.AssignedToID, x.UpdatedBy, x.UpdatedAt = emp2, head2, later })
			return record(t, dynamo.TypeTask, old, nw)
		}, []string{emp2 + ":task_assigned"}},
		{"task status updated by the assignee: the creator", func(t *testing.T) events.DynamoDBEventRecord {
			old := task(func(x *deskline.Task) { x.AssignedToID = emp1 })
			nw := task(func(x *deskline.Task) {
				x.AssignedToID, x.Status, x.UpdatedBy, x.UpdatedAt = emp1, deskline.TaskInProgress, emp1, later
			})
			return record(t, dynamo.TypeTask, old, nw)
		}, []string{head1 + ":task_updated"}},
		{"task status updated by a third person: creator and assignee", func(t *testing.T) events.DynamoDBEventRecord {
			old := task(func(x *deskline.Task) { x.AssignedToID = emp1 })
			nw := task(func(x *deskline.Task) {
				x.AssignedToID, x.Status, x.UpdatedBy, x.UpdatedAt = emp1, deskline.TaskCancelled, admin, later
			})
			return record(t, dynamo.TypeTask, old, nw)
		}, []string{emp1 + ":task_updated", head1 + ":task_updated"}},
		{"task completed by the assignee: the creator only", func(t *testing.T) events.DynamoDBEventRecord {
			old := task(func(x *deskline.Task) { x.AssignedToID, x.Status = emp1, deskline.TaskInProgress })
			nw := task(func(x *deskline.Task) {
				x.AssignedToID, x.Status, x.Progress, x.UpdatedBy, x.UpdatedAt = emp1, deskline.TaskCompleted, 100, emp1, later
			})
			return record(t, dynamo.TypeTask, old, nw)
		}, []string{head1 + ":task_completed"}},
		{"task completed by its creator: nobody", func(t *testing.T) events.DynamoDBEventRecord {
			old := task(func(x *deskline.Task) { x.AssignedToID = emp1 })
			nw := task(func(x *deskline.Task) { x.AssignedToID, x.Status, x.UpdatedAt = emp1, deskline.TaskCompleted, later })
			return record(t, dynamo.TypeTask, old, nw)
		}, nil},
		{"task progress only: nobody", func(t *testing.T) events.DynamoDBEventRecord {
			old := task(func(x *deskline.Task) { x.AssignedToID = emp1 })
			nw := task(func(x *deskline.Task) { x.AssignedToID, x.Progress, x.UpdatedBy, x.UpdatedAt = emp1, 40, emp1, later })
			return record(t, dynamo.TypeTask, old, nw)
		}, nil},
		{"message: the recipient", func(t *testing.T) events.DynamoDBEventRecord {
			return record(t, dynamo.TypeMessage, nil, &deskline.Message{ID: "MSG-01JB0000000000000000000001", FromUserID: emp1, ToUserID: head1, Body: "Hi", CreatedAt: t0})
		}, []string{head1 + ":message_received"}},
		{"a removed item: nobody", func(t *testing.T) events.DynamoDBEventRecord {
			r := record(t, dynamo.TypeTicket, ticket(nil), ticket(nil))
			r.EventName, r.Change.NewImage = "REMOVE", nil
			return r
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore()
			n := notifier.New(s, nil, quiet())
			if resp := handle(t, n, batch(tc.rec(t))); len(resp.BatchItemFailures) != 0 {
				t.Fatalf("failures %v", resp.BatchItemFailures)
			}
			if got := s.got(); !slices.Equal(got, tc.want) {
				t.Errorf("notified %v, want %v", got, tc.want)
			}
		})
	}
}

// One update that both reassigns a task and changes its status gives the
// new assignee both notifications: they must not share an id.
func TestReassignAndStatusChangeInOneUpdate(t *testing.T) {
	s := newStore()
	n := notifier.New(s, nil, quiet())
	old := task(func(x *deskline.Task) { x.AssignedToID = emp1 })
	nw := task(func(x *deskline.Task) {
		x.AssignedToID, x.Status, x.UpdatedBy, x.UpdatedAt = emp2, deskline.TaskInProgress, head2, t0.Add(time.Minute)
	})
	rec := record(t, dynamo.TypeTask, old, nw)
	handle(t, n, batch(rec))
	want := []string{emp2 + ":task_assigned", emp2 + ":task_updated", head1 + ":task_updated"}
	if got := s.got(); !slices.Equal(got, want) {
		t.Fatalf("notified %v, want %v", got, want)
	}
	// And replaying it still adds nothing.
	handle(t, n, batch(rec))
	if got := s.got(); len(got) != len(want) {
		t.Fatalf("after replay: %v", got)
	}
}

func TestFrameAndReplay(t *testing.T) {
	s, p := newStore(), newPoster()
	s.conns[head1] = []string{"c1", "c2"}
	s.conns[emp1] = []string{"e1"}
	n := notifier.New(s, p, quiet())
	rec := record(t, dynamo.TypeTicket, nil, ticket(nil))
	handle(t, n, batch(rec))
	if p.count("c1") != 1 || p.count("c2") != 1 || p.count("e1") != 0 {
		t.Fatalf("posts: c1 %d, c2 %d, e1 %d; want 1, 1, 0", p.count("c1"), p.count("c2"), p.count("e1"))
	}
	var f struct {
		Type string         `json:"type"`
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(p.posts["c1"][0], &f); err != nil {
		t.Fatal(err)
	}
	d := f.Data
	if f.Type != "notification" || d["type"] != "new_ticket" || d["ticketId"] != ticket(nil).ID || d["actorId"] != emp1 ||
		d["isRead"] != false || d["userId"] != head1 || !strings.HasPrefix(d["id"].(string), "NOT-") || d["createdAt"] != t0.Format(time.RFC3339) ||
		!strings.Contains(d["message"].(string), "OPS-1") {
		t.Errorf("frame = %s", p.posts["c1"][0])
	}
	for _, k := range []string{"taskId", "messageId"} {
		if _, ok := d[k]; ok {
			t.Errorf("frame has %s: %s", k, p.posts["c1"][0])
		}
	}
	before := s.got()

	// The same batch again, as Lambda retries it: nothing new stored or pushed.
	handle(t, n, batch(rec))
	if got := s.got(); !slices.Equal(got, before) {
		t.Errorf("after replay: %v, want %v", got, before)
	}
	if p.count("c1") != 1 || p.count("c2") != 1 {
		t.Errorf("replay pushed again: c1 %d, c2 %d", p.count("c1"), p.count("c2"))
	}
	// The same change under another event id is another change.
	again := rec
	again.EventID += "x"
	handle(t, n, batch(again))
	if got := s.got(); len(got) != 2*len(before) {
		t.Errorf("another event id: %v", got)
	}
}

func TestGoneConnectionIsForgotten(t *testing.T) {
	s, p := newStore(), newPoster()
	s.conns[head1] = []string{"live", "gone", "broken"}
	p.gone["gone"], p.broken["broken"] = true, true
	n := notifier.New(s, p, quiet())
	handle(t, n, batch(record(t, dynamo.TypeTicket, nil, ticket(nil))))
	if !slices.Equal(s.deleted, []string{head1 + "/gone"}) {
		t.Errorf("deleted %v, want only the gone connection", s.deleted)
	}
	if p.count("live") != 1 {
		t.Errorf("the live connection got %d posts", p.count("live"))
	}
	// Push failures never fail the record: the notification is stored.
	if got := s.got(); len(got) != 2 {
		t.Errorf("stored %v", got)
	}
}

// A record whose notifications cannot be written fails alone: the batch
// reports exactly its sequence number, the records before it are done, the
// records after it are left for the retry (which starts at it, as the
// event source mapping does), and the retry handles it and the rest.
func TestFailingRecordIsRetriedWithoutHoldingBackTheRest(t *testing.T) {
	s, p := newStore(), newPoster()
	s.conns[head1] = []string{"h1"}
	n := notifier.New(s, p, quiet())
	r1 := record(t, dynamo.TypeTicket, nil, ticket(func(x *deskline.Ticket) { x.ID, x.Key = "TKT-01JB0000000000000000000011", "OPS-11" }))
	r2 := record(t, dynamo.TypeTicket, nil, ticket(func(x *deskline.Ticket) { x.ID, x.Key = "TKT-01JB0000000000000000000012", "OPS-12" }))
	r3 := record(t, dynamo.TypeTicket, nil, ticket(func(x *deskline.Ticket) { x.ID, x.Key = "TKT-01JB0000000000000000000013", "OPS-13" }))
	r4 := record(t, dynamo.TypeMessage, nil, &deskline.Message{ID: "MSG-01JB0000000000000000000009", FromUserID: emp1, ToUserID: head1, Body: "Hi", CreatedAt: t0})
	failures := 0
	s.failPut = func(ns []deskline.Notification) error {
		if ns[0].TicketID == "TKT-01JB0000000000000000000012" && failures == 0 {
			failures++
			return errors.New("ProvisionedThroughputExceededException")
		}
		return nil
	}
	tickets := func() map[string]int {
		out := map[string]int{}
		for _, x := range s.notes {
			out[x.TicketID+x.MessageID]++
		}
		return out
	}

	resp := handle(t, n, batch(r1, r2, r3, r4))
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != r2.Change.SequenceNumber {
		t.Fatalf("BatchItemFailures = %v, want exactly r2's sequence number %s", resp.BatchItemFailures, r2.Change.SequenceNumber)
	}
	got := tickets()
	if got["TKT-01JB0000000000000000000011"] != 2 || len(got) != 1 {
		t.Fatalf("after the first call: %v; want r1's two notifications only", got)
	}

	// The retry starts at the failed record.
	resp = handle(t, n, batch(r2, r3, r4))
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("retry: BatchItemFailures = %v", resp.BatchItemFailures)
	}
	got = tickets()
	want := map[string]int{
		"TKT-01JB0000000000000000000011": 2, "TKT-01JB0000000000000000000012": 2, "TKT-01JB0000000000000000000013": 2,
		"MSG-01JB0000000000000000000009": 1,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after the retry: %v, want %v", got, want)
	}
	// head1 heard of each change once: 3 tickets and the message.
	if p.count("h1") != 4 {
		t.Errorf("head1's connection got %d frames, want 4", p.count("h1"))
	}
}

// A record the notifier cannot even decode fails alone too.
func TestUndecodableRecordFailsAlone(t *testing.T) {
	s := newStore()
	n := notifier.New(s, nil, quiet())
	good := record(t, dynamo.TypeTicket, nil, ticket(nil))
	bad := record(t, dynamo.TypeTicket, nil, ticket(nil))
	bad.Change.NewImage["title"] = events.DynamoDBAttributeValue{} // a zero value: no type
	resp := handle(t, n, batch(good, bad))
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != bad.Change.SequenceNumber {
		t.Fatalf("BatchItemFailures = %v, want %s", resp.BatchItemFailures, bad.Change.SequenceNumber)
	}
	if len(s.got()) != 2 {
		t.Errorf("the good record's notifications: %v", s.got())
	}
}

// When some of a record's notifications are written and one is not, the
// record fails and is retried; the ones written are pushed at once, since
// the retry finds them stored and pushes only the one it writes.
func TestPartlyWrittenRecordPushesWhatWasWritten(t *testing.T) {
	s, p := newStore(), newPoster()
	s.conns[head1], s.conns[head2] = []string{"h1"}, []string{"h2"}
	n := notifier.New(s, p, quiet())
	rec := record(t, dynamo.TypeTicket, nil, ticket(nil))
	failed := false
	s.failOne = func(x deskline.Notification) bool {
		if x.UserID == head2 && !failed {
			failed = true
			return true
		}
		return false
	}
	resp := handle(t, n, batch(rec))
	if len(resp.BatchItemFailures) != 1 {
		t.Fatalf("BatchItemFailures = %v, want the record", resp.BatchItemFailures)
	}
	if p.count("h1") != 1 || p.count("h2") != 0 {
		t.Fatalf("first attempt pushed h1 %d, h2 %d; want 1, 0", p.count("h1"), p.count("h2"))
	}
	if resp := handle(t, n, batch(rec)); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("retry: %v", resp.BatchItemFailures)
	}
	if p.count("h1") != 1 || p.count("h2") != 1 {
		t.Errorf("after the retry h1 got %d frames, h2 %d; want one each", p.count("h1"), p.count("h2"))
	}
}

// events/stream/notifier-batch.json holds real records of DynamoDB Local's
// stream (a ticket opened by an employee, moved on by the department's head,
// and a message from the employee to the head), shaped as Lambda delivers
// them.
func TestSampleBatch(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "events", "stream", "notifier-batch.json"))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var ev events.DynamoDBEvent
	if err := dec.Decode(&ev); err != nil {
		t.Fatal(err)
	}
	if len(ev.Records) != 3 {
		t.Fatalf("%d records", len(ev.Records))
	}
	var tk deskline.Ticket
	img, err := dynamo.StreamImage(ev.Records[0].Change.NewImage)
	if err != nil {
		t.Fatal(err)
	}
	if err := dynamo.UnmarshalEntity(img, &tk); err != nil || tk.DepartmentID == "" {
		t.Fatalf("ticket %+v: %v", tk, err)
	}
	const head = "USR-06H1BMKKJDFK1VQB0NR0K2A6H8" // the department's head, the message's recipient
	for _, r := range ev.Records {
		if r.EventSource != "aws:dynamodb" || r.EventVersion != "1.1" || r.Change.StreamViewType != "NEW_AND_OLD_IMAGES" || r.Change.SequenceNumber == "" ||
			!strings.HasPrefix(r.EventSourceArn, "arn:aws:dynamodb:") || r.Change.ApproximateCreationDateTime.IsZero() {
			t.Errorf("record %s: %+v", r.EventID, r)
		}
	}
	s := newStore()
	s.heads[tk.DepartmentID] = []string{head}
	resp := handle(t, notifier.New(s, nil, quiet()), ev)
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures %v", resp.BatchItemFailures)
	}
	want := []string{tk.CreatedBy + ":ticket_status_changed", head + ":message_received", head + ":new_ticket"}
	sort.Strings(want)
	if got := s.got(); !slices.Equal(got, want) {
		t.Errorf("notified %v, want %v", got, want)
	}
}
