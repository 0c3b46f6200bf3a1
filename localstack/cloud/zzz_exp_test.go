package cloud_test

import (
	"testing"
)

func TestZZZFilteredCalls(t *testing.T) {
	d := newCoreApp(t)
	admin := corePrincipal{id: "USR-CALLSADMIN000000000000000", role: "admin"}
	dept := d.must("departments-create", admin, 201, coreCall{body: map[string]any{"name": "Calls Alpha", "code": "CALLA"}})
	n := unique("calls")
	hid := d.must("users-create", admin, 201, coreCall{body: map[string]any{"username": n, "email": n + "@calls.test", "password": testPassword, "role": "department_head", "departmentId": dept}})
	head := corePrincipal{id: hid, role: "department_head", dept: dept}
	d.must("tasks-create", head, 201, coreCall{body: map[string]any{"title": "Late", "description": "x", "dueDate": "2020-01-01"}})
	for i := 0; i < 60; i++ {
		d.must("tasks-create", head, 201, coreCall{body: map[string]any{"title": "Task", "description": "x"}})
		d.must("tickets-create", head, 201, coreCall{body: map[string]any{"title": "Ticket", "description": "x", "priority": "low", "category": "bug"}})
	}
	for _, q := range []string{"overdue=true&limit=5", "priority=urgent&limit=10", "limit=5"} {
		d.db.reset()
		st, _, _ := d.invoke(t, "tasks-list", head, coreCall{query: q})
		ops, total := d.db.calls()
		t.Logf("tasks-list?%s: %d, %d calls %v", q, st, total, ops)
	}
	for _, q := range []string{"cursor=x", "priority=high&limit=5"} {
		if q == "cursor=x" {
			_, m, _ := d.invoke(t, "tickets-list", head, coreCall{query: "limit=2"})
			q = "limit=5&priority=high&cursor=" + m["nextCursor"].(string)
		}
		d.db.reset()
		st, _, _ := d.invoke(t, "tickets-list", head, coreCall{query: q})
		ops, total := d.db.calls()
		t.Logf("tickets-list?%s: %d, %d calls %v", q[:20], st, total, ops)
	}
}
