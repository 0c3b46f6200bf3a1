package gateway

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/coder/websocket"
)

// API Gateway WebSocket limits the local gateway enforces. Frames are not
// limited separately from messages: the whole message must fit.
const (
	MaxMessageBytes       = 128 << 10
	IdleTimeout           = 10 * time.Minute
	MaxConnectionDuration = 2 * time.Hour
)

// WSHandler is a WebSocket route's Lambda handler.
type WSHandler func(context.Context, events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error)

// WSAuthorizer is the $connect Lambda authorizer (REQUEST type, IAM policy).
type WSAuthorizer func(context.Context, events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error)

// WebSocketAPI serves a WebSocket API and its @connections endpoint, as API
// Gateway does: $connect runs the authorizer then the connect route, frames
// are routed on $request.body.action (falling back to $default), a route's
// response body goes back to the client, and $disconnect runs when the
// socket closes.
type WebSocketAPI struct {
	routes     map[string]WSHandler
	authorizer WSAuthorizer
	log        *slog.Logger
	idle       time.Duration
	maxAge     time.Duration

	mu    sync.Mutex
	conns map[string]*wsConn
}

type wsConn struct {
	id          string
	c           *websocket.Conn
	auth        map[string]any
	sourceIP    string
	userAgent   string
	connectedAt time.Time
	mu          sync.Mutex
	lastActive  time.Time
}

// NewWebSocketAPI returns a WebSocket API with routes by route key
// ("$connect", "$disconnect", "$default", or an action name).
func NewWebSocketAPI(routes map[string]WSHandler, authorizer WSAuthorizer, log *slog.Logger) *WebSocketAPI {
	return &WebSocketAPI{routes: routes, authorizer: authorizer, log: log, idle: IdleTimeout, maxAge: MaxConnectionDuration, conns: map[string]*wsConn{}}
}

// SetTimeouts changes the idle timeout and the maximum connection age (tests).
func (g *WebSocketAPI) SetTimeouts(idle, maxAge time.Duration) { g.idle, g.maxAge = idle, maxAge }

// Connections returns how many sockets are open.
func (g *WebSocketAPI) Connections() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.conns)
}

// ServeHTTP implements http.Handler.
func (g *WebSocketAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if id, ok := strings.CutPrefix(r.URL.Path, "/@connections/"); ok {
		g.manage(w, r, id)
		return
	}
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		writeGatewayError(w, http.StatusBadRequest, "Expected a WebSocket upgrade")
		return
	}
	g.connect(w, r)
}

func newConnectionID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

func (g *WebSocketAPI) requestContext(r *http.Request, connID, routeKey, eventType string, auth map[string]any) events.APIGatewayWebsocketProxyRequestContext {
	now := time.Now().UTC()
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	return events.APIGatewayWebsocketProxyRequestContext{
		AccountID: "000000000000", Stage: "local", APIID: "localws", DomainName: r.Host,
		ConnectionID: connID, RouteKey: routeKey, EventType: eventType, RequestID: newConnectionID(),
		RequestTimeEpoch: now.UnixMilli(), RequestTime: now.Format("02/Jan/2006:15:04:05 -0700"),
		MessageDirection: "IN", Authorizer: auth,
		Identity: events.APIGatewayRequestIdentity{SourceIP: ip, UserAgent: r.UserAgent()},
	}
}

func (g *WebSocketAPI) connect(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	headers := map[string]string{}
	for k, v := range r.Header {
		headers[k] = strings.Join(v, ",")
	}
	query := map[string]string{}
	for k, v := range r.URL.Query() {
		query[k] = strings.Join(v, ",")
	}
	connID := newConnectionID()
	var auth map[string]any
	if g.authorizer != nil {
		res, err := g.authorizer(ctx, events.APIGatewayCustomAuthorizerRequestTypeRequest{
			Type: "REQUEST", MethodArn: "arn:aws:execute-api:us-east-1:000000000000:localws/local/$connect",
			Resource: "$connect", Path: "/", HTTPMethod: "GET", Headers: headers, QueryStringParameters: query,
		})
		switch {
		case err != nil && err.Error() == "Unauthorized":
			writeGatewayError(w, http.StatusUnauthorized, "Unauthorized")
			return
		case err != nil:
			g.log.Error("websocket authorizer failed", slog.String("error", err.Error()))
			writeGatewayError(w, http.StatusInternalServerError, "Internal Server Error")
			return
		case !allows(res):
			writeGatewayError(w, http.StatusForbidden, "Forbidden")
			return
		}
		auth = map[string]any{"principalId": res.PrincipalID}
		for k, v := range res.Context {
			auth[k] = v
		}
	}
	if h := g.routes["$connect"]; h != nil {
		ev := events.APIGatewayWebsocketProxyRequest{
			Headers: headers, QueryStringParameters: query,
			RequestContext: g.requestContext(r, connID, "$connect", "CONNECT", auth),
		}
		resp, err := h(ctx, ev)
		if err != nil || resp.StatusCode < 200 || resp.StatusCode > 299 {
			status := resp.StatusCode
			if err != nil || status == 0 {
				status = http.StatusInternalServerError
			}
			writeGatewayError(w, status, http.StatusText(status))
			return
		}
	}
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	c.SetReadLimit(MaxMessageBytes)
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	conn := &wsConn{id: connID, c: c, auth: auth, sourceIP: ip, userAgent: r.UserAgent(), connectedAt: time.Now().UTC(), lastActive: time.Now().UTC()}
	g.mu.Lock()
	g.conns[connID] = conn
	g.mu.Unlock()
	go g.serve(r, conn)
}

func allows(res events.APIGatewayCustomAuthorizerResponse) bool {
	ok := false
	for _, st := range res.PolicyDocument.Statement {
		if st.Effect == "Deny" {
			return false
		}
		ok = ok || st.Effect == "Allow"
	}
	return ok
}

// serve reads the client's messages until the socket closes, idles out or
// reaches its maximum age, then runs $disconnect.
func (g *WebSocketAPI) serve(r *http.Request, conn *wsConn) {
	ctx, cancel := context.WithTimeout(context.Background(), g.maxAge)
	defer cancel()
	// Idling out and reaching the maximum age close the socket with 1001
	// Going away, as API Gateway does. (A read whose context expires would
	// drop the connection without a close frame.)
	goingAway := func() { _ = conn.c.Close(websocket.StatusGoingAway, "Going away") }
	idle := time.AfterFunc(g.idle, goingAway)
	defer idle.Stop()
	age := time.AfterFunc(g.maxAge, goingAway)
	defer age.Stop()
	defer func() {
		g.mu.Lock()
		delete(g.conns, conn.id)
		g.mu.Unlock()
		if h := g.routes["$disconnect"]; h != nil {
			ev := events.APIGatewayWebsocketProxyRequest{RequestContext: g.requestContext(r, conn.id, "$disconnect", "DISCONNECT", conn.auth)}
			if _, err := h(context.Background(), ev); err != nil {
				g.log.Error("$disconnect failed", slog.String("connectionId", conn.id), slog.String("error", err.Error()))
			}
		}
		_ = conn.c.CloseNow()
	}()
	for {
		typ, data, err := conn.c.Read(context.Background())
		if err != nil {
			return
		}
		idle.Reset(g.idle)
		conn.mu.Lock()
		conn.lastActive = time.Now().UTC()
		conn.mu.Unlock()
		g.message(ctx, r, conn, typ, data)
	}
}

// message routes one message on its "action" and sends back the route's
// response body, if any.
func (g *WebSocketAPI) message(ctx context.Context, r *http.Request, conn *wsConn, typ websocket.MessageType, data []byte) {
	var sel struct {
		Action string `json:"action"`
	}
	routeKey := "$default"
	if typ == websocket.MessageText && json.Unmarshal(data, &sel) == nil && sel.Action != "" && g.routes[sel.Action] != nil {
		routeKey = sel.Action
	}
	h := g.routes[routeKey]
	if h == nil {
		_ = conn.c.Write(ctx, websocket.MessageText, []byte(`{"message": "Forbidden", "connectionId":"`+conn.id+`"}`))
		return
	}
	rc := g.requestContext(r, conn.id, routeKey, "MESSAGE", conn.auth)
	rc.MessageID = newConnectionID()
	ev := events.APIGatewayWebsocketProxyRequest{Body: string(data), IsBase64Encoded: typ == websocket.MessageBinary, RequestContext: rc}
	if ev.IsBase64Encoded {
		ev.Body = base64.StdEncoding.EncodeToString(data)
	}
	resp, err := h(ctx, ev)
	if err != nil {
		g.log.Error("websocket route failed", slog.String("route", routeKey), slog.String("error", err.Error()))
		_ = conn.c.Write(ctx, websocket.MessageText, []byte(fmt.Sprintf(`{"message": "Internal server error", "connectionId":%q, "requestId":%q}`, conn.id, rc.RequestID)))
		return
	}
	if resp.Body != "" {
		_ = conn.c.Write(ctx, websocket.MessageText, []byte(resp.Body))
	}
}

// manage serves the @connections management API: POST sends data, GET
// describes, DELETE closes; a connection that is gone is 410.
func (g *WebSocketAPI) manage(w http.ResponseWriter, r *http.Request, id string) {
	g.mu.Lock()
	conn := g.conns[id]
	g.mu.Unlock()
	if conn == nil {
		w.Header().Set("X-Amzn-Errortype", "GoneException")
		writeGatewayError(w, http.StatusGone, "Gone")
		return
	}
	switch r.Method {
	case http.MethodPost:
		data := make([]byte, 0, 1024)
		buf := make([]byte, 32<<10)
		for {
			n, err := r.Body.Read(buf)
			data = append(data, buf[:n]...)
			if len(data) > MaxMessageBytes {
				w.Header().Set("X-Amzn-Errortype", "PayloadTooLargeException")
				writeGatewayError(w, http.StatusRequestEntityTooLarge, "Payload too large")
				return
			}
			if err != nil {
				break
			}
		}
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		if err := conn.c.Write(ctx, websocket.MessageText, data); err != nil {
			w.Header().Set("X-Amzn-Errortype", "GoneException")
			writeGatewayError(w, http.StatusGone, "Gone")
			return
		}
		w.WriteHeader(http.StatusOK)
	case http.MethodGet:
		conn.mu.Lock()
		last := conn.lastActive
		conn.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"ConnectedAt": conn.connectedAt.Format(time.RFC3339), "LastActiveAt": last.Format(time.RFC3339),
			"Identity": map[string]string{"SourceIp": conn.sourceIP, "UserAgent": conn.userAgent},
		})
	case http.MethodDelete:
		_ = conn.c.Close(websocket.StatusNormalClosure, "Closed by the server")
		w.WriteHeader(http.StatusNoContent)
	default:
		writeGatewayError(w, http.StatusMethodNotAllowed, "Method Not Allowed")
	}
}

// Close closes every open socket (their $disconnect runs).
func (g *WebSocketAPI) Close() {
	g.mu.Lock()
	conns := make([]*wsConn, 0, len(g.conns))
	for _, c := range g.conns {
		conns = append(conns, c)
	}
	g.mu.Unlock()
	for _, c := range conns {
		_ = c.c.Close(websocket.StatusGoingAway, "Server shutting down")
	}
}
