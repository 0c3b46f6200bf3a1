package routes

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strings"

	"github.com/deskline/deskline/shared/httpapi"
)

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

// OpenAPI returns the OpenAPI 3.1 document of the HTTP API, derived from
// the route table.
func OpenAPI() map[string]any {
	paths := map[string]map[string]any{}
	for _, r := range HTTP {
		op := map[string]any{
			"operationId": r.Name,
			"summary":     r.Summary,
			"tags":        []string{tag(r.Path)},
			"responses":   responses(r),
		}
		if !r.Access.Public {
			op["security"] = []map[string][]string{{"bearerAuth": {}}}
			op["x-roles"] = roles(r.Access)
		} else {
			op["security"] = []map[string][]string{}
		}
		var params []map[string]any
		for _, m := range pathParam.FindAllStringSubmatch(r.Path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]string{"type": "string"}})
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if r.Method == "POST" || r.Method == "PUT" || r.Method == "PATCH" {
			op["requestBody"] = map[string]any{
				"required": r.Method != "PATCH" && r.Name != "auth-logout",
				"content":  map[string]any{"application/json": map[string]any{"schema": map[string]string{"type": "object"}}},
			}
		}
		if paths[r.Path] == nil {
			paths[r.Path] = map[string]any{}
		}
		paths[r.Path][strings.ToLower(r.Method)] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "Deskline API",
			"version":     "1.0.0",
			"description": "Ticketing and task management. Errors are JSON: {\"error\": message, \"code\": code, \"field\"?: name}. See docs/api.md.",
		},
		"paths": paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{
				"bearerAuth": map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
			},
			"schemas": map[string]any{
				"Error": map[string]any{
					"type":     "object",
					"required": []string{"error", "code"},
					"properties": map[string]any{
						"error":     map[string]string{"type": "string"},
						"code":      map[string]any{"type": "string", "enum": []string{"invalid", "unauthorized", "forbidden", "not_found", "conflict", "gone", "precondition_failed", "unprocessable", "too_many_requests", "internal"}},
						"field":     map[string]string{"type": "string"},
						"requestId": map[string]string{"type": "string"},
					},
				},
			},
		},
	}
}

func tag(path string) string {
	parts := strings.Split(strings.TrimPrefix(path, "/api/"), "/")
	return strings.TrimSuffix(parts[0], ".json")
}

func roles(a httpapi.Access) []string {
	if len(a.Roles) == 0 {
		return []string{"admin", "department_head", "employee"}
	}
	out := make([]string, len(a.Roles))
	for i, r := range a.Roles {
		out[i] = string(r)
	}
	return out
}

func responses(r Route) map[string]any {
	errRef := map[string]any{"description": "Error", "content": map[string]any{"application/json": map[string]any{"schema": map[string]string{"$ref": "#/components/schemas/Error"}}}}
	ok := "200"
	if r.Method == "POST" && (slices.Contains([]string{"auth-register", "users-create", "departments-create", "comments-create"}, r.Name) || strings.HasSuffix(r.Name, "-create") || strings.HasPrefix(r.Name, "files-upload-")) {
		ok = "201"
	}
	if r.Name == "files-download" {
		ok = "302" // to a presigned S3 GET
	}
	out := map[string]any{ok: map[string]any{"description": "Success", "content": map[string]any{"application/json": map[string]any{}}}, "400": errRef, "500": errRef}
	if !r.Access.Public {
		out["401"], out["403"] = errRef, errRef
	}
	if strings.Contains(r.Path, "{") {
		out["404"] = errRef
	}
	return out
}

// openapiJSON is the document, rendered once. It is set in init because the
// document is derived from HTTP, which refers to OpenAPIHandler.
var openapiJSON string

func init() {
	b, _ := json.Marshal(OpenAPI())
	openapiJSON = string(b)
}

// OpenAPIHandler serves the OpenAPI document.
func OpenAPIHandler(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	return &httpapi.Response{Status: 200, Body: httpapi.RawBody(openapiJSON), Headers: map[string]string{"Cache-Control": "public, max-age=300"}}, nil
}
