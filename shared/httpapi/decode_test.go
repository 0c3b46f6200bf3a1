package httpapi_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/httpapi"
)

func TestStatusOf(t *testing.T) {
	tests := []struct {
		code string
		want int
	}{
		{deskline.EINVALID, http.StatusBadRequest},
		{deskline.EUNAUTHORIZED, http.StatusUnauthorized},
		{deskline.EFORBIDDEN, http.StatusForbidden},
		{deskline.ENOTFOUND, http.StatusNotFound},
		{deskline.ECONFLICT, http.StatusConflict},
		{deskline.EPRECONDITION, http.StatusPreconditionFailed},
		{deskline.EUNPROCESSABLE, http.StatusUnprocessableEntity},
		{deskline.ETOOMANY, http.StatusTooManyRequests},
		{deskline.EINTERNAL, http.StatusInternalServerError},
		{"", http.StatusInternalServerError},
		{"teapot", http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			if got := httpapi.StatusOf(tt.code); got != tt.want {
				t.Errorf("StatusOf(%q) = %d, want %d", tt.code, got, tt.want)
			}
		})
	}
}

// checkInvalid fails unless err is EINVALID about field with message.
func checkInvalid(t *testing.T, err error, field, message string) {
	t.Helper()
	var de *deskline.Error
	if !errors.As(err, &de) {
		t.Fatalf("got error %v (%T), want *deskline.Error", err, err)
	}
	if de.Code != deskline.EINVALID || de.Field != field || de.Message != message {
		t.Errorf("got code=%q field=%q message=%q, want code=%q field=%q message=%q",
			de.Code, de.Field, de.Message, deskline.EINVALID, field, message)
	}
}

type decodeInput struct {
	Name   string   `json:"name"`
	Age    int      `json:"age"`
	Active bool     `json:"active"`
	Tags   []string `json:"tags"`
	Inner  struct {
		Level int `json:"level"`
	} `json:"inner"`
}

func TestDecode(t *testing.T) {
	const (
		notJSON = "Request body is not valid JSON"
		object  = "Request body must be a JSON object"
	)
	tests := []struct {
		name      string
		body      string
		wantField string
		wantErr   string // "" for success
	}{
		{"valid", `{"name":"ann","age":30,"active":true,"tags":["a"],"inner":{"level":2}}`, "", ""},
		{"valid with surrounding whitespace", " \n{\"name\":\"ann\"}\n ", "", ""},
		{"empty body", "", "", "Request body is required"},
		{"whitespace body", " \r\n\t", "", "Request body is required"},
		{"unknown field", `{"name":"ann","role":"admin"}`, "role", `Unknown field "role"`},
		{"unknown nested field", `{"inner":{"depth":1}}`, "depth", `Unknown field "depth"`},
		{"field names are matched exactly", `{"Name":"ann","nmae":"x"}`, "nmae", `Unknown field "nmae"`},
		{"string for number", `{"age":"thirty"}`, "age", `Field "age" must be of type number`},
		{"fraction for int", `{"age":1.5}`, "age", `Field "age" must be of type number`},
		{"number for string", `{"name":42}`, "name", `Field "name" must be of type string`},
		{"string for bool", `{"active":"yes"}`, "active", `Field "active" must be of type boolean`},
		{"string for array", `{"tags":"a,b"}`, "tags", `Field "tags" must be of type array`},
		{"number for object", `{"inner":1}`, "inner", `Field "inner" must be of type object`},
		{"nested wrong type", `{"inner":{"level":"high"}}`, "inner.level", `Field "inner.level" must be of type number`},
		{"two objects", `{"name":"a"}{"name":"b"}`, "", "Request body must be a single JSON object"},
		{"two objects with space", `{} {}`, "", "Request body must be a single JSON object"},
		{"trailing garbage", `{} x`, "", "Request body must be a single JSON object"},
		{"not JSON", `name=ann&age=30`, "", notJSON},
		{"truncated", `{"name":"ann"`, "", notJSON},
		{"trailing comma", `{"name":"ann",}`, "", notJSON},
		{"single quotes", `{'name':'ann'}`, "", notJSON},
		{"top-level array", `[{"name":"ann"}]`, "", object},
		{"top-level string", `"ann"`, "", object},
		{"top-level number", `42`, "", object},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in decodeInput
			err := (&httpapi.Request{Body: []byte(tt.body)}).Decode(&in)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				return
			}
			checkInvalid(t, err, tt.wantField, tt.wantErr)
		})
	}
}

func TestDecodeFillsValue(t *testing.T) {
	var in decodeInput
	r := &httpapi.Request{Body: []byte(`{"name":"ann","age":30,"active":true,"tags":["x","y"],"inner":{"level":2}}`)}
	if err := r.Decode(&in); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if in.Name != "ann" || in.Age != 30 || !in.Active || strings.Join(in.Tags, ",") != "x,y" || in.Inner.Level != 2 {
		t.Errorf("decoded %+v, want name=ann age=30 active tags=[x y] inner.level=2", in)
	}
}

func TestDecodeBodySize(t *testing.T) {
	body := func(n int) []byte {
		// {"name":"aaa…"} of exactly n bytes.
		return []byte(`{"name":"` + strings.Repeat("a", n-len(`{"name":""}`)) + `"}`)
	}
	t.Run("at the limit", func(t *testing.T) {
		var in decodeInput
		if err := (&httpapi.Request{Body: body(httpapi.MaxBodyBytes)}).Decode(&in); err != nil {
			t.Fatalf("Decode of %d bytes: %v", httpapi.MaxBodyBytes, err)
		}
	})
	t.Run("one byte over", func(t *testing.T) {
		var in decodeInput
		err := (&httpapi.Request{Body: body(httpapi.MaxBodyBytes + 1)}).Decode(&in)
		checkInvalid(t, err, "", "Request body must be at most 65536 bytes")
		if in.Name != "" {
			t.Error("an oversize body was decoded anyway")
		}
	})
}

func TestPaging(t *testing.T) {
	const (
		def = 20
		max = 100
		msg = "limit must be an integer from 1 to 100"
	)
	tests := []struct {
		name       string
		query      string
		wantLimit  int
		wantCursor string
		wantErr    bool
	}{
		{"defaults", "", def, "", false},
		{"cursor only", "cursor=eyJrIjoiMSJ9", def, "eyJrIjoiMSJ9", false},
		{"smallest", "limit=1", 1, "", false},
		{"largest", "limit=100", 100, "", false},
		{"limit and cursor", "limit=5&cursor=abc", 5, "abc", false},
		{"empty limit means default", "limit=", def, "", false},
		{"zero", "limit=0", 0, "", true},
		{"negative", "limit=-1", 0, "", true},
		{"over max", "limit=101", 0, "", true},
		{"huge", "limit=99999999999999999999", 0, "", true},
		{"not a number", "limit=ten", 0, "", true},
		{"fraction", "limit=1.5", 0, "", true},
		{"padded", "limit=%205", 0, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatalf("parse query: %v", err)
			}
			p, err := (&httpapi.Request{Query: q}).Paging(def, max)
			if tt.wantErr {
				checkInvalid(t, err, "limit", msg)
				return
			}
			if err != nil {
				t.Fatalf("Paging: %v", err)
			}
			if p.Limit != tt.wantLimit || p.Cursor != tt.wantCursor {
				t.Errorf("Paging() = %+v, want limit %d cursor %q", p, tt.wantLimit, tt.wantCursor)
			}
		})
	}
}

func TestRequestHeaderAndParam(t *testing.T) {
	r := &httpapi.Request{
		Headers:    map[string]string{"if-match": `"3"`},
		PathParams: map[string]string{"id": "USR-ABCDE"},
	}
	if got := r.Header("If-Match"); got != `"3"` {
		t.Errorf(`Header("If-Match") = %q, want "\"3\""`, got)
	}
	if got := r.Header("X-Missing"); got != "" {
		t.Errorf(`Header("X-Missing") = %q, want ""`, got)
	}
	if got := r.Param("id"); got != "USR-ABCDE" {
		t.Errorf(`Param("id") = %q, want "USR-ABCDE"`, got)
	}
	if got := (&httpapi.Request{}).Param("id"); got != "" {
		t.Errorf(`Param("id") without params = %q, want ""`, got)
	}
}
