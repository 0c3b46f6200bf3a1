package cloud_test

// End-to-end tests of tickets through the local cloud (issue 3), and the
// helpers the core tests (tickets, tasks, comments) share.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/deskline/deskline/shared/dynamo"
)

// ---------------------------------------------------------------------------
// Helpers of the core tests.

// call returns a client of the local cloud that calls with token and fails t
// (not the world's test) on transport errors, so it is safe in subtests.
func (w *world) call(t testing.TB, token string) *client {
	return &client{t: t, base: w.c.base, token: token}
}

// rawCall makes one request and returns transport errors instead of failing
// a test, so goroutines may use it.
func rawCall(base, token, method, path string, body any, hdr map[string]string) (response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			return response{}, err
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		return response{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: read body: %w", method, path, err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: out}, nil
}

// doH is do with extra request headers (If-Match, Idempotency-Key).
func (c *client) doH(method, path string, body any, hdr map[string]string) response {
	c.t.Helper()
	r, err := rawCall(c.base, c.token, method, path, body, hdr)
	if err != nil {
		c.t.Fatal(err)
	}
	return r
}

// wantErr fails unless r is an error response with status and field.
func wantErr(t testing.TB, r response, status int, field, what string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("%s: got status %d, want %d; body %s", what, r.Status, status, r.Body)
		return
	}
	var eb struct {
		Error string `json:"error"`
		Field string `json:"field"`
	}
	if err := json.Unmarshal(r.Body, &eb); err != nil || eb.Error == "" {
		t.Errorf("%s: body %s is not an error body", what, r.Body)
		return
	}
	if eb.Field != field {
		t.Errorf("%s: got field %q, want %q (error %q)", what, eb.Field, field, eb.Error)
	}
}

// errMessage returns the error message of an error response.
func errMessage(t testing.TB, r response) string {
	t.Helper()
	s, _ := r.obj(t)["error"].(string)
	return s
}

// waitProjected waits until the stream consumers have handled every change
// made so far.
func waitProjected(t testing.TB, w *world) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := w.cloud.Pump.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	if f := w.cloud.Pump.Failures(); len(f) > 0 {
		t.Fatalf("stream pump has failed batches: %+v", f)
	}
}

// userIDOf returns the id of the caller with token.
func userIDOf(t testing.TB, w *world, token string) string {
	t.Helper()
	r := w.call(t, token).do("GET", "/api/auth/me", nil)
	want(t, r, 200, "me")
	return r.obj(t)["id"].(string)
}

// deptCode returns a department's ticket key prefix.
func deptCode(t testing.TB, w *world, dept string) string {
	t.Helper()
	r := w.call(t, w.admin).do("GET", "/api/departments/"+dept, nil)
	want(t, r, 200, "get department")
	return r.obj(t)["code"].(string)
}

// ticketBody is a valid ticket request in dept, with overrides.
func ticketBody(dept string, over map[string]any) map[string]any {
	b := map[string]any{"title": "Printer on fire", "description": "It is on fire.", "priority": "medium", "category": "support"}
	if dept != "" {
		b["departmentId"] = dept
	}
	for k, v := range over {
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
	}
	return b
}

// mustCreate POSTs body to path and returns the created object.
func mustCreate(t testing.TB, c *client, path string, body any) map[string]any {
	t.Helper()
	r := c.do("POST", path, body)
	want(t, r, 201, "POST "+path)
	return r.obj(t)
}

// mustPut PUTs body to path and returns the updated object.
func mustPut(t testing.TB, c *client, path string, body any) map[string]any {
	t.Helper()
	r := c.do("PUT", path, body)
	want(t, r, 200, "PUT "+path)
	return r.obj(t)
}

// ticketList GETs /api/tickets with query (page mode, up to 100) and
// returns the ids, checking that total agrees.
func ticketList(t testing.TB, c *client, query url.Values) []string {
	t.Helper()
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("limit", "100")
	r := c.do("GET", "/api/tickets?"+q.Encode(), nil)
	want(t, r, 200, "list tickets "+q.Encode())
	var body struct {
		Tickets []map[string]any `json:"tickets"`
		Total   int              `json:"total"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatalf("decode list: %v", err)
	}
	if body.Total != len(body.Tickets) {
		t.Errorf("list %s: total %d, but %d tickets", q.Encode(), body.Total, len(body.Tickets))
	}
	ids := make([]string, len(body.Tickets))
	for i, tk := range body.Tickets {
		ids[i] = tk["id"].(string)
	}
	return ids
}

// sameSet reports whether a and b hold the same strings (ignoring order).
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// historyOf returns an entity's history ("tickets" or "tasks"), oldest first.
func historyOf(t testing.TB, c *client, kind, id string) []map[string]any {
	t.Helper()
	r := c.do("GET", "/api/"+kind+"/"+id+"/history?limit=500", nil)
	want(t, r, 200, "history of "+id)
	return decode[[]map[string]any](t, r)
}

// partition returns every item stored under partition key pk, read directly
// from the cloud's table.
func partition(t testing.TB, w *world, pk string) []map[string]types.AttributeValue {
	t.Helper()
	db := dynamo.LocalClient(w.cloud.DynamoDBEndpoint)
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(w.cloud.App.Config.Table),
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}},
		ConsistentRead:            aws.Bool(true),
	}
	var items []map[string]types.AttributeValue
	for {
		out, err := db.Query(context.Background(), in)
		if err != nil {
			t.Fatalf("query %s: %v", pk, err)
		}
		items = append(items, out.Items...)
		if len(out.LastEvaluatedKey) == 0 {
			return items
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// sortKeys lists the SK of items.
func sortKeys(items []map[string]types.AttributeValue) []string {
	var out []string
	for _, it := range items {
		if s, ok := it["SK"].(*types.AttributeValueMemberS); ok {
			out = append(out, s.Value)
		}
	}
	return out
}

// createMany POSTs n bodies to path with a pool of 8 workers and returns the
// created objects in the order of i.
func createMany(t testing.TB, w *world, token, path string, n int, body func(i int) any) []map[string]any {
	t.Helper()
	out := make([]map[string]any, n)
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r, err := rawCall(w.c.base, token, "POST", path, body(i), nil)
				switch {
				case err != nil:
					errs[i] = err
				case r.Status != 201:
					errs[i] = fmt.Errorf("POST %s #%d: status %d: %s", path, i, r.Status, r.Body)
				default:
					errs[i] = json.Unmarshal(r.Body, &out[i])
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func idsOf(objs []map[string]any) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = o["id"].(string)
	}
	return out
}

// ---------------------------------------------------------------------------
// Tickets.

func TestTicketCreateKeysAndLookup(t *testing.T) {
	w := newWorld(t)
	codeA, codeB := deptCode(t, w, w.deptA), deptCode(t, w, w.deptB)
	empAID := w.empAID

	fixture := w.call(t, w.empA).do("GET", "/api/tickets/"+w.ticketA, nil)
	want(t, fixture, 200, "get fixture ticket")
	if got := fixture.obj(t)["key"]; got != codeA+"-1" {
		t.Errorf("first ticket of department A: key %v, want %s-1", got, codeA)
	}

	created := mustCreate(t, w.call(t, w.empA), "/api/tickets", ticketBody("", map[string]any{"title": "  Trimmed title  "}))
	wantFields := map[string]any{
		"key": codeA + "-2", "status": "open", "priority": "medium", "category": "support", "department_id": w.deptA,
		"created_by": empAID, "updated_by": empAID, "assigned_to": "", "title": "Trimmed title", "version": float64(1), "is_active": true,
	}
	for k, v := range wantFields {
		if created[k] != v {
			t.Errorf("created ticket %s = %#v, want %#v", k, created[k], v)
		}
	}
	if created["resolved_at"] != nil || created["closed_at"] != nil {
		t.Errorf("new ticket has resolved_at %v, closed_at %v", created["resolved_at"], created["closed_at"])
	}
	if d, _ := created["Department"].(map[string]any); d == nil || d["id"] != w.deptA {
		t.Errorf("created ticket Department = %v", created["Department"])
	}

	if got := mustCreate(t, w.call(t, w.headB), "/api/tickets", ticketBody("", nil))["key"]; got != codeB+"-1" {
		t.Errorf("first ticket of department B: key %v, want %s-1", got, codeB)
	}
	if got := mustCreate(t, w.call(t, w.admin), "/api/tickets", ticketBody(w.deptA, nil))["key"]; got != codeA+"-3" {
		t.Errorf("third ticket of department A: key %v, want %s-3", got, codeA)
	}

	id, key := created["id"].(string), created["key"].(string)
	for _, ref := range []string{id, key} {
		r := w.call(t, w.headA).do("GET", "/api/tickets/"+ref, nil)
		want(t, r, 200, "get by "+ref)
		got := r.obj(t)
		if got["id"] != id || got["key"] != key {
			t.Errorf("GET %s = id %v key %v, want %s %s", ref, got["id"], got["key"], id, key)
		}
		if r.Header.Get("ETag") != `"1"` {
			t.Errorf("GET %s ETag = %q, want %q", ref, r.Header.Get("ETag"), `"1"`)
		}
	}
	for _, ref := range []string{codeA + "-99", strings.ToLower(key), "TKT-0000000000000000000000000", "nonsense"} {
		want(t, w.call(t, w.headA).do("GET", "/api/tickets/"+ref, nil), 404, "get "+ref)
	}
}

func TestTicketCreateValidation(t *testing.T) {
	w := newWorld(t)
	c := w.call(t, w.headA)
	tests := []struct {
		name  string
		over  map[string]any
		field string
	}{
		{"bad priority", map[string]any{"priority": "critical"}, "priority"},
		{"priority of wrong type", map[string]any{"priority": 3}, "priority"},
		{"missing priority", map[string]any{"priority": nil}, "priority"},
		{"category outside enum", map[string]any{"category": "hardware"}, "category"},
		{"missing category", map[string]any{"category": nil}, "category"},
		{"short title", map[string]any{"title": "ab"}, "title"},
		{"blank title", map[string]any{"title": "    "}, "title"},
		{"long title", map[string]any{"title": strings.Repeat("x", 201)}, "title"},
		{"missing title", map[string]any{"title": nil}, "title"},
		{"missing description", map[string]any{"description": nil}, "description"},
		{"blank description", map[string]any{"description": " \n "}, "description"},
		{"unknown field", map[string]any{"color": "red"}, "color"},
		{"bad due_date", map[string]any{"due_date": "next week"}, "due_date"},
		{"bad dueDate", map[string]any{"dueDate": "2025-13-45"}, "due_date"},
		{"created closed", map[string]any{"status": "closed"}, "status"},
		{"too many tags", map[string]any{"tags": []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"}}, "tags"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantErr(t, c.do("POST", "/api/tickets", ticketBody("", tt.over)), 400, tt.field, tt.name)
		})
	}
	t.Run("admin without department", func(t *testing.T) {
		wantErr(t, w.call(t, w.admin).do("POST", "/api/tickets", ticketBody("", nil)), 400, "departmentId", "admin without department")
	})
	t.Run("unknown department", func(t *testing.T) {
		body := ticketBody("DEP-0000000000000000000000000", nil)
		wantErr(t, w.call(t, w.admin).do("POST", "/api/tickets", body), 400, "departmentId", "admin, unknown department")
		want(t, c.do("POST", "/api/tickets", body), 403, "head, another department")
	})
	t.Run("malformed JSON", func(t *testing.T) {
		wantErr(t, c.do("POST", "/api/tickets", `{"title":`), 400, "", "malformed")
	})

	// Nothing was created, and no ticket number was used up.
	if ids := ticketList(t, w.call(t, w.admin), nil); len(ids) != 1 || ids[0] != w.ticketA {
		t.Errorf("after refused creates the tickets are %v, want only the fixture %s", ids, w.ticketA)
	}
	if got := mustCreate(t, c, "/api/tickets", ticketBody("", nil))["key"]; got != deptCode(t, w, w.deptA)+"-2" {
		t.Errorf("next key after refused creates = %v, want number 2", got)
	}
}

// TestTicketDepartmentScoping: people of another department cannot see a
// ticket at all (404, not 403, so ids cannot be probed), and a department
// filter never widens a caller's scope.
func TestTicketDepartmentScoping(t *testing.T) {
	w := newWorld(t)
	ticketB := w.ticket(w.headB, w.deptB)
	keyA := w.call(t, w.admin).do("GET", "/api/tickets/"+w.ticketA, nil).obj(t)["key"].(string)
	requests := []struct{ method, path string }{
		{"GET", "/api/tickets/" + w.ticketA},
		{"GET", "/api/tickets/" + keyA},
		{"PUT", "/api/tickets/" + w.ticketA},
		{"PUT", "/api/tickets/" + keyA},
		{"GET", "/api/tickets/" + w.ticketA + "/history"},
		{"GET", "/api/tickets/" + w.ticketA + "/comments"},
		{"POST", "/api/tickets/" + w.ticketA + "/comments"},
	}
	for _, caller := range []string{"headB", "empB"} {
		for _, rq := range requests {
			t.Run(caller+" "+rq.method+" "+rq.path, func(t *testing.T) {
				var body any
				switch {
				case rq.method == "PUT":
					body = map[string]any{"title": "Hijacked ticket"}
				case rq.method == "POST":
					body = map[string]any{"content": "Hello from B"}
				}
				want(t, w.call(t, w.token(caller)).do(rq.method, rq.path, body), 404, caller+" "+rq.method)
			})
		}
	}
	if got := w.call(t, w.admin).do("GET", "/api/tickets/"+w.ticketA, nil).obj(t)["title"]; got == "Hijacked ticket" {
		t.Errorf("a refused update changed the ticket")
	}

	t.Run("department filter", func(t *testing.T) {
		for _, caller := range []string{"headB", "empB"} {
			for _, param := range []string{"department_id", "departmentId"} {
				r := w.call(t, w.token(caller)).do("GET", "/api/tickets?"+param+"="+w.deptA, nil)
				want(t, r, 403, caller+" filtering department A")
			}
			if ids := ticketList(t, w.call(t, w.token(caller)), nil); !sameSet(ids, []string{ticketB}) {
				t.Errorf("%s lists %v, want only department B's %s", caller, ids, ticketB)
			}
			// Naming one's own department is fine.
			if ids := ticketList(t, w.call(t, w.token(caller)), url.Values{"department_id": {w.deptB}}); !sameSet(ids, []string{ticketB}) {
				t.Errorf("%s with own department lists %v", caller, ids)
			}
		}
		admin := w.call(t, w.admin)
		if ids := ticketList(t, admin, url.Values{"department_id": {w.deptB}}); !sameSet(ids, []string{ticketB}) {
			t.Errorf("admin filtering B lists %v, want %s", ids, ticketB)
		}
		if ids := ticketList(t, admin, url.Values{"department_id": {w.deptA}}); !sameSet(ids, []string{w.ticketA}) {
			t.Errorf("admin filtering A lists %v, want %s", ids, w.ticketA)
		}
		if ids := ticketList(t, admin, nil); !sameSet(ids, []string{w.ticketA, ticketB}) {
			t.Errorf("admin lists %v, want both tickets", ids)
		}
		wantErr(t, admin.do("GET", "/api/tickets?department_id=nonsense", nil), 400, "department_id", "admin with bad department id")
	})
}

func TestTicketAssignment(t *testing.T) {
	w := newWorld(t)
	head := w.call(t, w.headA)
	pendingID, _ := w.pending(w.deptA)
	headBID := userIDOf(t, w, w.headB)

	t.Run("create", func(t *testing.T) {
		got := mustCreate(t, head, "/api/tickets", ticketBody("", map[string]any{"assigned_to": w.empAID}))
		if got["assigned_to"] != w.empAID {
			t.Errorf("assigned_to = %v, want %s", got["assigned_to"], w.empAID)
		}
		if a, _ := got["assignee"].(map[string]any); a == nil || a["id"] != w.empAID || a["username"] == "" {
			t.Errorf("assignee = %v, want empA with username", got["assignee"])
		}
		for name, who := range map[string]string{"other department": w.empBID, "pending member": pendingID, "unknown user": "USR-0000000000000000000000000"} {
			wantErr(t, head.do("POST", "/api/tickets", ticketBody("", map[string]any{"assignedTo": who})), 400, "assigned_to", name)
		}
		r := w.call(t, w.empA).do("POST", "/api/tickets", ticketBody("", map[string]any{"assignedTo": w.empAID}))
		wantErr(t, r, 403, "assigned_to", "employee assigns on create")
	})

	t.Run("update", func(t *testing.T) {
		own := mustCreate(t, w.call(t, w.empA), "/api/tickets", ticketBody("", nil))["id"].(string)
		path := "/api/tickets/" + own
		want(t, w.call(t, w.empA).do("PUT", path, map[string]any{"assigned_to": w.empAID}), 403, "employee assigns own ticket")
		want(t, w.call(t, w.empA).do("PUT", path, map[string]any{"due_date": "2030-01-01"}), 403, "employee reschedules own ticket")
		wantErr(t, head.do("PUT", path, map[string]any{"assigned_to": w.empBID}), 400, "assigned_to", "head assigns other department's employee")
		wantErr(t, head.do("PUT", path, map[string]any{"assigned_to": pendingID}), 400, "assigned_to", "head assigns pending member")
		got := mustPut(t, head, path, map[string]any{"assigned_to": w.empAID, "due_date": "2030-01-01"})
		if got["assigned_to"] != w.empAID || got["due_date"] != "2030-01-01T00:00:00Z" {
			t.Errorf("after assignment: assigned_to %v, due_date %v", got["assigned_to"], got["due_date"])
		}
		// Moving to department B keeps the assignee, who is not B's member.
		wantErr(t, w.call(t, w.admin).do("PUT", path, map[string]any{"department_id": w.deptB}), 400, "assigned_to", "move with foreign assignee")
		want(t, head.do("PUT", path, map[string]any{"department_id": w.deptB}), 403, "head moves ticket")
		got = mustPut(t, w.call(t, w.admin), path, map[string]any{"department_id": w.deptB, "assigned_to": headBID})
		if got["department_id"] != w.deptB || got["assigned_to"] != headBID {
			t.Errorf("after move: department %v assignee %v", got["department_id"], got["assigned_to"])
		}
		want(t, head.do("GET", path, nil), 404, "head A reads moved ticket")
		want(t, w.call(t, w.headB).do("GET", path, nil), 200, "head B reads moved ticket")
		// Unassigning is allowed.
		if got := mustPut(t, w.call(t, w.headB), path, map[string]any{"assigned_to": ""}); got["assigned_to"] != "" {
			t.Errorf("after unassign: assigned_to %v", got["assigned_to"])
		}
	})
}

// TestTicketTransitions walks one ticket through the transition table; each
// step names who acts, the target status and the expected answer.
func TestTicketTransitions(t *testing.T) {
	w := newWorld(t)
	adminID := userIDOf(t, w, w.admin)
	id := mustCreate(t, w.call(t, w.empA), "/api/tickets", ticketBody("", nil))["id"].(string)
	ids := map[string]string{"admin": adminID, "headA": w.headAID, "empA": w.empAID}
	steps := []struct {
		who, to                string
		status                 int
		resolvedSet, closedSet bool
	}{
		{"headA", "in_progress", 200, false, false},
		{"empA", "resolved", 200, true, false}, // the creator may resolve
		{"headA", "open", 200, false, false},   // resolved reopens
		{"headA", "resolved", 200, true, false},
		{"headA", "closed", 200, true, true},
		{"headA", "open", 409, true, true}, // closed is final for heads
		{"empA", "open", 409, true, true},
		{"admin", "in_progress", 409, true, true}, // admins may only reopen
		{"admin", "resolved", 409, true, true},
		{"admin", "open", 200, false, false},
		{"empA", "closed", 200, true, true}, // open closes directly
		{"admin", "open", 200, false, false},
		{"headA", "open", 200, false, false}, // no change is fine
	}
	version := 1.0
	for i, s := range steps {
		t.Run(fmt.Sprintf("%d %s to %s", i, s.who, s.to), func(t *testing.T) {
			r := w.call(t, w.token(s.who)).do("PUT", "/api/tickets/"+id, map[string]any{"status": s.to})
			want(t, r, s.status, "transition")
			got := w.call(t, w.admin).do("GET", "/api/tickets/"+id, nil).obj(t)
			if s.status == 200 {
				version++
				if got["status"] != s.to {
					t.Errorf("status = %v, want %s", got["status"], s.to)
				}
				if got["updated_by"] != ids[s.who] {
					t.Errorf("updated_by = %v, want %s's id %s", got["updated_by"], s.who, ids[s.who])
				}
			}
			if got["version"] != version {
				t.Errorf("version = %v, want %v", got["version"], version)
			}
			if (got["resolved_at"] != nil) != s.resolvedSet || (got["closed_at"] != nil) != s.closedSet {
				t.Errorf("resolved_at %v closed_at %v, want set: %v %v", got["resolved_at"], got["closed_at"], s.resolvedSet, s.closedSet)
			}
		})
	}
	wantErr(t, w.call(t, w.headA).do("PUT", "/api/tickets/"+id, map[string]any{"status": "reopened"}), 400, "status", "unknown status")
	// empA neither created nor is assigned the fixture ticket.
	want(t, w.call(t, w.empA).do("PUT", "/api/tickets/"+w.ticketA, map[string]any{"status": "closed"}), 403, "employee on someone else's ticket")
}

func TestTicketUpdateFieldsAndVersion(t *testing.T) {
	w := newWorld(t)
	c := w.call(t, w.headA)
	path := "/api/tickets/" + w.ticketA
	got := mustPut(t, c, path, map[string]any{
		"title": "New title", "description": "New description", "priority": "urgent", "category": "bug", "tags": []string{"VPN", " vpn ", "Net"},
	})
	for k, v := range map[string]any{"title": "New title", "description": "New description", "priority": "urgent", "category": "bug", "version": 2.0, "updated_by": w.headAID} {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if tags := fmt.Sprint(got["tags"]); tags != "[vpn net]" {
		t.Errorf("tags = %s, want [vpn net] (trimmed, lower-cased, deduplicated)", tags)
	}
	for name, body := range map[string]map[string]any{
		"bad priority": {"priority": "p1"}, "bad category": {"category": "x"}, "short title": {"title": "no"},
		"empty description": {"description": ""}, "unknown field": {"colour": "red"}, "bad due_date": {"due_date": "tomorrow"},
	} {
		r := c.do("PUT", path, body)
		want(t, r, 400, name)
	}
	want(t, c.do("PUT", path, map[string]any{"title": "Stale", "version": 1}), 409, "stale body version")
	if v := c.do("GET", path, nil).obj(t)["version"]; v != 2.0 {
		t.Errorf("after refused updates version = %v, want 2", v)
	}
}

func TestTicketDeleteIsAdminOnly(t *testing.T) {
	w := newWorld(t)
	own := mustCreate(t, w.call(t, w.empA), "/api/tickets", ticketBody("", nil))
	path := "/api/tickets/" + own["id"].(string)
	for _, caller := range []string{"empA", "headA"} {
		want(t, w.call(t, w.token(caller)).do("DELETE", path, nil), 403, caller+" deletes")
	}
	want(t, w.call(t, w.admin).do("GET", path, nil), 200, "still there")
	want(t, w.call(t, w.admin).do("DELETE", path, nil), 200, "admin deletes")
	want(t, w.call(t, w.admin).do("GET", path, nil), 404, "get deleted")
	want(t, w.call(t, w.admin).do("GET", "/api/tickets/"+own["key"].(string), nil), 404, "get deleted by key")
	want(t, w.call(t, w.admin).do("DELETE", path, nil), 404, "delete twice")
}

// TestTicketListFilters checks each filter alone and combined, in a
// department of five tickets.
func TestTicketListFilters(t *testing.T) {
	w := newWorld(t)
	head, emp := w.call(t, w.headB), w.call(t, w.empB)
	headBID := userIDOf(t, w, w.headB)
	mk := func(c *client, over map[string]any) map[string]any {
		t.Helper()
		return mustCreate(t, c, "/api/tickets", ticketBody("", over))
	}
	t1 := mk(emp, map[string]any{"title": "Printer jam on floor two", "description": "Paper stuck", "priority": "high", "category": "bug"})
	t2 := mk(head, map[string]any{"title": "VPN drops", "description": "Connection to the PRINTER server drops", "priority": "low", "assigned_to": w.empBID})
	t3 := mk(head, map[string]any{"title": "New laptop", "description": "Need a faster laptop", "priority": "urgent", "category": "feature", "assigned_to": headBID})
	t4 := mk(emp, map[string]any{"title": "Password reset", "description": "Forgot it", "category": "other"})
	t5 := mk(emp, map[string]any{"title": "Monitor flickers", "description": "Second screen"})
	u4 := mustPut(t, head, "/api/tickets/"+t4["id"].(string), map[string]any{"status": "in_progress"})
	u5 := mustPut(t, head, "/api/tickets/"+t5["id"].(string), map[string]any{"status": "resolved"})
	mustPut(t, head, "/api/tickets/"+t3["id"].(string), map[string]any{"description": "Need a faster laptop soon"})
	id := func(ts ...map[string]any) []string { return idsOf(ts) }
	at := func(m map[string]any, f string) string { return m[f].(string) }
	today := time.Now().UTC().Format("2006-01-02")
	yesterday := time.Now().UTC().Add(-24 * time.Hour).Format("2006-01-02")

	tests := []struct {
		name  string
		c     *client
		query url.Values
		want  []string
	}{
		{"no filter", head, nil, id(t1, t2, t3, t4, t5)},
		{"status", head, url.Values{"status": {"open"}}, id(t1, t2, t3)},
		{"status list", head, url.Values{"status": {"in_progress,resolved"}}, id(t4, t5)},
		{"status none match", head, url.Values{"status": {"closed"}}, nil},
		{"priority", head, url.Values{"priority": {"high"}}, id(t1)},
		{"priority list", head, url.Values{"priority": {"low,urgent"}}, id(t2, t3)},
		{"category", head, url.Values{"category": {"feature"}}, id(t3)},
		{"category list", head, url.Values{"category": {"bug,other"}}, id(t1, t4)},
		{"assigned_to id", head, url.Values{"assigned_to": {w.empBID}}, id(t2)},
		{"assignedTo id", head, url.Values{"assignedTo": {headBID}}, id(t3)},
		{"assigned_to me", emp, url.Values{"assigned_to": {"me"}}, id(t2)},
		{"assigned_to me as head", head, url.Values{"assigned_to": {"me"}}, id(t3)},
		{"assigned_to none", head, url.Values{"assigned_to": {"none"}}, id(t1, t4, t5)},
		{"created_by id", head, url.Values{"created_by": {w.empBID}}, id(t1, t4, t5)},
		{"created_by me", head, url.Values{"created_by": {"me"}}, id(t2, t3)},
		{"search one word", head, url.Values{"search": {"printer"}}, id(t1, t2)},
		{"search is case-insensitive", head, url.Values{"search": {"PrInTeR"}}, id(t1, t2)},
		{"search all words must match", head, url.Values{"search": {"printer SERVER"}}, id(t2)},
		{"search words in title and description", head, url.Values{"search": {"vpn connection"}}, id(t2)},
		{"search no ticket has both", head, url.Values{"search": {"printer laptop"}}, nil},
		{"search part of a word", head, url.Values{"search": {"lapt"}}, id(t3)},
		{"created_from", head, url.Values{"created_from": {at(t3, "createdAt")}}, id(t3, t4, t5)},
		{"created_to", head, url.Values{"created_to": {at(t2, "createdAt")}}, id(t1, t2)},
		{"created range", head, url.Values{"created_from": {at(t2, "createdAt")}, "created_to": {at(t3, "createdAt")}}, id(t2, t3)},
		{"created today by date", head, url.Values{"created_from": {today}, "created_to": {today}}, id(t1, t2, t3, t4, t5)},
		{"created until yesterday", head, url.Values{"created_to": {yesterday}}, nil},
		{"updated_from", head, url.Values{"updated_from": {at(u4, "updatedAt")}}, id(t3, t4, t5)},
		{"updated_to", head, url.Values{"updated_to": {at(u5, "updatedAt")}}, id(t1, t2, t4, t5)},
		{"updated range", head, url.Values{"updated_from": {at(u4, "updatedAt")}, "updated_to": {at(u5, "updatedAt")}}, id(t4, t5)},
		{"updated from after the last", head, url.Values{"updated_from": {time.Now().UTC().Add(time.Hour).Format(time.RFC3339)}}, nil},
		{"combined status priority search", head, url.Values{"status": {"open"}, "priority": {"high,low"}, "search": {"printer"}}, id(t1, t2)},
		{"combined with assignee none", head, url.Values{"status": {"open"}, "priority": {"high,low"}, "search": {"printer"}, "assigned_to": {"none"}}, id(t1)},
		{"combined creator category status", head, url.Values{"created_by": {w.empBID}, "category": {"support,other"}, "status": {"in_progress,resolved"}}, id(t4, t5)},
		{"combined with date", head, url.Values{"created_from": {at(t2, "createdAt")}, "priority": {"medium"}}, id(t4, t5)},
		{"admin sees department B by filter", w.call(t, w.admin), url.Values{"department_id": {w.deptB}, "search": {"printer"}}, id(t1, t2)},
		{"admin search over all departments", w.call(t, w.admin), url.Values{"search": {"printer"}, "status": {"open"}}, append(id(t1, t2), w.ticketA)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ticketList(t, tt.c, tt.query)
			if !sameSet(got, tt.want) {
				t.Errorf("GET /api/tickets?%s = %v, want %v", tt.query.Encode(), got, tt.want)
			}
		})
	}
	// Newest first.
	if got := ticketList(t, head, nil); !slices.Equal(got, id(t5, t4, t3, t2, t1)) {
		t.Errorf("order = %v, want newest first %v", got, id(t5, t4, t3, t2, t1))
	}

	bad := []struct {
		query, field string
	}{
		{"status=pending", "status"},
		{"status=open,bogus", "status"},
		{"priority=p1", "priority"},
		{"category=hardware", "category"},
		{"created_from=yesterday", "created_from"},
		{"created_to=2025-02-30", "created_to"},
		{"updated_from=soon", "updated_from"},
		{"created_from=2025-02-01&created_to=2025-01-01", "created_to"},
		{"limit=0", "limit"},
		{"limit=101", "limit"},
		{"limit=ten", "limit"},
		{"page=0", "page"},
		{"search=" + url.QueryEscape("a b c d e f g h i j k"), "search"},
		{"cursor=not-a-cursor", "cursor"},
	}
	for _, b := range bad {
		t.Run("invalid "+b.query, func(t *testing.T) {
			wantErr(t, head.do("GET", "/api/tickets?"+b.query, nil), 400, b.field, b.query)
		})
	}
}

// TestTicketPagination is the test: 500 tickets of one department,
// walked by cursor and by page, each ticket exactly once each way.
func TestTicketPagination(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 500 tickets")
	}
	w := newWorld(t)
	const n = 500
	// Created in parallel through the API, so the department's counter is
	// raced too: it must still give every ticket its own number 1..n.
	created := createMany(t, w, w.headB, "/api/tickets", n, func(i int) any {
		return ticketBody("", map[string]any{"title": fmt.Sprintf("Ticket number %03d", i)})
	})
	all := idsOf(created)
	code := deptCode(t, w, w.deptB)
	keys := map[string]bool{}
	for _, tk := range created {
		keys[tk["key"].(string)] = true
	}
	for i := 1; i <= n; i++ {
		if !keys[fmt.Sprintf("%s-%d", code, i)] {
			t.Errorf("no ticket has key %s-%d", code, i)
		}
	}

	c := w.call(t, w.headB)
	type page struct {
		Tickets     []map[string]any `json:"tickets"`
		NextCursor  *string          `json:"nextCursor"`
		Total       *int             `json:"total"`
		CurrentPage int              `json:"currentPage"`
		TotalPages  int              `json:"totalPages"`
	}
	get := func(q string) page {
		t.Helper()
		r := c.do("GET", "/api/tickets?"+q, nil)
		want(t, r, 200, q)
		return decode[page](t, r)
	}

	t.Run("by cursor", func(t *testing.T) {
		seen := map[string]int{}
		var order []string
		var createdAt []string
		p := get("limit=37")
		pages := 0
		for {
			pages++
			if len(p.Tickets) > 37 {
				t.Fatalf("page %d has %d tickets, limit 37", pages, len(p.Tickets))
			}
			for _, tk := range p.Tickets {
				seen[tk["id"].(string)]++
				order = append(order, tk["id"].(string))
				createdAt = append(createdAt, tk["createdAt"].(string))
			}
			if p.NextCursor == nil {
				break
			}
			if pages > n {
				t.Fatal("cursor walk does not end")
			}
			p = get("limit=37&cursor=" + url.QueryEscape(*p.NextCursor))
			if p.Total != nil {
				t.Errorf("cursor page carries total %d", *p.Total)
			}
		}
		if len(order) != n || len(seen) != n {
			t.Errorf("cursor walk: %d tickets, %d distinct, want %d", len(order), len(seen), n)
		}
		for id, k := range seen {
			if k != 1 {
				t.Errorf("ticket %s seen %d times", id, k)
			}
		}
		if !sameSet(order, all) {
			t.Errorf("cursor walk does not list exactly the created tickets")
		}
		if want := (n + 36) / 37; pages != want {
			t.Errorf("cursor walk took %d pages, want %d", pages, want)
		}
		for i := 1; i < len(createdAt); i++ {
			a, _ := time.Parse(time.RFC3339Nano, createdAt[i-1])
			b, _ := time.Parse(time.RFC3339Nano, createdAt[i])
			if a.Before(b) {
				t.Fatalf("cursor walk not newest first at %d: %s before %s", i, createdAt[i-1], createdAt[i])
			}
		}
	})

	t.Run("by page", func(t *testing.T) {
		seen := map[string]int{}
		var order []string
		const limit = 25
		for pg := 1; pg <= n/limit; pg++ {
			p := get(fmt.Sprintf("limit=%d&page=%d", limit, pg))
			if p.Total == nil || *p.Total != n || p.CurrentPage != pg || p.TotalPages != n/limit {
				t.Fatalf("page %d: total %v currentPage %d totalPages %d, want %d %d %d", pg, p.Total, p.CurrentPage, p.TotalPages, n, pg, n/limit)
			}
			if len(p.Tickets) != limit {
				t.Fatalf("page %d has %d tickets, want %d", pg, len(p.Tickets), limit)
			}
			if (p.NextCursor == nil) != (pg == n/limit) {
				t.Errorf("page %d: nextCursor %v", pg, p.NextCursor)
			}
			for _, tk := range p.Tickets {
				seen[tk["id"].(string)]++
				order = append(order, tk["id"].(string))
			}
		}
		if len(order) != n || len(seen) != n || !sameSet(order, all) {
			t.Errorf("page walk: %d tickets, %d distinct, want exactly the %d created", len(order), len(seen), n)
		}
		if p := get(fmt.Sprintf("limit=%d&page=%d", limit, n/limit+1)); len(p.Tickets) != 0 || p.NextCursor != nil {
			t.Errorf("page past the end: %d tickets, cursor %v", len(p.Tickets), p.NextCursor)
		}
		// A page's nextCursor continues where the page ended.
		p1, p2 := get("limit=25&page=1"), get("limit=25&page=2")
		next := get("limit=25&cursor=" + url.QueryEscape(*p1.NextCursor))
		if !slices.Equal(idsOf(next.Tickets), idsOf(p2.Tickets)) {
			t.Errorf("cursor after page 1 does not give page 2")
		}
	})

	t.Run("invalid cursors", func(t *testing.T) {
		p := get("limit=5")
		// Another department's cursor, even for an admin.
		wantErr(t, w.call(t, w.admin).do("GET", "/api/tickets?department_id="+w.deptA+"&cursor="+url.QueryEscape(*p.NextCursor), nil), 400, "cursor", "cursor of another department")
		for _, bad := range []string{"abc", "eyJQSyI6IngifQ", strings.Repeat("A", 4000)} {
			wantErr(t, c.do("GET", "/api/tickets?cursor="+bad, nil), 400, "cursor", "cursor "+bad[:3])
		}
	})
}

type ticketCount struct {
	Status   string `json:"status"`
	Priority string `json:"priority"`
	Count    int    `json:"count"`
}

func TestTicketStats(t *testing.T) {
	w := newWorld(t)
	// Department A: the fixture (open, high), a1 (open, urgent), a2 (resolved, low).
	mustCreate(t, w.call(t, w.headA), "/api/tickets", ticketBody("", map[string]any{"priority": "urgent"}))
	a2 := mustCreate(t, w.call(t, w.empA), "/api/tickets", ticketBody("", map[string]any{"priority": "low"}))
	mustPut(t, w.call(t, w.headA), "/api/tickets/"+a2["id"].(string), map[string]any{"status": "resolved"})
	// Department B: two open, high.
	w.ticket(w.headB, w.deptB)
	w.ticket(w.empB, w.deptB)

	// Statistics may be kept by a stream consumer: let it catch up.
	waitProjected(t, w)
	today := time.Now().UTC().Format("2006-01-02")
	yesterday := time.Now().UTC().Add(-24 * time.Hour).Format("2006-01-02")
	tomorrow := time.Now().UTC().Add(24 * time.Hour).Format("2006-01-02")
	deptA := []ticketCount{{"open", "high", 1}, {"open", "urgent", 1}, {"resolved", "low", 1}}
	deptB := []ticketCount{{"open", "high", 2}}
	all := []ticketCount{{"open", "high", 3}, {"open", "urgent", 1}, {"resolved", "low", 1}}
	tests := []struct {
		name, token, query string
		want               []ticketCount
	}{
		{"head sees own department", w.headA, "", deptA},
		{"other head sees own department", w.headB, "", deptB},
		{"head names own department", w.headB, "department_id=" + w.deptB, deptB},
		{"admin sees all", w.admin, "", all},
		{"admin filters department", w.admin, "department_id=" + w.deptB, deptB},
		{"admin filters department A", w.admin, "department_id=" + w.deptA, deptA},
		{"range including today", w.admin, "startDate=" + yesterday + "&endDate=" + today, all},
		{"range of today only", w.headA, "startDate=" + today + "&endDate=" + today, deptA},
		{"range before", w.admin, "endDate=" + yesterday, nil},
		{"range after", w.admin, "startDate=" + tomorrow, nil},
		{"with list filters", w.admin, "priority=high", []ticketCount{{"open", "high", 3}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := w.call(t, tt.token).do("GET", "/api/tickets/stats?"+tt.query, nil)
			want(t, r, 200, "stats")
			got := decode[[]ticketCount](t, r)
			if got == nil {
				got = []ticketCount{}
			}
			wantCounts := tt.want
			if wantCounts == nil {
				wantCounts = []ticketCount{}
			}
			if !slices.Equal(got, wantCounts) {
				t.Errorf("stats?%s = %v, want %v", tt.query, got, wantCounts)
			}
		})
	}
	want(t, w.call(t, w.headA).do("GET", "/api/tickets/stats?department_id="+w.deptB, nil), 403, "head asks other department")
	want(t, w.call(t, w.empA).do("GET", "/api/tickets/stats", nil), 403, "employee")
	wantErr(t, w.call(t, w.admin).do("GET", "/api/tickets/stats?startDate="+today+"&endDate="+yesterday, nil), 400, "endDate", "end before start")
	wantErr(t, w.call(t, w.admin).do("GET", "/api/tickets/stats?startDate=someday", nil), 400, "startDate", "bad startDate")
	wantErr(t, w.call(t, w.admin).do("GET", "/api/tickets/stats?endDate=2025-01-32", nil), 400, "endDate", "bad endDate")
}

// TestTicketHistory: every changed field of every version, with who made it,
// and every comment, recorded by the stream projector.
func TestTicketHistory(t *testing.T) {
	w := newWorld(t)
	adminID := userIDOf(t, w, w.admin)
	tk := mustCreate(t, w.call(t, w.empA), "/api/tickets", ticketBody("", map[string]any{"title": "Original title", "tags": []string{"a"}}))
	id := tk["id"].(string)
	path := "/api/tickets/" + id
	mustPut(t, w.call(t, w.headA), path, map[string]any{
		"title": "Changed title", "priority": "urgent", "status": "resolved", "assigned_to": w.empAID, "due_date": "2030-05-01", "tags": []string{"a", "b"},
	})
	mustPut(t, w.call(t, w.admin), path, map[string]any{"category": "bug"})
	mustPut(t, w.call(t, w.admin), path, map[string]any{"category": "bug"}) // a write that changes nothing is no history
	cm := mustCreate(t, w.call(t, w.empA), path+"/comments", map[string]any{"content": "First words"})
	cid := cm["id"].(string)
	mustPut(t, w.call(t, w.empA), "/api/comments/"+cid, map[string]any{"content": "Better words"})
	want(t, w.call(t, w.admin).do("DELETE", "/api/comments/"+cid, nil), 200, "delete comment")
	waitProjected(t, w)

	type entry struct {
		action, field string
		old, new      any
		actor         string
		version       float64
	}
	wantEntries := []entry{
		{"created", "", nil, nil, w.empAID, 1},
		{"updated", "assigned_to", nil, w.empAID, w.headAID, 2},
		{"updated", "due_date", nil, "2030-05-01T00:00:00Z", w.headAID, 2},
		{"updated", "priority", "medium", "urgent", w.headAID, 2},
		{"updated", "status", "open", "resolved", w.headAID, 2},
		{"updated", "tags", []any{"a"}, []any{"a", "b"}, w.headAID, 2},
		{"updated", "title", "Original title", "Changed title", w.headAID, 2},
		{"updated", "category", "support", "bug", adminID, 3},
		{"comment_added", "", nil, "First words", w.empAID, 1},
		{"comment_edited", "", "First words", "Better words", w.empAID, 2},
		{"comment_deleted", "", "Better words", nil, adminID, 2},
	}
	hist := historyOf(t, w.call(t, w.empA), "tickets", id)
	var got []entry
	for _, h := range hist {
		e := entry{action: h["action"].(string), old: h["oldValue"], new: h["newValue"]}
		e.field, _ = h["field"].(string)
		e.actor, _ = h["actorId"].(string)
		e.version, _ = h["version"].(float64)
		got = append(got, e)
		if h["entityId"] != id || h["entityType"] != "ticket" {
			t.Errorf("entry %v names entity %v %v", h, h["entityType"], h["entityId"])
		}
		if strings.HasPrefix(e.action, "comment_") && h["commentId"] != cid {
			t.Errorf("comment entry %v has commentId %v, want %s", e, h["commentId"], cid)
		}
	}
	if len(got) != len(wantEntries) {
		t.Errorf("got %d history entries, want %d:\n%v", len(got), len(wantEntries), got)
	}
	for _, we := range wantEntries {
		found := false
		for _, ge := range got {
			if fmt.Sprint(ge) == fmt.Sprint(we) {
				found = true
			}
		}
		if !found {
			t.Errorf("history lacks %+v\ngot %+v", we, got)
		}
	}
	// Oldest first: the comment's entries in the order they happened, even
	// within one second (stream times are whole seconds).
	var commentActions []string
	for _, h := range hist {
		if h["commentId"] == cid {
			commentActions = append(commentActions, h["action"].(string))
		}
	}
	if want := []string{"comment_added", "comment_edited", "comment_deleted"}; !slices.Equal(commentActions, want) {
		t.Errorf("comment history in order %v, want %v", commentActions, want)
	}
	for i := 1; i < len(hist); i++ {
		a, _ := time.Parse(time.RFC3339Nano, hist[i-1]["at"].(string))
		b, _ := time.Parse(time.RFC3339Nano, hist[i]["at"].(string))
		if b.Before(a) {
			t.Errorf("history not oldest first at %d: %s then %s", i, hist[i-1]["at"], hist[i]["at"])
		}
	}
	// History pages by cursor.
	r := w.call(t, w.empA).do("GET", "/api/tickets/"+id+"/history?limit=4", nil)
	want(t, r, 200, "history page")
	if n := len(decode[[]map[string]any](t, r)); n != 4 || r.Header.Get("X-Next-Cursor") == "" {
		t.Errorf("history limit=4: %d entries, cursor %q", n, r.Header.Get("X-Next-Cursor"))
	}
}

// TestTicketConcurrentUpdates is the test: 20 parallel updates of one
// ticket through the API. Every success has its own version, the versions are
// consecutive, every success is in the history, and none is lost.
func TestTicketConcurrentUpdates(t *testing.T) {
	w := newWorld(t)
	const n = 20
	path := "/api/tickets/" + w.ticketA
	type result struct {
		status  int
		version int
		title   string
		err     error
	}
	results := make([]result, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			title := fmt.Sprintf("Parallel title %02d", i)
			r, err := rawCall(w.c.base, w.headA, "PUT", path, map[string]any{"title": title}, nil)
			results[i] = result{status: r.Status, title: title, err: err}
			if err == nil && r.Status == 200 {
				var body struct {
					Version int    `json:"version"`
					Title   string `json:"title"`
				}
				results[i].err = json.Unmarshal(r.Body, &body)
				results[i].version = body.Version
				if body.Title != title {
					results[i].err = fmt.Errorf("200 answer shows title %q, want %q", body.Title, title)
				}
				if r.Header.Get("ETag") != fmt.Sprintf(`"%d"`, body.Version) {
					results[i].err = fmt.Errorf("ETag %q for version %d", r.Header.Get("ETag"), body.Version)
				}
			}
		}()
	}
	close(start)
	wg.Wait()

	var versions []int
	byVersion := map[int]string{}
	for i, r := range results {
		switch {
		case r.err != nil:
			t.Errorf("update %d: %v", i, r.err)
		case r.status == 200:
			versions = append(versions, r.version)
			byVersion[r.version] = r.title
		case r.status != 409:
			t.Errorf("update %d: status %d, want 200 or 409", i, r.status)
		}
	}
	if len(versions) == 0 {
		t.Fatal("no update succeeded")
	}
	sort.Ints(versions)
	for i, v := range versions {
		if v != i+2 {
			t.Fatalf("successful versions %v, want exactly 2..%d", versions, len(versions)+1)
		}
	}
	t.Logf("%d of %d parallel updates succeeded", len(versions), n)

	final := w.call(t, w.admin).do("GET", path, nil).obj(t)
	if final["version"] != float64(1+len(versions)) {
		t.Errorf("final version %v, want %d", final["version"], 1+len(versions))
	}
	if final["title"] != byVersion[versions[len(versions)-1]] {
		t.Errorf("final title %v, want the last success's %q", final["title"], byVersion[versions[len(versions)-1]])
	}

	waitProjected(t, w)
	titles := map[int]string{}
	for _, h := range historyOf(t, w.call(t, w.admin), "tickets", w.ticketA) {
		if h["field"] == "title" {
			titles[int(h["version"].(float64))], _ = h["newValue"].(string)
		}
	}
	for v, title := range byVersion {
		if titles[v] != title {
			t.Errorf("history of version %d has title %q, want %q", v, titles[v], title)
		}
	}
	if len(titles) != len(byVersion) {
		t.Errorf("history has %d title changes, want %d", len(titles), len(byVersion))
	}
}

// TestIfMatch: responses carry ETag "<version>", and a stale If-Match is 412
// and changes nothing.
func TestIfMatch(t *testing.T) {
	w := newWorld(t)
	kinds := []struct {
		name, path, token string
		change            func(i int) map[string]any
		field             string
	}{
		{"ticket", "/api/tickets/" + w.ticketA, w.headA, func(i int) map[string]any { return map[string]any{"title": fmt.Sprintf("Title %d", i)} }, "title"},
		{"task", "/api/tasks/" + w.taskA, w.headA, func(i int) map[string]any { return map[string]any{"title": fmt.Sprintf("Title %d", i)} }, "title"},
		{"comment", "/api/comments/" + w.commentA, w.empA, func(i int) map[string]any { return map[string]any{"content": fmt.Sprintf("Content %d", i)} }, "content"},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			c := w.call(t, k.token)
			if k.name != "comment" {
				r := c.do("GET", k.path, nil)
				want(t, r, 200, "get")
				if r.Header.Get("ETag") != `"1"` {
					t.Errorf("GET ETag = %q, want %q", r.Header.Get("ETag"), `"1"`)
				}
			}
			r := c.doH("PUT", k.path, k.change(1), map[string]string{"If-Match": `"1"`})
			want(t, r, 200, "matching If-Match")
			if r.Header.Get("ETag") != `"2"` || r.obj(t)["version"] != 2.0 {
				t.Errorf("after update ETag %q version %v, want \"2\" 2", r.Header.Get("ETag"), r.obj(t)["version"])
			}
			r = c.doH("PUT", k.path, k.change(2), map[string]string{"If-Match": `"1"`})
			wantErr(t, r, 412, "", "stale If-Match")
			r = c.doH("PUT", k.path, k.change(2), map[string]string{"If-Match": `"7", "1"`})
			wantErr(t, r, 412, "", "stale If-Match list")
			if k.name != "comment" {
				got := c.do("GET", k.path, nil).obj(t)
				if got[k.field] != k.change(1)[k.field] || got["version"] != 2.0 {
					t.Errorf("after 412: %s %v version %v, want the first update's", k.field, got[k.field], got["version"])
				}
			}
			want(t, c.doH("PUT", k.path, k.change(3), map[string]string{"If-Match": `W/"2"`}), 200, "weak matching If-Match")
			want(t, c.doH("PUT", k.path, k.change(4), map[string]string{"If-Match": `"1", "3"`}), 200, "list with the current version")
			want(t, c.doH("PUT", k.path, k.change(5), map[string]string{"If-Match": "*"}), 200, "If-Match *")
		})
	}
	t.Run("delete", func(t *testing.T) {
		id := w.ticket(w.headA, w.deptA)
		want(t, w.call(t, w.admin).doH("DELETE", "/api/tickets/"+id, nil, map[string]string{"If-Match": `"2"`}), 412, "stale delete")
		want(t, w.call(t, w.admin).do("GET", "/api/tickets/"+id, nil), 200, "still there")
		want(t, w.call(t, w.admin).doH("DELETE", "/api/tickets/"+id, nil, map[string]string{"If-Match": `"1"`}), 200, "delete")
	})
}

// TestIdempotencyKey: the same key and body return the first response and
// create one entity; another body is 422; keys are per user.
func TestIdempotencyKey(t *testing.T) {
	w := newWorld(t)
	kinds := []struct {
		name, path        string
		token, otherToken string
		body, otherBody   map[string]any
		count             func(t *testing.T) int
	}{
		{
			name: "ticket", path: "/api/tickets", token: w.empA, otherToken: w.headA,
			body:      ticketBody("", map[string]any{"title": "Idempotent ticket"}),
			otherBody: ticketBody("", map[string]any{"title": "Another ticket"}),
			count: func(t *testing.T) int {
				return len(ticketList(t, w.call(t, w.admin), url.Values{"search": {"idempotent"}}))
			},
		},
		{
			name: "task", path: "/api/tasks", token: w.headA, otherToken: w.admin,
			body:      map[string]any{"title": "Idempotent task", "description": "Once", "departmentId": w.deptA},
			otherBody: map[string]any{"title": "Idempotent task", "description": "Twice", "departmentId": w.deptA},
			count: func(t *testing.T) int {
				n := 0
				for _, tk := range decode[[]map[string]any](t, w.call(t, w.admin).do("GET", "/api/tasks?limit=100", nil)) {
					if tk["title"] == "Idempotent task" {
						n++
					}
				}
				return n
			},
		},
		{
			name: "comment", path: "/api/comments", token: w.empA, otherToken: w.headA,
			body:      map[string]any{"taskId": w.taskA, "content": "Idempotent comment"},
			otherBody: map[string]any{"taskId": w.taskA, "content": "Other comment"},
			count: func(t *testing.T) int {
				n := 0
				for _, c := range decode[[]map[string]any](t, w.call(t, w.admin).do("GET", "/api/comments/task/"+w.taskA+"?limit=100", nil)) {
					if c["content"] == "Idempotent comment" {
						n++
					}
				}
				return n
			},
		},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			key := map[string]string{"Idempotency-Key": "key-" + k.name}
			c := w.call(t, k.token)
			first := c.doH("POST", k.path, k.body, key)
			want(t, first, 201, "first")
			if first.Header.Get("Idempotent-Replayed") != "" {
				t.Errorf("first response is marked replayed")
			}
			again := c.doH("POST", k.path, k.body, key)
			want(t, again, 201, "replay")
			if again.Header.Get("Idempotent-Replayed") != "true" {
				t.Errorf("replay: Idempotent-Replayed = %q, want true", again.Header.Get("Idempotent-Replayed"))
			}
			if !bytes.Equal(first.Body, again.Body) {
				t.Errorf("replay body differs:\n%s\n%s", first.Body, again.Body)
			}
			if n := k.count(t); n != 1 {
				t.Errorf("after replay %d entities exist, want 1", n)
			}
			wantErr(t, c.doH("POST", k.path, k.otherBody, key), 422, "", "same key, other body")
			// Another user's same key is another request.
			other := w.call(t, k.otherToken).doH("POST", k.path, k.body, key)
			want(t, other, 201, "other user, same key")
			if other.Header.Get("Idempotent-Replayed") != "" || other.obj(t)["id"] == first.obj(t)["id"] {
				t.Errorf("other user's request was replayed from the first user's")
			}
			if n := k.count(t); n != 2 {
				t.Errorf("after another user's create %d entities exist, want 2", n)
			}
			// Without a key, creates are not deduplicated.
			want(t, c.do("POST", k.path, k.body), 201, "no key")
			if n := k.count(t); n != 3 {
				t.Errorf("after a create without key %d entities exist, want 3", n)
			}
			if k.name == "ticket" {
				wantErr(t, c.doH("POST", k.path, k.body, map[string]string{"Idempotency-Key": strings.Repeat("k", 256)}), 400, "Idempotency-Key", "long key")
			}
		})
	}

	t.Run("parallel same key", func(t *testing.T) {
		const n = 8
		body := ticketBody("", map[string]any{"title": "Raced create"})
		var wg sync.WaitGroup
		res := make([]response, n)
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res[i], errs[i] = rawCall(w.c.base, w.headB, "POST", "/api/tickets", body, map[string]string{"Idempotency-Key": "raced"})
			}()
		}
		wg.Wait()
		ids := map[string]bool{}
		for i := range n {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			if res[i].Status != 201 {
				t.Errorf("parallel create %d: %d %s", i, res[i].Status, res[i].Body)
				continue
			}
			ids[res[i].obj(t)["id"].(string)] = true
		}
		if got := ticketList(t, w.call(t, w.headB), url.Values{"search": {"raced"}}); len(got) != 1 || len(ids) != 1 {
			t.Errorf("parallel creates with one key made tickets %v and answered ids %v, want one", got, ids)
		}
	})
}

// TestTicketDeleteCascade: deleting a ticket removes its comments, their
// aliases, its history and its key alias; no item of it remains.
func TestTicketDeleteCascade(t *testing.T) {
	w := newWorld(t)
	tk := mustCreate(t, w.call(t, w.empA), "/api/tickets", ticketBody("", nil))
	id, key := tk["id"].(string), tk["key"].(string)
	path := "/api/tickets/" + id
	mustPut(t, w.call(t, w.headA), path, map[string]any{"status": "in_progress", "priority": "high"})
	var comments []string
	for i := range 3 {
		comments = append(comments, mustCreate(t, w.call(t, w.empA), path+"/comments", map[string]any{"content": fmt.Sprintf("Comment %d", i)})["id"].(string))
	}
	comments = append(comments, mustCreate(t, w.call(t, w.headA), "/api/comments", map[string]any{"ticketId": key, "content": "By key"})["id"].(string))
	mustPut(t, w.call(t, w.empA), "/api/comments/"+comments[0], map[string]any{"content": "Edited"})
	// Another ticket's items must survive.
	other := mustCreate(t, w.call(t, w.empA), "/api/tickets", ticketBody("", nil))
	otherComment := mustCreate(t, w.call(t, w.empA), "/api/tickets/"+other["id"].(string)+"/comments", map[string]any{"content": "Keep me"})["id"].(string)
	waitProjected(t, w)

	before := partition(t, w, "TICKET#"+id)
	if len(before) < 1+len(comments)+5 {
		t.Fatalf("before delete the ticket's partition has %d items (%v), want ticket, comments and history", len(before), sortKeys(before))
	}
	want(t, w.call(t, w.admin).do("DELETE", path, nil), 200, "delete")
	waitProjected(t, w)

	if items := partition(t, w, "TICKET#"+id); len(items) != 0 {
		t.Errorf("ticket partition still holds %v", sortKeys(items))
	}
	if items := partition(t, w, "TKEY#"+key); len(items) != 0 {
		t.Errorf("key alias %s remains", key)
	}
	for _, c := range comments {
		if items := partition(t, w, "CMT#"+c); len(items) != 0 {
			t.Errorf("comment alias %s remains", c)
		}
		want(t, w.call(t, w.empA).do("PUT", "/api/comments/"+c, map[string]any{"content": "ghost"}), 404, "edit comment of deleted ticket")
	}
	want(t, w.call(t, w.admin).do("GET", "/api/tickets/"+key, nil), 404, "get by key")
	want(t, w.call(t, w.empA).do("POST", path+"/comments", map[string]any{"content": "late"}), 404, "comment on deleted ticket")
	want(t, w.call(t, w.admin).do("GET", path+"/history", nil), 404, "history of deleted ticket")

	if n := len(partition(t, w, "TICKET#"+other["id"].(string))); n < 3 {
		t.Errorf("the other ticket's partition has %d items, want ticket, comment and history", n)
	}
	if n := len(partition(t, w, "CMT#"+otherComment)); n != 1 {
		t.Errorf("the other ticket's comment alias: %d items", n)
	}
}

// toStreamImage converts an item as the SDK reads it into a stream image as
// Lambda delivers it.
func toStreamImage(t testing.TB, item map[string]types.AttributeValue) map[string]events.DynamoDBAttributeValue {
	t.Helper()
	var conv func(types.AttributeValue) events.DynamoDBAttributeValue
	conv = func(av types.AttributeValue) events.DynamoDBAttributeValue {
		switch v := av.(type) {
		case *types.AttributeValueMemberS:
			return events.NewStringAttribute(v.Value)
		case *types.AttributeValueMemberN:
			return events.NewNumberAttribute(v.Value)
		case *types.AttributeValueMemberBOOL:
			return events.NewBooleanAttribute(v.Value)
		case *types.AttributeValueMemberNULL:
			return events.NewNullAttribute()
		case *types.AttributeValueMemberSS:
			return events.NewStringSetAttribute(v.Value)
		case *types.AttributeValueMemberL:
			l := make([]events.DynamoDBAttributeValue, len(v.Value))
			for i, e := range v.Value {
				l[i] = conv(e)
			}
			return events.NewListAttribute(l)
		case *types.AttributeValueMemberM:
			m := make(map[string]events.DynamoDBAttributeValue, len(v.Value))
			for k, e := range v.Value {
				m[k] = conv(e)
			}
			return events.NewMapAttribute(m)
		}
		t.Fatalf("unsupported attribute value %T", av)
		return events.DynamoDBAttributeValue{}
	}
	out := make(map[string]events.DynamoDBAttributeValue, len(item))
	for k, v := range item {
		out[k] = conv(v)
	}
	return out
}

// rawItem reads one item of the cloud's table.
func rawItem(t testing.TB, w *world, pk, sk string) map[string]types.AttributeValue {
	t.Helper()
	out, err := dynamo.LocalClient(w.cloud.DynamoDBEndpoint).GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(w.cloud.App.Config.Table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: sk}},
	})
	if err != nil || out.Item == nil {
		t.Fatalf("get %s %s: %v (found %v)", pk, sk, err, out != nil && out.Item != nil)
	}
	return out.Item
}

// historyItems returns the history items of a partition, by sort key.
func historyItems(t testing.TB, w *world, pk string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, it := range partition(t, w, pk) {
		sk := it["SK"].(*types.AttributeValueMemberS).Value
		if strings.HasPrefix(sk, "H#") {
			var e map[string]any
			if err := dynamo.UnmarshalEntity(it, &e); err != nil {
				t.Fatal(err)
			}
			delete(e, "eventId") // which delivery wrote it
			b, _ := json.Marshal(e)
			out[sk] = string(b)
		}
	}
	return out
}

// TestHistoryReplayIsIdempotent hands the projector the stream records of a
// ticket's life again, built from the real item images, twice: the history
// stays exactly as the first delivery wrote it.
func TestHistoryReplayIsIdempotent(t *testing.T) {
	w := newWorld(t)
	tk := mustCreate(t, w.call(t, w.empA), "/api/tickets", ticketBody("", nil))
	id := tk["id"].(string)
	pk := "TICKET#" + id
	v1 := rawItem(t, w, pk, "#TICKET")
	mustPut(t, w.call(t, w.headA), "/api/tickets/"+id, map[string]any{"title": "Replayed title", "status": "in_progress", "tags": []string{"x"}})
	v2 := rawItem(t, w, pk, "#TICKET")
	cid := mustCreate(t, w.call(t, w.empA), "/api/tickets/"+id+"/comments", map[string]any{"content": "Once"})["id"].(string)
	c1 := rawItem(t, w, pk, "C#"+cid)
	mustPut(t, w.call(t, w.empA), "/api/comments/"+cid, map[string]any{"content": "Twice"})
	c2 := rawItem(t, w, pk, "C#"+cid)
	want(t, w.call(t, w.empA).do("DELETE", "/api/comments/"+cid, nil), 200, "delete comment")
	waitProjected(t, w)

	before := historyItems(t, w, pk)
	if len(before) != 7 { // created, 3 fields, added, edited, deleted
		t.Fatalf("history has %d items, want 7: %v", len(before), before)
	}
	var deletedAt time.Time
	for _, h := range historyOf(t, w.call(t, w.admin), "tickets", id) {
		if h["action"] == "comment_deleted" {
			deletedAt, _ = time.Parse(time.RFC3339Nano, h["at"].(string))
		}
	}
	rec := func(n int, name string, old, nw map[string]types.AttributeValue, at time.Time) events.DynamoDBEventRecord {
		r := events.DynamoDBEventRecord{EventID: fmt.Sprintf("replay-%d", n), EventName: name, EventSource: "aws:dynamodb", Change: events.DynamoDBStreamRecord{
			SequenceNumber: fmt.Sprintf("%021d", n), StreamViewType: "NEW_AND_OLD_IMAGES", ApproximateCreationDateTime: events.SecondsEpochTime{Time: at},
		}}
		if old != nil {
			r.Change.OldImage = toStreamImage(t, old)
		}
		if nw != nil {
			r.Change.NewImage = toStreamImage(t, nw)
		}
		return r
	}
	now := time.Now()
	ev := events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{
		rec(1, "INSERT", nil, v1, now),
		rec(2, "MODIFY", v1, v2, now),
		rec(3, "INSERT", nil, c1, now),
		rec(4, "MODIFY", c1, c2, now),
		rec(5, "REMOVE", c2, nil, deletedAt), // a redelivery carries the original's time
	}}
	for i := range 2 {
		resp, err := w.cloud.App.Projector.Handle(context.Background(), ev)
		if err != nil || len(resp.BatchItemFailures) > 0 {
			t.Fatalf("replay %d: %v, failures %v", i, err, resp.BatchItemFailures)
		}
	}
	after := historyItems(t, w, pk)
	if len(after) != len(before) {
		t.Errorf("after replays history has %d items, want %d", len(after), len(before))
	}
	for sk, e := range before {
		if after[sk] != e {
			t.Errorf("history item %s changed by the replay:\n%s\n%s", sk, e, after[sk])
		}
	}
	for sk := range after {
		if _, ok := before[sk]; !ok {
			t.Errorf("replay added history item %s: %s", sk, after[sk])
		}
	}
}
