// Package wsapi implements the WebSocket API's routes: $connect records the
// connection under its user, $disconnect forgets it, and $default serves the
// client's actions ({"action": "sendMessage" | "ping", ...}). Live
// notifications are pushed by the stream notifier through @connections.
package wsapi

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/deskline/deskline/shared/api"
	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/httpapi"
)

// MaxConnectionAge is API Gateway's limit on a WebSocket connection; the
// connection item expires with it.
const MaxConnectionAge = 2 * time.Hour

// Store keeps connections.
type Store interface {
	PutConnection(ctx context.Context, userID, connID string, expiresAt time.Time) error
	DeleteConnection(ctx context.Context, userID, connID string) error
}

// Handlers serve the WebSocket routes.
type Handlers struct {
	server *api.Server
	store  Store
	clock  deskline.Clock
	log    *slog.Logger
}

// New returns the WebSocket handlers.
func New(server *api.Server, store Store, clock deskline.Clock, log *slog.Logger) *Handlers {
	return &Handlers{server: server, store: store, clock: clock, log: log}
}

// Handler is a WebSocket route's Lambda handler.
type Handler func(context.Context, events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error)

// principal reads the authorizer's context of the connection.
func principal(ev events.APIGatewayWebsocketProxyRequest) (*deskline.Principal, error) {
	auth, _ := ev.RequestContext.Authorizer.(map[string]any)
	get := func(k string) string { s, _ := auth[k].(string); return s }
	if get(httpapi.CtxUserID) == "" {
		return nil, fmt.Errorf("connection %s has no authorizer context", ev.RequestContext.ConnectionID)
	}
	return &deskline.Principal{
		UserID: get(httpapi.CtxUserID), Role: deskline.Role(get(httpapi.CtxRole)), DepartmentID: get(httpapi.CtxDepartmentID),
		Status: deskline.UserStatus(get(httpapi.CtxStatus)), SessionID: get(httpapi.CtxSessionID),
		Username: get(httpapi.CtxUsername), Email: get(httpapi.CtxEmail),
	}, nil
}

// Connect records a new connection of an approved user.
func (h *Handlers) Connect(ctx context.Context, ev events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
	p, err := principal(ev)
	if err != nil {
		return events.APIGatewayProxyResponse{StatusCode: 401}, nil
	}
	if p.Status != deskline.StatusApproved {
		return events.APIGatewayProxyResponse{StatusCode: 403}, nil
	}
	if err := h.store.PutConnection(ctx, p.UserID, ev.RequestContext.ConnectionID, h.clock.Now().Add(MaxConnectionAge)); err != nil {
		return events.APIGatewayProxyResponse{}, err
	}
	return events.APIGatewayProxyResponse{StatusCode: 200}, nil
}

// Disconnect forgets a closed connection.
func (h *Handlers) Disconnect(ctx context.Context, ev events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
	p, err := principal(ev)
	if err != nil {
		return events.APIGatewayProxyResponse{StatusCode: 200}, nil
	}
	if err := h.store.DeleteConnection(ctx, p.UserID, ev.RequestContext.ConnectionID); err != nil {
		return events.APIGatewayProxyResponse{}, err
	}
	return events.APIGatewayProxyResponse{StatusCode: 200}, nil
}

// Frame is what the server sends on the socket: {"type": …, "data"?: …,
// "error"?: …, "code"?: …}. See docs/realtime.md.
type Frame struct {
	Type  string `json:"type"`
	Data  any    `json:"data,omitempty"`
	Error string `json:"error,omitempty"`
	Code  string `json:"code,omitempty"`
	// RequestID echoes the client's "requestId", when it sent one.
	RequestID string `json:"requestId,omitempty"`
}

type action struct {
	Action    string `json:"action"`
	RequestID string `json:"requestId"`
	To        string `json:"to"`
	Body      string `json:"body"`
}

// Default serves the client's actions; its reply is the route response.
func (h *Handlers) Default(ctx context.Context, ev events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
	reply := func(f Frame) (events.APIGatewayProxyResponse, error) {
		b, err := json.Marshal(f)
		if err != nil {
			return events.APIGatewayProxyResponse{}, fmt.Errorf("marshal frame: %w", err)
		}
		return events.APIGatewayProxyResponse{StatusCode: 200, Body: string(b)}, nil
	}
	p, err := principal(ev)
	if err != nil {
		return reply(Frame{Type: "error", Error: "Not authenticated", Code: deskline.EUNAUTHORIZED})
	}
	var a action
	if err := json.Unmarshal([]byte(ev.Body), &a); err != nil {
		return reply(Frame{Type: "error", Error: `Frames must be JSON objects like {"action":"ping"}`, Code: deskline.EINVALID})
	}
	switch a.Action {
	case "ping":
		return reply(Frame{Type: "pong", RequestID: a.RequestID})
	case "sendMessage":
		resp, err := h.server.Send(ctx, p, a.To, a.Body, nil)
		if err != nil {
			code := deskline.ErrorCode(err)
			if code == deskline.EINTERNAL {
				h.log.ErrorContext(ctx, "sendMessage failed", slog.String("connectionId", ev.RequestContext.ConnectionID), slog.String("error", err.Error()))
			}
			return reply(Frame{Type: "error", Error: deskline.ErrorMessage(err), Code: code, RequestID: a.RequestID})
		}
		return reply(Frame{Type: "messageSent", Data: resp.Body, RequestID: a.RequestID})
	}
	return reply(Frame{Type: "error", Error: fmt.Sprintf("Unknown action %q (known: sendMessage, ping)", a.Action), Code: deskline.EINVALID, RequestID: a.RequestID})
}
