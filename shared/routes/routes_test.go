package routes_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deskline/deskline/shared/routes"
)

var (
	kebab     = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
	pathParam = regexp.MustCompile(`\{([^}]*)\}`)
	methods   = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}
)

func TestRouteTable(t *testing.T) {
	if len(routes.HTTP) == 0 {
		t.Fatal("routes.HTTP is empty")
	}
	names := map[string]bool{}
	endpoints := map[string]string{}
	for _, r := range routes.HTTP {
		t.Run(r.Name, func(t *testing.T) {
			if !kebab.MatchString(r.Name) {
				t.Errorf("name %q is not kebab-case", r.Name)
			}
			if names[r.Name] {
				t.Errorf("name %q is used twice", r.Name)
			}
			names[r.Name] = true
			if !slices.Contains(methods, r.Method) {
				t.Errorf("method %q is not one of %v", r.Method, methods)
			}
			if !strings.HasPrefix(r.Path, "/api/") {
				t.Errorf("path %q does not start with /api/", r.Path)
			}
			if strings.HasSuffix(r.Path, "/") || strings.Contains(r.Path, "//") {
				t.Errorf("path %q has an empty segment", r.Path)
			}
			key := r.Method + " " + r.Path
			if other, ok := endpoints[key]; ok {
				t.Errorf("%s is served by both %q and %q", key, other, r.Name)
			}
			endpoints[key] = r.Name
			seen := map[string]bool{}
			for _, m := range pathParam.FindAllStringSubmatch(r.Path, -1) {
				if !regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9]*$`).MatchString(m[1]) {
					t.Errorf("path %q has a bad parameter name %q", r.Path, m[1])
				}
				if seen[m[1]] {
					t.Errorf("path %q repeats parameter %q", r.Path, m[1])
				}
				seen[m[1]] = true
			}
			if strings.Count(r.Path, "{") != strings.Count(r.Path, "}") {
				t.Errorf("path %q has unbalanced braces", r.Path)
			}
			if r.Summary == "" {
				t.Error("summary is empty")
			}
			if r.Handler == nil {
				t.Error("handler is nil")
			}
			if r.Access.Public && len(r.Access.Roles) > 0 {
				t.Errorf("public route restricts roles %v", r.Access.Roles)
			}
			for _, role := range r.Access.Roles {
				if !role.Valid() {
					t.Errorf("access names unknown role %q", role)
				}
			}
			for _, n := range r.Needs {
				if !slices.Contains([]routes.Need{routes.NeedSendMail, routes.NeedObjects, routes.NeedPostWS, routes.NeedTokens}, n) {
					t.Errorf("unknown need %q", n)
				}
			}
		})
	}
}

func TestFunctionsTable(t *testing.T) {
	kinds := []string{routes.KindAuthorizer, routes.KindWebSocket, routes.KindStream, routes.KindS3, routes.KindTask}
	for _, f := range routes.Functions {
		t.Run(f.Name, func(t *testing.T) {
			if !kebab.MatchString(f.Name) {
				t.Errorf("name %q is not kebab-case", f.Name)
			}
			if !slices.Contains(kinds, f.Kind) {
				t.Errorf("kind %q is not one of %v", f.Kind, kinds)
			}
			if _, ok := routes.ByName(f.Name); ok {
				t.Errorf("function %q is also an HTTP route", f.Name)
			}
		})
	}
}

func TestNames(t *testing.T) {
	var want []string
	for _, r := range routes.HTTP {
		want = append(want, r.Name)
	}
	for _, f := range routes.Functions {
		want = append(want, f.Name)
	}
	got := routes.Names()
	if !slices.Equal(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
	seen := map[string]bool{}
	for _, n := range got {
		if seen[n] {
			t.Errorf("Names() lists %q twice", n)
		}
		seen[n] = true
	}
}

func TestByName(t *testing.T) {
	for _, r := range routes.HTTP {
		got, ok := routes.ByName(r.Name)
		if !ok || got.Name != r.Name || got.Method != r.Method || got.Path != r.Path {
			t.Errorf("ByName(%q) = %s %s %s, %v; want %s %s %s, true", r.Name, got.Name, got.Method, got.Path, ok, r.Name, r.Method, r.Path)
		}
	}
	for _, name := range []string{"", "nope", "authorizer", "Health", "health "} {
		if _, ok := routes.ByName(name); ok {
			t.Errorf("ByName(%q) found a route, want none", name)
		}
	}
}

func TestReadOnly(t *testing.T) {
	tests := []struct {
		method string
		want   bool
	}{
		{"GET", true}, {"POST", false}, {"PUT", false}, {"PATCH", false}, {"DELETE", false},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			if got := (routes.Route{Method: tt.method}).ReadOnly(); got != tt.want {
				t.Errorf("ReadOnly() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestScheduleRate(t *testing.T) {
	tests := []struct {
		expr string
		want time.Duration
		ok   bool
	}{
		{"rate(5 minutes)", 5 * time.Minute, true},
		{"rate(1 minute)", time.Minute, true},
		{"rate(2 hours)", 2 * time.Hour, true},
		{"rate(1 day)", 24 * time.Hour, true},
		{"rate(1 minutes)", 0, false},
		{"rate(5 minute)", 0, false},
		{"rate(0 minutes)", 0, false},
		{"cron(0 9 * * ? *)", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got, err := routes.ScheduleRate(tt.expr)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("ScheduleRate(%q) = %s, %v; want %s, ok %v", tt.expr, got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestSchedulesAreTasksWithRates(t *testing.T) {
	for _, f := range routes.Functions {
		if f.Schedule == "" {
			continue
		}
		if f.Kind != routes.KindTask {
			t.Errorf("%s has a schedule but is a %s function; only tasks are scheduled", f.Name, f.Kind)
		}
		if _, err := routes.ScheduleRate(f.Schedule); err != nil {
			t.Errorf("%s: %v", f.Name, err)
		}
	}
}
