package cloud_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// A user who turns e-mail notifications on gets each new notification by
// mail (the local outbox) as well; one who has not, gets none.
func TestNotificationMail(t *testing.T) {
	w := newWorld(t)
	emp := w.call(t, w.empA)
	me := emp.do("GET", "/api/auth/me", nil).obj(t)
	if me["emailNotifications"] != false {
		t.Fatalf("a new account has emailNotifications %v, want false", me["emailNotifications"])
	}
	email := me["email"].(string)
	outbox := func(to string) int {
		t.Helper()
		m, err := w.cloud.App.Store.Outbox(context.Background(), to, 50)
		if err != nil {
			t.Fatal(err)
		}
		return len(m)
	}

	w.task(w.headA, w.deptA, w.empAID)
	waitProjected(t, w)
	if n := outbox(email); n != 0 {
		t.Fatalf("%d mails before opting in", n)
	}

	// Others may not turn it on for you; you may.
	want(t, w.call(t, w.headA).do("PUT", "/api/users/"+w.empAID, map[string]any{"emailNotifications": true}), 403, "head sets another's preference")
	wantErr(t, emp.do("PUT", "/api/users/"+w.empAID, map[string]any{"emailNotifications": "yes"}), 400, "emailNotifications", "not a boolean")
	got := mustPut(t, emp, "/api/users/"+w.empAID, map[string]any{"emailNotifications": true})
	if got["emailNotifications"] != true {
		t.Fatalf("after opting in: %v", got)
	}

	title := "Mail me " + unique("")
	mustCreate(t, w.call(t, w.headA), "/api/tasks", map[string]any{"title": title, "description": "d", "departmentId": w.deptA, "assignedToId": w.empAID})
	waitProjected(t, w)
	m, err := w.cloud.App.Store.Outbox(context.Background(), email, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 1 || !strings.Contains(m[0].Subject, title) || !strings.Contains(m[0].Body, "You have been assigned to task") {
		t.Fatalf("outbox %+v, want the assignment", m)
	}

	// And off again.
	mustPut(t, emp, "/api/users/"+w.empAID, map[string]any{"emailNotifications": false})
	w.task(w.headA, w.deptA, w.empAID)
	waitProjected(t, w)
	if n := outbox(email); n != 1 {
		t.Errorf("%d mails after opting out, want still 1", n)
	}
}

// The local cloud shows an address's outbox at GET /_local/mail?to=.
func TestLocalOutboxPage(t *testing.T) {
	w := newWorld(t)
	email := w.call(t, w.empA).do("GET", "/api/auth/me", nil).obj(t)["email"].(string)
	want(t, w.c.do("POST", "/api/auth/forgot-password", map[string]string{"email": email}), 200, "forgot password")
	r := w.c.do("GET", "/_local/mail?to="+url.QueryEscape(strings.ToUpper(email)), nil)
	want(t, r, 200, "outbox")
	mails := decode[[]map[string]any](t, r)
	if len(mails) != 1 || mails[0]["to"] != email || !strings.Contains(fmt.Sprint(mails[0]["body"]), "reset") {
		t.Errorf("outbox of %s = %v", email, mails)
	}
	wantErr(t, w.c.do("GET", "/_local/mail", nil), 400, "to", "no address")
	if got := decode[[]map[string]any](t, w.c.do("GET", "/_local/mail?to=nobody@test.local", nil)); len(got) != 0 {
		t.Errorf("an empty outbox = %v", got)
	}
}
