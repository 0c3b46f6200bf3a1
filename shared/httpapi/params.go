package httpapi

import (
	"fmt"
	"strconv"

	"github.com/deskline/deskline/shared/deskline"
)

// Paging is a list request's page size and cursor.
type Paging struct {
	Limit  int
	Cursor string
}

// Paging reads ?limit= (1..max, default def) and ?cursor=.
func (r *Request) Paging(def, max int) (Paging, error) {
	p := Paging{Limit: def, Cursor: r.Query.Get("cursor")}
	if s := r.Query.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > max {
			return p, deskline.Invalid("limit", fmt.Sprintf("limit must be an integer from 1 to %d", max))
		}
		p.Limit = n
	}
	return p, nil
}

// NextCursorHeader is the response header that carries the cursor of the
// next page for list routes whose body is a bare array (the contract's shape).
const NextCursorHeader = "X-Next-Cursor"

// List returns a 200 with a bare array body and, when there is a next page,
// its cursor in NextCursorHeader.
func List[T any](items []T, next string) *Response {
	if items == nil {
		items = []T{}
	}
	resp := JSON(200, items)
	if next != "" {
		resp.Headers = map[string]string{NextCursorHeader: next, "Access-Control-Expose-Headers": NextCursorHeader}
	}
	return resp
}
