package cloud_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/coder/websocket"
	"github.com/deskline/deskline/localstack/streams"
	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/dynamo"
	"github.com/deskline/deskline/shared/notifier"
)

// inbox reads every frame of one user's socket in the background, so that a
// test can both wait for frames and show that none came. (A read with a
// deadline would close the socket when the deadline passes.)
type inbox struct {
	name    string
	c       *websocket.Conn
	mu      sync.Mutex
	frames  []map[string]any
	arrived chan struct{}
	err     error
}

// listen opens a socket as the caller with token and starts its inbox.
func (w *world) listen(t *testing.T, name, token string) *inbox {
	t.Helper()
	s := w.dial(t, token)
	in := &inbox{name: name, c: s.c, arrived: make(chan struct{}, 1)}
	go func() {
		for {
			_, data, err := s.c.Read(context.Background())
			in.mu.Lock()
			if err != nil {
				in.err = err
			} else {
				var f map[string]any
				if json.Unmarshal(data, &f) != nil {
					f = map[string]any{"type": "unparsable", "raw": string(data)}
				}
				in.frames = append(in.frames, f)
			}
			in.mu.Unlock()
			select {
			case in.arrived <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
	return in
}

// send writes a frame (the inbox reads the answers).
func (in *inbox) send(t testing.TB, v any) {
	t.Helper()
	b, _ := json.Marshal(v)
	if err := in.c.Write(context.Background(), websocket.MessageText, b); err != nil {
		t.Fatalf("write on %s's socket: %v", in.name, err)
	}
}

// mark is where the frames of one step start.
func (in *inbox) mark() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.frames)
}

// since returns the frames from mark on that match.
func (in *inbox) since(mark int, match func(map[string]any) bool) []map[string]any {
	in.mu.Lock()
	defer in.mu.Unlock()
	var out []map[string]any
	for _, f := range in.frames[mark:] {
		if match(f) {
			out = append(out, f)
		}
	}
	return out
}

// wait waits up to d for a frame from mark on that matches.
func (in *inbox) wait(t testing.TB, mark int, d time.Duration, what string, match func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.After(d)
	for {
		if got := in.since(mark, match); len(got) > 0 {
			return got[0]
		}
		in.mu.Lock()
		err := in.err
		in.mu.Unlock()
		if err != nil {
			t.Fatalf("%s's socket closed while waiting for %s: %v", in.name, what, err)
		}
		select {
		case <-in.arrived:
		case <-deadline:
			t.Fatalf("%s got no %s within %s", in.name, what, d)
			return nil
		}
	}
}

// data is a notification frame's data, or nil for other frames.
func data(f map[string]any) map[string]any {
	if f["type"] != "notification" {
		return nil
	}
	d, _ := f["data"].(map[string]any)
	return d
}

// isNotification matches notification frames of a type (any type if "").
func isNotification(typ string) func(map[string]any) bool {
	return func(f map[string]any) bool {
		d := data(f)
		return d != nil && (typ == "" || d["type"] == typ)
	}
}

// about says which entity a notification is about.
func about(n map[string]any) string {
	for _, k := range []string{"ticketId", "taskId", "messageId"} {
		if s, _ := n[k].(string); s != "" {
			return s
		}
	}
	return ""
}

// person is one user of the cast with an open socket.
type person struct {
	name, id, token string
	in              *inbox
}

// cast is everyone of a world, each with a socket.
type cast struct {
	w      *world
	people []*person
	by     map[string]*person
}

func (c *cast) p(name string) *person { return c.by[name] }

// newCast builds a world with a second head and a second employee in
// department A and opens one socket per user, once the world's own changes
// have gone through the stream.
func newCast(t *testing.T) *cast {
	t.Helper()
	w := newWorld(t)
	c := &cast{w: w, by: map[string]*person{}}
	headA2ID, headA2 := w.user("department_head", w.deptA)
	empA2ID, empA2 := w.user("employee", w.deptA)
	for _, p := range []*person{
		{name: "admin", token: w.admin},
		{name: "headA", id: w.headAID, token: w.headA},
		{name: "headA2", id: headA2ID, token: headA2},
		{name: "headB", token: w.headB},
		{name: "empA", id: w.empAID, token: w.empA},
		{name: "empA2", id: empA2ID, token: empA2},
		{name: "empB", id: w.empBID, token: w.empB},
	} {
		if p.id == "" {
			p.id = userIDOf(t, w, p.token)
		}
		c.people = append(c.people, p)
		c.by[p.name] = p
	}
	waitProjected(t, w)
	for _, p := range c.people {
		p.in = w.listen(t, p.name, p.token)
	}
	return c
}

// expect is one kind of notification a step must cause, and to whom.
type expect struct {
	typ string
	to  []string
}

// step runs action as actor (action returns the id of the ticket, task or
// message the notifications are about) and checks that each expected
// notification reaches exactly its recipients, live and stored, once, and
// that nobody else gets a notification of that type and the actor none at all.
func (c *cast) step(t *testing.T, what, actor string, action func() string, wants ...expect) {
	t.Helper()
	marks := map[string]int{}
	seen := map[string]map[any]bool{} // stored notification ids before the step
	for _, p := range c.people {
		marks[p.name] = p.in.mark()
		seen[p.name] = map[any]bool{}
		for _, n := range c.list(t, p, url.Values{"limit": {"100"}}) {
			seen[p.name][n["id"]] = true
		}
	}
	entity := action()
	act := c.p(actor)
	for _, wt := range wants {
		for _, name := range wt.to {
			p := c.p(name)
			f := p.in.wait(t, marks[name], 10*time.Second, wt.typ+" about "+entity+" ("+what+")", func(f map[string]any) bool {
				d := data(f)
				return d != nil && d["type"] == wt.typ && about(d) == entity
			})
			d := data(f)
			created, err := time.Parse(time.RFC3339Nano, fmt.Sprint(d["createdAt"]))
			if d["actorId"] != act.id || d["isRead"] != false || d["userId"] != p.id || !strings.HasPrefix(fmt.Sprint(d["id"]), "NOT-") ||
				fmt.Sprint(d["message"]) == "" || err != nil || time.Since(created) > time.Minute {
				t.Errorf("%s: %s's %s frame: %v", what, name, wt.typ, d)
			}
		}
	}
	// Every push of these changes is done once the stream is handled.
	waitProjected(t, c.w)
	time.Sleep(150 * time.Millisecond) // frames in flight on loopback
	for _, p := range c.people {
		mk := marks[p.name]
		if p.name == actor {
			if got := p.in.since(mk, isNotification("")); len(got) > 0 {
				t.Errorf("%s: the actor %s was notified: %v", what, actor, got)
			}
		}
		for _, wt := range wants {
			got := p.in.since(mk, isNotification(wt.typ))
			n := 0
			if slices.Contains(wt.to, p.name) {
				n = 1
			}
			if len(got) != n || (n == 1 && about(data(got[0])) != entity) {
				t.Errorf("%s: %s got %d %s frames %v, want %d about %s", what, p.name, len(got), wt.typ, got, n, entity)
			}
			// Stored: GET /api/notifications has it for the recipients only.
			stored := c.list(t, p, url.Values{"type": {wt.typ}, "limit": {"100"}})
			var hits []map[string]any
			for _, s := range stored {
				if about(s) == entity && !seen[p.name][s["id"]] {
					hits = append(hits, s)
				}
			}
			if len(hits) != n {
				t.Errorf("%s: %s has %d stored %s notifications about %s, want %d", what, p.name, len(hits), wt.typ, entity, n)
			} else if n == 1 {
				live := data(got[0])
				if hits[0]["id"] != live["id"] || hits[0]["message"] != live["message"] || hits[0]["relatedUserId"] != act.id {
					t.Errorf("%s: %s's stored %v differs from the pushed %v", what, p.name, hits[0], live)
				}
			}
		}
	}
}

// list GETs the person's notifications with query.
func (c *cast) list(t testing.TB, p *person, q url.Values) []map[string]any {
	t.Helper()
	r := c.w.call(t, p.token).do("GET", "/api/notifications?"+q.Encode(), nil)
	want(t, r, 200, "list notifications of "+p.name)
	return decode[[]map[string]any](t, r)
}

func (c *cast) newTicket(t *testing.T, who, dept string, extra map[string]any) string {
	t.Helper()
	return mustCreate(t, c.w.call(t, c.p(who).token), "/api/tickets", ticketBody(dept, extra))["id"].(string)
}

func (c *cast) put(t *testing.T, who, path string, body any) {
	t.Helper()
	mustPut(t, c.w.call(t, c.p(who).token), path, body)
}

func TestNotificationRecipients(t *testing.T) {
	c := newCast(t)
	w := c.w
	var t1, t2, k1 string

	// new_ticket: the department's heads and the assignee, never the creator.
	c.step(t, "employee opens a ticket", "empA", func() string {
		t1 = c.newTicket(t, "empA", w.deptA, nil)
		return t1
	}, expect{"new_ticket", []string{"headA", "headA2"}})
	c.step(t, "head opens an assigned ticket", "headA", func() string {
		t2 = c.newTicket(t, "headA", w.deptA, map[string]any{"assignedTo": c.p("empA2").id})
		return t2
	}, expect{"new_ticket", []string{"headA2", "empA2"}})
	c.step(t, "admin opens a ticket in B", "admin", func() string {
		return c.newTicket(t, "admin", w.deptB, nil)
	}, expect{"new_ticket", []string{"headB"}})

	// ticket_assigned: the new assignee, never the actor.
	c.step(t, "head assigns a ticket", "headA", func() string {
		c.put(t, "headA", "/api/tickets/"+t1, map[string]any{"assignedTo": c.p("empA2").id})
		return t1
	}, expect{"ticket_assigned", []string{"empA2"}}, expect{"ticket_status_changed", nil})

	// ticket_status_changed: creator and assignee, never the actor.
	c.step(t, "head moves a ticket", "headA", func() string {
		c.put(t, "headA", "/api/tickets/"+t1, map[string]any{"status": "in_progress"})
		return t1
	}, expect{"ticket_status_changed", []string{"empA", "empA2"}})
	c.step(t, "assignee resolves the ticket", "empA2", func() string {
		c.put(t, "empA2", "/api/tickets/"+t1, map[string]any{"status": "resolved"})
		return t1
	}, expect{"ticket_status_changed", []string{"empA"}})
	c.step(t, "creator closes the ticket", "empA", func() string {
		c.put(t, "empA", "/api/tickets/"+t1, map[string]any{"status": "closed"})
		return t1
	}, expect{"ticket_status_changed", []string{"empA2"}})

	// task_assigned: the (new) assignee.
	c.step(t, "head creates an assigned task", "headA", func() string {
		k1 = w.task(w.headA, w.deptA, w.empAID)
		return k1
	}, expect{"task_assigned", []string{"empA"}})
	c.step(t, "other head reassigns the task", "headA2", func() string {
		c.put(t, "headA2", "/api/tasks/"+k1, map[string]any{"assignedToId": c.p("empA2").id})
		return k1
	}, expect{"task_assigned", []string{"empA2"}})

	// task_updated: assignee and creator; task_completed: the creator.
	c.step(t, "assignee starts the task", "empA2", func() string {
		c.put(t, "empA2", "/api/tasks/"+k1, map[string]any{"status": "in_progress"})
		return k1
	}, expect{"task_updated", []string{"headA"}})
	c.step(t, "other head puts the task back", "headA2", func() string {
		c.put(t, "headA2", "/api/tasks/"+k1, map[string]any{"status": "pending"})
		return k1
	}, expect{"task_updated", []string{"headA", "empA2"}})
	c.step(t, "assignee completes the task", "empA2", func() string {
		c.put(t, "empA2", "/api/tasks/"+k1, map[string]any{"status": "completed"})
		return k1
	}, expect{"task_completed", []string{"headA"}})
	c.step(t, "reassign and reopen in one update", "headA2", func() string {
		c.put(t, "headA2", "/api/tasks/"+k1, map[string]any{"assignedToId": w.empAID, "status": "in_progress"})
		return k1
	}, expect{"task_assigned", []string{"empA"}}, expect{"task_updated", []string{"headA", "empA"}})

	// comment_added: the parent's creator, assignee and earlier commenters.
	comment := func(who, path string) func() string {
		return func() string {
			body := map[string]any{"content": "Note from " + who}
			if strings.HasPrefix(path, "task:") {
				body["taskId"] = strings.TrimPrefix(path, "task:")
				mustCreate(t, w.call(t, c.p(who).token), "/api/comments", body)
				return body["taskId"].(string)
			}
			mustCreate(t, w.call(t, c.p(who).token), "/api/tickets/"+path+"/comments", body)
			return path
		}
	}
	c.step(t, "first comment on a ticket", "headA2", comment("headA2", t2),
		expect{"comment_added", []string{"headA", "empA2"}})
	c.step(t, "second commenter", "empA", comment("empA", t2),
		expect{"comment_added", []string{"headA", "empA2", "headA2"}})
	c.step(t, "the creator comments", "headA", comment("headA", t2),
		expect{"comment_added", []string{"empA2", "headA2", "empA"}})
	c.step(t, "admin comments on a task", "admin", comment("admin", "task:"+k1),
		expect{"comment_added", []string{"headA", "empA"}})

	// message_received: the recipient, sent over REST and over the socket.
	c.step(t, "message over REST", "empA", func() string {
		return mustCreate(t, w.call(t, w.empA), "/api/messages", map[string]any{"to": w.headAID, "body": "Printer again"})["id"].(string)
	}, expect{"message_received", []string{"headA"}})
	c.step(t, "message over the socket", "headB", func() string {
		hb := c.p("headB")
		mk := hb.in.mark()
		hb.in.send(t, map[string]any{"action": "sendMessage", "to": w.empBID, "body": "Stand-up at ten", "requestId": "m1"})
		f := hb.in.wait(t, mk, 10*time.Second, "messageSent", func(f map[string]any) bool { return f["type"] == "messageSent" })
		if f["requestId"] != "m1" {
			t.Errorf("messageSent = %v", f)
		}
		return f["data"].(map[string]any)["id"].(string)
	}, expect{"message_received", []string{"empB"}})
}

func TestPendingOrRejectedUsersCannotConnect(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	pendingID, _ := w.pending(w.deptA)
	rejectedID, _ := w.pending(w.deptA)
	want(t, w.c.as(w.admin).do("PATCH", "/api/users/"+rejectedID+"/reject", nil), 200, "reject")
	for _, tc := range []struct{ name, id string }{{"pending", pendingID}, {"rejected", rejectedID}} {
		t.Run(tc.name, func(t *testing.T) {
			// Such users cannot log in, so sign a token with a session as
			// the login would: the authorizer must still deny it (403).
			sess := deskline.RandomIDs{Clock: deskline.SystemClock{}}.NewID(deskline.PrefixSession)
			now := time.Now()
			if err := w.store.CreateSession(ctx, dynamo.Session{ID: sess, UserID: tc.id, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			tok, _, err := w.cloud.App.Server.Tokens.Issue(tc.id, sess)
			if err != nil {
				t.Fatal(err)
			}
			// The token is good: the HTTP API knows who it is.
			if r := w.c.as(tok).do("GET", "/api/auth/me", nil); r.Status == 401 {
				t.Fatalf("the signed token is refused by the HTTP API: %s", r.Body)
			}
			dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			c, resp, err := websocket.Dial(dctx, w.cloud.WSURL+"?token="+tok, nil)
			if err == nil {
				c.CloseNow()
				t.Fatal("connected")
			}
			if resp == nil || resp.StatusCode != http.StatusForbidden {
				t.Fatalf("dial: %v, response %v; want 403", err, resp)
			}
			if ids, err := w.store.Connections(ctx, tc.id); err != nil || len(ids) != 0 {
				t.Errorf("connections stored for a refused user: %v, %v", ids, err)
			}
		})
	}
	t.Run("token of another secret", func(t *testing.T) {
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		forged := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJVU1ItMDFKQjAwMDAwMDAwMDAwMDAwMDAwMDAwMDEifQ.c2lnbmF0dXJl"
		_, resp, err := websocket.Dial(dctx, w.cloud.WSURL+"?token="+forged, nil)
		if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("dial: %v, response %v; want 401", err, resp)
		}
	})
	t.Run("approved user, then rejected", func(t *testing.T) {
		id, email := w.pending(w.deptA)
		want(t, w.c.as(w.admin).do("PATCH", "/api/users/"+id+"/approve", nil), 200, "approve")
		tok := w.c.login(email, testPassword)
		w.dial(t, tok) // connects while approved
		want(t, w.c.as(w.admin).do("PATCH", "/api/users/"+id+"/reject", nil), 200, "reject")
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_, resp, err := websocket.Dial(dctx, w.cloud.WSURL+"?token="+tok, nil)
		if err == nil || resp == nil || (resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusUnauthorized) {
			t.Fatalf("dial after rejection: %v, response %v; want 401 or 403", err, resp)
		}
	})
}

// streamRecords reads every record of the table's stream so far, shaped as
// Lambda's event source mapping delivers them.
func streamRecords(t *testing.T, w *world) []events.DynamoDBEventRecord {
	t.Helper()
	ctx := context.Background()
	arn := w.cloud.Pump.StreamARN()
	sc := streams.LocalClient(w.cloud.DynamoDBEndpoint)
	desc, err := sc.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	var out []events.DynamoDBEventRecord
	for _, sh := range desc.StreamDescription.Shards {
		it, err := sc.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{
			StreamArn: aws.String(arn), ShardId: sh.ShardId, ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon,
		})
		if err != nil {
			t.Fatal(err)
		}
		iter := it.ShardIterator
		for iter != nil {
			recs, err := sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs.Records {
				out = append(out, lambdaRecord(t, r, arn))
			}
			if len(recs.Records) == 0 {
				break
			}
			iter = recs.NextShardIterator
		}
	}
	return out
}

func lambdaRecord(t *testing.T, r streamtypes.Record, arn string) events.DynamoDBEventRecord {
	t.Helper()
	img := func(m map[string]streamtypes.AttributeValue) map[string]events.DynamoDBAttributeValue {
		if len(m) == 0 {
			return nil
		}
		out := map[string]events.DynamoDBAttributeValue{}
		for k, v := range m {
			ev, err := streams.EventAttribute(v)
			if err != nil {
				t.Fatal(err)
			}
			out[k] = ev
		}
		return out
	}
	d := r.Dynamodb
	return events.DynamoDBEventRecord{
		AWSRegion: aws.ToString(r.AwsRegion), EventID: aws.ToString(r.EventID), EventName: string(r.EventName),
		EventSource: "aws:dynamodb", EventVersion: "1.1", EventSourceArn: arn,
		Change: events.DynamoDBStreamRecord{
			ApproximateCreationDateTime: events.SecondsEpochTime{Time: aws.ToTime(d.ApproximateCreationDateTime)},
			Keys:                        img(d.Keys), NewImage: img(d.NewImage), OldImage: img(d.OldImage),
			SequenceNumber: aws.ToString(d.SequenceNumber), SizeBytes: aws.ToInt64(d.SizeBytes), StreamViewType: string(d.StreamViewType),
		},
	}
}

// strAttr reads a string attribute of a stream image ("" if there is none).
func strAttr(img map[string]events.DynamoDBAttributeValue, name string) string {
	if v, ok := img[name]; ok && v.DataType() == events.DataTypeString {
		return v.String()
	}
	return ""
}

// allNotifications counts every stored notification of the given users.
func allNotifications(t *testing.T, w *world, tokens ...string) int {
	t.Helper()
	n := 0
	for _, tok := range tokens {
		r := w.call(t, tok).do("GET", "/api/notifications?limit=100", nil)
		want(t, r, 200, "list")
		n += len(decode[[]map[string]any](t, r))
	}
	return n
}

// Replaying the stream (every record so far, in batches of 100, as Lambda
// would after a failure) stores and pushes nothing twice.
func TestReplayedBatchCreatesNoDuplicate(t *testing.T) {
	w := newWorld(t)
	id := w.ticket(w.empA, w.deptA)
	mustCreate(t, w.call(t, w.headA), "/api/messages", map[string]any{"to": w.empAID, "body": "Seen it"})
	waitProjected(t, w)
	in := w.listen(t, "empA", w.empA)
	mk := in.mark()
	mustPut(t, w.call(t, w.headA), "/api/tickets/"+id, map[string]any{"status": "in_progress"})
	in.wait(t, mk, 10*time.Second, "ticket_status_changed", isNotification("ticket_status_changed"))
	waitProjected(t, w)
	tokens := []string{w.admin, w.headA, w.headB, w.empA, w.empB}
	before := allNotifications(t, w, tokens...)
	unread := decode[map[string]any](t, w.call(t, w.empA).do("GET", "/api/notifications/unread/count", nil))["count"]

	recs := streamRecords(t, w)
	var modify events.DynamoDBEventRecord
	for _, r := range recs {
		if r.EventName == "MODIFY" && strAttr(r.Change.NewImage, "type") == dynamo.TypeTicket && strAttr(r.Change.NewImage, "id") == id {
			modify = r
		}
	}
	if modify.EventID == "" {
		t.Fatalf("no MODIFY record of %s among %d stream records", id, len(recs))
	}
	ctx := context.Background()
	for range 2 {
		for i := 0; i < len(recs); i += 100 {
			ev := events.DynamoDBEvent{Records: recs[i:min(i+100, len(recs))]}
			resp, err := w.cloud.App.Notifier.Handle(ctx, ev)
			if err != nil || len(resp.BatchItemFailures) > 0 {
				t.Fatalf("replay: %v, %v", resp, err)
			}
		}
		// And the status change alone, once more.
		if _, err := w.cloud.App.Notifier.Handle(ctx, events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{modify}}); err != nil {
			t.Fatal(err)
		}
	}
	waitProjected(t, w)
	time.Sleep(200 * time.Millisecond)
	if after := allNotifications(t, w, tokens...); after != before {
		t.Errorf("notifications: %d before the replay, %d after", before, after)
	}
	if got := decode[map[string]any](t, w.call(t, w.empA).do("GET", "/api/notifications/unread/count", nil))["count"]; got != unread {
		t.Errorf("unread count %v, was %v", got, unread)
	}
	if got := in.since(mk, isNotification("")); len(got) != 1 {
		t.Errorf("empA got %d frames, want the one: %v", len(got), got)
	}
}

// A connection that vanished answers 410 to @connections; the notifier
// forgets it, and the user's live connection still gets the frame.
func TestGoneConnectionIsRemoved(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	id := w.ticket(w.empA, w.deptA)
	waitProjected(t, w)
	in := w.listen(t, "empA", w.empA)
	live, err := w.store.Connections(ctx, w.empAID)
	if err != nil || len(live) != 1 {
		t.Fatalf("connections of empA: %v, %v", live, err)
	}
	ghost := "R2hvc3RDb25uZWN0aW9u" // shaped like API Gateway's ids; no socket has it
	if err := w.store.PutConnection(ctx, w.empAID, ghost, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	mk := in.mark()
	mustPut(t, w.call(t, w.headA), "/api/tickets/"+id, map[string]any{"status": "in_progress"})
	in.wait(t, mk, 10*time.Second, "ticket_status_changed", isNotification("ticket_status_changed"))
	waitProjected(t, w)
	got, err := w.store.Connections(ctx, w.empAID)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(got, ghost) || !slices.Equal(got, live) {
		t.Errorf("connections after the 410: %v, want only the live %v", got, live)
	}
}

// failOnce is the notifier's store that fails the first write of one
// ticket's notifications, and logs which records got written.
type failOnce struct {
	*dynamo.Store
	ticket string
	mu     sync.Mutex
	failed bool
	call   int            // the current invocation
	writes map[string]int // ticket id -> invocation that wrote it
}

func (f *failOnce) PutNotifications(ctx context.Context, ns []deskline.Notification) ([]deskline.Notification, error) {
	f.mu.Lock()
	if ns[0].TicketID == f.ticket && !f.failed {
		f.failed = true
		f.mu.Unlock()
		return nil, fmt.Errorf("throttled")
	}
	if ns[0].TicketID != "" {
		if _, ok := f.writes[ns[0].TicketID]; !ok {
			f.writes[ns[0].TicketID] = f.call
		}
	}
	f.mu.Unlock()
	return f.Store.PutNotifications(ctx, ns)
}

// A record that makes the notifier fail is retried by the stream pump, from
// it, and the records after it still go through (no on-failure destination).
func TestFailingRecordIsRetriedThroughThePump(t *testing.T) {
	w := newWorld(t)
	t1, t2, t3 := w.ticket(w.empA, w.deptA), w.ticket(w.empA, w.deptA), w.ticket(w.empA, w.deptA)
	waitProjected(t, w)

	store := &failOnce{Store: w.store, ticket: t2, writes: map[string]int{}}
	n := notifier.New(store, nil, w.cloud.App.Log)
	type invocation struct {
		tickets []string // ticket ids of the batch's ticket records
		failed  []string // BatchItemFailures
		seqOf   map[string]string
	}
	var mu sync.Mutex
	var calls []invocation
	handler := func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		store.mu.Lock()
		store.call++
		store.mu.Unlock()
		inv := invocation{seqOf: map[string]string{}}
		for _, r := range ev.Records {
			if strAttr(r.Change.NewImage, "type") == dynamo.TypeTicket {
				tid := strAttr(r.Change.NewImage, "id")
				inv.tickets = append(inv.tickets, tid)
				inv.seqOf[r.Change.SequenceNumber] = tid
			}
		}
		resp, err := n.Handle(ctx, ev)
		for _, f := range resp.BatchItemFailures {
			inv.failed = append(inv.failed, inv.seqOf[f.ItemIdentifier])
		}
		mu.Lock()
		calls = append(calls, inv)
		mu.Unlock()
		return resp, err
	}
	pump := streams.New(streams.LocalClient(w.cloud.DynamoDBEndpoint), dynamo.LocalClient(w.cloud.DynamoDBEndpoint), w.cloud.App.Config.Table,
		[]streams.Consumer{{Name: "notifier-under-test", ItemTypes: notifier.ItemTypes, Handler: handler}},
		streams.Options{PollInterval: 20 * time.Millisecond, RetryBackoff: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = pump.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer wcancel()
	if err := pump.WaitIdle(wctx); err != nil {
		t.Fatal(err)
	}
	if f := pump.Failures(); len(f) > 0 {
		t.Fatalf("on-failure destination: %+v", f)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(calls) < 2 {
		t.Fatalf("invocations: %+v", calls)
	}
	first, retry := calls[0], calls[1]
	if !slices.Equal(first.failed, []string{t2}) || !slices.Contains(first.tickets, t3) {
		t.Fatalf("first invocation %+v: want t2's record alone reported, with t3 in the batch", first)
	}
	if retry.tickets[0] != t2 || !slices.Contains(retry.tickets, t3) || len(retry.failed) != 0 || slices.Contains(retry.tickets, t1) {
		t.Fatalf("retry %+v: want it to start at t2 and carry t3, not t1", retry)
	}
	if store.writes[t1] != 1 || store.writes[t2] != 2 || store.writes[t3] != 2 {
		t.Errorf("written in invocations %v (t1 %s, t2 %s, t3 %s); want t1 in the first, t2 and t3 in the retry", store.writes, t1, t2, t3)
	}
	// The notifications exist exactly once (the cloud's own notifier wrote
	// them already; this consumer found them).
	for _, id := range []string{t1, t2, t3} {
		r := w.call(t, w.headA).do("GET", "/api/notifications?type=new_ticket&limit=100", nil)
		n := 0
		for _, x := range decode[[]map[string]any](t, r) {
			if x["ticketId"] == id {
				n++
			}
		}
		if n != 1 {
			t.Errorf("headA has %d new_ticket notifications about %s", n, id)
		}
	}
}

// page GETs one page of a list and returns it with its next cursor.
func page(t testing.TB, c *client, path string) ([]map[string]any, string) {
	t.Helper()
	r := c.do("GET", path, nil)
	want(t, r, 200, "GET "+path)
	return decode[[]map[string]any](t, r), r.Header.Get("X-Next-Cursor")
}

// walk follows cursors from path (which has a query) and returns every item.
func walk(t testing.TB, c *client, path string) (items []map[string]any, pages int) {
	t.Helper()
	next := ""
	for {
		p := path
		if next != "" {
			p += "&cursor=" + url.QueryEscape(next)
		}
		got, cur := page(t, c, p)
		items, pages = append(items, got...), pages+1
		if cur == "" {
			return items, pages
		}
		if pages > 50 {
			t.Fatalf("%s: more than 50 pages", path)
		}
		next = cur
	}
}

func ids(items []map[string]any) []string {
	out := make([]string, len(items))
	for i, x := range items {
		out[i], _ = x["id"].(string)
	}
	return out
}

func unreadCount(t testing.TB, w *world, token string) int {
	t.Helper()
	r := w.call(t, token).do("GET", "/api/notifications/unread/count", nil)
	want(t, r, 200, "unread count")
	return int(r.obj(t)["count"].(float64))
}

func TestNotificationsREST(t *testing.T) {
	w := newWorld(t)
	head, emp := w.call(t, w.headA), w.call(t, w.empA)
	// headA hears of: commentA (the world's), 3 new tickets, 2 messages and
	// 1 comment, all caused by empA.
	for range 3 {
		w.ticket(w.empA, w.deptA)
	}
	for _, b := range []string{"one", "two"} {
		mustCreate(t, emp, "/api/messages", map[string]any{"to": w.headAID, "body": b})
	}
	w.comment(w.empA, w.taskA)
	waitProjected(t, w)

	all, _ := page(t, head, "/api/notifications?limit=100")
	if len(all) != 7 {
		t.Fatalf("headA has %d notifications, want 7: %v", len(all), all)
	}
	count := map[string]int{}
	for i, n := range all {
		count[n["type"].(string)]++
		if n["isRead"] != false || n["userId"] != w.headAID || n["actorId"] != w.empAID || n["relatedUserId"] != w.empAID {
			t.Errorf("notification %v", n)
		}
		if i > 0 && n["id"].(string) > all[i-1]["id"].(string) {
			t.Errorf("not newest first: %s after %s", n["id"], all[i-1]["id"])
		}
	}
	if count["new_ticket"] != 3 || count["message_received"] != 2 || count["comment_added"] != 2 {
		t.Errorf("types: %v", count)
	}
	// Each embeds who acted and what it is about (the contract's task and
	// relatedUser; ticket added), as the caller may read them.
	for _, n := range all {
		ru, _ := n["relatedUser"].(map[string]any)
		if ru["id"] != w.empAID || ru["username"] == "" || ru["email"] == "" || len(ru) != 3 {
			t.Errorf("%s relatedUser = %v", n["type"], n["relatedUser"])
		}
		if _, ok := n["recipient"]; ok {
			t.Errorf("%s has a recipient in the caller's own list", n["type"])
		}
		task, _ := n["task"].(map[string]any)
		ticket, _ := n["ticket"].(map[string]any)
		switch {
		case n["taskId"] != nil:
			if task["id"] != n["taskId"] || task["title"] == "" || task["status"] == "" || ticket != nil {
				t.Errorf("%s about task %v: task %v, ticket %v", n["type"], n["taskId"], n["task"], n["ticket"])
			}
		case n["ticketId"] != nil:
			if ticket["id"] != n["ticketId"] || ticket["status"] != "open" || ticket["key"] == nil || ticket["key"] == "" || ticket["title"] == "" || task != nil {
				t.Errorf("%s about ticket %v: ticket %v, task %v", n["type"], n["ticketId"], n["ticket"], n["task"])
			}
		default:
			if n["task"] != nil || n["ticket"] != nil {
				t.Errorf("%s about nothing embeds task %v, ticket %v", n["type"], n["task"], n["ticket"])
			}
		}
	}
	if n := unreadCount(t, w, w.headA); n != 7 {
		t.Errorf("unread count %d, want 7", n)
	}

	t.Run("filters", func(t *testing.T) {
		for typ, n := range map[string]int{"new_ticket": 3, "message_received": 2, "comment_added": 2, "task_completed": 0} {
			got, _ := page(t, head, "/api/notifications?type="+typ)
			if len(got) != n {
				t.Errorf("type=%s: %d, want %d", typ, len(got), n)
			}
			for _, x := range got {
				if x["type"] != typ {
					t.Errorf("type=%s gave %v", typ, x)
				}
			}
		}
		wantErr(t, head.do("GET", "/api/notifications?type=party", nil), 400, "type", "unknown type")
		wantErr(t, head.do("GET", "/api/notifications?isRead=maybe", nil), 400, "isRead", "bad isRead")
		wantErr(t, head.do("GET", "/api/notifications?limit=0", nil), 400, "limit", "limit 0")
	})

	t.Run("cursor", func(t *testing.T) {
		first, cur := page(t, head, "/api/notifications?limit=3")
		if len(first) != 3 || cur == "" {
			t.Fatalf("first page: %d items, cursor %q", len(first), cur)
		}
		got, pages := walk(t, head, "/api/notifications?limit=3")
		if !slices.Equal(ids(got), ids(all)) || pages < 3 {
			t.Errorf("walked %d pages: %v, want %v", pages, ids(got), ids(all))
		}
		// With a filter, pages still fill up to the limit.
		got, _ = walk(t, head, "/api/notifications?type=new_ticket&limit=2")
		if len(got) != 3 {
			t.Errorf("new_ticket walked: %d", len(got))
		}
		if r := head.do("GET", "/api/notifications?cursor=bogus", nil); r.Status != 400 {
			t.Errorf("bad cursor: %d %s", r.Status, r.Body)
		}
		// Another user's cursor does not open their list.
		if r := emp.do("GET", "/api/notifications?limit=3&cursor="+url.QueryEscape(cur), nil); r.Status != 400 {
			t.Errorf("headA's cursor used by empA: %d %s", r.Status, r.Body)
		}
	})

	t.Run("related", func(t *testing.T) {
		// What empA caused: the 7 above.
		got, pages := walk(t, emp, "/api/notifications/related?limit=2")
		if len(got) != 7 || pages < 4 {
			t.Errorf("related of empA: %d items in %d pages", len(got), pages)
		}
		for _, x := range got {
			if x["actorId"] != w.empAID || x["userId"] != w.headAID {
				t.Errorf("related %v", x)
			}
			if rc, _ := x["recipient"].(map[string]any); rc["id"] != w.headAID || rc["username"] == "" || len(rc) != 3 {
				t.Errorf("related %s recipient = %v", x["type"], x["recipient"])
			}
			if _, ok := x["relatedUser"]; ok {
				t.Errorf("related %s has a relatedUser", x["type"])
			}
		}
		if got, _ := page(t, emp, "/api/notifications/related?type=message_received"); len(got) != 2 {
			t.Errorf("related messages: %d", len(got))
		}
		// headA caused taskA's assignment to empA.
		if got, _ := page(t, head, "/api/notifications/related"); len(got) != 1 || got[0]["type"] != "task_assigned" || got[0]["userId"] != w.empAID {
			t.Errorf("related of headA: %v", got)
		}
	})

	t.Run("only your own", func(t *testing.T) {
		if got, _ := page(t, w.call(t, w.headB), "/api/notifications"); len(got) != 0 {
			t.Errorf("headB sees %v", got)
		}
		// empA's own list has only taskA's assignment.
		if got, _ := page(t, emp, "/api/notifications"); len(got) != 1 || got[0]["userId"] != w.empAID {
			t.Errorf("empA sees %v", got)
		}
	})

	t.Run("mark read", func(t *testing.T) {
		id := all[2]["id"].(string)
		for _, who := range []string{w.empA, w.headB, w.admin} {
			r := w.call(t, who).do("PUT", "/api/notifications/"+id+"/read", nil)
			wantErr(t, r, 404, "", "another user's notification")
		}
		want(t, head.do("PUT", "/api/notifications/NOT-nope/read", nil), 404, "bad id")
		if n := unreadCount(t, w, w.headA); n != 7 {
			t.Fatalf("others' attempts changed the count: %d", n)
		}
		got := mustPut(t, head, "/api/notifications/"+id+"/read", nil)
		if got["id"] != id || got["isRead"] != true {
			t.Errorf("marked: %v", got)
		}
		mustPut(t, head, "/api/notifications/"+id+"/read", nil) // again: still fine
		if n := unreadCount(t, w, w.headA); n != 6 {
			t.Errorf("unread count %d, want 6", n)
		}
		read, _ := page(t, head, "/api/notifications?isRead=true")
		unread, _ := page(t, head, "/api/notifications?isRead=false&limit=100")
		if len(read) != 1 || read[0]["id"] != id || len(unread) != 6 {
			t.Errorf("isRead=true %v; isRead=false %d", ids(read), len(unread))
		}
	})

	t.Run("mark all read", func(t *testing.T) {
		r := head.do("PUT", "/api/notifications/read-all", nil)
		want(t, r, 200, "read all")
		if got := r.obj(t); got["updated"] != float64(6) {
			t.Errorf("read-all: %v", got)
		}
		if n := unreadCount(t, w, w.headA); n != 0 {
			t.Errorf("unread count %d", n)
		}
		if got, _ := page(t, head, "/api/notifications?isRead=false"); len(got) != 0 {
			t.Errorf("unread left: %v", got)
		}
		// Nobody else's were touched.
		if n := unreadCount(t, w, w.empA); n != 1 {
			t.Errorf("empA's unread count %d, want 1", n)
		}
		if got := head.do("PUT", "/api/notifications/read-all", nil).obj(t); got["updated"] != float64(0) {
			t.Errorf("second read-all: %v", got)
		}
	})
}

// empANotification returns the id of one of empA's notifications (taskA's
// assignment, once the stream has gone through).
func empANotification(w *world) string {
	t := w.c.t
	t.Helper()
	waitProjected(t, w)
	got, _ := page(t, w.call(t, w.empA), "/api/notifications")
	if len(got) == 0 {
		t.Fatal("empA has no notification")
	}
	return got[len(got)-1]["id"].(string)
}
