package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/deskline/deskline/localstack/dynamotest"
	"github.com/deskline/deskline/shared/app"
	"github.com/deskline/deskline/shared/httpapi"
)

// eventFile is the path of a file under the repository's events/.
func eventFile(parts ...string) string {
	return filepath.Join(append([]string{"..", "..", "..", "events"}, parts...)...)
}

func invokeMain(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// noDynamoDB makes sure a test that must fail on its arguments never gets
// as far as starting DynamoDB Local: the endpoint it would use is closed.
func noDynamoDB(t *testing.T) {
	t.Setenv(EnvDynamoDBEndpoint, "http://127.0.0.1:1")
}

func TestArguments(t *testing.T) {
	noDynamoDB(t)
	dir := t.TempDir()
	notJSON := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(notJSON, []byte(`{"version": "2.0",`), 0o600); err != nil {
		t.Fatal(err)
	}
	wrongShape := filepath.Join(dir, "array.json")
	if err := os.WriteFile(wrongShape, []byte(`[1, 2]`), 0o600); err != nil {
		t.Fatal(err)
	}
	twoValues := filepath.Join(dir, "two.json")
	if err := os.WriteFile(twoValues, []byte(`{} {}`), 0o600); err != nil {
		t.Fatal(err)
	}
	health := eventFile("http", "health.json")
	tests := []struct {
		name   string
		args   []string
		stderr []string // substrings
	}{
		{"no arguments", nil, []string{"-fn (FN=) is required", "usage: invoke"}},
		{"empty fn", []string{"-fn", "", "-event", health}, []string{"-fn (FN=) is required"}},
		{"no event", []string{"-fn", "health"}, []string{"-event (EVENT=) is required"}},
		{"unknown fn", []string{"-fn", "tickets-frobnicate", "-event", health}, []string{`unknown function "tickets-frobnicate"`, "valid names:", "\n  health\n", "\n  auth-login\n", "\n  authorizer"}},
		{"missing file", []string{"-fn", "health", "-event", filepath.Join(dir, "nope.json")}, []string{"read the event", "nope.json", "no such file"}},
		{"not JSON", []string{"-fn", "health", "-event", notJSON}, []string{"bad.json", "not a events.APIGatewayV2HTTPRequest event"}},
		{"wrong shape", []string{"-fn", "authorizer", "-event", wrongShape}, []string{"not a events.APIGatewayV2CustomAuthorizerV2Request event"}},
		{"two values", []string{"-fn", "health", "-event", twoValues}, []string{"more than one JSON value"}},
		{"extra argument", []string{"-fn", "health", "-event", health, "more"}, []string{`unexpected arguments ["more"]`}},
		{"unknown flag", []string{"-function", "health"}, []string{"flag provided but not defined: -function"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := invokeMain(t, tt.args...)
			if code != exitUsage {
				t.Errorf("exit status %d, want %d; stderr:\n%s", code, exitUsage, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			for _, s := range tt.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
		})
	}
}

func TestHelp(t *testing.T) {
	noDynamoDB(t)
	code, _, stderr := invokeMain(t, "-h")
	if code != exitOK || !strings.Contains(stderr, "usage: invoke") || !strings.Contains(stderr, "authorizer") {
		t.Errorf("-h: exit %d, stderr:\n%s", code, stderr)
	}
}

func TestDecodeEventWarnsAboutUnknownFields(t *testing.T) {
	var stderr bytes.Buffer
	var ev events.APIGatewayV2HTTPRequest
	if err := decodeEvent([]byte(`{"version":"2.0","rawPth":"/api/health"}`), &ev, &stderr); err != nil {
		t.Fatal(err)
	}
	if ev.Version != "2.0" || !strings.Contains(stderr.String(), `unknown field "rawPth"`) {
		t.Errorf("event %+v, stderr %q", ev, stderr.String())
	}
}

func TestRouteKeyMismatchWarns(t *testing.T) {
	noDynamoDB(t)
	// Arguments are fine, so run goes on to DynamoDB (closed) and fails
	// there; the warning comes first.
	code, _, stderr := invokeMain(t, "-fn", "auth-me", "-event", eventFile("http", "health.json"))
	if code != exitError {
		t.Errorf("exit status %d, want %d", code, exitError)
	}
	if !strings.Contains(stderr, `the event's routeKey is "GET /api/health", function auth-me serves "GET /api/auth/me"`) {
		t.Errorf("no routeKey warning in stderr:\n%s", stderr)
	}
}

// useTable points invoke at a fresh table in the test DynamoDB Local.
func useTable(t *testing.T) {
	t.Helper()
	_, table := dynamotest.Table(t)
	t.Setenv(EnvDynamoDBEndpoint, dynamotest.Endpoint(t))
	t.Setenv(app.EnvTable, table)
	t.Setenv(app.EnvStage, "")     // defaults to local
	t.Setenv(app.EnvJWTSecret, "") // a random one is generated
}

func httpResponse(t *testing.T, stdout string) events.APIGatewayV2HTTPResponse {
	t.Helper()
	var resp events.APIGatewayV2HTTPResponse
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&resp); err != nil {
		t.Fatalf("stdout is not an HTTP API response: %v\n%s", err, stdout)
	}
	return resp
}

func TestInvokeHealth(t *testing.T) {
	useTable(t)
	code, stdout, stderr := invokeMain(t, "-fn", "health", "-event", eventFile("http", "health.json"))
	if code != exitOK {
		t.Fatalf("exit status %d; stderr:\n%s", code, stderr)
	}
	if !strings.HasPrefix(stdout, "{\n  \"statusCode\": 200,\n") {
		t.Errorf("stdout is not the pretty-printed response:\n%s", stdout)
	}
	resp := httpResponse(t, stdout)
	if resp.StatusCode != 200 || resp.Body != `{"status":"ok"}` {
		t.Errorf("health = %d %s", resp.StatusCode, resp.Body)
	}
	if !strings.Contains(stderr, "route=health") {
		t.Errorf("the handler's log line is not on stderr:\n%s", stderr)
	}
}

func TestInvokeLoginUnknownCredentials(t *testing.T) {
	useTable(t) // empty: the event's admin@deskline.local does not exist
	code, stdout, stderr := invokeMain(t, "-fn", "auth-login", "-event", eventFile("http", "auth-login.json"))
	if code != exitOK {
		t.Fatalf("exit status %d; stderr:\n%s", code, stderr)
	}
	resp := httpResponse(t, stdout)
	if resp.StatusCode != 401 {
		t.Errorf("status %d, want 401; body %s", resp.StatusCode, resp.Body)
	}
	var body httpapi.ErrorBody
	dec := json.NewDecoder(strings.NewReader(resp.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		t.Fatalf("body %s: %v", resp.Body, err)
	}
	if body.Error != "Invalid credentials" || body.Code != "unauthorized" {
		t.Errorf("body = %+v, want error %q, code unauthorized", body, "Invalid credentials")
	}
}

func TestInvokeAuthorizer(t *testing.T) {
	useTable(t)
	code, stdout, stderr := invokeMain(t, "-fn", "authorizer", "-event", eventFile("authorizer", "request.json"))
	if code != exitOK {
		t.Fatalf("exit status %d; stderr:\n%s", code, stderr)
	}
	var resp events.APIGatewayV2CustomAuthorizerSimpleResponse
	if err := json.Unmarshal([]byte(stdout), &resp); err != nil {
		t.Fatalf("stdout: %v\n%s", err, stdout)
	}
	// The event's token is a placeholder: the authorizer passes the refusal
	// on to the route, which answers 401.
	if !resp.IsAuthorized || resp.Context[httpapi.CtxAuthError] != "Invalid token" {
		t.Errorf("authorizer response = %+v", resp)
	}
}

func TestInvokeMissingTable(t *testing.T) {
	t.Setenv(EnvDynamoDBEndpoint, dynamotest.Endpoint(t))
	t.Setenv(app.EnvTable, "no-such-table")
	code, stdout, stderr := invokeMain(t, "-fn", "health", "-event", eventFile("http", "health.json"))
	if code != exitError || stdout != "" || !strings.Contains(stderr, `there is no table "no-such-table"`) {
		t.Errorf("exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
	}
}

// TestInvokeThrowawayDynamoDB runs without an endpoint: invoke starts and
// stops its own in-memory DynamoDB Local. It runs where the test services
// run, since those guarantee DynamoDB Local is cached and Java is there.
func TestInvokeThrowawayDynamoDB(t *testing.T) {
	dynamotest.Endpoint(t)
	if testing.Short() {
		t.Skip("starts a JVM")
	}
	t.Setenv(EnvDynamoDBEndpoint, "")
	t.Setenv(app.EnvStage, "")
	t.Setenv(app.EnvJWTSecret, "")
	code, stdout, stderr := invokeMain(t, "-fn", "auth-login", "-event", eventFile("http", "auth-login.json"))
	if code != exitOK {
		t.Fatalf("exit status %d; stderr:\n%s", code, stderr)
	}
	if resp := httpResponse(t, stdout); resp.StatusCode != 401 {
		t.Errorf("status %d, want 401 (a fresh table knows no one); body %s", resp.StatusCode, resp.Body)
	}
}
