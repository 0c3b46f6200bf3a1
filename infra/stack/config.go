// Package stack is Deskline's CDK stack. Everything in it derives from the
// route table (routes.HTTP and routes.Functions) and from the store's table
// description (dynamo.CreateTableInput), so a new route or function needs no
// edit here.
package stack

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/deskline/deskline/shared/routes"
)

// Stages a stack can be deployed as.
const (
	StageDev  = "dev"
	StageProd = "prod"
)

// Context keys read from cdk.json or `cdk -c key=value`.
const (
	CtxStage       = "stage"       // dev or prod
	CtxAssetDir    = "assetDir"    // directory with <function>/bootstrap
	CtxMailFrom    = "mailFrom"    // SES sender (DESKLINE_MAIL_FROM)
	CtxPublicURL   = "publicUrl"   // web client base URL (DESKLINE_PUBLIC_URL)
	CtxCorsOrigins = "corsOrigins" // list, or comma-separated string
	CtxAlarmEmail  = "alarmEmail"  // optional: subscribe to the alarm topic
	// CtxArchitecture is arm64 (AWS) or x86_64 (deploy-local on an x86
	// machine, where LocalStack runs Lambda containers of the host's kind).
	CtxArchitecture = "architecture"
)

// Config is what varies between deployments.
type Config struct {
	Stage       string
	AssetDir    string
	MailFrom    string
	PublicURL   string
	CorsOrigins []string
	AlarmEmail  string
	// Architecture is "arm64" or "x86_64".
	Architecture string
}

// stageSettings are the per-stage knobs.
type stageSettings struct {
	prod          bool
	logRetention  awslogs.RetentionDays
	throttleRate  float64
	throttleBurst float64
	retryAttempts float64 // stream consumers
}

func (c Config) settings() stageSettings {
	if c.Stage == StageProd {
		return stageSettings{prod: true, logRetention: awslogs.RetentionDays_THREE_MONTHS, throttleRate: 200, throttleBurst: 400, retryAttempts: 5}
	}
	return stageSettings{logRetention: awslogs.RetentionDays_ONE_WEEK, throttleRate: 20, throttleBurst: 40, retryAttempts: 2}
}

// ConfigFromContext reads the configuration from a construct's context
// (cdk.json's "context" and -c flags).
func ConfigFromContext(node constructs.Node) (Config, error) {
	get := func(k string) any { return node.TryGetContext(jsii.String(k)) }
	str := func(k string) string {
		if v, ok := get(k).(string); ok {
			return strings.TrimSpace(v)
		}
		return ""
	}
	c := Config{
		Stage: str(CtxStage), AssetDir: str(CtxAssetDir), MailFrom: str(CtxMailFrom),
		PublicURL: str(CtxPublicURL), AlarmEmail: str(CtxAlarmEmail), Architecture: str(CtxArchitecture),
	}
	if c.Architecture == "" {
		c.Architecture = "arm64"
	}
	if c.Stage == "" {
		c.Stage = StageDev
	}
	if c.AssetDir == "" {
		c.AssetDir = filepath.Join("build", "lambda")
	}
	switch v := get(CtxCorsOrigins).(type) {
	case string:
		for _, o := range strings.Split(v, ",") {
			if o = strings.TrimSpace(o); o != "" {
				c.CorsOrigins = append(c.CorsOrigins, o)
			}
		}
	case []any:
		for _, o := range v {
			if s, ok := o.(string); ok && s != "" {
				c.CorsOrigins = append(c.CorsOrigins, s)
			}
		}
	}
	return c, c.Validate()
}

// Validate checks a configuration.
func (c Config) Validate() error {
	if c.Stage != StageDev && c.Stage != StageProd {
		return fmt.Errorf("context %q must be %q or %q, got %q", CtxStage, StageDev, StageProd, c.Stage)
	}
	if c.MailFrom == "" || !strings.Contains(c.MailFrom, "@") {
		return fmt.Errorf("context %q must be the SES sender address, got %q", CtxMailFrom, c.MailFrom)
	}
	if c.Architecture != "arm64" && c.Architecture != "x86_64" {
		return fmt.Errorf("context %q must be arm64 or x86_64, got %q", CtxArchitecture, c.Architecture)
	}
	if len(c.CorsOrigins) == 0 {
		return fmt.Errorf("context %q must list at least one origin", CtxCorsOrigins)
	}
	return nil
}

// LoadContext reads the "context" object of a cdk.json file, so tests and
// tools see what `cdk synth` sees.
func LoadContext(cdkJSON string) (map[string]any, error) {
	b, err := os.ReadFile(cdkJSON)
	if err != nil {
		return nil, err
	}
	var f struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", cdkJSON, err)
	}
	return f.Context, nil
}

// Spec is what the stack deploys: the route table's two lists.
type Spec struct {
	HTTP      []routes.Route
	Functions []routes.Function
}

// FromRoutes is the real route table.
func FromRoutes() Spec { return Spec{HTTP: routes.HTTP, Functions: routes.Functions} }

// Names lists every function's name, sorted.
func (s Spec) Names() []string {
	var names []string
	for _, r := range s.HTTP {
		names = append(names, r.Name)
	}
	for _, f := range s.Functions {
		names = append(names, f.Name)
	}
	sort.Strings(names)
	return names
}

// Check reports an inconsistent spec: duplicate names, unknown kinds,
// a WebSocket route key used twice, a missing authorizer.
func (s Spec) Check() error {
	seen := map[string]bool{}
	for _, n := range s.Names() {
		if seen[n] {
			return fmt.Errorf("function %q is listed twice", n)
		}
		seen[n] = true
	}
	keys := map[string]bool{}
	authorizers := 0
	for _, f := range s.Functions {
		switch f.Kind {
		case routes.KindAuthorizer:
			authorizers++
		case routes.KindWebSocket:
			if f.RouteKey == "" || keys[f.RouteKey] {
				return fmt.Errorf("websocket function %q: route key %q is empty or taken", f.Name, f.RouteKey)
			}
			keys[f.RouteKey] = true
		case routes.KindStream, routes.KindS3, routes.KindTask:
		default:
			return fmt.Errorf("function %q has unknown kind %q", f.Name, f.Kind)
		}
		if f.Schedule != "" {
			if f.Kind != routes.KindTask {
				return fmt.Errorf("function %q: only tasks are scheduled, not %s functions", f.Name, f.Kind)
			}
			if _, err := routes.ScheduleRate(f.Schedule); err != nil {
				return fmt.Errorf("function %q: %w", f.Name, err)
			}
		}
	}
	if authorizers != 1 {
		return fmt.Errorf("the route table must have exactly one %s function, has %d", routes.KindAuthorizer, authorizers)
	}
	return nil
}

// CheckAssets reports the functions whose bootstrap is missing from dir.
func (s Spec) CheckAssets(dir string) error {
	var missing []string
	for _, n := range s.Names() {
		if _, err := os.Stat(filepath.Join(dir, n, "bootstrap")); err != nil {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("no bootstrap in %s for %s: run `make build-lambdas` first", dir, strings.Join(missing, ", "))
	}
	return nil
}

// NeedsJWTSecret reports whether a function may read the JWT signing
// secret: the authorizer (parses tokens) and the auth-* routes (auth-login
// issues them). Every other function gets the principal from the
// authorizer and never sees a token.
func NeedsJWTSecret(name, kind string) bool {
	return kind == routes.KindAuthorizer || strings.HasPrefix(name, "auth-")
}

// LogGroupName is the log group of every function of a stage. (Lambda
// refuses custom log group names that start with aws/.)
func LogGroupName(stage string) string { return "/deskline/" + stage + "/functions" }

// FunctionName is a function's deployed name.
func FunctionName(stage, name string) string { return "deskline-" + stage + "-" + name }
