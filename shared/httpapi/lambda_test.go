package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/httpapi"
)

const requestID = "req-7f3c9a"

// fakeHandler records the requests it gets and answers as configured.
type fakeHandler struct {
	resp  *httpapi.Response
	err   error
	calls int
	got   *httpapi.Request
}

func (f *fakeHandler) serve(_ context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	f.calls++
	f.got = r
	if f.resp == nil && f.err == nil {
		return httpapi.JSON(http.StatusOK, map[string]string{"ok": "yes"}), nil
	}
	return f.resp, f.err
}

// event builds a payload 2.0 event; lambdaCtx nil means no authorizer ran.
func event(method, path string, lambdaCtx map[string]any) events.APIGatewayV2HTTPRequest {
	ev := events.APIGatewayV2HTTPRequest{
		Version:  "2.0",
		RouteKey: method + " " + path,
		RawPath:  path,
		Headers:  map[string]string{"content-type": "application/json", "user-agent": "test"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:  method + " " + path,
			AccountID: "123456789012",
			Stage:     "$default",
			RequestID: requestID,
			APIID:     "abc123",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: method, Path: path, Protocol: "HTTP/1.1", SourceIP: "203.0.113.7", UserAgent: "test",
			},
		},
	}
	if lambdaCtx != nil {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: lambdaCtx}
	}
	return ev
}

// who is the authorizer context of an authenticated caller.
func who(role deskline.Role, status deskline.UserStatus) map[string]any {
	dep := "DEP-01JD3Q8K9ZC0V4M5N6P7R8S9IT"
	if role == deskline.RoleAdmin {
		dep = ""
	}
	return map[string]any{
		httpapi.CtxUserID: "USR-01JD3Q8K9ZC0V4M5N6P7R8S9TW", httpapi.CtxRole: string(role),
		httpapi.CtxDepartmentID: dep, httpapi.CtxStatus: string(status), httpapi.CtxSessionID: "SES-01JD3Q8K9ZC0V4M5N6P7R8S9TW",
	}
}

// logBuffer is a logger writing JSON lines into a buffer.
func logBuffer() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewJSONHandler(&buf, nil)), &buf
}

// logLines parses the JSON log lines in buf.
func logLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func call(t *testing.T, a httpapi.Access, h httpapi.Handler, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, []map[string]any) {
	t.Helper()
	log, buf := logBuffer()
	out, err := httpapi.Lambda("test-route", a, h, log)(context.Background(), ev)
	if err != nil {
		t.Fatalf("Lambda returned error %v; it must always answer with a response", err)
	}
	return out, logLines(t, buf)
}

// errorBody decodes an error response body strictly.
func errorBody(t *testing.T, body string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("error body %q is not JSON: %v", body, err)
	}
	return m
}

func TestLambdaAccess(t *testing.T) {
	admins := httpapi.Only(deskline.RoleAdmin)
	tests := []struct {
		name       string
		access     httpapi.Access
		lambdaCtx  map[string]any
		wantStatus int
		wantError  string // "" when the handler answers
		wantCode   string
	}{
		{"public without authorizer", httpapi.Public, nil, 200, "", ""},
		{"public with refused token", httpapi.Public, map[string]any{httpapi.CtxAuthError: "Token expired"}, 200, "", ""},
		{"public with pending caller", httpapi.Public, who(deskline.RoleEmployee, deskline.StatusPending), 200, "", ""},
		{"protected without authorizer", httpapi.Anyone, nil, 401, "Access token is required", deskline.EUNAUTHORIZED},
		{"protected with empty context", httpapi.Anyone, map[string]any{}, 401, "Access token is required", deskline.EUNAUTHORIZED},
		{"protected with auth error", httpapi.Anyone, map[string]any{httpapi.CtxAuthError: "Token expired"}, 401, "Token expired", deskline.EUNAUTHORIZED},
		{"auth error wins over a user id", httpapi.Anyone, map[string]any{httpapi.CtxAuthError: "Session has ended", httpapi.CtxUserID: "USR-ABCDE"}, 401, "Session has ended", deskline.EUNAUTHORIZED},
		{"pending", httpapi.Anyone, who(deskline.RoleEmployee, deskline.StatusPending), 403, "Account not approved by admin", deskline.EFORBIDDEN},
		{"missing status", httpapi.Anyone, who(deskline.RoleEmployee, ""), 403, "Account not approved by admin", deskline.EFORBIDDEN},
		{"unknown status", httpapi.Anyone, who(deskline.RoleEmployee, "suspended"), 403, "Account not approved by admin", deskline.EFORBIDDEN},
		{"rejected", httpapi.Anyone, who(deskline.RoleEmployee, deskline.StatusRejected), 403, "Account has been rejected", deskline.EFORBIDDEN},
		{"approved employee, any role", httpapi.Anyone, who(deskline.RoleEmployee, deskline.StatusApproved), 200, "", ""},
		{"approved employee, admin only", admins, who(deskline.RoleEmployee, deskline.StatusApproved), 403, "Not authorized to perform this action", deskline.EFORBIDDEN},
		{"approved head, admin only", admins, who(deskline.RoleDepartmentHead, deskline.StatusApproved), 403, "Not authorized to perform this action", deskline.EFORBIDDEN},
		{"approved admin, admin only", admins, who(deskline.RoleAdmin, deskline.StatusApproved), 200, "", ""},
		{"approval is checked before role", admins, who(deskline.RoleEmployee, deskline.StatusPending), 403, "Account not approved by admin", deskline.EFORBIDDEN},
		{"pending admin, admin only", admins, who(deskline.RoleAdmin, deskline.StatusPending), 403, "Account not approved by admin", deskline.EFORBIDDEN},
		{"head or admin, head", httpapi.Only(deskline.RoleAdmin, deskline.RoleDepartmentHead), who(deskline.RoleDepartmentHead, deskline.StatusApproved), 200, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &fakeHandler{}
			out, _ := call(t, tt.access, h.serve, event("GET", "/api/things", tt.lambdaCtx))
			if out.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d (body %s)", out.StatusCode, tt.wantStatus, out.Body)
			}
			if tt.wantError == "" {
				if h.calls != 1 {
					t.Errorf("handler called %d times, want 1", h.calls)
				}
				return
			}
			if h.calls != 0 {
				t.Errorf("handler called %d times on a refused request, want 0", h.calls)
			}
			want := map[string]any{"error": tt.wantError, "code": tt.wantCode}
			if got := errorBody(t, out.Body); !reflect.DeepEqual(got, want) {
				t.Errorf("body = %v, want %v", got, want)
			}
		})
	}
}

func TestLambdaPrincipal(t *testing.T) {
	tests := []struct {
		name      string
		access    httpapi.Access
		lambdaCtx map[string]any
		want      *deskline.Principal
	}{
		{"public without token", httpapi.Public, nil, nil},
		{"public with refused token", httpapi.Public, map[string]any{httpapi.CtxAuthError: "Invalid token"}, nil},
		{"public with token", httpapi.Public, who(deskline.RoleEmployee, deskline.StatusApproved), &deskline.Principal{
			UserID: "USR-01JD3Q8K9ZC0V4M5N6P7R8S9TW", Role: deskline.RoleEmployee, DepartmentID: "DEP-01JD3Q8K9ZC0V4M5N6P7R8S9IT",
			Status: deskline.StatusApproved, SessionID: "SES-01JD3Q8K9ZC0V4M5N6P7R8S9TW",
		}},
		{"protected admin", httpapi.Anyone, who(deskline.RoleAdmin, deskline.StatusApproved), &deskline.Principal{
			UserID: "USR-01JD3Q8K9ZC0V4M5N6P7R8S9TW", Role: deskline.RoleAdmin, Status: deskline.StatusApproved,
			SessionID: "SES-01JD3Q8K9ZC0V4M5N6P7R8S9TW",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &fakeHandler{}
			call(t, tt.access, h.serve, event("GET", "/api/auth/me", tt.lambdaCtx))
			if h.got == nil {
				t.Fatal("handler not called")
			}
			if !reflect.DeepEqual(h.got.Principal, tt.want) {
				t.Errorf("principal = %+v, want %+v", h.got.Principal, tt.want)
			}
		})
	}
}

// A real payload 2.0 event as API Gateway sends it, with a Lambda
// authorizer's context, decoded the way aws-lambda-go decodes it.
const realEvent = `{
  "version": "2.0",
  "routeKey": "PUT /api/users/{id}",
  "rawPath": "/api/users/USR-01JD3Q8K9ZC0V4M5N6P7R8S9TW",
  "rawQueryString": "dryRun=true&tag=a&tag=b",
  "cookies": ["theme=dark"],
  "headers": {"authorization": "Bearer x.y.z", "content-type": "application/json", "if-match": "\"4\"", "x-forwarded-for": "198.51.100.1"},
  "queryStringParameters": {"dryRun": "true", "tag": "a,b"},
  "pathParameters": {"id": "USR-01JD3Q8K9ZC0V4M5N6P7R8S9TW"},
  "requestContext": {
    "accountId": "123456789012",
    "apiId": "r3pmxmplak",
    "authorizer": {"lambda": {"userId": "USR-01JD3Q8K9ZC0V4M5N6P7R8S9TW", "role": "employee", "departmentId": "DEP-01JD3Q8K9ZC0V4M5N6P7R8S9IT", "status": "approved", "sessionId": "SES-0000000001"}},
    "domainName": "r3pmxmplak.execute-api.eu-west-1.amazonaws.com",
    "domainPrefix": "r3pmxmplak",
    "http": {"method": "PUT", "path": "/api/users/USR-01JD3Q8K9ZC0V4M5N6P7R8S9TW", "protocol": "HTTP/1.1", "sourceIp": "198.51.100.1", "userAgent": "curl/8.5.0"},
    "requestId": "JKJaXmPLvHcESHA=",
    "routeKey": "PUT /api/users/{id}",
    "stage": "$default",
    "time": "26/Nov/2025:02:40:00 +0000",
    "timeEpoch": 1764124800000
  },
  "body": "eyJ1c2VybmFtZSI6ImFubiJ9",
  "isBase64Encoded": true
}`

func TestLambdaRealEvent(t *testing.T) {
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal([]byte(realEvent), &ev); err != nil {
		t.Fatalf("unmarshal event: %v", err)
	}
	h := &fakeHandler{}
	out, _ := call(t, httpapi.Anyone, h.serve, ev)
	if out.StatusCode != 200 {
		t.Fatalf("status = %d, want 200 (body %s)", out.StatusCode, out.Body)
	}
	r := h.got
	checks := []struct {
		name      string
		got, want any
	}{
		{"method", r.Method, "PUT"},
		{"path", r.Path, "/api/users/USR-01JD3Q8K9ZC0V4M5N6P7R8S9TW"},
		{"param", r.Param("id"), "USR-01JD3Q8K9ZC0V4M5N6P7R8S9TW"},
		{"query", r.Query["tag"], []string{"a", "b"}},
		{"header", r.Header("If-Match"), `"4"`},
		{"body decoded from base64", string(r.Body), `{"username":"ann"}`},
		{"request id", r.RequestID, "JKJaXmPLvHcESHA="},
		{"source ip", r.SourceIP, "198.51.100.1"},
		{"principal", *r.Principal, deskline.Principal{
			UserID: "USR-01JD3Q8K9ZC0V4M5N6P7R8S9TW", Role: deskline.RoleEmployee, DepartmentID: "DEP-01JD3Q8K9ZC0V4M5N6P7R8S9IT",
			Status: deskline.StatusApproved, SessionID: "SES-0000000001",
		}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

func TestLambdaMalformedRequest(t *testing.T) {
	tests := []struct {
		name      string
		edit      func(*events.APIGatewayV2HTTPRequest)
		wantError string
	}{
		{"bad base64 body", func(ev *events.APIGatewayV2HTTPRequest) { ev.Body, ev.IsBase64Encoded = "%%%not base64", true }, "Request body is not valid base64"},
		{"bad query string", func(ev *events.APIGatewayV2HTTPRequest) { ev.RawQueryString = "limit=%zz" }, "Malformed query string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := event("POST", "/api/auth/login", nil)
			tt.edit(&ev)
			h := &fakeHandler{}
			out, _ := call(t, httpapi.Public, h.serve, ev)
			if out.StatusCode != 400 {
				t.Errorf("status = %d, want 400", out.StatusCode)
			}
			if h.calls != 0 {
				t.Errorf("handler called %d times, want 0", h.calls)
			}
			if got := errorBody(t, out.Body)["error"]; got != tt.wantError {
				t.Errorf("error = %v, want %q", got, tt.wantError)
			}
		})
	}
}

func TestLambdaBase64BodyRoundTrip(t *testing.T) {
	ev := event("POST", "/api/auth/login", nil)
	ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(`{"email":"a@b.co"}`)), true
	h := &fakeHandler{}
	call(t, httpapi.Public, h.serve, ev)
	var in struct {
		Email string `json:"email"`
	}
	if err := h.got.Decode(&in); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if in.Email != "a@b.co" {
		t.Errorf("email = %q, want a@b.co", in.Email)
	}
}

func TestLambdaInternalErrorIsHiddenAndLoggedOnce(t *testing.T) {
	const cause = "dynamodb: GetItem: connection refused (10.0.3.7:8000)"
	tests := []struct {
		name string
		err  error
	}{
		{"plain error", errors.New(cause)},
		{"wrapped plain error", fmt.Errorf("load user: %w", errors.New(cause))},
		{"internal *Error", &deskline.Error{Code: deskline.EINTERNAL, Message: cause}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &fakeHandler{err: tt.err}
			out, logs := call(t, httpapi.Anyone, h.serve, event("GET", "/api/users", who(deskline.RoleAdmin, deskline.StatusApproved)))
			if out.StatusCode != 500 {
				t.Errorf("status = %d, want 500", out.StatusCode)
			}
			want := map[string]any{"error": "Internal error", "code": "internal", "requestId": requestID}
			if got := errorBody(t, out.Body); !reflect.DeepEqual(got, want) {
				t.Errorf("body = %v, want %v", got, want)
			}
			if strings.Contains(out.Body, "connection refused") {
				t.Errorf("body %s leaks the cause", out.Body)
			}
			if len(logs) != 1 {
				t.Fatalf("got %d log lines, want 1: %v", len(logs), logs)
			}
			l := logs[0]
			if l["level"] != "ERROR" {
				t.Errorf("log level = %v, want ERROR", l["level"])
			}
			if e, _ := l["error"].(string); !strings.Contains(e, cause) {
				t.Errorf("logged error = %q, want it to contain %q", e, cause)
			}
			for k, v := range map[string]any{"route": "test-route", "requestId": requestID, "status": float64(500), "userId": "USR-01JD3Q8K9ZC0V4M5N6P7R8S9TW"} {
				if l[k] != v {
					t.Errorf("log %s = %v, want %v", k, l[k], v)
				}
			}
		})
	}
}

func TestLambdaClientErrorsAreLoggedAtInfo(t *testing.T) {
	h := &fakeHandler{err: fmt.Errorf("lookup: %w", deskline.Errorf(deskline.ENOTFOUND, "User not found"))}
	out, logs := call(t, httpapi.Anyone, h.serve, event("GET", "/api/users/USR-X", who(deskline.RoleAdmin, deskline.StatusApproved)))
	want := map[string]any{"error": "User not found", "code": "not_found"}
	if got := errorBody(t, out.Body); out.StatusCode != 404 || !reflect.DeepEqual(got, want) {
		t.Errorf("got %d %v, want 404 %v", out.StatusCode, got, want)
	}
	if len(logs) != 1 || logs[0]["level"] != "INFO" || logs[0]["error"] != nil {
		t.Errorf("logs = %v, want one INFO line without an error", logs)
	}
}

// Responses of 500 and above that are not errors must not crash the wrapper.
func TestLambdaServerStatusWithoutError(t *testing.T) {
	tests := []struct {
		name       string
		resp       *httpapi.Response
		wantStatus int
	}{
		{"handler answers 503", httpapi.Message(http.StatusServiceUnavailable, "Try again later"), 503},
		{"body that cannot be marshalled", httpapi.JSON(200, map[string]float64{"x": math.NaN()}), 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &fakeHandler{resp: tt.resp}
			out, logs := call(t, httpapi.Public, h.serve, event("GET", "/api/health", nil))
			if out.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", out.StatusCode, tt.wantStatus)
			}
			if len(logs) != 1 || logs[0]["level"] != "ERROR" {
				t.Errorf("logs = %v, want one ERROR line", logs)
			}
		})
	}
}

func TestLambdaErrorFieldsAndRetryAfter(t *testing.T) {
	tests := []struct {
		name        string
		err         error
		wantStatus  int
		wantBody    map[string]any
		wantRetry   string
		wantNoRetry bool
	}{
		{"too many with retry", &deskline.Error{Code: deskline.ETOOMANY, Message: "Too many failed logins", RetryAfter: 900},
			429, map[string]any{"error": "Too many failed logins", "code": "too_many_requests"}, "900", false},
		{"wrapped too many", fmt.Errorf("login: %w", &deskline.Error{Code: deskline.ETOOMANY, Message: "Slow down", RetryAfter: 1}),
			429, map[string]any{"error": "Slow down", "code": "too_many_requests"}, "1", false},
		{"too many without retry", deskline.Errorf(deskline.ETOOMANY, "Slow down"),
			429, map[string]any{"error": "Slow down", "code": "too_many_requests"}, "", true},
		{"invalid with field", deskline.Invalid("email", "Invalid email format"),
			400, map[string]any{"error": "Invalid email format", "code": "invalid", "field": "email"}, "", true},
		{"conflict", deskline.Errorf(deskline.ECONFLICT, "Email already registered"),
			409, map[string]any{"error": "Email already registered", "code": "conflict"}, "", true},
		{"precondition", deskline.Errorf(deskline.EPRECONDITION, "Version mismatch"),
			412, map[string]any{"error": "Version mismatch", "code": "precondition_failed"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &fakeHandler{err: tt.err}
			out, _ := call(t, httpapi.Public, h.serve, event("POST", "/api/auth/login", nil))
			if out.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", out.StatusCode, tt.wantStatus)
			}
			if got := errorBody(t, out.Body); !reflect.DeepEqual(got, tt.wantBody) {
				t.Errorf("body = %v, want %v", got, tt.wantBody)
			}
			got, ok := out.Headers["Retry-After"]
			if tt.wantNoRetry && ok {
				t.Errorf("Retry-After = %q, want none", got)
			}
			if !tt.wantNoRetry && got != tt.wantRetry {
				t.Errorf("Retry-After = %q, want %q", got, tt.wantRetry)
			}
		})
	}
}

func TestLambdaSecurityHeaders(t *testing.T) {
	want := map[string]string{
		"Content-Type":           "application/json; charset=utf-8",
		"Cache-Control":          "no-store",
		"X-Content-Type-Options": "nosniff",
	}
	tests := []struct {
		name   string
		access httpapi.Access
		h      *fakeHandler
	}{
		{"success", httpapi.Public, &fakeHandler{}},
		{"handler error", httpapi.Public, &fakeHandler{err: deskline.Errorf(deskline.ECONFLICT, "x")}},
		{"internal error", httpapi.Public, &fakeHandler{err: errors.New("boom")}},
		{"refused before the handler", httpapi.Anyone, &fakeHandler{}},
		{"handler sets its own header", httpapi.Public, &fakeHandler{resp: &httpapi.Response{Status: 201, Body: map[string]string{}, Headers: map[string]string{"Location": "/api/users/USR-ABCDE"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _ := call(t, tt.access, tt.h.serve, event("GET", "/api/x", nil))
			for k, v := range want {
				if got := out.Headers[k]; got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestLambdaSuccessBodies(t *testing.T) {
	tests := []struct {
		name        string
		resp        *httpapi.Response
		wantStatus  int
		wantBody    string
		wantHeaders map[string]string
	}{
		{"json", httpapi.JSON(201, map[string]int{"n": 1}), 201, `{"n":1}`, nil},
		{"message", httpapi.Message(200, "Logged out"), 200, `{"message":"Logged out"}`, nil},
		{"no body", &httpapi.Response{Status: 204}, 204, "", nil},
		{"raw body", &httpapi.Response{Status: 200, Body: httpapi.RawBody(`{"raw":true}`)}, 200, `{"raw":true}`, nil},
		{"handler header overrides default", &httpapi.Response{Status: 200, Body: httpapi.RawBody("{}"), Headers: map[string]string{"Cache-Control": "public, max-age=300"}},
			200, "{}", map[string]string{"Cache-Control": "public, max-age=300"}},
		{"empty list", httpapi.List[string](nil, ""), 200, "[]", nil},
		{"list with next page", httpapi.List([]int{1, 2}, "c2"), 200, "[1,2]",
			map[string]string{httpapi.NextCursorHeader: "c2", "Access-Control-Expose-Headers": httpapi.NextCursorHeader}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _ := call(t, httpapi.Public, (&fakeHandler{resp: tt.resp}).serve, event("GET", "/api/x", nil))
			if out.StatusCode != tt.wantStatus || out.Body != tt.wantBody {
				t.Errorf("got %d %q, want %d %q", out.StatusCode, out.Body, tt.wantStatus, tt.wantBody)
			}
			for k, v := range tt.wantHeaders {
				if got := out.Headers[k]; got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestList(t *testing.T) {
	tests := []struct {
		name       string
		resp       *httpapi.Response
		wantBody   string
		wantCursor string
	}{
		{"nil slice is an empty array", httpapi.List[deskline.User](nil, ""), "[]", ""},
		{"empty slice", httpapi.List([]string{}, ""), "[]", ""},
		{"last page", httpapi.List([]string{"a"}, ""), `["a"]`, ""},
		{"more pages", httpapi.List([]string{"a", "b"}, "eyJrIjoiYiJ9"), `["a","b"]`, "eyJrIjoiYiJ9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.resp.Status != 200 {
				t.Errorf("status = %d, want 200", tt.resp.Status)
			}
			b, err := json.Marshal(tt.resp.Body)
			if err != nil {
				t.Fatalf("marshal body: %v", err)
			}
			if string(b) != tt.wantBody {
				t.Errorf("body = %s, want %s", b, tt.wantBody)
			}
			got, ok := tt.resp.Headers[httpapi.NextCursorHeader]
			if tt.wantCursor == "" && ok {
				t.Errorf("%s = %q on the last page, want no header", httpapi.NextCursorHeader, got)
			}
			if got != tt.wantCursor {
				t.Errorf("%s = %q, want %q", httpapi.NextCursorHeader, got, tt.wantCursor)
			}
		})
	}
}

func TestNotFound(t *testing.T) {
	out := httpapi.NotFound(requestID)
	if out.StatusCode != 404 {
		t.Errorf("status = %d, want 404", out.StatusCode)
	}
	want := map[string]any{"error": "Not found", "code": "not_found"}
	if got := errorBody(t, out.Body); !reflect.DeepEqual(got, want) {
		t.Errorf("body = %v, want %v", got, want)
	}
}

func TestLambdaResponseBodies(t *testing.T) {
	bin := []byte{0x50, 0x4b, 0x03, 0x04, 0x00, 0xff, 0x0a}
	tests := []struct {
		name     string
		body     any
		want     string
		isBase64 bool
	}{
		{"JSON", map[string]int{"n": 1}, `{"n":1}`, false},
		{"raw text", httpapi.RawBody("a,b\r\n1,2\r\n"), "a,b\r\n1,2\r\n", false},
		{"binary", httpapi.BinaryBody(bin), base64.StdEncoding.EncodeToString(bin), true},
		{"none", nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &fakeHandler{resp: &httpapi.Response{Status: http.StatusOK, Body: tt.body}}
			out, _ := call(t, httpapi.Public, h.serve, event("GET", "/api/x", nil))
			if out.StatusCode != http.StatusOK || out.Body != tt.want || out.IsBase64Encoded != tt.isBase64 {
				t.Errorf("response %d %q base64=%v, want 200 %q base64=%v", out.StatusCode, out.Body, out.IsBase64Encoded, tt.want, tt.isBase64)
			}
		})
	}
}
