// Package httpapi adapts API Gateway HTTP API (payload 2.0) events to plain
// handlers: it extracts the principal the authorizer established, enforces a
// route's access rule, decodes bodies strictly, and maps errors to statuses in
// exactly one place (StatusOf).
package httpapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/deskline/deskline/shared/deskline"
)

// MaxBodyBytes caps request bodies; every JSON body of this API is small.
const MaxBodyBytes = 64 << 10

// Request is what a handler sees of an HTTP request.
type Request struct {
	Method     string
	Path       string
	PathParams map[string]string
	Query      url.Values
	Headers    map[string]string // lower-case names
	Body       []byte
	Principal  *deskline.Principal // nil on public routes without a valid token
	RequestID  string
	SourceIP   string
}

// Param returns a path parameter.
func (r *Request) Param(name string) string { return r.PathParams[name] }

// Header returns a header by case-insensitive name.
func (r *Request) Header(name string) string { return r.Headers[strings.ToLower(name)] }

// Decode decodes the JSON body into v strictly: one object, no unknown
// fields, at most MaxBodyBytes. Failures are EINVALID with a clear message.
func (r *Request) Decode(v any) error {
	if len(bytes.TrimSpace(r.Body)) == 0 {
		return deskline.Invalid("", "Request body is required")
	}
	if len(r.Body) > MaxBodyBytes {
		return deskline.Invalid("", fmt.Sprintf("Request body must be at most %d bytes", MaxBodyBytes))
	}
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te) && te.Field != "": // top-level mismatches fall to the default
			return deskline.Invalid(te.Field, fmt.Sprintf("Field %q must be of type %s", te.Field, jsonType(te.Type.Kind().String())))
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return deskline.Invalid(f, fmt.Sprintf("Unknown field %q", f))
		case errors.As(err, &se), errors.Is(err, io.ErrUnexpectedEOF):
			return deskline.Invalid("", "Request body is not valid JSON")
		default:
			return deskline.Invalid("", "Request body must be a JSON object")
		}
	}
	if dec.More() {
		return deskline.Invalid("", "Request body must be a single JSON object")
	}
	return nil
}

func jsonType(kind string) string {
	switch kind {
	case "int", "int32", "int64", "float64", "uint", "uint32", "uint64":
		return "number"
	case "map", "struct":
		return "object"
	case "slice":
		return "array"
	case "bool":
		return "boolean"
	}
	return kind
}

// Response is what a handler returns.
type Response struct {
	Status  int
	Body    any // marshalled as JSON unless nil
	Headers map[string]string
}

// JSON returns a response with a JSON body.
func JSON(status int, body any) *Response { return &Response{Status: status, Body: body} }

// Message returns the contract's {"message": …} body.
func Message(status int, msg string) *Response {
	return &Response{Status: status, Body: map[string]string{"message": msg}}
}

// Handler serves one route.
type Handler func(ctx context.Context, r *Request) (*Response, error)

// Access says who may call a route.
type Access struct {
	Public bool            // no token needed
	Roles  []deskline.Role // empty: any approved user
}

// Public routes need no token.
var Public = Access{Public: true}

// Anyone is any approved user.
var Anyone = Access{}

// Only allows the given roles.
func Only(roles ...deskline.Role) Access { return Access{Roles: roles} }

// StatusOf maps an error code to its HTTP status. It is the only such mapping.
func StatusOf(code string) int {
	switch code {
	case deskline.EINVALID:
		return http.StatusBadRequest
	case deskline.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case deskline.EFORBIDDEN:
		return http.StatusForbidden
	case deskline.ENOTFOUND:
		return http.StatusNotFound
	case deskline.ECONFLICT:
		return http.StatusConflict
	case deskline.EGONE:
		return http.StatusGone
	case deskline.EPRECONDITION:
		return http.StatusPreconditionFailed
	case deskline.EUNPROCESSABLE:
		return http.StatusUnprocessableEntity
	case deskline.ETOOMANY:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// Authorizer context keys: the authorizer writes them, Principal reads them.
const (
	CtxUserID       = "userId"
	CtxRole         = "role"
	CtxDepartmentID = "departmentId"
	CtxStatus       = "status"
	CtxSessionID    = "sessionId"
	CtxUsername     = "username"
	CtxEmail        = "email"
	// CtxAuthError carries why a token was refused, so the route answers 401
	// with the contract's message rather than API Gateway's bare 403.
	CtxAuthError = "authError"
)

// Errors of authentication, with the contract's messages.
var (
	ErrTokenRequired = deskline.Errorf(deskline.EUNAUTHORIZED, "Access token is required")
	ErrNotApproved   = deskline.Errorf(deskline.EFORBIDDEN, "Account not approved by admin")
	ErrRejected      = deskline.Errorf(deskline.EFORBIDDEN, "Account has been rejected")
	ErrRole          = deskline.Errorf(deskline.EFORBIDDEN, "Not authorized to perform this action")
	ErrRouteNotFound = deskline.Errorf(deskline.ENOTFOUND, "Not found")
)

// principal reads the authorizer's context. It returns the auth error, if any.
func principal(lambdaCtx map[string]any) (*deskline.Principal, error) {
	get := func(k string) string { s, _ := lambdaCtx[k].(string); return s }
	if msg := get(CtxAuthError); msg != "" {
		return nil, deskline.Errorf(deskline.EUNAUTHORIZED, "%s", msg)
	}
	if get(CtxUserID) == "" {
		return nil, ErrTokenRequired
	}
	return &deskline.Principal{
		UserID: get(CtxUserID), Role: deskline.Role(get(CtxRole)), DepartmentID: get(CtxDepartmentID),
		Status: deskline.UserStatus(get(CtxStatus)), SessionID: get(CtxSessionID),
		Username: get(CtxUsername), Email: get(CtxEmail),
	}, nil
}

// authorize applies a route's access rule, in the contract's order: token,
// approval, role.
func authorize(a Access, p *deskline.Principal, authErr error) error {
	if a.Public {
		return nil
	}
	if authErr != nil {
		return authErr
	}
	switch p.Status {
	case deskline.StatusApproved:
	case deskline.StatusRejected:
		return ErrRejected
	default:
		return ErrNotApproved
	}
	if len(a.Roles) > 0 && !slices.Contains(a.Roles, p.Role) {
		return ErrRole
	}
	return nil
}

// LambdaHandler is the signature aws-lambda-go calls for an HTTP API route.
type LambdaHandler func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// Lambda wraps h as an HTTP API Lambda handler for a route with access a.
// name identifies the route in logs.
func Lambda(name string, a Access, h Handler, log *slog.Logger) LambdaHandler {
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		start := time.Now()
		req, err := newRequest(ev)
		var resp *Response
		if err == nil {
			var authErr error
			var lc map[string]any
			if ev.RequestContext.Authorizer != nil {
				lc = ev.RequestContext.Authorizer.Lambda
			}
			req.Principal, authErr = principal(lc)
			if err = authorize(a, req.Principal, authErr); err == nil {
				resp, err = h(ctx, req)
			}
		}
		out := encode(resp, err, ev.RequestContext.RequestID)
		attrs := []any{
			slog.String("route", name), slog.String("requestId", ev.RequestContext.RequestID),
			slog.Int("status", out.StatusCode), slog.Duration("duration", time.Since(start)),
		}
		if req != nil && req.Principal != nil {
			attrs = append(attrs, slog.String("userId", req.Principal.UserID))
		}
		if out.StatusCode >= 500 {
			if err != nil { // nil when the handler answered 5xx itself or its body failed to marshal
				attrs = append(attrs, slog.String("error", err.Error()))
			}
			log.ErrorContext(ctx, "request failed", attrs...)
		} else {
			log.InfoContext(ctx, "request", attrs...)
		}
		return out, nil
	}
}

func newRequest(ev events.APIGatewayV2HTTPRequest) (*Request, error) {
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(ev.Body)
		if err != nil {
			return nil, deskline.Invalid("", "Request body is not valid base64")
		}
		body = b
	}
	q, err := url.ParseQuery(ev.RawQueryString)
	if err != nil {
		return nil, deskline.Invalid("", "Malformed query string")
	}
	headers := make(map[string]string, len(ev.Headers))
	for k, v := range ev.Headers {
		headers[strings.ToLower(k)] = v
	}
	return &Request{
		Method: ev.RequestContext.HTTP.Method, Path: ev.RawPath, PathParams: ev.PathParameters,
		Query: q, Headers: headers, Body: body, RequestID: ev.RequestContext.RequestID,
		SourceIP: ev.RequestContext.HTTP.SourceIP,
	}, nil
}

// ErrorBody is the JSON body of every error response.
type ErrorBody struct {
	Error     string `json:"error"`
	Code      string `json:"code"`
	Field     string `json:"field,omitempty"`
	RequestID string `json:"requestId,omitempty"`
}

// encode turns a handler's result into the API Gateway response.
func encode(resp *Response, err error, requestID string) events.APIGatewayV2HTTPResponse {
	headers := map[string]string{
		"Content-Type":           "application/json; charset=utf-8",
		"Cache-Control":          "no-store",
		"X-Content-Type-Options": "nosniff",
	}
	if err != nil {
		code := deskline.ErrorCode(err)
		eb := ErrorBody{Error: deskline.ErrorMessage(err), Code: code}
		var de *deskline.Error
		if errors.As(err, &de) {
			eb.Field = de.Field
			if de.RetryAfter > 0 {
				headers["Retry-After"] = strconv.Itoa(de.RetryAfter)
			}
		}
		if code == deskline.EINTERNAL {
			eb.RequestID = requestID
		}
		b, _ := json.Marshal(eb)
		return events.APIGatewayV2HTTPResponse{StatusCode: StatusOf(code), Headers: headers, Body: string(b)}
	}
	if resp == nil {
		return encode(nil, errors.New("handler returned neither a response nor an error"), requestID)
	}
	for k, v := range resp.Headers {
		headers[k] = v
	}
	out := events.APIGatewayV2HTTPResponse{StatusCode: resp.Status, Headers: headers}
	switch body := resp.Body.(type) {
	case nil:
	case RawBody:
		out.Body = string(body)
	case BinaryBody:
		out.Body, out.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
	default:
		b, err := json.Marshal(resp.Body)
		if err != nil {
			return encode(nil, fmt.Errorf("marshal response: %w", err), requestID)
		}
		out.Body = string(b)
	}
	return out
}

// RawBody is a response body sent as is; the handler sets Content-Type.
type RawBody string

// BinaryBody is a response body of bytes (a spreadsheet, say), sent
// base64-encoded as API Gateway wants binary; the handler sets
// Content-Type.
type BinaryBody []byte

// NotFound answers requests that match no route.
func NotFound(requestID string) events.APIGatewayV2HTTPResponse {
	return encode(nil, ErrRouteNotFound, requestID)
}
