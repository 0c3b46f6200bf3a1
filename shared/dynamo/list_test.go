package dynamo_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/dynamo"
)

// allPages follows NextCursor from the first page to the last and returns
// every item and the size of each page.
func allPages[T any](t *testing.T, list func(cursor string) (dynamo.Page[T], error)) (items []T, sizes []int) {
	t.Helper()
	cursor := ""
	for range 100 {
		p, err := list(cursor)
		if err != nil {
			t.Fatalf("list after cursor %q: %v", cursor, err)
		}
		items = append(items, p.Items...)
		sizes = append(sizes, len(p.Items))
		if p.NextCursor == "" {
			return items, sizes
		}
		cursor = p.NextCursor
	}
	t.Fatalf("still a next cursor after 100 pages")
	return nil, nil
}

// fullPages is the page sizes of n items in pages of limit: full pages, then
// the rest. (n is never a multiple of limit in these tests, where DynamoDB
// may legitimately end with an empty page.)
func fullPages(n, limit int) []int {
	var sizes []int
	for ; n > 0; n -= limit {
		sizes = append(sizes, min(n, limit))
	}
	return sizes
}

// byName sorts usernames as the list promises: case-insensitively.
func byName(names []string) []string {
	out := slices.Clone(names)
	slices.SortFunc(out, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return out
}

// userListFixture stores 25 users in two departments, created out of order
// with names in mixed case, every third one pending, plus an admin.
type userListFixture struct {
	*fixture
	d1, d2 *deskline.Department
	all    []*deskline.User
}

func newUserListFixture(t *testing.T) *userListFixture {
	t.Helper()
	f := &userListFixture{fixture: newFixture(t)}
	f.d1, f.d2 = f.dept("Support", "SUP"), f.dept("Sales", "SAL")
	prefixes := []string{"user", "User", "USER", "u.ser", "u-ser", "u_ser"}
	for i := range 25 {
		n := i * 7 % 25 // out of order
		d := f.d1
		if n%2 == 1 {
			d = f.d2
		}
		u := f.newUser(fmt.Sprintf("%s%02d", prefixes[n%len(prefixes)], n), d.ID)
		if n%3 == 0 {
			u.Status = deskline.StatusPending
		}
		if err := f.store.CreateUser(f.ctx, u); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		f.all = append(f.all, u)
	}
	f.all = append(f.all, f.user("root", ""))
	return f
}

func (f *userListFixture) names(keep func(*deskline.User) bool) []string {
	var out []string
	for _, u := range f.all {
		if keep(u) {
			out = append(out, u.Username)
		}
	}
	return byName(out)
}

func TestListUsersPages(t *testing.T) {
	f := newUserListFixture(t)
	everyone := func(*deskline.User) bool { return true }
	tests := []struct {
		name   string
		filter dynamo.UserFilter
		want   []string
	}{
		{"all users", dynamo.UserFilter{Limit: 7}, f.names(everyone)},
		{"all users, limit 3", dynamo.UserFilter{Limit: 3}, f.names(everyone)},
		{"one department", dynamo.UserFilter{DepartmentID: f.d1.ID, Limit: 4},
			f.names(func(u *deskline.User) bool { return u.DepartmentID == f.d1.ID })},
		{"status filter", dynamo.UserFilter{Status: deskline.StatusApproved, Limit: 5},
			f.names(func(u *deskline.User) bool { return u.Status == deskline.StatusApproved })},
		{"rare status, small pages", dynamo.UserFilter{Status: deskline.StatusPending, Limit: 2},
			f.names(func(u *deskline.User) bool { return u.Status == deskline.StatusPending })},
		{"role filter", dynamo.UserFilter{Role: deskline.RoleAdmin, Limit: 5}, []string{"root"}},
		{"department and status", dynamo.UserFilter{DepartmentID: f.d2.ID, Status: deskline.StatusApproved, Limit: 3},
			f.names(func(u *deskline.User) bool { return u.DepartmentID == f.d2.ID && u.Status == deskline.StatusApproved })},
		{"empty department", dynamo.UserFilter{DepartmentID: "DEP-EMPTY", Limit: 5}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.want)%tc.filter.Limit == 0 && len(tc.want) > 0 {
				t.Fatalf("bad test: %d items are a multiple of the limit %d", len(tc.want), tc.filter.Limit)
			}
			users, sizes := allPages(t, func(cursor string) (dynamo.Page[*deskline.User], error) {
				flt := tc.filter
				flt.Cursor = cursor
				return f.store.ListUsers(f.ctx, flt)
			})
			if got := usernames(users); !slices.Equal(got, tc.want) {
				t.Errorf("users =\n%v\nwant (each once, by username)\n%v", got, tc.want)
			}
			wantSizes := fullPages(len(tc.want), tc.filter.Limit)
			if len(wantSizes) == 0 {
				wantSizes = []int{0}
			}
			if !slices.Equal(sizes, wantSizes) {
				t.Errorf("page sizes = %v, want %v", sizes, wantSizes)
			}
			for _, u := range users {
				if tc.filter.Status != "" && u.Status != tc.filter.Status {
					t.Errorf("user %s has status %s, want only %s", u.Username, u.Status, tc.filter.Status)
				}
			}
		})
	}
}

func TestListDepartmentsPages(t *testing.T) {
	f := newFixture(t)
	var names []string
	for i := range 11 {
		n := i * 4 % 11
		name := fmt.Sprintf("%s %02d", []string{"Team", "team", "TEAM"}[n%3], n)
		f.dept(name, fmt.Sprintf("T%02d", n))
		names = append(names, name)
	}
	depts, sizes := allPages(t, func(cursor string) (dynamo.Page[*deskline.Department], error) {
		return f.store.ListDepartments(f.ctx, 3, cursor)
	})
	var got []string
	for _, d := range depts {
		got = append(got, d.Name)
	}
	if want := byName(names); !slices.Equal(got, want) {
		t.Errorf("departments =\n%v\nwant (each once, by name)\n%v", got, want)
	}
	if want := fullPages(11, 3); !slices.Equal(sizes, want) {
		t.Errorf("page sizes = %v, want %v", sizes, want)
	}
}

// editCursor decodes a cursor, lets edit change its key map, and encodes it
// again. It knows the cursor's format only to forge bad ones.
func editCursor(t *testing.T, cursor string, edit func(map[string]string)) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		t.Fatalf("decode cursor: %v", err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decode cursor: %v", err)
	}
	edit(m)
	b, _ = json.Marshal(m)
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestListCursorTampering(t *testing.T) {
	f := newFixture(t)
	d1, d2 := f.dept("Support", "SUP"), f.dept("Sales", "SAL")
	f.dept("Finance", "FIN")
	for i := range 3 {
		f.user(fmt.Sprintf("alice%d", i), d1.ID)
		f.user(fmt.Sprintf("bob%d", i), d2.ID)
	}
	cursor := func(p dynamo.Page[*deskline.User], err error) string {
		t.Helper()
		if err != nil || p.NextCursor == "" {
			t.Fatalf("list: cursor %q, %v; want a next cursor", p.NextCursor, err)
		}
		return p.NextCursor
	}
	usersCursor := cursor(f.store.ListUsers(f.ctx, dynamo.UserFilter{Limit: 2}))
	d1Cursor := cursor(f.store.ListUsers(f.ctx, dynamo.UserFilter{DepartmentID: d1.ID, Limit: 2}))
	deptPage, err := f.store.ListDepartments(f.ctx, 1, "")
	if err != nil || deptPage.NextCursor == "" {
		t.Fatalf("ListDepartments: cursor %q, %v; want a next cursor", deptPage.NextCursor, err)
	}
	deptsCursor := deptPage.NextCursor

	listUsers := func(flt dynamo.UserFilter) func(string) error {
		return func(c string) error { flt.Cursor = c; _, err := f.store.ListUsers(f.ctx, flt); return err }
	}
	listDepts := func(c string) error { _, err := f.store.ListDepartments(f.ctx, 5, c); return err }

	tests := []struct {
		name   string
		list   func(string) error
		cursor string
	}{
		{"not base64", listUsers(dynamo.UserFilter{Limit: 5}), "!!not*base64!!"},
		{"base64 of garbage", listUsers(dynamo.UserFilter{Limit: 5}), base64.RawURLEncoding.EncodeToString([]byte("garbage"))},
		{"base64 of an empty object", listUsers(dynamo.UserFilter{Limit: 5}), base64.RawURLEncoding.EncodeToString([]byte("{}"))},
		{"department list's cursor in the user list", listUsers(dynamo.UserFilter{Limit: 5}), deptsCursor},
		{"user list's cursor in the department list", listDepts, usersCursor},
		{"one department's cursor in another's", listUsers(dynamo.UserFilter{DepartmentID: d2.ID, Limit: 5}), d1Cursor},
		{"user list's cursor in a department's", listUsers(dynamo.UserFilter{DepartmentID: d1.ID, Limit: 5}), usersCursor},
		{"partition edited", listUsers(dynamo.UserFilter{Limit: 5}),
			editCursor(t, usersCursor, func(m map[string]string) { m["GSI2PK"] = "DEPTS" })},
		{"key added", listUsers(dynamo.UserFilter{Limit: 5}),
			editCursor(t, usersCursor, func(m map[string]string) { m["GSI1PK"] = "DEPT#" + d1.ID })},
		{"key removed", listUsers(dynamo.UserFilter{Limit: 5}),
			editCursor(t, usersCursor, func(m map[string]string) { delete(m, "SK") })},
		{"oversized", listUsers(dynamo.UserFilter{Limit: 5}),
			editCursor(t, usersCursor, func(m map[string]string) { m["SK"] = strings.Repeat("x", 3000) })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, tc.list(tc.cursor), deskline.EINVALID, "", "cursor")
		})
	}

	t.Run("untampered cursors work", func(t *testing.T) {
		for name, err := range map[string]error{
			"users":       listUsers(dynamo.UserFilter{Limit: 5})(usersCursor),
			"department":  listUsers(dynamo.UserFilter{DepartmentID: d1.ID, Limit: 5})(d1Cursor),
			"departments": listDepts(deptsCursor),
		} {
			if err != nil {
				t.Errorf("%s list with its own cursor: %v", name, err)
			}
		}
	})
}
