package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi/types"
	"github.com/coder/websocket"
	"github.com/deskline/deskline/localstack/gateway"
)

// recorder is a set of WebSocket routes that remembers what they got.
type recorder struct {
	mu     sync.Mutex
	events []events.APIGatewayWebsocketProxyRequest
	gone   chan string // connection ids whose $disconnect ran
	// connectStatus is what $connect answers (0: 200).
	connectStatus int
}

func newRecorder() *recorder { return &recorder{gone: make(chan string, 16)} }

func (r *recorder) record(ev events.APIGatewayWebsocketProxyRequest) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

func (r *recorder) byRoute(key string) []events.APIGatewayWebsocketProxyRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []events.APIGatewayWebsocketProxyRequest
	for _, ev := range r.events {
		if ev.RequestContext.RouteKey == key {
			out = append(out, ev)
		}
	}
	return out
}

func (r *recorder) routes() map[string]gateway.WSHandler {
	return map[string]gateway.WSHandler{
		"$connect": func(_ context.Context, ev events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
			r.record(ev)
			if r.connectStatus != 0 {
				return events.APIGatewayProxyResponse{StatusCode: r.connectStatus}, nil
			}
			return events.APIGatewayProxyResponse{StatusCode: 200}, nil
		},
		"$disconnect": func(_ context.Context, ev events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
			r.record(ev)
			r.gone <- ev.RequestContext.ConnectionID
			return events.APIGatewayProxyResponse{StatusCode: 200}, nil
		},
		"$default": func(_ context.Context, ev events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
			r.record(ev)
			return events.APIGatewayProxyResponse{StatusCode: 200, Body: `{"route":"$default","connectionId":"` + ev.RequestContext.ConnectionID + `"}`}, nil
		},
		"echo": func(_ context.Context, ev events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
			r.record(ev)
			return events.APIGatewayProxyResponse{StatusCode: 200, Body: `{"route":"echo"}`}, nil
		},
		"silent": func(_ context.Context, ev events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
			r.record(ev)
			return events.APIGatewayProxyResponse{StatusCode: 200}, nil
		},
		"boom": func(context.Context, events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
			return events.APIGatewayProxyResponse{}, errors.New("boom")
		},
	}
}

// authorizer allows token "ok", denies "deny", and fails otherwise.
func authorizer(_ context.Context, ev events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	effect := ""
	switch ev.QueryStringParameters["token"] {
	case "ok":
		effect = "Allow"
	case "deny":
		effect = "Deny"
	case "broken":
		return events.APIGatewayCustomAuthorizerResponse{}, errors.New("table is gone")
	default:
		return events.APIGatewayCustomAuthorizerResponse{}, errors.New("Unauthorized")
	}
	return events.APIGatewayCustomAuthorizerResponse{
		PrincipalID: "USR-1",
		PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{Version: "2012-10-17", Statement: []events.IAMPolicyStatement{
			{Action: []string{"execute-api:Invoke"}, Effect: effect, Resource: []string{ev.MethodArn}},
		}},
		Context: map[string]any{"userId": "USR-1", "role": "employee"},
	}, nil
}

type fixture struct {
	api *gateway.WebSocketAPI
	rec *recorder
	srv *httptest.Server
	ws  string // ws://…
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	rec := newRecorder()
	api := gateway.NewWebSocketAPI(rec.routes(), authorizer, slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv := httptest.NewServer(api)
	t.Cleanup(func() { api.Close(); srv.Close() })
	return &fixture{api: api, rec: rec, srv: srv, ws: "ws" + strings.TrimPrefix(srv.URL, "http")}
}

func (f *fixture) dial(t *testing.T, token string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, f.ws+"/?token="+token, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c.SetReadLimit(1 << 20)
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

func read(t *testing.T, c *websocket.Conn) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, data, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("frame %q: %v", data, err)
	}
	return m
}

func write(t *testing.T, c *websocket.Conn, s string) {
	t.Helper()
	if err := c.Write(context.Background(), websocket.MessageText, []byte(s)); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// connID asks the $default route which connection this is.
func connID(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	write(t, c, `{"action":"whoami"}`)
	return read(t, c)["connectionId"].(string)
}

func TestConnectAuthorization(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		token  string
		status int
	}{{"", 401}, {"bad", 401}, {"deny", 403}, {"broken", 500}} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, resp, err := websocket.Dial(ctx, f.ws+"/?token="+tc.token, nil)
		cancel()
		if err == nil || resp == nil || resp.StatusCode != tc.status {
			t.Errorf("token %q: err %v, response %v; want %d", tc.token, err, resp, tc.status)
		}
	}
	if got := f.rec.byRoute("$connect"); len(got) != 0 {
		t.Errorf("$connect ran for refused connections: %d times", len(got))
	}

	// $connect itself can refuse.
	f.rec.connectStatus = 403
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, resp, err := websocket.Dial(ctx, f.ws+"/?token=ok", nil); err == nil || resp == nil || resp.StatusCode != 403 {
		t.Errorf("$connect answering 403: err %v, response %v", err, resp)
	}
	f.rec.connectStatus = 0

	c := f.dial(t, "ok")
	id := connID(t, c)
	ev := f.rec.byRoute("$connect")[1]
	rc := ev.RequestContext
	auth, _ := rc.Authorizer.(map[string]any)
	if rc.ConnectionID != id || rc.EventType != "CONNECT" || ev.QueryStringParameters["token"] != "ok" ||
		auth["principalId"] != "USR-1" || auth["userId"] != "USR-1" || auth["role"] != "employee" {
		t.Errorf("$connect event: %+v", ev)
	}
	// Later events of the connection carry the same authorizer context.
	d := f.rec.byRoute("$default")[0].RequestContext
	if a, _ := d.Authorizer.(map[string]any); a["userId"] != "USR-1" || d.EventType != "MESSAGE" || d.MessageID == "" {
		t.Errorf("$default request context: %+v", d)
	}
}

func TestRouteSelection(t *testing.T) {
	f := newFixture(t)
	c := f.dial(t, "ok")
	write(t, c, `{"action":"echo","x":1}`)
	if got := read(t, c); got["route"] != "echo" {
		t.Errorf("action echo went to %v", got)
	}
	for _, body := range []string{`{"action":"nope"}`, `{"x":1}`, `not json`, `{"action":""}`} {
		write(t, c, body)
		if got := read(t, c); got["route"] != "$default" {
			t.Errorf("%s went to %v, want $default", body, got)
		}
	}
	if evs := f.rec.byRoute("echo"); len(evs) != 1 || evs[0].Body != `{"action":"echo","x":1}` {
		t.Errorf("echo got %+v", evs)
	}
	// A route without a body sends nothing back; a failing one says so.
	write(t, c, `{"action":"silent"}`)
	write(t, c, `{"action":"boom"}`)
	if got := read(t, c); got["message"] != "Internal server error" {
		t.Errorf("after silent and boom: %v", got)
	}
}

func TestConnectionsEndpoint(t *testing.T) {
	f := newFixture(t)
	c := f.dial(t, "ok")
	id := connID(t, c)
	mgmt := apigatewaymanagementapi.New(apigatewaymanagementapi.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(f.srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
	ctx := context.Background()

	// POST reaches the socket.
	if _, err := mgmt.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: []byte(`{"type":"hello"}`)}); err != nil {
		t.Fatalf("post: %v", err)
	}
	if got := read(t, c); got["type"] != "hello" {
		t.Errorf("socket got %v", got)
	}
	// GET describes it.
	out, err := mgmt.GetConnection(ctx, &apigatewaymanagementapi.GetConnectionInput{ConnectionId: aws.String(id)})
	if err != nil || out.ConnectedAt == nil || out.LastActiveAt == nil || out.Identity == nil || aws.ToString(out.Identity.SourceIp) != "127.0.0.1" {
		t.Errorf("get: %+v, %v", out, err)
	}
	// A payload over 128 KB is refused.
	big := []byte(`"` + strings.Repeat("x", gateway.MaxMessageBytes) + `"`)
	if _, err := mgmt.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: big}); err == nil {
		t.Error("post of more than 128 KB: no error")
	}
	// An unknown connection is gone, as a typed GoneException (the notifier
	// forgets connections on exactly that).
	_, err = mgmt.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String("nope"), Data: []byte(`{}`)})
	var gone *types.GoneException
	if !errors.As(err, &gone) {
		t.Errorf("post to an unknown connection: %v, want GoneException", err)
	}
	// DELETE closes it; $disconnect runs and it is gone afterwards.
	if _, err := mgmt.DeleteConnection(ctx, &apigatewaymanagementapi.DeleteConnectionInput{ConnectionId: aws.String(id)}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	waitGone(t, f, id)
	_, err = mgmt.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: []byte(`{}`)})
	if !errors.As(err, &gone) {
		t.Errorf("post after delete: %v, want GoneException", err)
	}
	if f.api.Connections() != 0 {
		t.Errorf("%d connections open", f.api.Connections())
	}
	// A plain GET is no WebSocket upgrade.
	resp, err := http.Get(f.srv.URL + "/")
	if err == nil {
		resp.Body.Close()
	}
	if err != nil || resp.StatusCode != 400 {
		t.Errorf("plain GET: %v, %v", resp, err)
	}
}

func waitGone(t *testing.T, f *fixture, id string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case got := <-f.rec.gone:
			if got == id {
				return
			}
		case <-deadline:
			t.Fatalf("$disconnect of %s did not run", id)
		}
	}
}

func TestClientCloseRunsDisconnect(t *testing.T) {
	f := newFixture(t)
	c := f.dial(t, "ok")
	id := connID(t, c)
	_ = c.Close(websocket.StatusNormalClosure, "bye")
	waitGone(t, f, id)
	ev := f.rec.byRoute("$disconnect")[0]
	if a, _ := ev.RequestContext.Authorizer.(map[string]any); a["userId"] != "USR-1" || ev.RequestContext.EventType != "DISCONNECT" {
		t.Errorf("$disconnect event: %+v", ev.RequestContext)
	}
}

func TestMessageLimit(t *testing.T) {
	f := newFixture(t)
	c := f.dial(t, "ok")
	id := connID(t, c)
	// Exactly 128 KB is fine.
	ok := `{"action":"echo","pad":"` + strings.Repeat("x", gateway.MaxMessageBytes-len(`{"action":"echo","pad":""}`)) + `"}`
	write(t, c, ok)
	if got := read(t, c); got["route"] != "echo" {
		t.Fatalf("128 KB message: %v", got)
	}
	// One byte more closes the connection (1009 message too big).
	write(t, c, ok+" ")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _, err := c.Read(ctx)
	if websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Errorf("after an oversized message: %v, want close 1009", err)
	}
	waitGone(t, f, id)
}

func TestIdleTimeoutAndMaxAge(t *testing.T) {
	for _, tc := range []struct {
		name        string
		idle, age   time.Duration
		keepTalking bool
	}{
		{"idle", 300 * time.Millisecond, time.Hour, false},
		{"max age", time.Hour, 600 * time.Millisecond, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.api.SetTimeouts(tc.idle, tc.age)
			c := f.dial(t, "ok")
			id := connID(t, c)
			start := time.Now()
			stop := make(chan struct{})
			if tc.keepTalking { // activity does not extend the maximum age
				go func() {
					for {
						select {
						case <-stop:
							return
						case <-time.After(100 * time.Millisecond):
							_ = c.Write(context.Background(), websocket.MessageText, []byte(`{"action":"silent"}`))
						}
					}
				}()
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, _, err := c.Read(ctx)
			close(stop)
			if websocket.CloseStatus(err) != websocket.StatusGoingAway {
				t.Errorf("read: %v, want close 1001 going away", err)
			}
			if d := time.Since(start); d < min(tc.idle, tc.age)-50*time.Millisecond || d > 3*time.Second {
				t.Errorf("closed after %s", d)
			}
			waitGone(t, f, id)
		})
	}
}
