package stack_test

// The stack is synthesized twice per test binary, in TestMain: the current
// route table with cdk.json's context (what `make synth` deploys), and a
// fixture route table in stage prod that has every kind of function
// (WebSocket routes, stream consumers, an S3 consumer, every Need), so the
// wiring of kinds the current table does not have yet is tested too. Both use
// a directory of dummy bootstrap files: the tests need no Lambda build.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/deskline/deskline/infra/stack"
	"github.com/deskline/deskline/shared/app"
	"github.com/deskline/deskline/shared/dynamo"
	"github.com/deskline/deskline/shared/httpapi"
	"github.com/deskline/deskline/shared/routes"
)

// synthesized is one synthesized stack.
type synthesized struct {
	name   string
	cfg    stack.Config
	spec   stack.Spec
	tmpl   assertions.Template
	res    map[string]resource // logical id -> resource
	out    map[string]any      // Outputs
	bytes  int
	nested int
	outdir string // its cloud assembly
}

type resource struct {
	Type       string         `json:"Type"`
	Properties map[string]any `json:"Properties"`
}

var current, fixture *synthesized

// assembly is the cloud assembly of current, as `cdk synth` writes it to
// cdk.out; TestCdklocalSynth hands it to the CLI.
var assembly string

// TestCloudFormationValidation reads the report of the CDK library's
// CloudFormation schema validation, which runs on every synthesis:
// cdk.json's validateAgainstDefaultRules makes its errors fail synthesis
// (TestMain would fail); this fails on its warnings too.
func TestCloudFormationValidation(t *testing.T) {
	for _, s := range both() {
		t.Run(s.name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(s.outdir, "validation-report.json"))
			if err != nil {
				t.Fatalf("no validation report: %v", err)
			}
			var report struct {
				PluginReports []json.RawMessage `json:"pluginReports"`
			}
			if err := json.Unmarshal(b, &report); err != nil {
				t.Fatal(err)
			}
			if len(report.PluginReports) != 0 {
				t.Errorf("validation found issues:\n%s", b)
			}
		})
	}
}

func TestMain(m *testing.M) {
	// jsii runs Node; this machine has Node 20, which jsii warns about.
	if os.Getenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION") == "" {
		os.Setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
	}
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "infra tests:", err)
		code = 1
	}
	jsii.Close()
	os.Exit(code)
}

func setup(m *testing.M) (code int, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("synth panicked: %v", r)
		}
	}()
	ctx, err := stack.LoadContext(filepath.Join("..", "..", "cdk.json"))
	if err != nil {
		return 1, err
	}
	dir, err := os.MkdirTemp("", "deskline-infra-")
	if err != nil {
		return 1, err
	}
	defer os.RemoveAll(dir)
	assets := filepath.Join(dir, "assets")
	assembly = filepath.Join(dir, "cdk.out")
	if current, err = synth("current", ctx, nil, stack.FromRoutes(), assets, assembly); err != nil {
		return 1, err
	}
	if fixture, err = synth("fixture", ctx, map[string]any{stack.CtxStage: stack.StageProd, stack.CtxMailFrom: "desk@mail.example.org"}, fixtureSpec(), assets, filepath.Join(dir, "fixture.out")); err != nil {
		return 1, err
	}
	return m.Run(), nil
}

func synth(name string, ctx, override map[string]any, spec stack.Spec, assets, outdir string) (*synthesized, error) {
	for _, n := range spec.Names() {
		if err := os.MkdirAll(filepath.Join(assets, n), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(assets, n, "bootstrap"), []byte("#!/bin/sh\n"), 0o755); err != nil {
			return nil, err
		}
	}
	c := map[string]any{}
	for k, v := range ctx {
		c[k] = v
	}
	for k, v := range override {
		c[k] = v
	}
	c[stack.CtxAssetDir] = assets
	app := awscdk.NewApp(&awscdk.AppProps{Context: &c, Outdir: jsii.String(outdir)})
	d, err := stack.Build(app, spec)
	if err != nil {
		return nil, err
	}
	// Synthesizes the app into outdir: a cloud assembly like cdk synth's.
	tmpl := assertions.Template_FromStack(d.Stack, parsing)
	doc, size, err := decode(tmpl)
	if err != nil {
		return nil, err
	}
	// Merge the nested stacks' resources, with their parameters replaced by
	// what the parent passes and their logical ids prefixed, so every check
	// sees one template.
	for fam, n := range d.Nested {
		ndoc, nsize, err := decode(assertions.Template_FromStack(n, parsing))
		if err != nil {
			return nil, err
		}
		size += nsize
		parentID := *d.Stack.GetLogicalId(n.NestedStackResource())
		params, _ := doc.Resources[parentID].Properties["Parameters"].(map[string]any)
		local := map[string]bool{}
		for id := range ndoc.Resources {
			local[id] = true
		}
		prefix := "Nested" + fam + "."
		for id, r := range ndoc.Resources {
			r.Properties, _ = rewrite(r.Properties, prefix, local, params).(map[string]any)
			doc.Resources[prefix+id] = r
		}
	}
	return &synthesized{name: name, cfg: d.Config, spec: spec, tmpl: tmpl, res: doc.Resources, out: doc.Outputs, bytes: size, nested: len(d.Nested), outdir: outdir}, nil
}

// parsing skips the assertions' own check for cyclical dependencies, which
// took most of the test time on a stack this size (CloudFormation refuses a
// cyclical template at deploy time anyway).
var parsing = &assertions.TemplateParsingOptions{SkipCyclicalDependenciesCheck: jsii.Bool(true)}

type document struct {
	Resources map[string]resource `json:"Resources"`
	Outputs   map[string]any      `json:"Outputs"`
}

func decode(t assertions.Template) (document, int, error) {
	var doc document
	b, err := json.Marshal(t.ToJSON())
	if err != nil {
		return doc, 0, err
	}
	return doc, len(b), json.Unmarshal(b, &doc)
}

// rewrite replaces a nested template's references: its parameters by the
// parent's values, its own resources by their prefixed ids.
func rewrite(v any, prefix string, local map[string]bool, params map[string]any) any {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			if r, ok := x["Ref"].(string); ok {
				if p, ok := params[r]; ok {
					return p
				}
				if local[r] {
					return map[string]any{"Ref": prefix + r}
				}
				return x
			}
			if ga, ok := x["Fn::GetAtt"].([]any); ok && len(ga) == 2 {
				if id, _ := ga[0].(string); local[id] {
					return map[string]any{"Fn::GetAtt": []any{prefix + id, ga[1]}}
				}
			}
		}
		out := map[string]any{}
		for k, e := range x {
			out[k] = rewrite(e, prefix, local, params)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = rewrite(e, prefix, local, params)
		}
		return out
	}
	return v
}

// fixtureSpec has one function of every kind and every Need.
func fixtureSpec() stack.Spec {
	return stack.Spec{
		HTTP: []routes.Route{
			{Name: "fx-health", Method: "GET", Path: "/api/fx/health", Access: httpapi.Public},
			{Name: "fx-get", Method: "GET", Path: "/api/fx/{id}", Access: httpapi.Anyone},
			{Name: "auth-fx", Method: "POST", Path: "/api/fx/login", Access: httpapi.Public},
			{Name: "fx-mail", Method: "POST", Path: "/api/fx/mail", Access: httpapi.Public, Needs: []routes.Need{routes.NeedSendMail}},
			{Name: "fx-upload", Method: "POST", Path: "/api/fx/{kind}/{id}", Access: httpapi.Anyone, Needs: []routes.Need{routes.NeedObjects}},
		},
		Functions: []routes.Function{
			{Name: "authorizer", Kind: routes.KindAuthorizer},
			{Name: "ws-connect", Kind: routes.KindWebSocket, RouteKey: "$connect", Writes: true},
			{Name: "ws-disconnect", Kind: routes.KindWebSocket, RouteKey: "$disconnect", Writes: true},
			{Name: "ws-default", Kind: routes.KindWebSocket, RouteKey: "$default", Needs: []routes.Need{routes.NeedPostWS}},
			{Name: "ws-subscribe", Kind: routes.KindWebSocket, RouteKey: "subscribe", Writes: true},
			{Name: "stream-notifier", Kind: routes.KindStream, ItemTypes: []string{"ticket", "task", "comment", "message"}, Writes: true, Needs: []routes.Need{routes.NeedPostWS}},
			{Name: "stream-projector", Kind: routes.KindStream, ItemTypes: []string{"ticket", "task"}, Writes: true},
			{Name: "upload-validator", Kind: routes.KindS3, Writes: true, Needs: []routes.Need{routes.NeedObjects}},
			{Name: "rebuild", Kind: routes.KindTask, Writes: true},
			{Name: "mailer", Kind: routes.KindTask, Writes: true, Needs: []routes.Need{routes.NeedSendMail}, Schedule: "rate(1 hour)"},
		},
	}
}

func both() []*synthesized { return []*synthesized{current, fixture} }

// check runs CDK assertions, which panic on failure, and reports the panic
// as a test error.
func check(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	f()
}

// --- template helpers ---------------------------------------------------------

func (s *synthesized) ofType(typ string) map[string]resource {
	out := map[string]resource{}
	for id, r := range s.res {
		if r.Type == typ {
			out[id] = r
		}
	}
	return out
}

// function returns the logical id and properties of the named function.
func (s *synthesized) function(t *testing.T, name string) (string, map[string]any) {
	t.Helper()
	want := stack.FunctionName(s.cfg.Stage, name)
	for id, r := range s.ofType("AWS::Lambda::Function") {
		if r.Properties["FunctionName"] == want {
			return id, r.Properties
		}
	}
	t.Fatalf("%s: no function %s", s.name, want)
	return "", nil
}

func getAtt(v any) (string, string) {
	m, _ := v.(map[string]any)
	a, _ := m["Fn::GetAtt"].([]any)
	if len(a) != 2 {
		return "", ""
	}
	id, _ := a[0].(string)
	attr, _ := a[1].(string)
	return id, attr
}

func ref(v any) string {
	m, _ := v.(map[string]any)
	s, _ := m["Ref"].(string)
	return s
}

func list(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

type statement struct {
	Effect    string
	Actions   []string
	Resources []any
	Condition any
}

// statements returns every policy statement attached to a function's role.
func (s *synthesized) statements(t *testing.T, name string) []statement {
	t.Helper()
	_, fn := s.function(t, name)
	role, _ := getAtt(fn["Role"])
	if role == "" {
		t.Fatalf("%s: %s has no role", s.name, name)
	}
	var out []statement
	for _, p := range s.ofType("AWS::IAM::Policy") {
		attached := false
		for _, r := range list(p.Properties["Roles"]) {
			attached = attached || ref(r) == role
		}
		if !attached {
			continue
		}
		doc, _ := p.Properties["PolicyDocument"].(map[string]any)
		for _, raw := range list(doc["Statement"]) {
			m := raw.(map[string]any)
			st := statement{Effect: m["Effect"].(string), Resources: list(m["Resource"]), Condition: m["Condition"]}
			for _, a := range list(m["Action"]) {
				st.Actions = append(st.Actions, a.(string))
			}
			out = append(out, st)
		}
	}
	if r, ok := s.res[role]; ok {
		if len(list(r.Properties["ManagedPolicyArns"])) > 0 {
			t.Errorf("%s: %s's role has managed policies %v", s.name, name, r.Properties["ManagedPolicyArns"])
		}
	}
	return out
}

func actionSet(sts []statement) map[string]bool {
	out := map[string]bool{}
	for _, st := range sts {
		for _, a := range st.Actions {
			out[a] = true
		}
	}
	return out
}

type fnInfo struct {
	name, kind string
	writes     bool
	needs      []routes.Need
	route      *routes.Route
	itemTypes  []string
	schedule   string
}

func (f fnInfo) has(n routes.Need) bool {
	for _, x := range f.needs {
		if x == n {
			return true
		}
	}
	return false
}

func (s *synthesized) infos() []fnInfo {
	var out []fnInfo
	for i := range s.spec.HTTP {
		r := s.spec.HTTP[i]
		out = append(out, fnInfo{name: r.Name, kind: "http", writes: !r.ReadOnly(), needs: r.Needs, route: &r})
	}
	for _, f := range s.spec.Functions {
		out = append(out, fnInfo{name: f.Name, kind: f.Kind, writes: f.Writes, needs: f.Needs, itemTypes: f.ItemTypes, schedule: f.Schedule})
	}
	return out
}

// --- tests --------------------------------------------------------------------

func TestEveryFunctionIsDeployedForArm64(t *testing.T) {
	for _, s := range both() {
		var want []string
		for _, n := range s.spec.Names() {
			want = append(want, stack.FunctionName(s.cfg.Stage, n))
			_, fn := s.function(t, n)
			if fn["Runtime"] != "provided.al2023" || fn["Handler"] != "bootstrap" {
				t.Errorf("%s: %s runtime %v handler %v", s.name, n, fn["Runtime"], fn["Handler"])
			}
			if !reflect.DeepEqual(fn["Architectures"], []any{"arm64"}) {
				t.Errorf("%s: %s architectures %v", s.name, n, fn["Architectures"])
			}
			lc, _ := fn["LoggingConfig"].(map[string]any)
			if lc["LogFormat"] != "JSON" || ref(lc["LogGroup"]) == "" {
				t.Errorf("%s: %s logging %v", s.name, n, lc)
			}
			if fn["MemorySize"] == nil || fn["Timeout"] == nil {
				t.Errorf("%s: %s has no memory size or timeout", s.name, n)
			}
			env, _ := fn["Environment"].(map[string]any)
			vars, _ := env["Variables"].(map[string]any)
			if vars["DESKLINE_STAGE"] != s.cfg.Stage || ref(vars["DESKLINE_TABLE"]) == "" || vars["DESKLINE_MAIL_FROM"] != s.cfg.MailFrom {
				t.Errorf("%s: %s environment %v", s.name, n, vars)
			}
		}
		var got []string
		for _, r := range s.ofType("AWS::Lambda::Function") {
			if n, _ := r.Properties["FunctionName"].(string); strings.HasPrefix(n, "deskline-") {
				got = append(got, n)
			}
		}
		sort.Strings(got)
		sort.Strings(want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: functions\n got %v\nwant %v", s.name, got, want)
		}
		if n := len(s.ofType("AWS::Logs::LogGroup")); n != 1 {
			t.Errorf("%s: %d log groups, want the one shared by every function", s.name, n)
		}
		for _, lg := range s.ofType("AWS::Logs::LogGroup") {
			if lg.Properties["RetentionInDays"] == nil {
				t.Errorf("%s: log group %v has no retention", s.name, lg.Properties["LogGroupName"])
			}
		}
	}
}

func TestEveryRouteHasItsIntegrationAndAuthorizer(t *testing.T) {
	for _, s := range both() {
		auths := s.ofType("AWS::ApiGatewayV2::Authorizer")
		var httpAuth string
		for id, a := range auths {
			if a.Properties["AuthorizerType"] == "REQUEST" && a.Properties["EnableSimpleResponses"] == true {
				httpAuth = id
				// Sessions must be revocable at once: no cache, and so no
				// identity source.
				if ttl := a.Properties["AuthorizerResultTtlInSeconds"]; ttl != float64(0) {
					t.Errorf("%s: HTTP authorizer caches results for %v s", s.name, ttl)
				}
				if _, ok := a.Properties["IdentitySource"]; ok {
					t.Errorf("%s: HTTP authorizer has an identity source %v", s.name, a.Properties["IdentitySource"])
				}
				if a.Properties["AuthorizerPayloadFormatVersion"] != "2.0" {
					t.Errorf("%s: HTTP authorizer payload %v", s.name, a.Properties["AuthorizerPayloadFormatVersion"])
				}
				authID, _ := s.function(t, "authorizer")
				if !strings.Contains(mustJSON(a.Properties["AuthorizerUri"]), `"`+authID+`"`) {
					t.Errorf("%s: HTTP authorizer does not invoke the authorizer function", s.name)
				}
			}
		}
		if httpAuth == "" {
			t.Fatalf("%s: no HTTP Lambda authorizer with simple responses", s.name)
		}
		routesByKey := map[string]resource{}
		for _, r := range s.ofType("AWS::ApiGatewayV2::Route") {
			k, _ := r.Properties["RouteKey"].(string)
			if strings.HasPrefix(k, "$") || !strings.Contains(k, " ") {
				continue // WebSocket route keys
			}
			if _, dup := routesByKey[k]; dup {
				t.Errorf("%s: route %s twice", s.name, k)
			}
			routesByKey[k] = r
		}
		if len(routesByKey) != len(s.spec.HTTP) {
			t.Errorf("%s: %d HTTP routes in the template, %d in the table", s.name, len(routesByKey), len(s.spec.HTTP))
		}
		for _, rt := range s.spec.HTTP {
			key := rt.Method + " " + rt.Path
			r, ok := routesByKey[key]
			if !ok {
				t.Errorf("%s: no route %s", s.name, key)
				continue
			}
			if rt.Access.Public {
				if r.Properties["AuthorizationType"] != "NONE" {
					t.Errorf("%s: public route %s has authorization %v", s.name, key, r.Properties["AuthorizationType"])
				}
			} else if r.Properties["AuthorizationType"] != "CUSTOM" || ref(r.Properties["AuthorizerId"]) != httpAuth {
				t.Errorf("%s: route %s is not behind the authorizer: %v %v", s.name, key, r.Properties["AuthorizationType"], r.Properties["AuthorizerId"])
			}
			// Target is "integrations/<integration id>".
			target := mustJSON(r.Properties["Target"])
			fnID, _ := s.function(t, rt.Name)
			found := false
			for id, in := range s.ofType("AWS::ApiGatewayV2::Integration") {
				if strings.Contains(target, `"`+id+`"`) {
					found = true
					if in.Properties["PayloadFormatVersion"] != "2.0" || !strings.Contains(mustJSON(in.Properties["IntegrationUri"]), `"`+fnID+`"`) {
						t.Errorf("%s: route %s integrates %v (payload %v), want function %s", s.name, key, in.Properties["IntegrationUri"], in.Properties["PayloadFormatVersion"], fnID)
					}
				}
			}
			if !found {
				t.Errorf("%s: route %s has no integration", s.name, key)
			}
		}
	}
}

func TestHTTPStageThrottlesAndCORS(t *testing.T) {
	for _, s := range both() {
		check(t, s.name+" stage throttling", func() {
			s.tmpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Stage"), map[string]any{
				"StageName":  "$default",
				"AutoDeploy": true,
				"DefaultRouteSettings": map[string]any{
					"ThrottlingRateLimit":  assertions.Match_AnyValue(),
					"ThrottlingBurstLimit": assertions.Match_AnyValue(),
				},
			})
		})
		check(t, s.name+" CORS", func() {
			s.tmpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Api"), map[string]any{
				"ProtocolType": "HTTP",
				"CorsConfiguration": assertions.Match_ObjectLike(&map[string]any{
					"AllowHeaders": assertions.Match_ArrayWith(&[]any{"Authorization", "Content-Type"}),
					"AllowOrigins": assertions.Match_AnyValue(),
				}),
			})
		})
	}
}

// allowed lists every action a Deskline function may have, so anything new
// (a wildcard, a Scan) fails the test.
var allowed = func() map[string]bool {
	m := map[string]bool{
		"logs:CreateLogStream": true, "logs:PutLogEvents": true,
		"secretsmanager:GetSecretValue": true, "secretsmanager:DescribeSecret": true,
		"ses:SendEmail": true, "execute-api:ManageConnections": true,
		"dynamodb:ListStreams": true, "dynamodb:DescribeStream": true, "dynamodb:GetRecords": true, "dynamodb:GetShardIterator": true,
		"sqs:SendMessage": true, "sqs:GetQueueAttributes": true, "sqs:GetQueueUrl": true,
	}
	for _, a := range append(append(append([]string{}, stack.ReadActions...), stack.WriteActions...), stack.ObjectActions...) {
		m[a] = true
	}
	return m
}()

func TestEachFunctionHasLeastPrivilege(t *testing.T) {
	for _, s := range both() {
		tableID := ""
		for id := range s.ofType("AWS::DynamoDB::Table") {
			tableID = id
		}
		for _, f := range s.infos() {
			sts := s.statements(t, f.name)
			acts := actionSet(sts)
			for a := range acts {
				if !allowed[a] {
					t.Errorf("%s: %s may %s", s.name, f.name, a)
				}
			}
			for _, a := range stack.ReadActions {
				if !acts[a] {
					t.Errorf("%s: %s lacks %s", s.name, f.name, a)
				}
			}
			for _, a := range stack.WriteActions {
				if acts[a] != f.writes {
					t.Errorf("%s: %s (writes=%v, %s) has %s: %v", s.name, f.name, f.writes, method(f), a, acts[a])
				}
			}
			if f.route != nil && f.route.Method == "GET" && f.writes {
				t.Errorf("%s: GET route %s writes", s.name, f.name)
			}
			expect := map[string]bool{
				"ses:SendEmail":                 f.has(routes.NeedSendMail),
				"s3:PutObject":                  f.has(routes.NeedObjects),
				"execute-api:ManageConnections": f.has(routes.NeedPostWS),
				"secretsmanager:GetSecretValue": stack.NeedsJWTSecret(f.name, f.kind),
				"dynamodb:GetRecords":           f.kind == routes.KindStream,
				"sqs:SendMessage":               f.kind == routes.KindStream || f.kind == routes.KindS3 || f.schedule != "",
			}
			for a, want := range expect {
				if acts[a] != want {
					t.Errorf("%s: %s has %s: %v, want %v", s.name, f.name, a, acts[a], want)
				}
			}
			_, fn := s.function(t, f.name)
			vars := fn["Environment"].(map[string]any)["Variables"].(map[string]any)
			envWant := map[string]bool{
				app.EnvJWTSecretARN:   stack.NeedsJWTSecret(f.name, f.kind),
				app.EnvBucket:         f.has(routes.NeedObjects) || f.kind == routes.KindS3,
				app.EnvConnectionsURL: f.has(routes.NeedPostWS),
			}
			for k, want := range envWant {
				if _, ok := vars[k]; ok != want {
					t.Errorf("%s: %s has %s: %v, want %v", s.name, f.name, k, ok, want)
				}
			}
			for _, st := range sts {
				if st.Effect != "Allow" {
					continue
				}
				for _, r := range st.Resources {
					if r == "*" && !(len(st.Actions) == 1 && st.Actions[0] == "dynamodb:ListStreams") {
						t.Errorf("%s: %s may %v on every resource", s.name, f.name, st.Actions)
					}
				}
				for _, a := range st.Actions {
					if strings.HasPrefix(a, "dynamodb:") && a != "dynamodb:ListStreams" {
						for _, r := range st.Resources {
							if !strings.Contains(mustJSON(r), `"`+tableID+`"`) {
								t.Errorf("%s: %s may %s on %v, not the table", s.name, f.name, a, r)
							}
						}
					}
					if a == "execute-api:ManageConnections" && !strings.Contains(mustJSON(st.Resources), "/*/@connections/*") {
						t.Errorf("%s: %s may manage connections on %v", s.name, f.name, st.Resources)
					}
					if a == "ses:SendEmail" {
						if !strings.Contains(mustJSON(st.Condition), s.cfg.MailFrom) {
							t.Errorf("%s: %s may send mail from any address", s.name, f.name)
						}
					}
				}
			}
		}
	}
}

func method(f fnInfo) string {
	if f.route != nil {
		return f.route.Method + " " + f.route.Path
	}
	return f.kind
}

func TestStreamConsumersAreFilteredAndBounded(t *testing.T) {
	for _, s := range both() {
		mappings := s.ofType("AWS::Lambda::EventSourceMapping")
		n := 0
		for _, f := range s.infos() {
			if f.kind != routes.KindStream {
				continue
			}
			n++
			fnID, _ := s.function(t, f.name)
			var m map[string]any
			for _, em := range mappings {
				if ref(em.Properties["FunctionName"]) == fnID {
					m = em.Properties
				}
			}
			if m == nil {
				t.Errorf("%s: %s has no event source mapping", s.name, f.name)
				continue
			}
			if id, attr := getAtt(m["EventSourceArn"]); attr != "StreamArn" || s.res[id].Type != "AWS::DynamoDB::Table" {
				t.Errorf("%s: %s reads %v, not the table's stream", s.name, f.name, m["EventSourceArn"])
			}
			want := map[string]any{
				"StartingPosition": "LATEST", "BatchSize": float64(stack.StreamBatchSize), "BisectBatchOnFunctionError": true,
				"MaximumRecordAgeInSeconds": float64(stack.StreamMaxRecordAge), "FunctionResponseTypes": []any{"ReportBatchItemFailures"},
			}
			for k, v := range want {
				if !reflect.DeepEqual(m[k], v) {
					t.Errorf("%s: %s %s = %v, want %v", s.name, f.name, k, m[k], v)
				}
			}
			if r, _ := m["MaximumRetryAttempts"].(float64); r < 1 || r > 10 {
				t.Errorf("%s: %s retries %v times", s.name, f.name, m["MaximumRetryAttempts"])
			}
			dc, _ := m["DestinationConfig"].(map[string]any)
			of, _ := dc["OnFailure"].(map[string]any)
			if id, _ := getAtt(of["Destination"]); s.res[id].Type != "AWS::SQS::Queue" {
				t.Errorf("%s: %s on-failure destination %v is not a queue", s.name, f.name, of["Destination"])
			}
			var images []string
			fc, _ := m["FilterCriteria"].(map[string]any)
			for _, raw := range list(fc["Filters"]) {
				var p struct {
					DynamoDB map[string]struct {
						Type struct {
							S []string `json:"S"`
						} `json:"type"`
					} `json:"dynamodb"`
				}
				if err := json.Unmarshal([]byte(raw.(map[string]any)["Pattern"].(string)), &p); err != nil {
					t.Fatal(err)
				}
				for image, v := range p.DynamoDB {
					images = append(images, image)
					if !reflect.DeepEqual(v.Type.S, f.itemTypes) {
						t.Errorf("%s: %s filters %s type on %v, want %v", s.name, f.name, image, v.Type.S, f.itemTypes)
					}
				}
			}
			sort.Strings(images)
			if len(f.itemTypes) > 0 && !reflect.DeepEqual(images, []string{"NewImage", "OldImage"}) {
				t.Errorf("%s: %s filters on %v, want NewImage and OldImage", s.name, f.name, images)
			}
			if !s.hasAlarm(f.name + ": stream records wait") {
				t.Errorf("%s: %s has no iterator age alarm", s.name, f.name)
			}
		}
		if len(mappings) != n {
			t.Errorf("%s: %d event source mappings for %d stream consumers", s.name, len(mappings), n)
		}
	}
	if len(fixture.ofType("AWS::Lambda::EventSourceMapping")) != 2 {
		t.Errorf("fixture: want 2 stream consumers")
	}
}

func (s *synthesized) hasAlarm(descPrefix string) bool {
	for _, a := range s.ofType("AWS::CloudWatch::Alarm") {
		if d, _ := a.Properties["AlarmDescription"].(string); strings.HasPrefix(d, descPrefix) {
			return len(list(a.Properties["AlarmActions"])) > 0
		}
	}
	return false
}

func TestAlarms(t *testing.T) {
	for _, s := range both() {
		for _, n := range s.spec.Names() {
			if !s.hasAlarm(stack.FunctionName(s.cfg.Stage, n) + ": invocations failed") {
				t.Errorf("%s: %s has no errors/throttles alarm", s.name, n)
			}
		}
		queues := len(s.ofType("AWS::SQS::Queue"))
		dlqAlarms := 0
		for _, a := range s.ofType("AWS::CloudWatch::Alarm") {
			if a.Properties["MetricName"] == "ApproximateNumberOfMessagesVisible" {
				dlqAlarms++
			}
		}
		if dlqAlarms != queues {
			t.Errorf("%s: %d dead-letter queues, %d depth alarms", s.name, queues, dlqAlarms)
		}
	}
}

func TestBucketIsClosedToThePublic(t *testing.T) {
	for _, s := range both() {
		check(t, s.name+" bucket", func() {
			s.tmpl.HasResourceProperties(jsii.String("AWS::S3::Bucket"), map[string]any{
				"PublicAccessBlockConfiguration": map[string]any{
					"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true,
				},
				"BucketEncryption": assertions.Match_ObjectLike(&map[string]any{
					"ServerSideEncryptionConfiguration": assertions.Match_AnyValue(),
				}),
				"CorsConfiguration": map[string]any{"CorsRules": assertions.Match_ArrayWith(&[]any{
					assertions.Match_ObjectLike(&map[string]any{"AllowedMethods": assertions.Match_ArrayWith(&[]any{"POST"})}),
				})},
				"LifecycleConfiguration": map[string]any{"Rules": assertions.Match_ArrayWith(&[]any{
					assertions.Match_ObjectLike(&map[string]any{"AbortIncompleteMultipartUpload": map[string]any{"DaysAfterInitiation": 1}}),
				})},
			})
		})
		check(t, s.name+" TLS-only bucket policy", func() {
			s.tmpl.HasResourceProperties(jsii.String("AWS::S3::BucketPolicy"), map[string]any{
				"PolicyDocument": assertions.Match_ObjectLike(&map[string]any{
					"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
						"Effect":    "Deny",
						"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
					})}),
				}),
			})
		})
		for _, p := range s.ofType("AWS::S3::BucketPolicy") {
			doc := p.Properties["PolicyDocument"].(map[string]any)
			for _, raw := range list(doc["Statement"]) {
				st := raw.(map[string]any)
				if st["Effect"] == "Allow" {
					pr := mustJSON(st["Principal"])
					if pr == `"*"` || strings.Contains(pr, `"AWS":"*"`) {
						t.Errorf("%s: the bucket policy allows everyone: %v", s.name, st)
					}
				}
			}
		}
	}
}

func TestS3ConsumersGetObjectCreated(t *testing.T) {
	s := fixture
	fnID, _ := s.function(t, "upload-validator")
	n := s.ofType("Custom::S3BucketNotifications")
	if len(n) != 1 {
		t.Fatalf("fixture: %d bucket notification resources", len(n))
	}
	for _, r := range n {
		js := mustJSON(r.Properties["NotificationConfiguration"])
		if !strings.Contains(js, `"s3:ObjectCreated:*"`) || !strings.Contains(js, `"`+fnID+`"`) {
			t.Errorf("fixture: notifications %s", js)
		}
	}
	if len(current.ofType("Custom::S3BucketNotifications")) > 0 != hasKind(current.spec, routes.KindS3) {
		t.Errorf("current: bucket notifications without S3 functions, or the reverse")
	}
}

func hasKind(spec stack.Spec, kind string) bool {
	for _, f := range spec.Functions {
		if f.Kind == kind {
			return true
		}
	}
	return false
}

func TestWebSocketAPI(t *testing.T) {
	for _, s := range both() {
		ws := 0
		for _, a := range s.ofType("AWS::ApiGatewayV2::Api") {
			if a.Properties["ProtocolType"] == "WEBSOCKET" {
				ws++
				if a.Properties["RouteSelectionExpression"] != "$request.body.action" {
					t.Errorf("%s: route selection %v", s.name, a.Properties["RouteSelectionExpression"])
				}
			}
		}
		if want := hasKind(s.spec, routes.KindWebSocket); (ws == 1) != want {
			t.Errorf("%s: %d WebSocket APIs, WebSocket functions: %v", s.name, ws, want)
		}
		if _, ok := s.out["WebSocketUrl"]; ok != (ws == 1) {
			t.Errorf("%s: WebSocketUrl output: %v", s.name, ok)
		}
	}
	s := fixture
	keys := map[string]map[string]any{}
	for _, r := range s.ofType("AWS::ApiGatewayV2::Route") {
		keys[r.Properties["RouteKey"].(string)] = r.Properties
	}
	for _, f := range s.spec.Functions {
		if f.Kind != routes.KindWebSocket {
			continue
		}
		r, ok := keys[f.RouteKey]
		if !ok {
			t.Errorf("fixture: no WebSocket route %s", f.RouteKey)
			continue
		}
		if (f.RouteKey == "$connect") != (r["AuthorizationType"] == "CUSTOM") {
			t.Errorf("fixture: route %s authorization %v", f.RouteKey, r["AuthorizationType"])
		}
	}
	check(t, "fixture WebSocket authorizer", func() {
		s.tmpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Authorizer"), map[string]any{
			"AuthorizerType": "REQUEST",
			"IdentitySource": []any{"route.request.querystring.token"},
		})
	})
	check(t, "fixture WebSocket stage", func() {
		s.tmpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Stage"), map[string]any{
			"StageName": s.cfg.Stage, "AutoDeploy": true,
		})
	})
	_, fn := s.function(t, "stream-notifier")
	vars := fn["Environment"].(map[string]any)["Variables"].(map[string]any)
	if _, ok := vars[app.EnvConnectionsURL]; !ok {
		t.Errorf("fixture: stream-notifier has no %s", app.EnvConnectionsURL)
	}
}

func TestTableMatchesTheStore(t *testing.T) {
	in := dynamo.CreateTableInput("x")
	for _, s := range both() {
		var props map[string]any
		for _, r := range s.ofType("AWS::DynamoDB::Table") {
			props = r.Properties
		}
		var keyNames []string
		for _, k := range list(props["KeySchema"]) {
			m := k.(map[string]any)
			keyNames = append(keyNames, fmt.Sprint(m["AttributeName"], "/", m["KeyType"]))
		}
		var want []string
		for _, k := range in.KeySchema {
			want = append(want, fmt.Sprint(*k.AttributeName, "/", k.KeyType))
		}
		if !reflect.DeepEqual(keyNames, want) {
			t.Errorf("%s: keys %v, store %v", s.name, keyNames, want)
		}
		got := map[string]string{}
		for _, g := range list(props["GlobalSecondaryIndexes"]) {
			m := g.(map[string]any)
			got[m["IndexName"].(string)] = mustJSON(m["KeySchema"]) + mustJSON(m["Projection"])
		}
		wantIdx := map[string]string{}
		for _, g := range in.GlobalSecondaryIndexes {
			var ks []map[string]string
			for _, k := range g.KeySchema {
				ks = append(ks, map[string]string{"AttributeName": *k.AttributeName, "KeyType": string(k.KeyType)})
			}
			wantIdx[*g.IndexName] = mustJSON(ks) + mustJSON(map[string]string{"ProjectionType": string(g.Projection.ProjectionType)})
		}
		if !reflect.DeepEqual(got, wantIdx) {
			t.Errorf("%s: indexes\n got %v\nwant %v", s.name, got, wantIdx)
		}
		check(t, s.name+" table settings", func() {
			s.tmpl.HasResourceProperties(jsii.String("AWS::DynamoDB::Table"), map[string]any{
				"BillingMode":                      "PAY_PER_REQUEST",
				"StreamSpecification":              map[string]any{"StreamViewType": "NEW_AND_OLD_IMAGES"},
				"TimeToLiveSpecification":          map[string]any{"AttributeName": dynamo.TTLAttribute, "Enabled": true},
				"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
				"DeletionProtectionEnabled":        s.cfg.Stage != stack.StageDev,
			})
		})
	}
}

func TestOutputs(t *testing.T) {
	for _, s := range both() {
		for _, k := range []string{"ApiUrl", "TableName", "BucketName"} {
			if _, ok := s.out[k]; !ok {
				t.Errorf("%s: no output %s", s.name, k)
			}
		}
	}
}

// CloudFormation refuses stacks over 500 resources. HTTP routes cost about
// five each and live in one nested stack per path family; when this fails,
// a family has grown too big: split it (see stack.family).
func TestResourceBudget(t *testing.T) {
	for _, s := range both() {
		t.Logf("%s: %d resources in %d nested stacks and their parent, %d functions, templates %d bytes", s.name, len(s.res), s.nested, len(s.spec.Names()), s.bytes)
		for id, n := range s.perStack() {
			if n > 450 {
				t.Errorf("%s: stack %s has %d resources, near CloudFormation's limit of 500", s.name, id, n)
			}
		}
	}
}

func (s *synthesized) perStack() map[string]int {
	out := map[string]int{}
	for id := range s.res {
		st := "parent"
		if p, _, ok := strings.Cut(id, "."); ok {
			st = p
		}
		out[st]++
	}
	return out
}

func TestSpecChecks(t *testing.T) {
	bad := fixtureSpec()
	bad.Functions = append(bad.Functions, routes.Function{Name: "ws-again", Kind: routes.KindWebSocket, RouteKey: "$connect"})
	if bad.Check() == nil {
		t.Error("a WebSocket route key used twice passed the check")
	}
	bad = fixtureSpec()
	bad.Functions = bad.Functions[1:]
	if bad.Check() == nil {
		t.Error("a table without an authorizer passed the check")
	}
	if err := stack.FromRoutes().Check(); err != nil {
		t.Error(err)
	}
	if err := (stack.Config{Stage: "qa", MailFrom: "a@b", CorsOrigins: []string{"*"}}).Validate(); err == nil {
		t.Error("stage qa passed validation")
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// A scheduled task has an EventBridge rule at its rate that invokes it,
// retries within the hour and keeps what fails in a queue; nothing else
// is scheduled.
func TestScheduledTasksHaveRules(t *testing.T) {
	for _, s := range both() {
		rules := s.ofType("AWS::Events::Rule")
		scheduled := 0
		for _, f := range s.infos() {
			if f.schedule == "" {
				continue
			}
			scheduled++
			fnID, _ := s.function(t, f.name)
			var rule map[string]any
			for _, r := range rules {
				if r.Properties["ScheduleExpression"] == f.schedule && strings.Contains(mustJSON(r.Properties["Targets"]), `"`+fnID+`"`) {
					rule = r.Properties
				}
			}
			if rule == nil {
				t.Errorf("%s: no rule %s invoking %s", s.name, f.schedule, f.name)
				continue
			}
			target := rule["Targets"].([]any)[0].(map[string]any)
			retry, _ := target["RetryPolicy"].(map[string]any)
			if rule["State"] != "ENABLED" || retry["MaximumRetryAttempts"] != 2.0 || retry["MaximumEventAgeInSeconds"] != 3600.0 || target["DeadLetterConfig"] == nil {
				t.Errorf("%s: %s rule %v", s.name, f.name, mustJSON(rule))
			}
			invoke := false
			for _, c := range s.ofType("AWS::Lambda::EventInvokeConfig") {
				if strings.Contains(mustJSON(c.Properties["FunctionName"]), `"`+fnID+`"`) {
					invoke = c.Properties["MaximumRetryAttempts"] == 2.0 && strings.Contains(mustJSON(c.Properties["DestinationConfig"]), "OnFailure")
				}
			}
			if !invoke {
				t.Errorf("%s: %s has no async invoke config with 2 retries and a failure destination", s.name, f.name)
			}
			allowed := false
			for _, p := range s.ofType("AWS::Lambda::Permission") {
				if p.Properties["Principal"] == "events.amazonaws.com" && strings.Contains(mustJSON(p.Properties["FunctionName"]), `"`+fnID+`"`) {
					allowed = true
				}
			}
			if !allowed {
				t.Errorf("%s: EventBridge may not invoke %s", s.name, f.name)
			}
		}
		if scheduled == 0 && s.name == "fixture" {
			t.Error("the fixture has no scheduled task")
		}
		if len(rules) != scheduled {
			t.Errorf("%s: %d rules for %d scheduled tasks", s.name, len(rules), scheduled)
		}
	}
}
