package cloud_test

// The call budget: no request on the ticket, task and comment routes
// makes more than 3 DynamoDB calls, and none is a Scan. The handlers run
// directly (as Lambda runs them) on an app whose DynamoDB client counts.

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/deskline/deskline/localstack/dynamotest"
	"github.com/deskline/deskline/shared/api"
	"github.com/deskline/deskline/shared/app"
	"github.com/deskline/deskline/shared/dynamo"
	"github.com/deskline/deskline/shared/httpapi"
	"github.com/deskline/deskline/shared/routes"
)

// maxCoreCalls is the budget.
const maxCoreCalls = 3

// coreCounter is a dynamo.API that counts calls by operation and passes
// them on.
type coreCounter struct {
	next dynamo.API
	mu   sync.Mutex
	ops  map[string]int
}

var _ dynamo.API = (*coreCounter)(nil)

func (c *coreCounter) count(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ops[op]++
}

func (c *coreCounter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ops = map[string]int{}
}

// calls returns the counts since the last reset and their total.
func (c *coreCounter) calls() (map[string]int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out, total := map[string]int{}, 0
	for k, v := range c.ops {
		out[k] = v
		total += v
	}
	return out, total
}

func (c *coreCounter) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.count("GetItem")
	return c.next.GetItem(ctx, in, o...)
}

func (c *coreCounter) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.count("PutItem")
	return c.next.PutItem(ctx, in, o...)
}

func (c *coreCounter) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.count("UpdateItem")
	return c.next.UpdateItem(ctx, in, o...)
}

func (c *coreCounter) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	c.count("DeleteItem")
	return c.next.DeleteItem(ctx, in, o...)
}

func (c *coreCounter) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.count("Query")
	return c.next.Query(ctx, in, o...)
}

func (c *coreCounter) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	c.count("BatchGetItem")
	return c.next.BatchGetItem(ctx, in, o...)
}

func (c *coreCounter) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	c.count("BatchWriteItem")
	return c.next.BatchWriteItem(ctx, in, o...)
}

func (c *coreCounter) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.count("TransactWriteItems")
	return c.next.TransactWriteItems(ctx, in, o...)
}

// Scan is not part of dynamo.API, so the store cannot call it; should the
// interface ever grow one, this counts it and the test fails.
func (c *coreCounter) Scan(ctx context.Context, in *dynamodb.ScanInput, o ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	c.count("Scan")
	return nil, fmt.Errorf("scan is not allowed")
}

// corePrincipal is a principal as the authorizer hands it to a route.
type corePrincipal struct {
	id, role, dept string
}

func (c corePrincipal) lambdaContext() map[string]any {
	return map[string]any{
		httpapi.CtxUserID: c.id, httpapi.CtxRole: c.role, httpapi.CtxDepartmentID: c.dept, httpapi.CtxStatus: "approved",
		httpapi.CtxSessionID: "SES-CALLS", httpapi.CtxUsername: "calls-" + c.role, httpapi.CtxEmail: c.role + "@calls.test",
	}
}

// coreApp is an app whose handlers the test invokes directly.
type coreApp struct {
	t  *testing.T
	a  *app.App
	db *coreCounter
}

// coreCall is one invocation of a route.
type coreCall struct {
	params  map[string]string
	query   string
	body    any
	headers map[string]string
}

// invoke runs a route's handler with an API Gateway event and returns the
// status and decoded body.
func (d *coreApp) invoke(t testing.TB, route string, who corePrincipal, c coreCall) (int, map[string]any, events.APIGatewayV2HTTPResponse) {
	t.Helper()
	r, ok := routes.ByName(route)
	if !ok {
		t.Fatalf("no route %s", route)
	}
	h, err := d.a.HTTPHandler(route)
	if err != nil {
		t.Fatal(err)
	}
	path := r.Path
	for k, v := range c.params {
		path = strings.ReplaceAll(path, "{"+k+"}", v)
	}
	var body string
	if c.body != nil {
		b, err := json.Marshal(c.body)
		if err != nil {
			t.Fatal(err)
		}
		body = string(b)
	}
	headers := map[string]string{"content-type": "application/json"}
	for k, v := range c.headers {
		headers[strings.ToLower(k)] = v
	}
	ev := events.APIGatewayV2HTTPRequest{
		RouteKey: r.Method + " " + r.Path, RawPath: path, RawQueryString: c.query, PathParameters: c.params, Headers: headers, Body: body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID:  "calls-" + route,
			HTTP:       events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: r.Method, Path: path, SourceIP: "127.0.0.1"},
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: who.lambdaContext()},
		},
	}
	out, err := h(context.Background(), ev)
	if err != nil {
		t.Fatalf("%s: %v", route, err)
	}
	var m map[string]any
	_ = json.Unmarshal([]byte(out.Body), &m)
	return out.StatusCode, m, out
}

// must invokes a route and fails unless it answers status; it returns the
// body's id.
func (d *coreApp) must(route string, who corePrincipal, status int, c coreCall) string {
	d.t.Helper()
	got, m, out := d.invoke(d.t, route, who, c)
	if got != status {
		d.t.Fatalf("%s: status %d, want %d: %s", route, got, status, out.Body)
	}
	id, _ := m["id"].(string)
	return id
}

func newCoreApp(t *testing.T) *coreApp {
	t.Helper()
	_, table := dynamotest.Table(t)
	db := &coreCounter{next: dynamo.LocalClient(dynamotest.Endpoint(t)), ops: map[string]int{}}
	a, err := app.New(app.Config{
		Stage: api.StageTest, Table: table, JWTSecret: []byte("test-secret-test-secret-test-secret!"), TokenTTL: time.Hour, BcryptCost: 4,
	}, app.Deps{DynamoDB: db, Log: slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelError}))})
	if err != nil {
		t.Fatal(err)
	}
	return &coreApp{t: t, a: a, db: db}
}

func TestDynamoDBCallsPerRequest(t *testing.T) {
	d := newCoreApp(t)
	admin := corePrincipal{id: "USR-CALLSADMIN000000000000000", role: "admin"}
	deptA := d.must("departments-create", admin, 201, coreCall{body: map[string]any{"name": "Calls Alpha", "code": "CALLA"}})
	deptB := d.must("departments-create", admin, 201, coreCall{body: map[string]any{"name": "Calls Beta", "code": "CALLB"}})
	user := func(role, dept string) corePrincipal {
		n := unique("calls")
		id := d.must("users-create", admin, 201, coreCall{body: map[string]any{"username": n, "email": n + "@calls.test", "password": testPassword, "role": role, "departmentId": dept}})
		return corePrincipal{id: id, role: role, dept: dept}
	}
	head, emp := user("department_head", deptA), user("employee", deptA)
	otherHead := user("department_head", deptB)

	newTicket := func() string {
		return d.must("tickets-create", head, 201, coreCall{body: map[string]any{
			"title": "Printer on fire", "description": "Smoke.", "priority": "high", "category": "support", "assigned_to": emp.id,
		}})
	}
	newTaskID := func(over map[string]any) string {
		b := map[string]any{"title": "Replace toner", "description": "Black.", "assignedToId": emp.id, "dueDate": "2020-01-01"}
		for k, v := range over {
			b[k] = v
		}
		return d.must("tasks-create", head, 201, coreCall{body: b})
	}
	ticket := newTicket()
	for range 3 {
		newTicket()
	}
	d.must("tickets-create", otherHead, 201, coreCall{body: map[string]any{"title": "Elsewhere", "description": "B.", "priority": "low", "category": "bug"}})
	ticketComment := d.must("tickets-comments-create", emp, 201, coreCall{params: map[string]string{"id": ticket}, body: map[string]any{"content": "Seen"}})
	task := newTaskID(map[string]any{"ticketId": ticket})
	dep1, dep2 := newTaskID(nil), newTaskID(nil)
	d.must("tasks-dependencies-add", head, 200, coreCall{params: map[string]string{"id": task}, body: map[string]any{"dependsOn": dep1}})
	taskComment := d.must("comments-create", emp, 201, coreCall{body: map[string]any{"taskId": task, "content": "On it"}})
	idem := map[string]string{"Idempotency-Key": "calls-key"}
	replayBody := map[string]any{"title": "Replayed", "description": "Once.", "priority": "low", "category": "other"}
	d.must("tickets-create", head, 201, coreCall{body: replayBody, headers: idem})
	ticketBodyFor := map[string]any{"title": "Counted", "description": "Twice.", "priority": "low", "category": "other", "assigned_to": emp.id}

	type row struct {
		name, route string
		who         corePrincipal
		status      int
		req         func() coreCall // may create what it acts on (not counted)
	}
	static := func(c coreCall) func() coreCall { return func() coreCall { return c } }
	id := func(v string) map[string]string { return map[string]string{"id": v} }
	rows := []row{
		{"create", "tickets-create", head, 201, static(coreCall{body: ticketBodyFor})},
		{"create with Idempotency-Key", "tickets-create", head, 201, static(coreCall{body: ticketBodyFor, headers: map[string]string{"Idempotency-Key": "k1"}})},
		{"create replayed", "tickets-create", head, 201, static(coreCall{body: replayBody, headers: idem})},
		{"create as admin", "tickets-create", admin, 201, static(coreCall{body: map[string]any{"title": "By admin", "description": "x", "priority": "low", "category": "bug", "departmentId": deptA}})},
		{"list filtered", "tickets-list", head, 200, static(coreCall{query: "status=open,in_progress&priority=high&category=support&assigned_to=me&search=printer+fire&created_from=2020-01-01&updated_to=2100-01-01"})},
		{"list page 2", "tickets-list", emp, 200, static(coreCall{query: "limit=2&page=2"})},
		{"list all departments", "tickets-list", admin, 200, static(coreCall{query: "limit=100"})},
		{"list by cursor", "tickets-list", head, 200, func() coreCall {
			_, m, _ := d.invoke(t, "tickets-list", head, coreCall{query: "limit=2"})
			return coreCall{query: "limit=2&cursor=" + m["nextCursor"].(string)}
		}},
		{"stats", "tickets-stats", head, 200, static(coreCall{})},
		{"stats of all", "tickets-stats", admin, 200, static(coreCall{query: "startDate=2020-01-01&endDate=2020-06-01"})},
		{"get", "tickets-get", emp, 200, static(coreCall{params: id(ticket)})},
		{"update", "tickets-update", head, 200, static(coreCall{params: id(ticket), body: map[string]any{"priority": "urgent", "assigned_to": head.id, "status": "in_progress"}})},
		{"update with If-Match", "tickets-update", head, 200, func() coreCall {
			_, m, _ := d.invoke(t, "tickets-get", head, coreCall{params: id(ticket)})
			return coreCall{params: id(ticket), body: map[string]any{"title": unique("Title ")}, headers: map[string]string{"If-Match": fmt.Sprintf(`"%v"`, m["version"])}}
		}},
		{"delete", "tickets-delete", admin, 200, func() coreCall { return coreCall{params: id(newTicket())} }},
		{"history", "tickets-history", emp, 200, static(coreCall{params: id(ticket)})},
		{"comments", "tickets-comments-list", emp, 200, static(coreCall{params: id(ticket), query: "order=asc"})},
		{"comment", "tickets-comments-create", emp, 201, static(coreCall{params: id(ticket), body: map[string]any{"content": "More"}})},
		{"comment with Idempotency-Key", "tickets-comments-create", emp, 201, static(coreCall{params: id(ticket), body: map[string]any{"content": "Keyed"}, headers: map[string]string{"Idempotency-Key": "k2"}})},

		{"create", "tasks-create", head, 201, static(coreCall{body: map[string]any{"title": "Counted task", "description": "x", "assignedToId": emp.id, "ticketId": ticket}, headers: map[string]string{"Idempotency-Key": "k3"}})},
		{"list filtered", "tasks-list", head, 200, static(coreCall{query: "status=pending&priority=medium&overdue=true&assignedToId=" + emp.id})},
		{"list as employee", "tasks-list", emp, 200, static(coreCall{query: "assignedToId=me"})},
		{"list all departments", "tasks-list", admin, 200, static(coreCall{query: "limit=2"})},
		{"get", "tasks-get", emp, 200, static(coreCall{params: id(task)})},
		{"update by employee", "tasks-update", emp, 200, static(coreCall{params: id(task), body: map[string]any{"progress": 30}})},
		{"update start checks blockers", "tasks-update", head, 409, static(coreCall{params: id(task), body: map[string]any{"status": "in_progress", "assignedToId": head.id, "priority": "high"}})},
		{"update start", "tasks-update", head, 200, static(coreCall{params: id(dep2), body: map[string]any{"status": "in_progress", "ticketId": ticket}})},
		{"delete", "tasks-delete", admin, 200, func() coreCall { return coreCall{params: id(newTaskID(nil))} }},
		{"history", "tasks-history", emp, 200, static(coreCall{params: id(task)})},
		{"add dependency", "tasks-dependencies-add", head, 200, static(coreCall{params: id(task), body: map[string]any{"dependsOn": dep2}})},
		{"add dependency as admin", "tasks-dependencies-add", admin, 200, func() coreCall {
			return coreCall{params: id(newTaskID(nil)), body: map[string]any{"dependsOn": dep2}}
		}},
		{"add cyclic dependency", "tasks-dependencies-add", head, 409, static(coreCall{params: id(dep1), body: map[string]any{"dependsOn": task}})},
		{"remove dependency", "tasks-dependencies-remove", head, 200, static(coreCall{params: map[string]string{"id": task, "dependsOnId": dep2}})},

		{"create", "comments-create", emp, 201, static(coreCall{body: map[string]any{"taskId": task, "content": "Counted"}, headers: map[string]string{"Idempotency-Key": "k4"}})},
		{"create on ticket", "comments-create", head, 201, static(coreCall{body: map[string]any{"ticketId": ticket, "content": "Counted"}})},
		{"list", "comments-list-task", emp, 200, static(coreCall{params: map[string]string{"taskId": task}, query: "order=desc&limit=10"})},
		{"update", "comments-update", emp, 200, static(coreCall{params: id(taskComment), body: map[string]any{"content": "Edited"}})},
		{"update ticket comment", "comments-update", emp, 200, static(coreCall{params: id(ticketComment), body: map[string]any{"content": "Edited"}})},
		{"delete", "comments-delete", emp, 200, func() coreCall {
			return coreCall{params: id(d.must("comments-create", emp, 201, coreCall{body: map[string]any{"taskId": task, "content": "Doomed"}}))}
		}},
		{"delete as admin", "comments-delete", admin, 200, func() coreCall {
			return coreCall{params: id(d.must("tickets-comments-create", emp, 201, coreCall{params: id(ticket), body: map[string]any{"content": "Doomed"}}))}
		}},
	}

	covered := map[string]bool{}
	for _, r := range rows {
		covered[r.route] = true
		t.Run(r.route+" "+r.name, func(t *testing.T) {
			c := r.req()
			d.db.reset()
			status, _, out := d.invoke(t, r.route, r.who, c)
			ops, total := d.db.calls()
			if status != r.status {
				t.Errorf("status %d, want %d: %s", status, r.status, out.Body)
			}
			if total > maxCoreCalls {
				t.Errorf("%d DynamoDB calls %v, want at most %d", total, ops, maxCoreCalls)
			}
			if ops["Scan"] > 0 {
				t.Errorf("request made %d Scans", ops["Scan"])
			}
			t.Logf("%d calls: %v", total, ops)
		})
	}
	t.Run("every core route is measured", func(t *testing.T) {
		var missing []string
		for _, r := range routes.HTTP {
			if (strings.HasPrefix(r.Name, "tickets-") || strings.HasPrefix(r.Name, "tasks-") || strings.HasPrefix(r.Name, "comments-")) && !covered[r.Name] {
				missing = append(missing, r.Name)
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			t.Errorf("routes without a coreCall count: %v", missing)
		}
		if !slices.Contains(routes.Names(), "tickets-get") {
			t.Errorf("route table has no tickets-get")
		}
	})
}

// TestDynamoDBCallsWithSelectiveFilters: a filter that few items pass must
// not cost a Query per few items read, and the pages of a filtered list
// still hold every match exactly once.
func TestDynamoDBCallsWithSelectiveFilters(t *testing.T) {
	d := newCoreApp(t)
	admin := corePrincipal{id: "USR-CALLSADMIN000000000000000", role: "admin"}
	dept := d.must("departments-create", admin, 201, coreCall{body: map[string]any{"name": "Filtered", "code": "FILT"}})
	n := unique("calls")
	head := corePrincipal{role: "department_head", dept: dept}
	head.id = d.must("users-create", admin, 201, coreCall{body: map[string]any{"username": n, "email": n + "@calls.test", "password": testPassword, "role": "department_head", "departmentId": dept}})
	const total = 30
	var highTasks, highTickets []string // newest first
	var overdue string
	for i := range total {
		priority, due := "low", ""
		if i%10 == 0 {
			priority = "high"
		}
		body := map[string]any{"title": fmt.Sprintf("Task %d", i), "description": "x", "priority": priority}
		if i == 15 {
			due = "2020-01-01"
			body["dueDate"] = due
		}
		id := d.must("tasks-create", head, 201, coreCall{body: body})
		if priority == "high" {
			highTasks = append([]string{id}, highTasks...)
		}
		if due != "" {
			overdue = id
		}
		tk := d.must("tickets-create", head, 201, coreCall{body: map[string]any{"title": fmt.Sprintf("Ticket %d", i), "description": "x", "priority": priority, "category": "bug"}})
		if priority == "high" {
			highTickets = append([]string{tk}, highTickets...)
		}
	}

	// walk lists a route page by page (limit 2), checking each page's calls.
	walk := func(t *testing.T, route, query string, next func(out events.APIGatewayV2HTTPResponse, body []byte) string) []string {
		t.Helper()
		var ids []string
		cursor := ""
		for page := 0; ; page++ {
			q := query
			if cursor != "" {
				q += "&cursor=" + cursor
			}
			d.db.reset()
			status, _, out := d.invoke(t, route, head, coreCall{query: q})
			ops, calls := d.db.calls()
			if status != 200 {
				t.Fatalf("%s?%s: status %d: %s", route, q, status, out.Body)
			}
			if calls > maxCoreCalls {
				t.Errorf("%s?%s: %d calls %v, want at most %d", route, q, calls, ops, maxCoreCalls)
			}
			body := []byte(out.Body)
			var items []map[string]any
			if route == "tickets-list" {
				var m struct {
					Tickets []map[string]any `json:"tickets"`
				}
				_ = json.Unmarshal(body, &m)
				items = m.Tickets
			} else {
				_ = json.Unmarshal(body, &items)
			}
			if len(items) > 2 {
				t.Errorf("page of %d items, limit 2", len(items))
			}
			for _, it := range items {
				ids = append(ids, it["id"].(string))
			}
			if cursor = next(out, body); cursor == "" || page > total {
				return ids
			}
		}
	}
	taskCursor := func(out events.APIGatewayV2HTTPResponse, _ []byte) string { return out.Headers["X-Next-Cursor"] }
	ticketCursor := func(_ events.APIGatewayV2HTTPResponse, body []byte) string {
		var m struct {
			NextCursor string `json:"nextCursor"`
		}
		_ = json.Unmarshal(body, &m)
		return m.NextCursor
	}
	t.Run("tasks overdue", func(t *testing.T) {
		if got := walk(t, "tasks-list", "overdue=true&limit=2", taskCursor); !slices.Equal(got, []string{overdue}) {
			t.Errorf("overdue tasks %v, want [%s]", got, overdue)
		}
	})
	t.Run("tasks by priority", func(t *testing.T) {
		if got := walk(t, "tasks-list", "priority=high&limit=2", taskCursor); !slices.Equal(got, highTasks) {
			t.Errorf("high tasks %v, want %v", got, highTasks)
		}
	})
	t.Run("tickets by priority, by cursor", func(t *testing.T) {
		if got := walk(t, "tickets-list", "priority=high&limit=2", ticketCursor); !slices.Equal(got, highTickets) {
			t.Errorf("high tickets %v, want %v", got, highTickets)
		}
	})
}
