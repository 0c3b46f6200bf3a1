// Package authorizer is the Lambda authorizer of both APIs. It verifies the
// bearer token (signature, algorithm, issuer, audience, expiry), checks that
// its session is still open, and hands the principal to routes in the
// authorizer context. It never denies outright: a refused token is passed on
// as an error in the context, so the route answers 401 with a clear message
// (API Gateway's own deny is a bare 403).
package authorizer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/deskline/deskline/shared/auth"
	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/httpapi"
)

// SessionStore finds the user behind an open session.
type SessionStore interface {
	GetSessionUser(ctx context.Context, userID, sessionID string) (*deskline.User, error)
}

// Authorizer authenticates requests.
type Authorizer struct {
	tokens *auth.Tokens
	store  SessionStore
	log    *slog.Logger
}

// New returns an Authorizer.
func New(tokens *auth.Tokens, store SessionStore, log *slog.Logger) *Authorizer {
	return &Authorizer{tokens: tokens, store: store, log: log}
}

// Authenticate resolves a raw token to a principal.
func (a *Authorizer) Authenticate(ctx context.Context, token string) (*deskline.Principal, error) {
	if token == "" {
		return nil, httpapi.ErrTokenRequired
	}
	if a.tokens == nil {
		return nil, errors.New("authorizer: no JWT secret configured")
	}
	c, err := a.tokens.Parse(token)
	if err != nil {
		return nil, err
	}
	u, err := a.store.GetSessionUser(ctx, c.UserID, c.SessionID)
	if err != nil {
		return nil, err
	}
	return &deskline.Principal{
		UserID: u.ID, Role: u.Role, DepartmentID: u.DepartmentID, Status: u.Status, SessionID: c.SessionID,
		Username: u.Username, Email: u.Email,
	}, nil
}

// bearer extracts the token of an "Authorization: Bearer …" header.
func bearer(headers map[string]string) string {
	for k, v := range headers {
		if strings.EqualFold(k, "authorization") {
			if t, ok := strings.CutPrefix(v, "Bearer "); ok {
				return strings.TrimSpace(t)
			}
			if t, ok := strings.CutPrefix(v, "bearer "); ok {
				return strings.TrimSpace(t)
			}
			return ""
		}
	}
	return ""
}

// context builds the authorizer context for a principal or an error.
func (a *Authorizer) context(ctx context.Context, p *deskline.Principal, err error) (map[string]any, error) {
	if err != nil {
		code := deskline.ErrorCode(err)
		if code == deskline.EINTERNAL {
			// A failing dependency must not look like a bad token: API
			// Gateway answers 500 when the authorizer errors.
			a.log.ErrorContext(ctx, "authorizer failed", slog.String("error", err.Error()))
			return nil, err
		}
		return map[string]any{httpapi.CtxAuthError: deskline.ErrorMessage(err)}, nil
	}
	return map[string]any{
		httpapi.CtxUserID: p.UserID, httpapi.CtxRole: string(p.Role), httpapi.CtxDepartmentID: p.DepartmentID,
		httpapi.CtxStatus: string(p.Status), httpapi.CtxSessionID: p.SessionID,
		httpapi.CtxUsername: p.Username, httpapi.CtxEmail: p.Email,
	}, nil
}

// HTTP is the authorizer for the HTTP API (payload 2.0, simple responses).
func (a *Authorizer) HTTP(ctx context.Context, ev events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
	p, err := a.Authenticate(ctx, bearer(ev.Headers))
	c, err := a.context(ctx, p, err)
	if err != nil {
		return events.APIGatewayV2CustomAuthorizerSimpleResponse{}, err
	}
	return events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: true, Context: c}, nil
}

// ErrUnauthorized is what a WebSocket authorizer returns to make API Gateway
// answer 401 (its documented convention).
var ErrUnauthorized = errors.New("Unauthorized") // API Gateway matches this exact text

// WebSocket is the authorizer of the WebSocket API's $connect. Browsers
// cannot set headers on a WebSocket, so the token comes in the `token` query
// parameter (which is never logged). A missing or bad token is 401; a
// pending or rejected account is denied (403).
func (a *Authorizer) WebSocket(ctx context.Context, ev events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	p, err := a.Authenticate(ctx, ev.QueryStringParameters["token"])
	if err != nil {
		if deskline.ErrorCode(err) == deskline.EINTERNAL {
			a.log.ErrorContext(ctx, "authorizer failed", slog.String("error", err.Error()))
			return events.APIGatewayCustomAuthorizerResponse{}, err
		}
		return events.APIGatewayCustomAuthorizerResponse{}, ErrUnauthorized
	}
	effect := "Allow"
	if p.Status != deskline.StatusApproved {
		effect = "Deny"
	}
	c, _ := a.context(ctx, p, nil)
	return events.APIGatewayCustomAuthorizerResponse{
		PrincipalID: p.UserID,
		PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{
			Version:   "2012-10-17",
			Statement: []events.IAMPolicyStatement{{Action: []string{"execute-api:Invoke"}, Effect: effect, Resource: []string{ev.MethodArn}}},
		},
		Context: c,
	}, nil
}

// Handle serves both APIs from one Lambda: a WebSocket authorizer request
// carries a methodArn, an HTTP API (payload 2.0) one does not.
func (a *Authorizer) Handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var probe struct {
		MethodArn string `json:"methodArn"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, fmt.Errorf("authorizer: decode event: %w", err)
	}
	if probe.MethodArn != "" {
		var ev events.APIGatewayCustomAuthorizerRequestTypeRequest
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("authorizer: decode websocket event: %w", err)
		}
		return a.WebSocket(ctx, ev)
	}
	var ev events.APIGatewayV2CustomAuthorizerV2Request
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, fmt.Errorf("authorizer: decode http event: %w", err)
	}
	return a.HTTP(ctx, ev)
}
