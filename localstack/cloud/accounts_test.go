package cloud_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/deskline/deskline/shared/dynamo"
)

// TestAccountLifecycle is the end-to-end flow: register, pending
// login refused, approval, login, me, logout, old token refused.
func TestAccountLifecycle(t *testing.T) {
	w := newWorld(t)
	c := w.c
	_, email := w.pending(w.deptA)

	r := c.do("POST", "/api/auth/login", map[string]string{"email": email, "password": testPassword})
	want(t, r, 403, "pending login")
	if got := r.obj(t)["error"]; got != "Account not approved by admin" {
		t.Errorf("pending login error = %q", got)
	}

	users := decode[[]map[string]any](t, c.as(w.admin).do("GET", "/api/users?status=pending", nil))
	var id string
	for _, u := range users {
		if u["email"] == email {
			id = u["id"].(string)
		}
		if u["status"] != "pending" {
			t.Errorf("status filter returned a %v user", u["status"])
		}
	}
	if id == "" {
		t.Fatalf("pending user %s not in ?status=pending list", email)
	}
	want(t, c.as(w.admin).do("PATCH", "/api/users/"+id+"/approve", nil), 200, "approve")

	token := c.login(email, testPassword)
	me := c.as(token).do("GET", "/api/auth/me", nil)
	want(t, me, 200, "me")
	m := me.obj(t)
	if m["email"] != email || m["status"] != "approved" || m["Department"].(map[string]any)["id"] != w.deptA {
		t.Errorf("me = %s", me.Body)
	}
	want(t, c.as(token).do("POST", "/api/auth/logout", nil), 200, "logout")
	r = c.as(token).do("GET", "/api/auth/me", nil)
	want(t, r, 401, "me after logout")
	if got := r.obj(t)["error"]; got != "Invalid or expired session" {
		t.Errorf("after logout error = %q", got)
	}

	// The same e-mail cannot register twice, in any case.
	r = c.do("POST", "/api/auth/register", map[string]string{"username": unique("d"), "email": strings.ToUpper(email), "password": testPassword, "departmentId": w.deptA})
	want(t, r, 409, "duplicate email")
	if got := r.obj(t)["error"]; got != "Email already registered" {
		t.Errorf("duplicate email error = %q", got)
	}
}

func TestRegisterValidation(t *testing.T) {
	w := newWorld(t)
	valid := func() map[string]any {
		n := unique("v")
		return map[string]any{"username": n, "email": n + "@test.local", "password": testPassword, "departmentId": w.deptA}
	}
	tests := []struct {
		name   string
		change func(map[string]any)
		status int
		error  string
	}{
		{"admin role", func(b map[string]any) { b["role"] = "admin"; delete(b, "departmentId") }, 403, "Admin accounts cannot be self-registered"},
		{"unknown role", func(b map[string]any) { b["role"] = "root" }, 400, "Invalid role"},
		{"short password", func(b map[string]any) { b["password"] = "abc1" }, 400, "Password must be at least 8 characters long and contain a letter and a digit"},
		{"password without digit", func(b map[string]any) { b["password"] = "abcdefghij" }, 400, "Password must be at least 8 characters long and contain a letter and a digit"},
		{"bad email", func(b map[string]any) { b["email"] = "not-an-email" }, 400, "Invalid email format"},
		{"short username", func(b map[string]any) { b["username"] = "ab" }, 400, "Username must be between 3 and 50 characters"},
		{"no department", func(b map[string]any) { delete(b, "departmentId") }, 400, "Department is required for this role"},
		{"unknown department", func(b map[string]any) { b["departmentId"] = "DEP-0000000000000000000000000" }, 400, "Department not found or inactive"},
		{"unknown field", func(b map[string]any) { b["status"] = "approved" }, 400, `Unknown field "status"`},
		{"wrong type", func(b map[string]any) { b["password"] = 12345678 }, 400, `Field "password" must be of type string`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := valid()
			tt.change(b)
			r := w.c.do("POST", "/api/auth/register", b)
			if r.Status != tt.status || r.obj(t)["error"] != tt.error {
				t.Errorf("got %d %s, want %d %q", r.Status, r.Body, tt.status, tt.error)
			}
		})
	}
	t.Run("duplicate username", func(t *testing.T) {
		b := valid()
		want(t, w.c.do("POST", "/api/auth/register", b), 201, "first")
		b2 := valid()
		b2["username"] = strings.ToUpper(b["username"].(string))
		r := w.c.do("POST", "/api/auth/register", b2)
		want(t, r, 409, "duplicate username")
	})
	t.Run("malformed JSON", func(t *testing.T) {
		want(t, w.c.do("POST", "/api/auth/register", `{"username":`), 400, "malformed")
	})
	t.Run("login without password", func(t *testing.T) {
		r := w.c.do("POST", "/api/auth/login", map[string]string{"email": adminEmail})
		if r.Status != 400 || r.obj(t)["error"] != "Password is required" {
			t.Errorf("got %d %s", r.Status, r.Body)
		}
	})
}

// TestNoSecretsInResponses checks every account-shaped response for
// password hashes and reset-token fields.
func TestNoSecretsInResponses(t *testing.T) {
	w := newWorld(t)
	id, _ := w.pending(w.deptA)
	for _, r := range []response{
		w.c.as(w.empA).do("GET", "/api/auth/me", nil),
		w.c.as(w.admin).do("GET", "/api/users", nil),
		w.c.as(w.admin).do("PATCH", "/api/users/"+id+"/approve", nil),
		w.c.as(w.admin).do("GET", "/api/departments", nil),
	} {
		low := strings.ToLower(string(r.Body))
		for _, bad := range []string{"password", "$2a$", "resettoken", "reset_token"} {
			if strings.Contains(low, bad) {
				t.Errorf("response contains %q: %s", bad, r.Body)
			}
		}
	}
}

func TestUsersCannotEscalate(t *testing.T) {
	w := newWorld(t)
	for _, body := range []map[string]any{{"role": "admin"}, {"departmentId": w.deptB}, {"status": "approved"}} {
		r := w.c.as(w.empA).do("PUT", "/api/users/"+w.empAID, body)
		want(t, r, 403, "self escalation")
	}
	// Permission is checked before existence: no id probing.
	r := w.c.as(w.empA).do("PUT", "/api/users/USR-DOESNOTEXIST00000000000000", map[string]any{"username": "x"})
	want(t, r, 403, "update unknown user as employee")
	// Changing one's own password needs the current one.
	want(t, w.c.as(w.empA).do("PUT", "/api/users/"+w.empAID, map[string]any{"password": "newpassw0rd"}), 403, "password without current")
	want(t, w.c.as(w.empA).do("PUT", "/api/users/"+w.empAID, map[string]any{"password": "newpassw0rd", "currentPassword": testPassword}), 200, "password with current")
	// Admins cannot demote or reject themselves.
	admin := decode[map[string]any](t, w.c.as(w.admin).do("GET", "/api/auth/me", nil))
	want(t, w.c.as(w.admin).do("PUT", "/api/users/"+admin["id"].(string), map[string]any{"role": "employee", "departmentId": w.deptA}), 403, "admin self-demotion")
	// Admins move users between departments.
	want(t, w.c.as(w.admin).do("PUT", "/api/users/"+w.empAID, map[string]any{"departmentId": w.deptB}), 200, "admin moves user")
	me := decode[map[string]any](t, w.c.as(w.empA).do("GET", "/api/auth/me", nil))
	if me["departmentId"] != w.deptB {
		t.Errorf("after move departmentId = %v, want %s", me["departmentId"], w.deptB)
	}
}

func TestDepartmentMembersAndDeletion(t *testing.T) {
	w := newWorld(t)
	members := func(token string) (any, bool) {
		d := decode[map[string]any](t, w.c.as(token).do("GET", "/api/departments/"+w.deptA, nil))
		u, ok := d["Users"]
		return u, ok
	}
	for _, caller := range []string{"admin", "headA", "empA"} {
		if u, ok := members(w.token(caller)); !ok || len(u.([]any)) != 2 {
			t.Errorf("%s sees members %v, want the 2 members", caller, u)
		}
	}
	for _, caller := range []string{"headB", "empB"} {
		if u, ok := members(w.token(caller)); ok {
			t.Errorf("%s sees department A's members %v", caller, u)
		}
	}
	list := decode[[]map[string]any](t, w.c.as(w.empB).do("GET", "/api/departments", nil))
	for _, d := range list {
		if _, ok := d["Users"]; ok && d["id"] != w.deptB {
			t.Errorf("empB sees members of %v", d["id"])
		}
	}
	r := w.c.as(w.admin).do("DELETE", "/api/departments/"+w.deptA, nil)
	want(t, r, 409, "delete department with users")
	if got := r.obj(t)["error"]; got != "Cannot delete department with assigned users" {
		t.Errorf("error = %q", got)
	}
	want(t, w.c.as(w.admin).do("POST", "/api/departments", map[string]string{"name": strings.ToUpper(unique("x")), "code": code()}), 201, "create")
	dup := decode[map[string]any](t, w.c.as(w.admin).do("GET", "/api/departments/"+w.deptB, nil))["name"].(string)
	want(t, w.c.as(w.admin).do("POST", "/api/departments", map[string]string{"name": strings.ToLower(dup), "code": code()}), 409, "duplicate name")
	want(t, w.c.as(w.admin).do("POST", "/api/departments", map[string]string{"name": "x"}), 400, "short name")
	want(t, w.c.as(w.admin).do("GET", "/api/departments/DEP-NOPE00000000000000000000", nil), 404, "unknown department")
}

func TestPasswordReset(t *testing.T) {
	w := newWorld(t)
	me := decode[map[string]any](t, w.c.as(w.empA).do("GET", "/api/auth/me", nil))
	email := me["email"].(string)
	other := w.c.login(email, testPassword)

	known := w.c.do("POST", "/api/auth/forgot-password", map[string]string{"email": email})
	unknown := w.c.do("POST", "/api/auth/forgot-password", map[string]string{"email": "nobody@test.local"})
	want(t, known, 200, "forgot known")
	want(t, unknown, 200, "forgot unknown")
	if known.obj(t)["message"] != unknown.obj(t)["message"] {
		t.Errorf("forgot-password answers differ: %s vs %s", known.Body, unknown.Body)
	}
	token, _ := known.obj(t)["resetToken"].(string)
	if len(token) != 64 {
		t.Fatalf("test stage must return the reset token, got %s", known.Body)
	}
	mails, err := w.outbox(t).Outbox(context.Background(), email, 5)
	if err != nil || len(mails) == 0 || !strings.Contains(mails[0].Body, token) {
		t.Fatalf("outbox has no mail with the token: %v %+v", err, mails)
	}

	want(t, w.c.do("GET", "/api/auth/verify-reset-token/"+token, nil), 200, "verify")
	want(t, w.c.do("POST", "/api/auth/reset-password", map[string]string{"token": token, "password": "short"}), 400, "weak password")
	want(t, w.c.do("POST", "/api/auth/reset-password", map[string]string{"token": token, "password": "n3w-password"}), 200, "reset")
	want(t, w.c.do("POST", "/api/auth/reset-password", map[string]string{"token": token, "password": "n3w-password2"}), 400, "reset reused")
	want(t, w.c.do("GET", "/api/auth/verify-reset-token/"+token, nil), 400, "verify used token")
	for _, tok := range []string{w.empA, other} {
		want(t, w.c.as(tok).do("GET", "/api/auth/me", nil), 401, "session after reset")
	}
	want(t, w.c.do("POST", "/api/auth/login", map[string]string{"email": email, "password": testPassword}), 401, "old password")
	w.c.login(email, "n3w-password")
}

// outbox returns a store over the cloud's table, to read mail.
func (w *world) outbox(t *testing.T) *dynamo.Store {
	t.Helper()
	return w.store
}

func TestLoginThrottle(t *testing.T) {
	w := newWorld(t)
	me := decode[map[string]any](t, w.c.as(w.empB).do("GET", "/api/auth/me", nil))
	email := me["email"].(string)
	var wg sync.WaitGroup
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := w.c.do("POST", "/api/auth/login", map[string]string{"email": email, "password": "wrong-passw0rd"})
			if r.Status != 401 {
				t.Errorf("failed login %d: got %d", i, r.Status)
			}
		}()
	}
	wg.Wait()
	r := w.c.do("POST", "/api/auth/login", map[string]string{"email": email, "password": testPassword})
	want(t, r, 429, "sixth attempt, right password")
	if r.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	// Other accounts are unaffected.
	w.c.login(adminEmail, adminPassword)
}

func TestRejectedUsers(t *testing.T) {
	w := newWorld(t)
	me := decode[map[string]any](t, w.c.as(w.empB).do("GET", "/api/auth/me", nil))
	want(t, w.c.as(w.admin).do("PATCH", "/api/users/"+w.empBID+"/reject", nil), 200, "reject")
	want(t, w.c.as(w.empB).do("GET", "/api/auth/me", nil), 401, "rejected user's session")
	r := w.c.do("POST", "/api/auth/login", map[string]string{"email": me["email"].(string), "password": testPassword})
	want(t, r, 403, "rejected login")
}

func TestSessionsAreDistinct(t *testing.T) {
	w := newWorld(t)
	// Two logins in the same second get different tokens; logging out one
	// leaves the other working.
	a, b := w.c.login(adminEmail, adminPassword), w.c.login(adminEmail, adminPassword)
	if a == b {
		t.Fatal("two logins got the same token")
	}
	want(t, w.c.as(a).do("POST", "/api/auth/logout", nil), 200, "logout a")
	want(t, w.c.as(a).do("GET", "/api/auth/me", nil), 401, "a after logout")
	want(t, w.c.as(b).do("GET", "/api/auth/me", nil), 200, "b after a's logout")
}
