package wsapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/deskline/deskline/shared/api"
	"github.com/deskline/deskline/shared/auth"
	"github.com/deskline/deskline/shared/authorizer"
	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/httpapi"
	"github.com/deskline/deskline/shared/wsapi"
)

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

type conn struct {
	user, id string
	expires  time.Time
}

type fakeStore struct {
	put, deleted []conn
	err          error
}

func (s *fakeStore) PutConnection(_ context.Context, user, id string, exp time.Time) error {
	if s.err != nil {
		return s.err
	}
	s.put = append(s.put, conn{user, id, exp})
	return nil
}

func (s *fakeStore) DeleteConnection(_ context.Context, user, id string) error {
	if s.err != nil {
		return s.err
	}
	s.deleted = append(s.deleted, conn{user: user, id: id})
	return nil
}

var now = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func handlers(s *fakeStore) *wsapi.Handlers {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	// The server has no store: the sendMessage cases here fail validation
	// before reading anything (the local cloud's tests cover sending).
	return wsapi.New(&api.Server{Clock: fixedClock{now}, Log: log}, s, fixedClock{now}, log)
}

// event is a WebSocket route's event as API Gateway sends it; auth is the
// authorizer's context (nil: none).
func event(routeKey, body string, auth map[string]any) events.APIGatewayWebsocketProxyRequest {
	eventType := map[string]string{"$connect": "CONNECT", "$disconnect": "DISCONNECT"}[routeKey]
	if eventType == "" {
		eventType = "MESSAGE"
	}
	ev := events.APIGatewayWebsocketProxyRequest{Body: body, RequestContext: events.APIGatewayWebsocketProxyRequestContext{
		RouteKey: routeKey, EventType: eventType, ConnectionID: "L0SM9cOFvHcCIhw=", Stage: "prod", APIID: "abc123",
	}}
	if auth != nil {
		ev.RequestContext.Authorizer = auth
	}
	return ev
}

func principal(status deskline.UserStatus) map[string]any {
	return map[string]any{
		"principalId": "USR-01JB0000000000000000000001", httpapi.CtxUserID: "USR-01JB0000000000000000000001",
		httpapi.CtxRole: string(deskline.RoleEmployee), httpapi.CtxDepartmentID: "DEP-01JB0000000000000000000000",
		httpapi.CtxStatus: string(status), httpapi.CtxSessionID: "SES-01JB0000000000000000000000",
		httpapi.CtxUsername: "ann", httpapi.CtxEmail: "ann@example.com",
	}
}

func TestConnect(t *testing.T) {
	s := &fakeStore{}
	h := handlers(s)
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		auth   map[string]any
		status int
	}{
		{"no authorizer context", nil, 401},
		{"pending", principal(deskline.StatusPending), 403},
		{"rejected", principal(deskline.StatusRejected), 403},
	} {
		resp, err := h.Connect(ctx, event("$connect", "", tc.auth))
		if err != nil || resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, err %v; want %d", tc.name, resp.StatusCode, err, tc.status)
		}
	}
	if len(s.put) != 0 {
		t.Fatalf("refused connections were stored: %v", s.put)
	}
	resp, err := h.Connect(ctx, event("$connect", "", principal(deskline.StatusApproved)))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("approved: status %d, err %v", resp.StatusCode, err)
	}
	want := conn{"USR-01JB0000000000000000000001", "L0SM9cOFvHcCIhw=", now.Add(2 * time.Hour)}
	if len(s.put) != 1 || s.put[0] != want {
		t.Errorf("stored %v, want %v (expiring with API Gateway's 2 hours)", s.put, want)
	}

	// A store failure is an error, so API Gateway refuses the connection.
	s.err = errors.New("throttled")
	if _, err := h.Connect(ctx, event("$connect", "", principal(deskline.StatusApproved))); err == nil {
		t.Error("store failure: no error")
	}
}

func TestDisconnect(t *testing.T) {
	s := &fakeStore{}
	h := handlers(s)
	resp, err := h.Disconnect(context.Background(), event("$disconnect", "", principal(deskline.StatusApproved)))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("status %d, err %v", resp.StatusCode, err)
	}
	if len(s.deleted) != 1 || s.deleted[0].id != "L0SM9cOFvHcCIhw=" || s.deleted[0].user != "USR-01JB0000000000000000000001" {
		t.Errorf("deleted %v", s.deleted)
	}
	// Without a principal there is nothing to forget; still 200.
	resp, err = h.Disconnect(context.Background(), event("$disconnect", "", nil))
	if err != nil || resp.StatusCode != 200 || len(s.deleted) != 1 {
		t.Errorf("no principal: status %d, err %v, deleted %v", resp.StatusCode, err, s.deleted)
	}
}

func TestDefault(t *testing.T) {
	h := handlers(&fakeStore{})
	auth := principal(deskline.StatusApproved)
	for _, tc := range []struct {
		name, body string
		auth       map[string]any
		want       map[string]any
	}{
		{"ping", `{"action":"ping"}`, auth, map[string]any{"type": "pong"}},
		{"ping echoes requestId", `{"action":"ping","requestId":"r-1"}`, auth, map[string]any{"type": "pong", "requestId": "r-1"}},
		{"not JSON", `hello`, auth, map[string]any{"type": "error", "code": "invalid"}},
		{"unknown action", `{"action":"dance","requestId":"r-2"}`, auth, map[string]any{"type": "error", "code": "invalid", "requestId": "r-2"}},
		{"no action", `{}`, auth, map[string]any{"type": "error", "code": "invalid"}},
		{"no principal", `{"action":"ping"}`, nil, map[string]any{"type": "error", "code": "unauthorized"}},
		{"sendMessage without body", `{"action":"sendMessage","to":"USR-01JB0000000000000000000002","body":"  ","requestId":"r-3"}`, auth,
			map[string]any{"type": "error", "code": "invalid", "requestId": "r-3"}},
		{"sendMessage to a bad id", `{"action":"sendMessage","to":"bob","body":"Hi"}`, auth,
			map[string]any{"type": "error", "code": "invalid", "error": "You cannot message this user"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := h.Default(context.Background(), event("$default", tc.body, tc.auth))
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("status %d, err %v", resp.StatusCode, err)
			}
			var f map[string]any
			if err := json.Unmarshal([]byte(resp.Body), &f); err != nil {
				t.Fatalf("body %q: %v", resp.Body, err)
			}
			for k, v := range tc.want {
				if f[k] != v {
					t.Errorf("%s = %v, want %v (frame %s)", k, f[k], v, resp.Body)
				}
			}
			if f["type"] == "error" && (f["error"] == nil || f["error"] == "") {
				t.Errorf("error frame without a message: %s", resp.Body)
			}
			if _, ok := tc.want["requestId"]; !ok && strings.Contains(resp.Body, "requestId") {
				t.Errorf("requestId without one sent: %s", resp.Body)
			}
		})
	}
}

// decodeSample decodes an events/ws sample strictly: unknown fields fail.
func decodeSample(t *testing.T, name string, v any) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", "ws", name))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return b
}

// The samples in events/ws are shaped as API Gateway sends them and work
// with the handlers.
func TestSampleEvents(t *testing.T) {
	s := &fakeStore{}
	h := handlers(s)
	ctx := context.Background()
	routes := map[string]string{"connect.json": "$connect", "disconnect.json": "$disconnect", "default-ping.json": "$default", "default-sendMessage.json": "$default"}
	evs := map[string]events.APIGatewayWebsocketProxyRequest{}
	for name, route := range routes {
		var ev events.APIGatewayWebsocketProxyRequest
		decodeSample(t, name, &ev)
		rc := ev.RequestContext
		auth, _ := rc.Authorizer.(map[string]any)
		if rc.RouteKey != route || rc.ConnectionID == "" || rc.APIID == "" || rc.Stage == "" || rc.RequestTimeEpoch == 0 ||
			auth["principalId"] != auth[httpapi.CtxUserID] || auth[httpapi.CtxStatus] != "approved" {
			t.Errorf("%s: request context %+v", name, rc)
		}
		evs[name] = ev
	}
	if ev := evs["connect.json"]; ev.QueryStringParameters["token"] == "" || ev.RequestContext.EventType != "CONNECT" {
		t.Errorf("connect.json: %+v", ev)
	}
	if resp, err := h.Connect(ctx, evs["connect.json"]); err != nil || resp.StatusCode != 200 || len(s.put) != 1 || s.put[0].id != "L0SM9cOFvHcCIhw=" {
		t.Errorf("connect: %v, %v, stored %v", resp, err, s.put)
	}
	if resp, err := h.Disconnect(ctx, evs["disconnect.json"]); err != nil || resp.StatusCode != 200 || len(s.deleted) != 1 || s.deleted[0] != (conn{user: s.put[0].user, id: s.put[0].id}) {
		t.Errorf("disconnect: %v, %v, deleted %v", resp, err, s.deleted)
	}
	resp, err := h.Default(ctx, evs["default-ping.json"])
	if err != nil || resp.Body != `{"type":"pong","requestId":"7"}` {
		t.Errorf("ping: %q, %v", resp.Body, err)
	}
	var send struct{ Action, To, Body, RequestID string }
	if err := json.Unmarshal([]byte(evs["default-sendMessage.json"].Body), &send); err != nil || send.Action != "sendMessage" ||
		!deskline.ValidID(deskline.PrefixUser, send.To) || send.Body == "" {
		t.Errorf("sendMessage sample body: %+v, %v", send, err)
	}

	// The $connect authorizer's event: the shared authorizer Lambda tells it
	// from an HTTP API one by its methodArn and refuses the placeholder
	// token with API Gateway's "Unauthorized" (401).
	var areq events.APIGatewayCustomAuthorizerRequestTypeRequest
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "ws", "authorizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &areq); err != nil || areq.Type != "REQUEST" || !strings.HasSuffix(areq.MethodArn, "/prod/$connect") || areq.QueryStringParameters["token"] == "" {
		t.Fatalf("authorizer.json: %+v, %v", areq, err)
	}
	tokens, err := auth.NewTokens([]byte("test-secret-test-secret-test-secret!"), time.Hour, fixedClock{now})
	if err != nil {
		t.Fatal(err)
	}
	a := authorizer.New(tokens, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if _, err := a.Handle(ctx, raw); !errors.Is(err, authorizer.ErrUnauthorized) {
		t.Errorf("authorizer on the sample: %v, want Unauthorized", err)
	}
}
