package routes_test

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/httpapi"
	"github.com/deskline/deskline/shared/routes"
)

// openAPIDoc returns the document as JSON sees it.
func openAPIDoc(t *testing.T) map[string]any {
	t.Helper()
	b, err := json.Marshal(routes.OpenAPI())
	if err != nil {
		t.Fatalf("marshal OpenAPI(): %v", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("unmarshal OpenAPI(): %v", err)
	}
	return doc
}

// obj follows keys into nested JSON objects.
func obj(t *testing.T, v any, keys ...string) map[string]any {
	t.Helper()
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("at %q: got %T, want an object", k, v)
		}
		v = m[k]
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("at %v: got %T, want an object", keys, v)
	}
	return m
}

func TestOpenAPIDocument(t *testing.T) {
	doc := openAPIDoc(t)
	if got := doc["openapi"]; got != "3.1.0" {
		t.Errorf("openapi = %v, want 3.1.0", got)
	}
	if title := obj(t, doc, "info")["title"]; title == nil || title == "" {
		t.Error("info.title is empty")
	}
	bearer := obj(t, doc, "components", "securitySchemes", "bearerAuth")
	if bearer["type"] != "http" || bearer["scheme"] != "bearer" {
		t.Errorf("bearerAuth = %v, want type http, scheme bearer", bearer)
	}
	// The Error schema's codes are exactly the domain's.
	var codes []string
	for _, c := range obj(t, doc, "components", "schemas", "Error", "properties", "code")["enum"].([]any) {
		codes = append(codes, c.(string))
	}
	want := []string{deskline.EINVALID, deskline.EUNAUTHORIZED, deskline.EFORBIDDEN, deskline.ENOTFOUND, deskline.ECONFLICT,
		deskline.EGONE, deskline.EPRECONDITION, deskline.EUNPROCESSABLE, deskline.ETOOMANY, deskline.EINTERNAL}
	sort.Strings(codes)
	sort.Strings(want)
	if !slices.Equal(codes, want) {
		t.Errorf("Error code enum = %v, want %v", codes, want)
	}
}

func TestOpenAPIOperations(t *testing.T) {
	doc := openAPIDoc(t)
	paths := obj(t, doc, "paths")
	ops := 0
	for _, item := range paths {
		ops += len(item.(map[string]any))
	}
	if ops != len(routes.HTTP) {
		t.Errorf("document has %d operations, want %d (one per route)", ops, len(routes.HTTP))
	}
	for _, r := range routes.HTTP {
		t.Run(r.Name, func(t *testing.T) {
			item, ok := paths[r.Path].(map[string]any)
			if !ok {
				t.Fatalf("path %q missing", r.Path)
			}
			op, ok := item[strings.ToLower(r.Method)].(map[string]any)
			if !ok {
				t.Fatalf("operation %s %s missing", r.Method, r.Path)
			}
			if op["operationId"] != r.Name {
				t.Errorf("operationId = %v, want %q", op["operationId"], r.Name)
			}
			if op["summary"] != r.Summary {
				t.Errorf("summary = %v, want %q", op["summary"], r.Summary)
			}

			// Public routes declare an empty security list (which overrides any
			// global one); the others require the bearer token.
			sec, ok := op["security"].([]any)
			if !ok {
				t.Fatalf("security = %#v, want an array", op["security"])
			}
			var wantSec []any
			if r.Access.Public {
				wantSec = []any{}
			} else {
				wantSec = []any{map[string]any{"bearerAuth": []any{}}}
			}
			if !reflect.DeepEqual(sec, wantSec) {
				t.Errorf("security = %v, want %v", sec, wantSec)
			}

			// Every {param} of the path is declared, required, in path.
			var wantParams []string
			for _, m := range pathParam.FindAllStringSubmatch(r.Path, -1) {
				wantParams = append(wantParams, m[1])
			}
			var gotParams []string
			params, _ := op["parameters"].([]any)
			for _, p := range params {
				pm := p.(map[string]any)
				if pm["in"] != "path" || pm["required"] != true {
					t.Errorf("parameter %v: want in=path, required=true", pm)
				}
				gotParams = append(gotParams, pm["name"].(string))
			}
			if !slices.Equal(gotParams, wantParams) {
				t.Errorf("path parameters = %v, want %v", gotParams, wantParams)
			}

			responses := obj(t, op, "responses")
			for _, code := range []string{"400", "500"} {
				if responses[code] == nil {
					t.Errorf("response %s missing", code)
				}
			}
			if !r.Access.Public && (responses["401"] == nil || responses["403"] == nil) {
				t.Error("protected route lacks 401 or 403")
			}
			if responses["200"] == nil && responses["201"] == nil && responses["302"] == nil {
				t.Error("no success response")
			}
		})
	}
}

func TestOpenAPIOperationIDsUnique(t *testing.T) {
	seen := map[string]bool{}
	for p, item := range obj(t, openAPIDoc(t), "paths") {
		for m, op := range item.(map[string]any) {
			id, _ := op.(map[string]any)["operationId"].(string)
			if seen[id] {
				t.Errorf("operationId %q used twice (%s %s)", id, m, p)
			}
			seen[id] = true
		}
	}
}

func TestOpenAPIRoles(t *testing.T) {
	paths := obj(t, openAPIDoc(t), "paths")
	for _, r := range routes.HTTP {
		op := obj(t, paths, r.Path, strings.ToLower(r.Method))
		got, hasRoles := op["x-roles"].([]any)
		if r.Access.Public {
			if hasRoles {
				t.Errorf("%s: public route has x-roles %v", r.Name, got)
			}
			continue
		}
		var want []any
		if len(r.Access.Roles) == 0 {
			for _, role := range deskline.Roles {
				want = append(want, string(role))
			}
		} else {
			for _, role := range r.Access.Roles {
				want = append(want, string(role))
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: x-roles = %v, want %v", r.Name, got, want)
		}
	}
}

func TestOpenAPIHandlerServesTheDocument(t *testing.T) {
	resp, err := routes.OpenAPIHandler(context.Background(), &httpapi.Request{})
	if err != nil {
		t.Fatalf("OpenAPIHandler: %v", err)
	}
	if resp.Status != 200 {
		t.Errorf("status = %d, want 200", resp.Status)
	}
	raw, ok := resp.Body.(httpapi.RawBody)
	if !ok {
		t.Fatalf("body is %T, want httpapi.RawBody", resp.Body)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		t.Fatalf("served document is not JSON: %v", err)
	}
	if want := openAPIDoc(t); !reflect.DeepEqual(got, want) {
		t.Error("served document differs from OpenAPI()")
	}
}
