package cloud_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deskline/deskline/localstack/cloud"
	"github.com/deskline/deskline/localstack/dynamotest"
	"github.com/deskline/deskline/shared/api"
	"github.com/deskline/deskline/shared/app"
	"github.com/deskline/deskline/shared/dynamo"
)

const (
	adminEmail    = "admin@test.local"
	adminPassword = "admin-password-1"
	testPassword  = "passw0rd-test"
)

// newCloud starts a local cloud on a fresh table of the shared DynamoDB
// Local and stops it when the test ends.
func newCloud(t testing.TB) *cloud.Cloud {
	t.Helper()
	return newCloudCost(t, 4)
}

// newCloudCost starts a local cloud whose passwords use the given bcrypt cost.
func newCloudCost(t testing.TB, bcryptCost int) *cloud.Cloud {
	t.Helper()
	_, table := dynamotest.Table(t)
	c, err := cloud.Start(context.Background(), cloud.Options{
		HTTPAddr:         "127.0.0.1:0",
		WSAddr:           "127.0.0.1:0",
		DynamoDBEndpoint: dynamotest.Endpoint(t),
		Config: app.Config{
			Stage: api.StageTest, Table: table, JWTSecret: []byte("test-secret-test-secret-test-secret!"),
			TokenTTL: time.Hour, BcryptCost: bcryptCost,
		},
		AdminEmail: adminEmail, AdminPassword: adminPassword,
		// Errors (5xx causes) go to the test's log.
		Log: slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelError})),
	})
	if err != nil {
		t.Fatalf("start local cloud: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// testLog writes log lines to a test's log.
type testLog struct{ t testing.TB }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// client calls the local cloud's HTTP API as one caller.
type client struct {
	t     testing.TB
	base  string
	token string
}

func newClient(t testing.TB, c *cloud.Cloud) *client { return &client{t: t, base: c.HTTPURL} }

func (c *client) as(token string) *client { return &client{t: c.t, base: c.base, token: token} }

// response is one HTTP answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a fresh value of type T.
func decode[T any](t testing.TB, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
	return v
}

func (r response) obj(t testing.TB) map[string]any { t.Helper(); return decode[map[string]any](t, r) }

func (c *client) do(method, path string, body any) response {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			c.t.Fatalf("marshal body: %v", err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	// Redirects (file downloads) are answers of the API: not followed.
	resp, err := noRedirects.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("read body: %v", err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: out}
}

// want fails the test unless r has the given status.
func want(t testing.TB, r response, status int, what string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: got status %d, want %d; body %s", what, r.Status, status, r.Body)
	}
}

func (c *client) login(email, password string) string {
	c.t.Helper()
	r := c.do("POST", "/api/auth/login", map[string]string{"email": email, "password": password})
	want(c.t, r, 200, "login "+email)
	return r.obj(c.t)["token"].(string)
}

var seq atomic.Int64

// unique returns a name no other call returns.
func unique(prefix string) string {
	return fmt.Sprintf("%s%d%d", prefix, time.Now().UnixNano()%1e6, seq.Add(1))
}

// code returns a department code no other call returns.
func code() string {
	n := seq.Add(1)
	b := []byte{'T'}
	for ; n > 0; n /= 26 {
		b = append(b, byte('A'+n%26))
	}
	return string(b)
}

// world is a populated help desk: two departments with a head and an
// employee each, and an admin.
type world struct {
	c                       *client
	cloud                   *cloud.Cloud
	store                   *dynamo.Store
	admin                   string // tokens
	deptA, deptB            string // ids
	headA, headB            string
	empA, empB              string
	empAID, empBID, headAID string
	ticketA, taskA          string // created by headA in department A; taskA is assigned to empA
	commentA                string // by empA on taskA
}

func (w *world) token(caller string) string {
	switch caller {
	case "admin":
		return w.admin
	case "headA":
		return w.headA
	case "headB":
		return w.headB
	case "empA":
		return w.empA
	case "empB":
		return w.empB
	}
	return ""
}

// newWorld builds a world on a fresh cloud.
func newWorld(t testing.TB) *world {
	t.Helper()
	cl := newCloud(t)
	c := newClient(t, cl)
	w := &world{c: c, cloud: cl, store: cl.App.Store, admin: c.login(adminEmail, adminPassword)}
	w.deptA = w.department("Alpha " + unique(""))
	w.deptB = w.department("Beta " + unique(""))
	w.headAID, w.headA = w.user("department_head", w.deptA)
	_, w.headB = w.user("department_head", w.deptB)
	w.empAID, w.empA = w.user("employee", w.deptA)
	w.empBID, w.empB = w.user("employee", w.deptB)
	w.ticketA = w.ticket(w.headA, w.deptA)
	w.taskA = w.task(w.headA, w.deptA, w.empAID)
	w.commentA = w.comment(w.empA, w.taskA)
	return w
}

// ticket opens a ticket in dept as the caller with token.
func (w *world) ticket(token, dept string) string {
	w.c.t.Helper()
	r := w.c.as(token).do("POST", "/api/tickets", map[string]any{
		"title": "Printer on fire " + unique(""), "description": "It is on fire.", "priority": "high", "category": "support", "departmentId": dept,
	})
	want(w.c.t, r, 201, "create ticket")
	return r.obj(w.c.t)["id"].(string)
}

// task creates a task in dept as the caller with token, assigned to assignee.
func (w *world) task(token, dept, assignee string) string {
	w.c.t.Helper()
	body := map[string]any{"title": "Replace toner " + unique(""), "description": "Black toner.", "departmentId": dept}
	if assignee != "" {
		body["assignedToId"] = assignee
	}
	r := w.c.as(token).do("POST", "/api/tasks", body)
	want(w.c.t, r, 201, "create task")
	return r.obj(w.c.t)["id"].(string)
}

// comment comments on a task as the caller with token.
func (w *world) comment(token, taskID string) string {
	w.c.t.Helper()
	r := w.c.as(token).do("POST", "/api/comments", map[string]any{"taskId": taskID, "content": "On it " + unique("")})
	want(w.c.t, r, 201, "create comment")
	return r.obj(w.c.t)["id"].(string)
}

func (w *world) department(name string) string {
	w.c.t.Helper()
	r := w.c.as(w.admin).do("POST", "/api/departments", map[string]string{"name": name, "code": code()})
	want(w.c.t, r, 201, "create department")
	return r.obj(w.c.t)["id"].(string)
}

// user creates an approved user as the admin and logs them in.
func (w *world) user(role, dept string) (id, token string) {
	w.c.t.Helper()
	name := unique("u")
	email := name + "@test.local"
	r := w.c.as(w.admin).do("POST", "/api/users", map[string]string{
		"username": name, "email": email, "password": testPassword, "role": role, "departmentId": dept,
	})
	want(w.c.t, r, 201, "create user")
	return r.obj(w.c.t)["id"].(string), w.c.login(email, testPassword)
}

// pending registers a pending employee of dept and returns its id and e-mail.
func (w *world) pending(dept string) (id, email string) {
	w.c.t.Helper()
	name := unique("p")
	email = name + "@test.local"
	r := w.c.do("POST", "/api/auth/register", map[string]string{"username": name, "email": email, "password": testPassword, "departmentId": dept})
	want(w.c.t, r, 201, "register")
	return r.obj(w.c.t)["user"].(map[string]any)["id"].(string), email
}
