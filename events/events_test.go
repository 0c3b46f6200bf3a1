package events_test

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/httpapi"
	"github.com/deskline/deskline/shared/routes"
)

// bodiless are the POST/PUT/PATCH routes whose handlers read no body: web
// clients send none (CONTRACT.md lists their request as "—"), so neither do
// their events.
var bodiless = map[string]bool{
	"auth-logout": true, "users-approve": true, "users-reject": true,
	"notifications-read": true, "notifications-read-all": true, "messages-read": true,
	"analytics-update-metrics": true,
}

// The principal every protected route's event carries: an approved admin.
const (
	adminID   = "USR-01JB0000000000000000000001"
	sessionID = "SES-01JB0000000000000000000000"
)

var paramRE = regexp.MustCompile(`\{([^}]+)\}`)

// decodeStrict decodes one JSON value from path into v, rejecting unknown
// fields and trailing data.
func decodeStrict(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if dec.More() {
		t.Fatalf("%s: trailing data after the event", path)
	}
}

func httpEventFiles(t *testing.T) map[string]string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("http", "*"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, p := range paths {
		name, ok := strings.CutSuffix(filepath.Base(p), ".json")
		if !ok {
			t.Errorf("%s: only <function-name>.json files belong in events/http", p)
			continue
		}
		files[name] = p
	}
	return files
}

// TestHTTPEventsMatchRouteTable checks that events/http holds exactly one
// event per route of the route table.
func TestHTTPEventsMatchRouteTable(t *testing.T) {
	files := httpEventFiles(t)
	for _, r := range routes.HTTP {
		if _, ok := files[r.Name]; !ok {
			t.Errorf("route %s (%s %s) has no event: add events/http/%s.json", r.Name, r.Method, r.Path, r.Name)
		}
	}
	for name := range files {
		if _, ok := routes.ByName(name); !ok {
			t.Errorf("events/http/%s.json names no route of routes.HTTP", name)
		}
	}
}

func TestHTTPEvents(t *testing.T) {
	for name, path := range httpEventFiles(t) {
		r, ok := routes.ByName(name)
		if !ok {
			continue // reported by TestHTTPEventsMatchRouteTable
		}
		t.Run(name, func(t *testing.T) {
			var ev events.APIGatewayV2HTTPRequest
			decodeStrict(t, path, &ev)
			checkHTTPEvent(t, r, ev)
		})
	}
}

func checkHTTPEvent(t *testing.T, r routes.Route, ev events.APIGatewayV2HTTPRequest) {
	rc := ev.RequestContext
	routeKey := r.Method + " " + r.Path
	if ev.Version != "2.0" {
		t.Errorf("version = %q, want 2.0", ev.Version)
	}
	if ev.RouteKey != routeKey || rc.RouteKey != routeKey {
		t.Errorf("routeKey = %q, requestContext.routeKey = %q, want %q", ev.RouteKey, rc.RouteKey, routeKey)
	}
	if rc.HTTP.Method != r.Method {
		t.Errorf("requestContext.http.method = %q, want %q", rc.HTTP.Method, r.Method)
	}
	if rc.Stage != "$default" {
		t.Errorf("requestContext.stage = %q, want $default", rc.Stage)
	}
	if rc.RequestID == "" || rc.AccountID == "" || rc.APIID == "" || rc.DomainName == "" || rc.HTTP.SourceIP == "" || rc.HTTP.UserAgent == "" || rc.HTTP.Protocol == "" {
		t.Errorf("requestContext lacks one of requestId, accountId, apiId, domainName, http.sourceIp, http.userAgent, http.protocol: %+v", rc)
	}
	if ts, err := time.Parse("02/Jan/2006:15:04:05 -0700", rc.Time); err != nil {
		t.Errorf("requestContext.time %q: %v", rc.Time, err)
	} else if d := rc.TimeEpoch - ts.UnixMilli(); d < 0 || d >= 1000 {
		t.Errorf("requestContext.timeEpoch %d is not within requestContext.time %q", rc.TimeEpoch, rc.Time)
	}

	// Path parameters: exactly the route's, and the raw path is the route's
	// path with them filled in.
	var want []string
	for _, m := range paramRE.FindAllStringSubmatch(r.Path, -1) {
		want = append(want, m[1])
	}
	var got []string
	for k := range ev.PathParameters {
		got = append(got, k)
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("pathParameters has %v, route %s has %v", got, r.Path, want)
	}
	rawPath := paramRE.ReplaceAllStringFunc(r.Path, func(p string) string {
		return url.PathEscape(ev.PathParameters[strings.Trim(p, "{}")])
	})
	if ev.RawPath != rawPath || rc.HTTP.Path != rawPath {
		t.Errorf("rawPath = %q, requestContext.http.path = %q, want %q", ev.RawPath, rc.HTTP.Path, rawPath)
	}
	for k, v := range ev.PathParameters {
		if v == "" {
			t.Errorf("pathParameters.%s is empty", k)
		}
	}

	// Query string: the parsed parameters agree with the raw string.
	q, err := url.ParseQuery(ev.RawQueryString)
	if err != nil {
		t.Errorf("rawQueryString %q: %v", ev.RawQueryString, err)
	}
	qsp := map[string]string{}
	for k, v := range q {
		qsp[k] = strings.Join(v, ",")
	}
	if len(qsp) != len(ev.QueryStringParameters) || (len(qsp) > 0 && !reflect.DeepEqual(qsp, ev.QueryStringParameters)) {
		t.Errorf("queryStringParameters = %v, rawQueryString %q says %v", ev.QueryStringParameters, ev.RawQueryString, qsp)
	}

	// Headers: lower-case names, as the HTTP API sends them.
	for k := range ev.Headers {
		if k != strings.ToLower(k) {
			t.Errorf("header %q is not lower-case", k)
		}
	}
	if ev.Headers["host"] != rc.DomainName {
		t.Errorf("host header %q differs from requestContext.domainName %q", ev.Headers["host"], rc.DomainName)
	}
	if ev.Headers["user-agent"] != rc.HTTP.UserAgent {
		t.Errorf("user-agent header %q differs from requestContext.http.userAgent %q", ev.Headers["user-agent"], rc.HTTP.UserAgent)
	}

	checkBody(t, r, ev)
	checkAuthorizer(t, r, ev)
}

func checkBody(t *testing.T, r routes.Route, ev events.APIGatewayV2HTTPRequest) {
	wantBody := (r.Method == "POST" || r.Method == "PUT" || r.Method == "PATCH") && !bodiless[r.Name]
	if ev.IsBase64Encoded {
		t.Errorf("isBase64Encoded is true; JSON bodies arrive as text")
	}
	if !wantBody {
		if ev.Body != "" || ev.Headers["content-type"] != "" {
			t.Errorf("%s %s takes no body, the event has body %q, content-type %q", r.Method, r.Path, ev.Body, ev.Headers["content-type"])
		}
		return
	}
	if ct := ev.Headers["content-type"]; !strings.HasPrefix(ct, "application/json") {
		t.Errorf("content-type = %q, want application/json", ct)
	}
	if cl := ev.Headers["content-length"]; cl != strconv.Itoa(len(ev.Body)) {
		t.Errorf("content-length = %q, body has %d bytes", cl, len(ev.Body))
	}
	var obj map[string]any
	dec := json.NewDecoder(strings.NewReader(ev.Body))
	if err := dec.Decode(&obj); err != nil || dec.More() || len(obj) == 0 {
		t.Errorf("body must be one non-empty JSON object (err %v): %q", err, ev.Body)
	}
	if len(ev.Body) > httpapi.MaxBodyBytes {
		t.Errorf("body is %d bytes, over httpapi.MaxBodyBytes", len(ev.Body))
	}
}

func checkAuthorizer(t *testing.T, r routes.Route, ev events.APIGatewayV2HTTPRequest) {
	a := ev.RequestContext.Authorizer
	if r.Access.Public {
		if a != nil {
			t.Errorf("public route %s carries an authorizer context: %+v", r.Path, a)
		}
		if _, ok := ev.Headers["authorization"]; ok {
			t.Errorf("public route %s sends an authorization header", r.Path)
		}
		return
	}
	if !strings.HasPrefix(ev.Headers["authorization"], "Bearer ") {
		t.Errorf("protected route: authorization header = %q, want Bearer …", ev.Headers["authorization"])
	}
	if a == nil || a.Lambda == nil {
		t.Fatalf("protected route %s: requestContext.authorizer.lambda is missing", r.Path)
	}
	if a.JWT != nil || a.IAM != nil {
		t.Errorf("authorizer context has jwt or iam parts; a Lambda authorizer sets only lambda")
	}
	want := map[string]any{
		httpapi.CtxUserID:       adminID,
		httpapi.CtxRole:         string(deskline.RoleAdmin),
		httpapi.CtxDepartmentID: "", // admins belong to no department
		httpapi.CtxStatus:       string(deskline.StatusApproved),
		httpapi.CtxSessionID:    sessionID,
	}
	if !reflect.DeepEqual(a.Lambda, want) {
		t.Errorf("authorizer.lambda = %v, want %v", a.Lambda, want)
	}
	if !deskline.ValidID(deskline.PrefixUser, adminID) || !deskline.ValidID(deskline.PrefixSession, sessionID) {
		t.Errorf("the admin's ids are not valid ids")
	}
}

func TestAuthorizerEvent(t *testing.T) {
	path := filepath.Join("authorizer", "request.json")
	var ev events.APIGatewayV2CustomAuthorizerV2Request
	decodeStrict(t, path, &ev)
	if ev.Version != "2.0" || ev.Type != "REQUEST" {
		t.Errorf("version %q, type %q; want 2.0, REQUEST", ev.Version, ev.Type)
	}
	auth := ev.Headers["authorization"]
	if !strings.HasPrefix(auth, "Bearer ") || len(auth) <= len("Bearer ") {
		t.Errorf("authorization header = %q, want Bearer <token>", auth)
	}
	if !slices.Equal(ev.IdentitySource, []string{auth}) {
		t.Errorf("identitySource = %q, want the authorization header", ev.IdentitySource)
	}
	rc := ev.RequestContext
	if rc.Authorizer != nil {
		t.Errorf("the authorizer's own event carries an authorizer context")
	}
	// It authorizes a request to a protected route of the table.
	var route *routes.Route
	for i, r := range routes.HTTP {
		if r.Method+" "+r.Path == ev.RouteKey {
			route = &routes.HTTP[i]
		}
	}
	switch {
	case route == nil:
		t.Fatalf("routeKey %q is no route of routes.HTTP", ev.RouteKey)
	case route.Access.Public:
		t.Errorf("routeKey %q is a public route: the authorizer never runs for it", ev.RouteKey)
	}
	if rc.RouteKey != ev.RouteKey || rc.HTTP.Method != route.Method || rc.HTTP.Path != ev.RawPath || rc.Stage != "$default" {
		t.Errorf("requestContext (routeKey %q, method %q, path %q, stage %q) disagrees with the event", rc.RouteKey, rc.HTTP.Method, rc.HTTP.Path, rc.Stage)
	}
	wantArn := ":" + rc.AccountID + ":" + rc.APIID + "/" + rc.Stage + "/" + route.Method + ev.RawPath
	if !strings.HasPrefix(ev.RouteArn, "arn:aws:execute-api:") || !strings.HasSuffix(ev.RouteArn, wantArn) {
		t.Errorf("routeArn = %q, want arn:aws:execute-api:<region>%s", ev.RouteArn, wantArn)
	}
}
