package cloud_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/deskline/deskline/localstack/cloud"
	"github.com/deskline/deskline/localstack/dynamotest"
	"github.com/deskline/deskline/shared/analytics"
	"github.com/deskline/deskline/shared/api"
	"github.com/deskline/deskline/shared/app"
	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/dynamo"
	"github.com/deskline/deskline/shared/xlsx"
)

// stepClock is a test clock that moves only when told, and by a
// millisecond on every reading, so that no two events share an instant.
type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

func (c *stepClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newClockCloud starts a local cloud whose every part reads clock, with
// sessions that outlive the months the clock is moved through.
func newClockCloud(t testing.TB, clock deskline.Clock) *cloud.Cloud {
	t.Helper()
	_, table := dynamotest.Table(t)
	c, err := cloud.Start(context.Background(), cloud.Options{
		DynamoDBEndpoint: dynamotest.Endpoint(t),
		Config: app.Config{
			Stage: api.StageTest, Table: table, JWTSecret: []byte("test-secret-test-secret-test-secret!"),
			TokenTTL: 5 * 365 * 24 * time.Hour, BcryptCost: 4,
		},
		AdminEmail: adminEmail, AdminPassword: adminPassword, Clock: clock,
		Log: slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelError})),
	})
	if err != nil {
		t.Fatalf("start local cloud: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func waitIdle(t testing.TB, c *cloud.Cloud) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := c.Pump.WaitIdle(ctx); err != nil {
		t.Fatalf("wait for the stream consumers: %v (%s)", err, c.Pump.Pending())
	}
	if f := c.Pump.Failures(); len(f) > 0 {
		t.Fatalf("stream batches failed: %+v", f)
	}
}

// opsActor is one caller of the random operations.
type opsActor struct {
	id, token, dept string
	role            deskline.Role
}

// opsWorld is the help desk the random operations run against.
type opsWorld struct {
	t        *testing.T
	c        *client
	cloud    *cloud.Cloud
	clock    *stepClock
	rng      *rand.Rand
	admin    opsActor
	depts    []string
	people   []opsActor            // heads and employees
	members  map[string][]opsActor // by department
	tickets  []string
	tasks    []string
	deptOf   map[string]string // ticket or task id → department
	comments []opsComment      // alive comments
	ok       map[string]int
	failed   map[string]int
}

type opsComment struct{ id, author, parent string }

func (w *opsWorld) call(a opsActor) *client { return w.c.as(a.token) }

func (w *opsWorld) pick(as []opsActor) opsActor { return as[w.rng.IntN(len(as))] }

func (w *opsWorld) someone() opsActor {
	if w.rng.IntN(6) == 0 {
		return w.admin
	}
	return w.pick(w.people)
}

// near picks a caller likely allowed to act on item id: its department's
// head or people, an admin, now and then anyone.
func (w *opsWorld) near(id string) opsActor {
	dept := w.deptOf[id]
	switch n := w.rng.IntN(10); {
	case n < 4:
		return w.members[dept][0] // the head
	case n < 8:
		return w.pick(w.members[dept])
	case n < 9:
		return w.admin
	}
	return w.someone()
}

// triager picks an admin or a head.
func (w *opsWorld) triager() opsActor {
	if w.rng.IntN(3) == 0 {
		return w.admin
	}
	return w.members[pickOne(w.rng, w.depts)][0]
}

func pickOne[T any](rng *rand.Rand, vs []T) T { return vs[rng.IntN(len(vs))] }

func (w *opsWorld) record(op string, r response, okStatus ...int) map[string]any {
	if r.Status >= 500 {
		w.t.Fatalf("%s: status %d: %s", op, r.Status, r.Body)
	}
	if slices.Contains(okStatus, r.Status) {
		w.ok[op]++
		if len(r.Body) > 0 && r.Body[0] == '{' {
			return r.obj(w.t)
		}
		return map[string]any{}
	}
	w.failed[op]++
	return nil
}

func (w *opsWorld) dueDate() any {
	if w.rng.IntN(4) == 0 {
		return nil
	}
	return w.clock.Now().Add(time.Duration(w.rng.IntN(30*24)-10*24) * time.Hour).UTC().Format(time.RFC3339)
}

func removeID(ids []string, id string) []string {
	return slices.DeleteFunc(ids, func(s string) bool { return s == id })
}

// step runs one random operation.
func (w *opsWorld) step() {
	w.clock.advance(time.Duration(1+w.rng.IntN(26*60)) * time.Minute)
	priorities := []string{"low", "medium", "high", "urgent"}
	categories := []string{"bug", "feature", "support", "other"}
	n := w.rng.IntN(100)
	switch {
	case n < 16 || len(w.tickets) == 0: // open a ticket
		a := w.someone()
		dept := a.dept
		if dept == "" {
			dept = pickOne(w.rng, w.depts)
		}
		body := map[string]any{"title": "Ticket " + unique(""), "description": "Something broke.", "priority": pickOne(w.rng, priorities),
			"category": pickOne(w.rng, categories), "departmentId": dept}
		if a.role != deskline.RoleEmployee && w.rng.IntN(2) == 0 {
			body["assignedTo"] = w.pick(w.members[dept]).id
		}
		if r := w.record("ticket-create", w.call(a).do("POST", "/api/tickets", body), 201); r != nil {
			w.tickets = append(w.tickets, r["id"].(string))
			w.deptOf[r["id"].(string)] = dept
		}
	case n < 36: // change a ticket's status
		id := pickOne(w.rng, w.tickets)
		a := w.near(id)
		st := pickOne(w.rng, []string{"open", "in_progress", "resolved", "closed"})
		w.record("ticket-status", w.call(a).do("PUT", "/api/tickets/"+id, map[string]any{"status": st}), 200)
	case n < 42: // change a ticket's priority, category or assignee
		id := pickOne(w.rng, w.tickets)
		a := w.near(id)
		body := map[string]any{"priority": pickOne(w.rng, priorities)}
		switch w.rng.IntN(3) {
		case 0:
			body = map[string]any{"category": pickOne(w.rng, categories)}
		case 1:
			if a.dept != "" {
				body = map[string]any{"assigned_to": w.pick(w.members[a.dept]).id}
			}
		}
		w.record("ticket-edit", w.call(a).do("PUT", "/api/tickets/"+id, body), 200)
	case n < 45: // move a ticket to the other department (admins)
		id := pickOne(w.rng, w.tickets)
		dept := pickOne(w.rng, w.depts)
		body := map[string]any{"department_id": dept, "assigned_to": ""}
		if w.rng.IntN(2) == 0 {
			body["assigned_to"] = w.pick(w.members[dept]).id
		}
		if w.record("ticket-move", w.call(w.admin).do("PUT", "/api/tickets/"+id, body), 200) != nil {
			w.deptOf[id] = dept
		}
	case n < 47: // delete a ticket
		id := pickOne(w.rng, w.tickets)
		if w.record("ticket-delete", w.call(w.admin).do("DELETE", "/api/tickets/"+id, nil), 200) != nil {
			w.tickets = removeID(w.tickets, id)
			w.comments = slices.DeleteFunc(w.comments, func(c opsComment) bool { return c.parent == id })
		}
	case n < 57: // comment on a ticket
		id := pickOne(w.rng, w.tickets)
		a := w.near(id)
		if r := w.record("ticket-comment", w.call(a).do("POST", "/api/tickets/"+id+"/comments", map[string]any{"content": "Looking " + unique("")}), 201); r != nil {
			w.comments = append(w.comments, opsComment{r["id"].(string), a.id, id})
		}
	case n < 67 || len(w.tasks) == 0: // create a task
		a := w.triager()
		dept := a.dept
		if dept == "" {
			dept = pickOne(w.rng, w.depts)
		}
		body := map[string]any{"title": "Task " + unique(""), "description": "Do the thing.", "departmentId": dept, "priority": pickOne(w.rng, priorities)}
		if d := w.dueDate(); d != nil {
			body["dueDate"] = d
		}
		if w.rng.IntN(4) > 0 {
			body["assignedToId"] = w.pick(w.members[dept]).id
		}
		if r := w.record("task-create", w.call(a).do("POST", "/api/tasks", body), 201); r != nil {
			w.tasks = append(w.tasks, r["id"].(string))
			w.deptOf[r["id"].(string)] = dept
		}
	case n < 81: // change a task's status
		id := pickOne(w.rng, w.tasks)
		a := w.near(id)
		st := pickOne(w.rng, []string{"pending", "in_progress", "completed", "cancelled"})
		w.record("task-status", w.call(a).do("PUT", "/api/tasks/"+id, map[string]any{"status": st}), 200)
	case n < 85: // replan a task
		id := pickOne(w.rng, w.tasks)
		a := w.near(id)
		var body map[string]any
		switch w.rng.IntN(3) {
		case 0:
			body = map[string]any{"priority": pickOne(w.rng, priorities)}
		case 1:
			d := w.dueDate()
			if d == nil {
				d = ""
			}
			body = map[string]any{"dueDate": d}
		default:
			body = map[string]any{"assignedToId": w.pick(w.members[w.deptOf[id]]).id}
		}
		w.record("task-edit", w.call(a).do("PUT", "/api/tasks/"+id, body), 200)
	case n < 87: // make a task depend on another
		a := pickOne(w.rng, w.tasks)
		b := pickOne(w.rng, w.tasks)
		w.record("task-depend", w.call(w.admin).do("POST", "/api/tasks/"+a+"/dependencies", map[string]any{"dependsOn": b}), 200)
	case n < 89: // delete a task
		id := pickOne(w.rng, w.tasks)
		if w.record("task-delete", w.call(w.admin).do("DELETE", "/api/tasks/"+id, nil), 200) != nil {
			w.tasks = removeID(w.tasks, id)
			w.comments = slices.DeleteFunc(w.comments, func(c opsComment) bool { return c.parent == id })
		}
	case n < 96: // comment on a task
		id := pickOne(w.rng, w.tasks)
		a := w.near(id)
		if r := w.record("task-comment", w.call(a).do("POST", "/api/comments", map[string]any{"taskId": id, "content": "On it " + unique("")}), 201); r != nil {
			w.comments = append(w.comments, opsComment{r["id"].(string), a.id, id})
		}
	case n < 98 && len(w.comments) > 0: // edit a comment
		c := pickOne(w.rng, w.comments)
		a := w.actorByID(c.author)
		w.record("comment-edit", w.call(a).do("PUT", "/api/comments/"+c.id, map[string]any{"content": "Edited " + unique("")}), 200)
	case len(w.comments) > 0: // delete a comment
		c := pickOne(w.rng, w.comments)
		if w.record("comment-delete", w.call(w.actorByID(c.author)).do("DELETE", "/api/comments/"+c.id, nil), 200) != nil {
			w.comments = slices.DeleteFunc(w.comments, func(x opsComment) bool { return x.id == c.id })
		}
	}
}

func (w *opsWorld) actorByID(id string) opsActor {
	if id == w.admin.id {
		return w.admin
	}
	for _, a := range w.people {
		if a.id == id {
			return a
		}
	}
	w.t.Fatalf("no opsActor %s", id)
	return opsActor{}
}

func newOpsWorld(t *testing.T, seed uint64) *opsWorld {
	clock := &stepClock{t: time.Date(2025, 3, 3, 8, 0, 0, 0, time.UTC)}
	cl := newClockCloud(t, clock)
	c := newClient(t, cl)
	w := &opsWorld{t: t, c: c, cloud: cl, clock: clock, rng: rand.New(rand.NewPCG(seed, seed^0x5eed)),
		members: map[string][]opsActor{}, deptOf: map[string]string{}, ok: map[string]int{}, failed: map[string]int{}}
	w.admin = opsActor{token: c.login(adminEmail, adminPassword), role: deskline.RoleAdmin}
	me := c.as(w.admin.token).do("GET", "/api/auth/me", nil)
	w.admin.id = me.obj(t)["id"].(string)
	ww := &world{c: c, cloud: cl, admin: w.admin.token}
	for i := range 2 {
		dept := ww.department(fmt.Sprintf("Dept%d %s", i, unique("")))
		w.depts = append(w.depts, dept)
		for _, role := range []string{"department_head", "employee", "employee"} {
			id, token := ww.user(role, dept)
			a := opsActor{id: id, token: token, dept: dept, role: deskline.Role(role)}
			w.people = append(w.people, a)
			w.members[dept] = append(w.members[dept], a)
		}
	}
	return w
}

// TestAnalyticsMatchBaseItems runs a seeded random sequence of ticket, task
// and comment operations through the HTTP API, with a clock that moves
// through about three months, and checks that every aggregate and activity
// log the stream maintained equals a brute-force recomputation from the base
// items, that the rebuild writes exactly the same, and that the stream keeps
// them exact after a rebuild. ANALYTICS_SEED and ANALYTICS_OPS vary the run.
func TestAnalyticsMatchBaseItems(t *testing.T) {
	seed, ops := uint64(6), 400
	if v, err := strconv.ParseUint(os.Getenv("ANALYTICS_SEED"), 10, 64); err == nil {
		seed = v
	}
	if v, err := strconv.Atoi(os.Getenv("ANALYTICS_OPS")); err == nil {
		ops = v
	}
	w := newOpsWorld(t, seed)
	for range ops {
		w.step()
	}
	t.Logf("seed %d: succeeded %v; refused %v", seed, w.ok, w.failed)
	waitIdle(t, w.cloud)
	ctx := context.Background()
	db := dynamo.LocalClient(w.cloud.DynamoDBEndpoint)
	table := w.cloud.App.Config.Table

	want := bruteForce(t, db, table)
	if len(want.buckets) < 10 || len(want.acts) < 100 {
		t.Fatalf("the random run produced too little to check: %d buckets, %d activity entries", len(want.buckets), len(want.acts))
	}
	streamed := readDerived(t, db, table, w.scopes(), w.userIDs())
	compareDerived(t, "stream", streamed, want)

	if _, err := w.cloud.App.RebuildAnalytics(ctx); err != nil {
		t.Fatalf("rebuild: %v", err)
	}
	rebuilt := readDerived(t, db, table, w.scopes(), w.userIDs())
	compareDerived(t, "rebuild", rebuilt, want)
	if !reflect.DeepEqual(rebuilt, streamed) {
		t.Errorf("the rebuild wrote other aggregates than the stream maintained")
	}

	// The stream goes on from the rebuilt state.
	for range ops / 5 {
		w.step()
	}
	waitIdle(t, w.cloud)
	compareDerived(t, "stream after rebuild", readDerived(t, db, table, w.scopes(), w.userIDs()), bruteForce(t, db, table))
}

func (w *opsWorld) scopes() []string {
	out := []string{"AGG#ALL"}
	for _, d := range w.depts {
		out = append(out, "AGG#DEPT#"+d)
	}
	for _, id := range w.userIDs() {
		out = append(out, "AGG#USER#"+id)
	}
	return out
}

func (w *opsWorld) userIDs() []string {
	ids := []string{w.admin.id}
	for _, a := range w.people {
		ids = append(ids, a.id)
	}
	return ids
}

// derived is what analytics stores: counters by bucket and activity entries.
type derived struct {
	buckets map[string]map[string]int64 // "PK|SK" → field → value (zeros left out)
	acts    map[string]string           // "PK|SK" → action/field/entity and its list keys (GSI1PK GSI1SK GSI2PK GSI2SK)
}

func newDerived() *derived {
	return &derived{buckets: map[string]map[string]int64{}, acts: map[string]string{}}
}

func (d *derived) add(pk string, at time.Time, field string, n int64) {
	if strings.HasSuffix(pk, "#") || n == 0 {
		return // no department or user
	}
	k := pk + "|DAY#" + at.UTC().Format("2006-01-02")
	if d.buckets[k] == nil {
		d.buckets[k] = map[string]int64{}
	}
	if d.buckets[k][field] += n; d.buckets[k][field] == 0 {
		delete(d.buckets[k], field)
		if len(d.buckets[k]) == 0 {
			delete(d.buckets, k)
		}
	}
}

func compareDerived(t *testing.T, what string, got, want *derived) {
	t.Helper()
	var diffs []string
	keys := map[string]bool{}
	for k := range got.buckets {
		keys[k] = true
	}
	for k := range want.buckets {
		keys[k] = true
	}
	for k := range keys {
		g, w := got.buckets[k], want.buckets[k]
		fields := map[string]bool{}
		for f := range g {
			fields[f] = true
		}
		for f := range w {
			fields[f] = true
		}
		for f := range fields {
			if g[f] != w[f] {
				diffs = append(diffs, fmt.Sprintf("%s %s = %d, want %d", k, f, g[f], w[f]))
			}
		}
	}
	for k, v := range want.acts {
		if got.acts[k] != v {
			diffs = append(diffs, fmt.Sprintf("activity %s = %q, want %q", k, got.acts[k], v))
		}
	}
	for k, v := range got.acts {
		if _, ok := want.acts[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("activity %s = %q is extra", k, v))
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		if len(diffs) > 40 {
			diffs = append(diffs[:40], fmt.Sprintf("… and %d more", len(diffs)-40))
		}
		t.Errorf("%s: %d buckets, %d activity entries checked; differences:\n%s", what, len(want.buckets), len(want.acts), strings.Join(diffs, "\n"))
	}
}

// query runs a query to its end.
func rawQuery(t testing.TB, db *dynamodb.Client, in *dynamodb.QueryInput) []map[string]types.AttributeValue {
	t.Helper()
	var out []map[string]types.AttributeValue
	for {
		res, err := db.Query(context.Background(), in)
		if err != nil {
			t.Fatalf("query: %v", err)
		}
		out = append(out, res.Items...)
		if len(res.LastEvaluatedKey) == 0 {
			return out
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

func rawPartition(t testing.TB, db *dynamodb.Client, table, pk string) []map[string]types.AttributeValue {
	return rawQuery(t, db, &dynamodb.QueryInput{
		TableName: aws.String(table), KeyConditionExpression: aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}},
		ConsistentRead:            aws.Bool(true),
	})
}

func avS(it map[string]types.AttributeValue, k string) string {
	if s, ok := it[k].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

func unmarshalJSON(t testing.TB, it map[string]types.AttributeValue, v any) {
	t.Helper()
	if err := attributevalue.UnmarshalMapWithOptions(it, v, func(o *attributevalue.DecoderOptions) { o.TagKey = "json" }); err != nil {
		t.Fatalf("unmarshal %v: %v", it["PK"], err)
	}
}

// readDerived reads every stored bucket of the given partitions and the
// activity logs of the given users.
func readDerived(t testing.TB, db *dynamodb.Client, table string, scopes, users []string) *derived {
	d := newDerived()
	for _, pk := range scopes {
		for _, it := range rawPartition(t, db, table, pk) {
			k := pk + "|" + avS(it, "SK")
			for f, v := range it {
				n, ok := v.(*types.AttributeValueMemberN)
				if !ok || n.Value == "0" {
					continue
				}
				x, _ := strconv.ParseInt(n.Value, 10, 64)
				if d.buckets[k] == nil {
					d.buckets[k] = map[string]int64{}
				}
				d.buckets[k][f] = x
			}
		}
	}
	for _, u := range users {
		for _, it := range rawPartition(t, db, table, "ACT#"+u) {
			d.acts["ACT#"+u+"|"+avS(it, "SK")] = avS(it, "action") + "/" + avS(it, "field") + "/" + avS(it, "entityType") + "/" + avS(it, "entityId") +
				" " + avS(it, "GSI1PK") + " " + avS(it, "GSI1SK") + " " + avS(it, "GSI2PK") + " " + avS(it, "GSI2SK")
		}
	}
	return d
}

type historyRow struct {
	sk string
	deskline.HistoryEntry
}

// entityItems reads the tickets or tasks (GSI2PK TICKETS or TASKS) with
// their history.
func entityItems(t testing.TB, db *dynamodb.Client, table, list string) ([]map[string]types.AttributeValue, map[string][]historyRow) {
	items := rawQuery(t, db, &dynamodb.QueryInput{
		TableName: aws.String(table), IndexName: aws.String("GSI2"), KeyConditionExpression: aws.String("GSI2PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: list}},
	})
	hist := map[string][]historyRow{}
	for _, it := range items {
		pk := avS(it, "PK")
		for _, h := range rawPartition(t, db, table, pk) {
			if avS(h, "type") != "history" {
				continue
			}
			var e deskline.HistoryEntry
			unmarshalJSON(t, h, &e)
			hist[pk] = append(hist[pk], historyRow{avS(h, "SK"), e})
		}
		sort.Slice(hist[pk], func(i, j int) bool {
			a, b := hist[pk][i], hist[pk][j]
			if a.Version != b.Version {
				return a.Version < b.Version
			}
			return a.sk < b.sk
		})
	}
	return items, hist
}

func strOf(v any) string { s, _ := v.(string); return s }

// bruteForce recomputes every aggregate and activity entry from the base
// items with the definitions of docs/analytics.md, written out directly:
// each ticket and task is replayed forward from the history's first old
// values, and every event is counted where and when it happened.
func bruteForce(t testing.TB, db *dynamodb.Client, table string) *derived {
	d := newDerived()
	dept := func(id string) string { return "AGG#DEPT#" + id }
	user := func(id string) string { return "AGG#USER#" + id }
	all := "AGG#ALL"
	hoursBucket := func(secs int64) string { return strconv.Itoa(analytics.BucketOf(secs)) }
	secsBetween := func(a, b time.Time) int64 { return max(0, int64(b.Sub(a)/time.Second)) }
	// activity: every history item with an actor (but a comment deletion)
	// is an entry of the actor's log, on the help desk's list and on the
	// list of the department the entity had then (deptOf).
	activity := func(rows []historyRow, deptOf func(at time.Time) string) {
		for _, r := range rows {
			if r.ActorID == "" || !slices.Contains([]string{"created", "updated", "comment_added", "comment_edited"}, r.Action) {
				continue // comment deletions are history only
			}
			d.add(all, r.At, "act", 1)
			d.add(user(r.ActorID), r.At, "act", 1)
			sk := strings.TrimPrefix(r.sk, "H#") + "#" + r.EntityType + "#" + r.EntityID
			byDept := " "
			if dp := deptOf(r.At); dp != "" {
				byDept = "ACTDEPT#" + dp + " " + sk
			}
			d.acts["ACT#"+r.ActorID+"|"+sk] = r.Action + "/" + r.Field + "/" + r.EntityType + "/" + r.EntityID + " " + byDept + " ACTS " + sk
		}
	}
	// deptAt: the department of an entity at time at, from its timeline.
	type move struct {
		at   time.Time
		dept string
	}
	deptAt := func(tl []move, at time.Time) string {
		cur := tl[0].dept
		for _, m := range tl[1:] {
			if !m.at.After(at) {
				cur = m.dept
			}
		}
		return cur
	}

	tickets, hist := entityItems(t, db, table, "TICKETS")
	for _, it := range tickets {
		var tk deskline.Ticket
		unmarshalJSON(t, it, &tk)
		rows := hist[avS(it, "PK")]
		// Forward replay: start from each field's first recorded old value.
		state := map[string]string{"status": string(tk.Status), "priority": string(tk.Priority), "category": string(tk.Category), "department_id": tk.DepartmentID, "assigned_to": tk.AssignedTo}
		seen := map[string]bool{}
		for _, r := range rows {
			if r.Action == "updated" && !seen[r.Field] {
				if _, tracked := state[r.Field]; tracked {
					state[r.Field], seen[r.Field] = strOf(r.OldValue), true
				}
			}
		}
		d.add(all, tk.CreatedAt, "tNew", 1)
		d.add(dept(state["department_id"]), tk.CreatedAt, "tNew", 1)
		d.add(user(tk.CreatedBy), tk.CreatedAt, "tNew", 1)
		tl := []move{{tk.CreatedAt, state["department_id"]}}
		for i := 0; i < len(rows); {
			if rows[i].Action != "updated" {
				i++
				continue
			}
			v, at, who := rows[i].Version, rows[i].At, rows[i].ActorID
			prev := state["status"]
			for ; i < len(rows) && rows[i].Version == v; i++ {
				if _, tracked := state[rows[i].Field]; tracked && rows[i].Action == "updated" {
					state[rows[i].Field] = strOf(rows[i].NewValue)
				}
			}
			tl = append(tl, move{at, state["department_id"]})
			now := state["status"]
			open := func(s string) bool { return s == "open" || s == "in_progress" }
			for _, pk := range []string{all, dept(state["department_id"]), user(who)} {
				if open(prev) && !open(now) {
					s := secsBetween(tk.CreatedAt, at)
					d.add(pk, at, "tRes", 1)
					d.add(pk, at, "tResS", s)
					d.add(pk, at, "tResH"+hoursBucket(s), 1)
					d.add(pk, at, analytics.PriorityField("tResP", deskline.Priority(state["priority"])), 1)
					d.add(pk, at, analytics.PriorityField("tRsPS", deskline.Priority(state["priority"])), s)
				}
				if now == "closed" && prev != "closed" {
					d.add(pk, at, "tClo", 1)
				}
				if !open(prev) && open(now) {
					d.add(pk, at, "tReo", 1)
				}
			}
		}
		if state["status"] != string(tk.Status) || state["department_id"] != tk.DepartmentID || state["assigned_to"] != tk.AssignedTo || state["priority"] != string(tk.Priority) {
			t.Fatalf("ticket %s: its history does not replay to its state: %v vs %+v", tk.ID, state, tk)
		}
		cube := analytics.TicketCubeField(tk.Status, tk.Priority, tk.Category)
		for _, pk := range []string{all, dept(tk.DepartmentID), user(tk.AssignedTo)} {
			d.add(pk, tk.CreatedAt, cube, 1)
		}
		var first *historyRow
		for i, r := range rows {
			switch r.Action {
			case "comment_added", "comment_edited":
				f := "cNew"
				if r.Action == "comment_edited" {
					f = "cEdt"
				}
				for _, pk := range []string{all, dept(deptAt(tl, r.At)), user(r.ActorID)} {
					d.add(pk, r.At, f, 1)
				}
				if r.Action == "comment_added" && r.ActorID != tk.CreatedBy && (first == nil || r.At.Before(first.At) || (r.At.Equal(first.At) && r.CommentID < first.CommentID)) {
					first = &rows[i]
				}
			}
		}
		if first != nil {
			s := secsBetween(tk.CreatedAt, first.At)
			for _, pk := range []string{all, dept(deptAt(tl, first.At)), user(first.ActorID)} {
				d.add(pk, first.At, "tFr", 1)
				d.add(pk, first.At, "tFrS", s)
				d.add(pk, first.At, "tFrH"+hoursBucket(s), 1)
			}
		}
		activity(rows, func(at time.Time) string { return deptAt(tl, at) })
	}

	tasks, hist := entityItems(t, db, table, "TASKS")
	for _, it := range tasks {
		var tk deskline.Task
		unmarshalJSON(t, it, &tk)
		rows := hist[avS(it, "PK")]
		due := ""
		if tk.DueDate != nil {
			due = tk.DueDate.UTC().Format(time.RFC3339Nano)
		}
		state := map[string]string{"status": string(tk.Status), "priority": string(tk.Priority), "departmentId": tk.DepartmentID, "assignedToId": tk.AssignedToID, "dueDate": due}
		seen := map[string]bool{}
		for _, r := range rows {
			if r.Action == "updated" && !seen[r.Field] {
				if _, tracked := state[r.Field]; tracked {
					state[r.Field], seen[r.Field] = strOf(r.OldValue), true
				}
			}
		}
		d.add(all, tk.CreatedAt, "kNew", 1)
		d.add(dept(state["departmentId"]), tk.CreatedAt, "kNew", 1)
		d.add(user(tk.CreatedBy), tk.CreatedAt, "kNew", 1)
		for i := 0; i < len(rows); {
			if rows[i].Action != "updated" {
				i++
				continue
			}
			v, at, who := rows[i].Version, rows[i].At, rows[i].ActorID
			prev := state["status"]
			for ; i < len(rows) && rows[i].Version == v; i++ {
				if _, tracked := state[rows[i].Field]; tracked && rows[i].Action == "updated" {
					state[rows[i].Field] = strOf(rows[i].NewValue)
				}
			}
			if prev != "completed" && state["status"] == "completed" {
				s := secsBetween(tk.CreatedAt, at)
				for _, pk := range []string{all, dept(state["departmentId"]), user(who)} {
					d.add(pk, at, "kDone", 1)
					d.add(pk, at, "kDnS", s)
					d.add(pk, at, "kDnH"+hoursBucket(s), 1)
					d.add(pk, at, analytics.PriorityField("kDnP", deskline.Priority(state["priority"])), 1)
					d.add(pk, at, analytics.PriorityField("kDPS", deskline.Priority(state["priority"])), s)
					if dd, err := time.Parse(time.RFC3339Nano, state["dueDate"]); err == nil && at.After(dd) {
						d.add(pk, at, "kLate", 1)
					}
				}
			}
		}
		cube := analytics.TaskCubeField(tk.Status, tk.Priority)
		for _, pk := range []string{all, dept(tk.DepartmentID), user(tk.AssignedToID)} {
			d.add(pk, tk.CreatedAt, cube, 1)
			if tk.DueDate != nil && !tk.Status.Finished() {
				d.add(pk, *tk.DueDate, "kDue", 1)
			}
		}
		for _, r := range rows {
			f := map[string]string{"comment_added": "cNew", "comment_edited": "cEdt"}[r.Action]
			if f == "" {
				continue
			}
			for _, pk := range []string{all, dept(tk.DepartmentID), user(r.ActorID)} {
				d.add(pk, r.At, f, 1)
			}
		}
		activity(rows, func(time.Time) string { return tk.DepartmentID }) // tasks never move
	}
	return d
}

// countingDB counts the DynamoDB calls a handler makes.
type countingDB struct {
	dynamo.API
	mu    sync.Mutex
	calls map[string]int
}

func (c *countingDB) count(op string) {
	c.mu.Lock()
	c.calls[op]++
	c.mu.Unlock()
}

func (c *countingDB) reset() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.calls
	c.calls = map[string]int{}
	return out
}

func (c *countingDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.count("GetItem")
	return c.API.GetItem(ctx, in, o...)
}

func (c *countingDB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.count("PutItem")
	return c.API.PutItem(ctx, in, o...)
}

func (c *countingDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.count("UpdateItem")
	return c.API.UpdateItem(ctx, in, o...)
}

func (c *countingDB) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	c.count("DeleteItem")
	return c.API.DeleteItem(ctx, in, o...)
}

func (c *countingDB) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.count("Query")
	return c.API.Query(ctx, in, o...)
}

func (c *countingDB) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	c.count("BatchGetItem")
	return c.API.BatchGetItem(ctx, in, o...)
}

func (c *countingDB) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	c.count("BatchWriteItem")
	return c.API.BatchWriteItem(ctx, in, o...)
}

func (c *countingDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.count("TransactWriteItems")
	return c.API.TransactWriteItems(ctx, in, o...)
}

// invokeAs calls a route's Lambda handler directly with the principal p.
func invokeAs(t *testing.T, a *app.App, route, method, path string, params map[string]string, query string, body string, p *deskline.Principal) events.APIGatewayV2HTTPResponse {
	t.Helper()
	h, err := a.HTTPHandler(route)
	if err != nil {
		t.Fatal(err)
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RawPath: path, RawQueryString: query, PathParameters: params, Body: body,
		Headers: map[string]string{"content-type": "application/json"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: unique("req"), HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path},
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: map[string]any{
				"userId": p.UserID, "role": string(p.Role), "departmentId": p.DepartmentID, "status": "approved", "sessionId": "SES-01JB0000000000000000000000",
			}},
		},
	}
	resp, err := h(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestAnalyticsQueriesPerRequest counts the DynamoDB calls of every
// analytics request over a 90-day range: one Query per department or user
// the answer covers, plus one GetItem for the department, user or report
// named in the path (the authorizer's own reads are not the handler's).
func TestAnalyticsQueriesPerRequest(t *testing.T) {
	w := newWorld(t)
	w.ticket(w.headA, w.deptA)
	w.task(w.headA, w.deptA, w.empAID)
	waitIdle(t, w.cloud)
	rep := w.report()
	counter := &countingDB{API: dynamo.LocalClient(w.cloud.DynamoDBEndpoint), calls: map[string]int{}}
	a, err := app.New(w.cloud.App.Config, app.Deps{DynamoDB: counter, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	admin := &deskline.Principal{UserID: "USR-01JB0000000000000000000001", Role: deskline.RoleAdmin}
	end := time.Now().UTC()
	rng := "startDate=" + end.AddDate(0, 0, -89).Format("2006-01-02") + "&endDate=" + end.Format("2006-01-02")
	depts, err := w.store.DepartmentIDs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	one := map[string]int{"Query": 1}
	named := map[string]int{"GetItem": 1, "Query": 1}
	tests := []struct {
		route, method, path string
		params              map[string]string
		query               string
		want                map[string]int
	}{
		{"tickets-stats", "GET", "/api/tickets/stats", nil, rng, one},
		{"tickets-stats", "GET", "/api/tickets/stats", nil, rng + "&department_id=" + w.deptA + "&priority=high", one},
		{"analytics-tickets", "GET", "/api/analytics/tickets", nil, rng, one},
		{"analytics-department-metrics", "GET", "/api/analytics/department/" + w.deptA + "/metrics", map[string]string{"id": w.deptA}, rng, named},
		{"analytics-department-metrics-export", "GET", "/api/analytics/department/" + w.deptA + "/metrics/export", map[string]string{"id": w.deptA}, rng, named},
		{"analytics-department-analytics", "GET", "/api/analytics/department/" + w.deptA + "/analytics", map[string]string{"id": w.deptA}, rng, named},
		{"analytics-department-trends", "GET", "/api/analytics/department/" + w.deptA + "/trends", map[string]string{"id": w.deptA}, rng + "&period=weekly", named},
		{"analytics-user-performance", "GET", "/api/analytics/user/" + w.empAID + "/performance", map[string]string{"id": w.empAID}, rng, named},
		{"analytics-user-performance-export", "GET", "/api/analytics/user/" + w.empAID + "/performance/export", map[string]string{"id": w.empAID}, rng, named},
		{"analytics-user-activity", "GET", "/api/analytics/user/" + w.headAID + "/activity", map[string]string{"id": w.headAID}, rng, named},
		{"analytics-task-distribution", "GET", "/api/analytics/dashboard/task-distribution", nil, rng + "&departmentId=" + w.deptA, one},
		{"analytics-performance-trends", "GET", "/api/analytics/dashboard/performance-trends", nil, rng + "&period=monthly", one},
		{"analytics-priority-metrics", "GET", "/api/analytics/dashboard/priority-metrics", nil, rng, one},
		{"analytics-department-comparison", "GET", "/api/analytics/dashboard/department-comparison", nil, rng, map[string]int{"Query": 1 + len(depts)}},
		{"analytics-reports-get", "GET", "/api/analytics/reports/" + rep, map[string]string{"id": rep}, "", named},
		{"analytics-reports-export", "GET", "/api/analytics/reports/" + rep + "/export", map[string]string{"id": rep}, "", named},
		{"analytics-reports-list", "GET", "/api/analytics/reports", nil, "", map[string]int{"Query": 1, "BatchGetItem": 1}},
	}
	for _, tt := range tests {
		counter.reset()
		resp := invokeAs(t, a, tt.route, tt.method, tt.path, tt.params, tt.query, "", admin)
		got := counter.reset()
		if resp.StatusCode != 200 {
			t.Errorf("%s: status %d: %s", tt.route, resp.StatusCode, resp.Body)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s?%s made %v DynamoDB calls, want %v", tt.route, tt.query, got, tt.want)
		}
	}
	// A head's request for their own department, and an employee's for
	// themself, read the same.
	head := &deskline.Principal{UserID: w.headAID, Role: deskline.RoleDepartmentHead, DepartmentID: w.deptA}
	if resp := invokeAs(t, a, "analytics-department-analytics", "GET", "/api/analytics/department/"+w.deptA+"/analytics", map[string]string{"id": w.deptA}, rng, "", head); resp.StatusCode != 200 {
		t.Errorf("head: %d %s", resp.StatusCode, resp.Body)
	}
	if got := counter.reset(); !reflect.DeepEqual(got, named) {
		t.Errorf("head's department analytics made %v calls, want %v", got, named)
	}
	emp := &deskline.Principal{UserID: w.empAID, Role: deskline.RoleEmployee, DepartmentID: w.deptA}
	if resp := invokeAs(t, a, "analytics-user-performance", "GET", "/api/analytics/user/"+w.empAID+"/performance", map[string]string{"id": w.empAID}, rng, "", emp); resp.StatusCode != 200 {
		t.Errorf("employee: %d %s", resp.StatusCode, resp.Body)
	}
	if got := counter.reset(); !reflect.DeepEqual(got, named) {
		t.Errorf("employee's own performance made %v calls, want %v", got, named)
	}
}

// report saves a department report of department A as the admin.
func (w *world) report() string {
	w.c.t.Helper()
	r := w.c.as(w.admin).do("POST", "/api/analytics/reports", map[string]any{
		"name": unique("Report "), "type": "department", "parameters": map[string]any{"departmentId": w.deptA},
	})
	want(w.c.t, r, 201, "create report")
	return r.obj(w.c.t)["id"].(string)
}

// TestAnalyticsEndpoints checks the answers of the analytics routes on a
// small, known history.
func TestAnalyticsEndpoints(t *testing.T) {
	w := newWorld(t)
	admin, headA := w.c.as(w.admin), w.c.as(w.headA)
	// Department A: the world's ticket (high, support) and task (assigned
	// to empA); one more ticket resolved; one more task completed late.
	tk := mustCreate(t, headA, "/api/tickets", ticketBody("", map[string]any{"priority": "urgent", "category": "bug"}))
	mustPut(t, headA, "/api/tickets/"+tk["id"].(string), map[string]any{"status": "resolved"})
	want(t, w.c.as(w.empA).do("POST", "/api/tickets/"+tk["id"].(string)+"/comments", map[string]any{"content": "Me too"}), 201, "comment")
	past := time.Now().UTC().Add(-48 * time.Hour).Format(time.RFC3339)
	late := w.c.as(w.headA).do("POST", "/api/tasks", map[string]any{"title": "Late task", "description": "Overdue.", "departmentId": w.deptA, "assignedToId": w.empAID, "dueDate": past, "priority": "high"})
	want(t, late, 201, "create task")
	lateID := late.obj(t)["id"].(string)
	overdue := w.c.as(w.headA).do("POST", "/api/tasks", map[string]any{"title": "Overdue task", "description": "Overdue.", "departmentId": w.deptA, "assignedToId": w.empAID, "dueDate": past})
	want(t, overdue, 201, "create task")
	want(t, w.c.as(w.empA).do("PUT", "/api/tasks/"+lateID, map[string]any{"status": "completed"}), 200, "complete")
	waitIdle(t, w.cloud)

	today := time.Now().UTC().Format("2006-01-02")
	yesterday := time.Now().UTC().AddDate(0, 0, -2).Format("2006-01-02")

	// Ticket statistics.
	r := headA.do("GET", "/api/analytics/tickets", nil)
	want(t, r, 200, "ticket analytics")
	ts := r.obj(t)
	if ts["created"].(float64) != 2 || ts["resolved"].(float64) != 1 || ts["byStatus"].(map[string]any)["resolved"].(float64) != 1 ||
		ts["byCategory"].(map[string]any)["bug"].(float64) != 1 || ts["firstResponseTime"].(map[string]any)["count"].(float64) != 1 {
		t.Errorf("ticket analytics = %s", r.Body)
	}

	// Department metrics: today's row.
	r = headA.do("GET", "/api/analytics/department/"+w.deptA+"/metrics?startDate="+yesterday+"&endDate="+today, nil)
	want(t, r, 200, "metrics")
	rows := decode[[]map[string]any](t, r)
	if len(rows) != 3 {
		t.Fatalf("metrics rows = %d, want 3: %s", len(rows), r.Body)
	}
	last := rows[2]
	if last["date"] != today || last["totalTasks"].(float64) != 3 || last["completedTasks"].(float64) != 1 || last["pendingTasks"].(float64) != 2 {
		t.Errorf("today's metrics = %v", last)
	}
	if first := rows[0]; first["overdueTasks"].(float64) != 1 {
		t.Errorf("the overdue task's due day = %v, want overdueTasks 1", first)
	}

	// CSV export: header row, RFC 4180, attachment.
	r = headA.do("GET", "/api/analytics/department/"+w.deptA+"/metrics/export?startDate="+yesterday+"&endDate="+today, nil)
	want(t, r, 200, "export")
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("content type %q", ct)
	}
	if cd := r.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment; filename=") {
		t.Errorf("content disposition %q", cd)
	}
	recs, err := csv.NewReader(strings.NewReader(string(r.Body))).ReadAll()
	if err != nil || len(recs) != 4 || recs[0][3] != "totalTasks" || !strings.Contains(string(r.Body), "\r\n") {
		t.Errorf("csv %q (%v)", r.Body, err)
	}
	// The same rows as a workbook, numbers as numbers.
	r = headA.do("GET", "/api/analytics/department/"+w.deptA+"/metrics/export?format=excel&startDate="+yesterday+"&endDate="+today, nil)
	want(t, r, 200, "excel export")
	if ct := r.Header.Get("Content-Type"); ct != xlsx.ContentType {
		t.Errorf("excel content type %q", ct)
	}
	if cd := r.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="department-`) || !strings.HasSuffix(cd, `.xlsx"`) {
		t.Errorf("excel content disposition %q", cd)
	}
	sheet := sheetCells(t, r.Body)
	if len(sheet) != 4 || sheet[0][3] != "totalTasks" || sheet[3][3] != "3" || sheet[3][2] != today {
		t.Errorf("workbook rows %q, want the CSV's 4 rows with today's totalTasks 3", sheet)
	}
	wantErr(t, headA.do("GET", "/api/analytics/department/"+w.deptA+"/metrics/export?format=pdf", nil), 400, "format", "pdf")

	// Trends need a valid period; ranges are checked.
	wantErr(t, headA.do("GET", "/api/analytics/department/"+w.deptA+"/trends", nil), 400, "period", "no period")
	wantErr(t, headA.do("GET", "/api/analytics/department/"+w.deptA+"/trends?period=hourly", nil), 400, "period", "bad period")
	wantErr(t, headA.do("GET", "/api/analytics/department/"+w.deptA+"/metrics?startDate="+today+"&endDate="+yesterday, nil), 400, "endDate", "end before start")
	wantErr(t, headA.do("GET", "/api/analytics/department/"+w.deptA+"/metrics?startDate=2024-01-01&endDate=2025-12-31", nil), 400, "endDate", "too long")
	wantErr(t, headA.do("GET", "/api/analytics/department/"+w.deptA+"/metrics?startDate=someday", nil), 400, "startDate", "bad date")
	r = headA.do("GET", "/api/analytics/department/"+w.deptA+"/trends?period=weekly", nil)
	want(t, r, 200, "trends")
	tr := r.obj(t)
	if tr["statusDistribution"].(map[string]any)["completed"].(float64) != 1 || len(tr["series"].([]any)) < 5 {
		t.Errorf("trends = %s", r.Body)
	}

	// User performance and activity: self, head, not others.
	r = w.c.as(w.empA).do("GET", "/api/analytics/user/"+w.empAID+"/performance?startDate="+today, nil)
	want(t, r, 200, "own performance")
	perf := decode[[]map[string]any](t, r)
	if len(perf) != 1 || perf[0]["tasksCompleted"].(float64) != 1 || perf[0]["tasksCompletedLate"].(float64) != 1 || perf[0]["firstResponses"].(float64) != 1 {
		t.Errorf("performance = %s", r.Body)
	}
	want(t, w.c.as(w.empB).do("GET", "/api/analytics/user/"+w.empAID+"/performance", nil), 404, "other's performance")
	want(t, w.c.as(w.headB).do("GET", "/api/analytics/user/"+w.empAID+"/activity", nil), 404, "other department's person")
	r = headA.do("GET", "/api/analytics/user/"+w.empAID+"/activity?action=comment_added", nil)
	want(t, r, 200, "activity")
	acts := decode[[]map[string]any](t, r)
	if len(acts) != 2 || acts[0]["action"] != "comment_added" || acts[0]["User"].(map[string]any)["id"] != w.empAID {
		t.Errorf("activity = %s", r.Body)
	}
	wantErr(t, headA.do("GET", "/api/analytics/user/"+w.empAID+"/activity?action=dance", nil), 400, "action", "bad action")

	// Dashboards.
	r = admin.do("GET", "/api/analytics/dashboard/task-distribution?departmentId="+w.deptA, nil)
	want(t, r, 200, "task distribution")
	dist := r.obj(t)
	if dist["byStatus"].(map[string]any)["pending"].(float64) != 2 || dist["byPriority"].(map[string]any)["high"].(float64) != 1 {
		t.Errorf("distribution = %s", r.Body)
	}
	want(t, headA.do("GET", "/api/analytics/dashboard/task-distribution?departmentId="+w.deptB, nil), 403, "other department")
	r = admin.do("GET", "/api/analytics/dashboard/priority-metrics?departmentId="+w.deptA, nil)
	want(t, r, 200, "priority metrics")
	pm := decode[[]map[string]any](t, r)
	if len(pm) != 4 || pm[2]["priority"] != "high" || pm[2]["completed"].(float64) != 1 || pm[2]["completionRate"].(float64) != 1 {
		t.Errorf("priority metrics = %s", r.Body)
	}
	r = admin.do("GET", "/api/analytics/dashboard/performance-trends?period=daily&startDate="+yesterday, nil)
	want(t, r, 200, "performance trends")
	if pts := decode[[]map[string]any](t, r); len(pts) != 3 || pts[2]["date"] != today {
		t.Errorf("performance trends = %s", r.Body)
	}
	r = admin.do("GET", "/api/analytics/dashboard/department-comparison", nil)
	want(t, r, 200, "comparison")
	cmp := decode[[]map[string]any](t, r)
	found := false
	for _, row := range cmp {
		if row["departmentId"] == w.deptA {
			found = row["totalTasks"].(float64) == 3 && row["completedTasks"].(float64) == 1
		}
	}
	if !found {
		t.Errorf("comparison = %s", r.Body)
	}

	// Saved reports.
	r = admin.do("POST", "/api/analytics/reports", map[string]any{"name": "A's tasks", "type": "task", "parameters": map[string]any{"departmentId": w.deptA}})
	want(t, r, 201, "create report")
	id := r.obj(t)["id"].(string)
	wantErr(t, admin.do("POST", "/api/analytics/reports", map[string]any{"name": "x", "type": "weird"}), 400, "type", "bad type")
	wantErr(t, admin.do("POST", "/api/analytics/reports", map[string]any{"name": "x", "type": "user"}), 400, "parameters.userId", "user report without user")
	r = admin.do("GET", "/api/analytics/reports/"+id, nil)
	want(t, r, 200, "get report")
	got := r.obj(t)
	if got["report"].(map[string]any)["name"] != "A's tasks" || got["data"].(map[string]any)["byStatus"].(map[string]any)["completed"].(float64) != 1 {
		t.Errorf("report = %s", r.Body)
	}
	r = admin.do("GET", "/api/analytics/reports?type=task", nil)
	want(t, r, 200, "list reports")
	if l := decode[[]map[string]any](t, r); len(l) != 1 || l[0]["reportCreator"] == nil {
		t.Errorf("reports = %s", r.Body)
	}
	r = admin.do("PUT", "/api/analytics/reports/"+id, map[string]any{"name": "Renamed, \"quoted\"", "isActive": false})
	want(t, r, 200, "update report")
	if r.obj(t)["isActive"] != false {
		t.Errorf("update = %s", r.Body)
	}
	r = admin.do("PUT", "/api/analytics/reports/"+id+"/schedule", map[string]any{"cron": "0 8 * * 1", "recipientEmail": "Lead@Example.com"})
	want(t, r, 200, "schedule")
	if s := r.obj(t)["report"].(map[string]any)["schedule"].(map[string]any); s["recipientEmail"] != "lead@example.com" {
		t.Errorf("schedule = %s", r.Body)
	}
	wantErr(t, admin.do("PUT", "/api/analytics/reports/"+id+"/schedule", map[string]any{"cron": "often", "recipientEmail": "a@b.co"}), 400, "cron", "bad cron")
	r = admin.do("GET", "/api/analytics/reports/"+id+"/export", nil)
	want(t, r, 200, "export report")
	if !strings.HasPrefix(string(r.Body), "dimension,value,count\r\n") {
		t.Errorf("report csv = %q", r.Body)
	}
	want(t, admin.do("DELETE", "/api/analytics/reports/"+id, nil), 200, "delete report")
	want(t, admin.do("GET", "/api/analytics/reports/"+id, nil), 404, "deleted report")
	want(t, headA.do("POST", "/api/analytics/reports", map[string]any{"name": "x", "type": "task"}), 403, "head creates report")
}

// sheetCells reads the first worksheet of an .xlsx body into rows of cell
// texts (numbers as written, inline strings as their text).
func sheetCells(t testing.TB, body []byte) [][]string {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("workbook is not a zip: %v", err)
	}
	f, err := z.Open("xl/worksheets/sheet1.xml")
	if err != nil {
		t.Fatalf("workbook has no sheet: %v", err)
	}
	defer f.Close()
	var ws struct {
		Rows []struct {
			Cells []struct {
				Value  string `xml:"v"`
				Inline string `xml:"is>t"`
			} `xml:"c"`
		} `xml:"sheetData>row"`
	}
	if err := xml.NewDecoder(f).Decode(&ws); err != nil {
		t.Fatalf("sheet: %v", err)
	}
	var out [][]string
	for _, r := range ws.Rows {
		var row []string
		for _, c := range r.Cells {
			row = append(row, c.Value+c.Inline)
		}
		out = append(out, row)
	}
	return out
}
