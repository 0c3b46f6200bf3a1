package cloud_test

// End-to-end tests of tasks and their dependencies through the local cloud
// (issue 3).

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/deskline/deskline/shared/dynamo"
)

// taskBody is a valid task request, with overrides (nil deletes).
func taskBody(over map[string]any) map[string]any {
	b := map[string]any{"title": "Replace toner", "description": "Black toner."}
	for k, v := range over {
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
	}
	return b
}

// newTask creates a task as the caller and returns it.
func newTask(t testing.TB, c *client, over map[string]any) map[string]any {
	t.Helper()
	return mustCreate(t, c, "/api/tasks", taskBody(over))
}

// taskIDs lists tasks with query, following X-Next-Cursor, and returns ids.
func taskIDs(t testing.TB, c *client, query url.Values) []string {
	t.Helper()
	var ids []string
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	for page := 0; ; page++ {
		r := c.do("GET", "/api/tasks?"+q.Encode(), nil)
		want(t, r, 200, "list tasks "+q.Encode())
		for _, tk := range decode[[]map[string]any](t, r) {
			ids = append(ids, tk["id"].(string))
		}
		next := r.Header.Get("X-Next-Cursor")
		if next == "" {
			return ids
		}
		if page > 100 {
			t.Fatal("task list does not end")
		}
		q.Set("cursor", next)
	}
}

func TestTaskCreate(t *testing.T) {
	w := newWorld(t)
	head := w.call(t, w.headA)
	pendingID, _ := w.pending(w.deptA)
	ticketB := w.ticket(w.headB, w.deptB)

	got := newTask(t, head, map[string]any{"title": "  Order parts  ", "assignedToId": w.empAID, "priority": "high", "ticketId": w.ticketA})
	for k, v := range map[string]any{
		"title": "Order parts", "status": "pending", "priority": "high", "progress": 0.0, "departmentId": w.deptA,
		"createdBy": w.headAID, "updatedBy": w.headAID, "assignedToId": w.empAID, "ticketId": w.ticketA, "overdue": false, "version": 1.0,
	} {
		if got[k] != v {
			t.Errorf("created task %s = %#v, want %#v", k, got[k], v)
		}
	}
	if deps, ok := got["dependsOn"].([]any); !ok || len(deps) != 0 {
		t.Errorf("dependsOn = %#v, want []", got["dependsOn"])
	}
	if a, _ := got["assignedUser"].(map[string]any); a == nil || a["id"] != w.empAID {
		t.Errorf("assignedUser = %v", got["assignedUser"])
	}
	if d := newTask(t, head, nil); d["priority"] != "medium" || d["assignedToId"] != "" {
		t.Errorf("defaults: priority %v assignee %v, want medium and none", d["priority"], d["assignedToId"])
	}
	if d := newTask(t, w.call(t, w.admin), map[string]any{"departmentId": w.deptB}); d["departmentId"] != w.deptB {
		t.Errorf("admin's task in department %v, want B", d["departmentId"])
	}

	tests := []struct {
		name   string
		token  string
		over   map[string]any
		status int
		field  string
	}{
		{"employee", w.empA, nil, 403, ""},
		{"head in another department", w.headA, map[string]any{"departmentId": w.deptB}, 403, ""},
		{"admin without department", w.admin, nil, 400, "departmentId"},
		{"admin in unknown department", w.admin, map[string]any{"departmentId": "DEP-0000000000000000000000000"}, 400, "departmentId"},
		{"assignee of another department", w.headA, map[string]any{"assignedToId": w.empBID}, 400, "assignedToId"},
		{"pending assignee", w.headA, map[string]any{"assignedToId": pendingID}, 400, "assignedToId"},
		{"unknown assignee", w.headA, map[string]any{"assignedToId": "USR-0000000000000000000000000"}, 400, "assignedToId"},
		{"ticket of another department", w.headA, map[string]any{"ticketId": ticketB}, 400, "ticketId"},
		{"unknown ticket", w.headA, map[string]any{"ticketId": "TKT-0000000000000000000000000"}, 400, "ticketId"},
		{"not a ticket id", w.headA, map[string]any{"ticketId": "IT-1"}, 400, "ticketId"},
		{"admin links ticket of another department", w.admin, map[string]any{"departmentId": w.deptA, "ticketId": ticketB}, 400, "ticketId"},
		{"status on create", w.headA, map[string]any{"status": "completed"}, 400, "status"},
		{"progress on create", w.headA, map[string]any{"progress": 50}, 400, "status"},
		{"short title", w.headA, map[string]any{"title": "ab"}, 400, "title"},
		{"missing title", w.headA, map[string]any{"title": nil}, 400, "title"},
		{"missing description", w.headA, map[string]any{"description": nil}, 400, "description"},
		{"bad priority", w.headA, map[string]any{"priority": "asap"}, 400, "priority"},
		{"bad dueDate", w.headA, map[string]any{"dueDate": "soon"}, 400, "dueDate"},
		{"unknown field", w.headA, map[string]any{"owner": "me"}, 400, "owner"},
		{"dependsOn on create", w.headA, map[string]any{"dependsOn": []string{}}, 400, "dependsOn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := w.call(t, tt.token).do("POST", "/api/tasks", taskBody(tt.over))
			if tt.status == 400 {
				wantErr(t, r, 400, tt.field, tt.name)
			} else {
				want(t, r, tt.status, tt.name)
			}
		})
	}
	// Refused creates made nothing: department A has the fixture and the
	// two tasks above.
	if ids := taskIDs(t, w.call(t, w.admin), url.Values{"departmentId": {w.deptA}}); len(ids) != 3 {
		t.Errorf("department A has %d tasks, want 3", len(ids))
	}
}

func TestTaskOverdue(t *testing.T) {
	w := newWorld(t)
	head := w.call(t, w.headA)
	past := time.Now().UTC().Add(-48 * time.Hour).Format("2006-01-02")
	future := time.Now().UTC().Add(48 * time.Hour).Format(time.RFC3339)
	late := newTask(t, head, map[string]any{"dueDate": past})
	if late["overdue"] != true {
		t.Errorf("task due %s: overdue %v, want true", past, late["overdue"])
	}
	if got := newTask(t, head, map[string]any{"dueDate": future}); got["overdue"] != false {
		t.Errorf("task due %s: overdue %v, want false", future, got["overdue"])
	}
	if got := newTask(t, head, nil); got["overdue"] != false {
		t.Errorf("task without due date: overdue %v", got["overdue"])
	}
	path := "/api/tasks/" + late["id"].(string)
	if got := mustPut(t, head, path, map[string]any{"status": "completed"}); got["overdue"] != false {
		t.Errorf("completed late task: overdue %v, want false", got["overdue"])
	}
	if got := mustPut(t, head, path, map[string]any{"status": "in_progress"}); got["overdue"] != true {
		t.Errorf("reopened late task: overdue %v, want true", got["overdue"])
	}
	if got := mustPut(t, head, path, map[string]any{"dueDate": ""}); got["overdue"] != false || got["dueDate"] != nil {
		t.Errorf("due date cleared: overdue %v dueDate %v", got["overdue"], got["dueDate"])
	}
}

func TestTaskProgressAndStatus(t *testing.T) {
	w := newWorld(t)
	head := w.call(t, w.headA)
	path := "/api/tasks/" + newTask(t, head, nil)["id"].(string)
	for _, p := range []any{-1, 101, 1000, "half", 50.5} {
		wantErr(t, head.do("PUT", path, map[string]any{"progress": p}), 400, "progress", fmt.Sprintf("progress %v", p))
	}
	if got := mustPut(t, head, path, map[string]any{"progress": 0}); got["progress"] != 0.0 {
		t.Errorf("progress 0: %v", got["progress"])
	}
	if got := mustPut(t, head, path, map[string]any{"progress": 40, "status": "in_progress"}); got["progress"] != 40.0 || got["status"] != "in_progress" {
		t.Errorf("in progress at 40: %v %v", got["status"], got["progress"])
	}
	got := mustPut(t, head, path, map[string]any{"status": "completed"})
	if got["progress"] != 100.0 || got["completedAt"] == nil {
		t.Errorf("completing: progress %v completedAt %v, want 100 and set", got["progress"], got["completedAt"])
	}
	wantErr(t, head.do("PUT", path, map[string]any{"progress": 50}), 400, "progress", "completed task below 100")
	got = mustPut(t, head, path, map[string]any{"status": "in_progress"})
	if got["progress"] == 100.0 || got["completedAt"] != nil {
		t.Errorf("reopening: progress %v completedAt %v, want below 100 and cleared", got["progress"], got["completedAt"])
	}
	if got := mustPut(t, head, path, map[string]any{"status": "completed", "progress": 30}); got["progress"] != 100.0 {
		t.Errorf("completing with progress 30: progress %v, want 100", got["progress"])
	}
	if got := mustPut(t, head, path, map[string]any{"progress": 100}); got["status"] != "completed" {
		t.Errorf("progress 100 on a completed task: status %v", got["status"])
	}
	wantErr(t, head.do("PUT", path, map[string]any{"status": "done"}), 400, "status", "unknown status")
	mustPut(t, head, path, map[string]any{"status": "pending"})
	mustPut(t, head, path, map[string]any{"status": "cancelled"})
	want(t, head.do("PUT", path, map[string]any{"status": "in_progress"}), 409, "cancelled to in_progress")
	want(t, head.do("PUT", path, map[string]any{"status": "completed"}), 409, "cancelled to completed")
	mustPut(t, head, path, map[string]any{"status": "pending"})
	wantErr(t, head.do("PUT", path, map[string]any{"departmentId": w.deptB}), 400, "departmentId", "move department")
	wantErr(t, head.do("PUT", path, map[string]any{"assignedToId": w.empBID}), 400, "assignedToId", "assignee of another department")
	wantErr(t, head.do("PUT", path, map[string]any{"ticketId": w.ticket(w.headB, w.deptB)}), 400, "ticketId", "ticket of another department")
	if got := mustPut(t, head, path, map[string]any{"ticketId": w.ticketA, "assignedToId": w.empAID}); got["ticketId"] != w.ticketA {
		t.Errorf("linked ticket %v, want %s", got["ticketId"], w.ticketA)
	}
}

// TestTaskEmployeeRights: employees change only status and progress of the
// tasks they created or are assigned: no mass assignment.
func TestTaskEmployeeRights(t *testing.T) {
	w := newWorld(t)
	emp := w.call(t, w.empA)
	path := "/api/tasks/" + w.taskA // assigned to empA
	if got := mustPut(t, emp, path, map[string]any{"status": "in_progress"}); got["updatedBy"] != w.empAID {
		t.Errorf("updatedBy = %v, want empA", got["updatedBy"])
	}
	mustPut(t, emp, path, map[string]any{"progress": 30, "version": 2})
	for _, body := range []map[string]any{
		{"title": "My title"}, {"description": "Mine"}, {"priority": "urgent"}, {"dueDate": "2030-01-01"},
		{"assignedToId": w.headAID}, {"assignedToId": ""}, {"ticketId": w.ticketA}, {"departmentId": w.deptA},
		{"status": "completed", "priority": "low"},
	} {
		r := emp.do("PUT", path, body)
		want(t, r, 403, fmt.Sprintf("employee PUT %v", body))
	}
	got := w.call(t, w.headA).do("GET", path, nil).obj(t)
	if got["status"] != "in_progress" || got["progress"] != 30.0 || got["priority"] != "medium" || got["version"] != 3.0 {
		t.Errorf("after refused updates: %v %v %v v%v", got["status"], got["progress"], got["priority"], got["version"])
	}

	// An employee of the department who is not involved cannot see it.
	_, other := w.user("employee", w.deptA)
	want(t, w.call(t, other).do("PUT", path, map[string]any{"status": "completed"}), 404, "uninvolved employee updates")
	// The head may change everything but the department.
	mustPut(t, w.call(t, w.headA), path, map[string]any{"title": "Head's title", "priority": "urgent", "dueDate": "2030-01-01", "assignedToId": w.headAID})
	// empA is no longer assignee and did not create it: no access at all.
	want(t, emp.do("GET", path, nil), 404, "former assignee reads")
	want(t, emp.do("PUT", path, map[string]any{"progress": 50}), 404, "former assignee updates")
}

func TestTaskVisibilityAndListFilters(t *testing.T) {
	w := newWorld(t)
	headB, empB := w.call(t, w.headB), w.call(t, w.empB)
	headBID := userIDOf(t, w, w.headB)
	past := time.Now().UTC().Add(-72 * time.Hour).Format(time.RFC3339)
	future := time.Now().UTC().Add(72 * time.Hour).Format(time.RFC3339)
	t1 := newTask(t, headB, map[string]any{"priority": "high", "assignedToId": w.empBID, "dueDate": past})["id"].(string)
	t2 := newTask(t, headB, map[string]any{"priority": "low", "assignedToId": headBID})["id"].(string)
	t3 := newTask(t, headB, map[string]any{"priority": "urgent", "dueDate": past})["id"].(string)
	t4 := newTask(t, headB, map[string]any{"dueDate": future})["id"].(string)
	mustPut(t, headB, "/api/tasks/"+t2, map[string]any{"status": "in_progress"})
	mustPut(t, headB, "/api/tasks/"+t3, map[string]any{"status": "completed"})
	_, otherEmp := w.user("employee", w.deptB)

	tests := []struct {
		name  string
		c     *client
		query url.Values
		want  []string
	}{
		{"head sees department", headB, nil, []string{t1, t2, t3, t4}},
		{"employee sees own tasks only", empB, nil, []string{t1}},
		{"uninvolved employee sees nothing", w.call(t, otherEmp), nil, nil},
		{"other department's head", w.call(t, w.headA), nil, []string{w.taskA}},
		{"admin filters department", w.call(t, w.admin), url.Values{"departmentId": {w.deptB}}, []string{t1, t2, t3, t4}},
		{"admin sees all", w.call(t, w.admin), nil, []string{t1, t2, t3, t4, w.taskA}},
		{"status", headB, url.Values{"status": {"pending"}}, []string{t1, t4}},
		{"status list", headB, url.Values{"status": {"in_progress,completed"}}, []string{t2, t3}},
		{"priority", headB, url.Values{"priority": {"high,urgent"}}, []string{t1, t3}},
		{"assignedToId me", headB, url.Values{"assignedToId": {"me"}}, []string{t2}},
		{"assignedToId me as employee", empB, url.Values{"assignedToId": {"me"}}, []string{t1}},
		{"assignedToId id", headB, url.Values{"assignedToId": {w.empBID}}, []string{t1}},
		{"createdBy me", headB, url.Values{"createdBy": {"me"}}, []string{t1, t2, t3, t4}},
		{"overdue", headB, url.Values{"overdue": {"true"}}, []string{t1}},
		{"overdue as employee", empB, url.Values{"overdue": {"true"}}, []string{t1}},
		{"combined", headB, url.Values{"status": {"pending,completed"}, "priority": {"urgent,medium"}}, []string{t3, t4}},
		{"paged by one", headB, url.Values{"limit": {"1"}}, []string{t1, t2, t3, t4}},
		{"paged by three with filter", headB, url.Values{"limit": {"3"}, "status": {"pending,in_progress"}}, []string{t1, t2, t4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := taskIDs(t, tt.c, tt.query)
			if len(got) != len(tt.want) || !sameSet(got, tt.want) {
				t.Errorf("GET /api/tasks?%s = %v, want %v", tt.query.Encode(), got, tt.want)
			}
		})
	}
	t.Run("get", func(t *testing.T) {
		want(t, empB.do("GET", "/api/tasks/"+t1, nil), 200, "assignee reads")
		for _, id := range []string{t2, t3, t4} {
			want(t, empB.do("GET", "/api/tasks/"+id, nil), 404, "employee reads uninvolved task")
		}
		want(t, w.call(t, w.headA).do("GET", "/api/tasks/"+t1, nil), 404, "other department's head")
		want(t, w.call(t, w.empA).do("GET", "/api/tasks/"+t1, nil), 404, "other department's employee")
		want(t, headB.do("GET", "/api/tasks/TSK-0000000000000000000000000", nil), 404, "unknown task")
		want(t, headB.do("GET", "/api/tasks/nonsense", nil), 404, "junk id")
		// A task an employee created is theirs too: the head assigns it to them later.
		mustPut(t, headB, "/api/tasks/"+t4, map[string]any{"assignedToId": w.empBID})
		want(t, empB.do("GET", "/api/tasks/"+t4, nil), 200, "new assignee reads")
	})
	t.Run("overdue flag in lists", func(t *testing.T) {
		r := headB.do("GET", "/api/tasks?limit=50", nil)
		for _, tk := range decode[[]map[string]any](t, r) {
			if wantOverdue := tk["id"] == t1; tk["overdue"] != wantOverdue {
				t.Errorf("task %v: overdue %v, want %v", tk["id"], tk["overdue"], wantOverdue)
			}
		}
	})
	t.Run("page size", func(t *testing.T) {
		r := headB.do("GET", "/api/tasks?limit=3", nil)
		if n := len(decode[[]map[string]any](t, r)); n != 3 || r.Header.Get("X-Next-Cursor") == "" {
			t.Errorf("limit=3: %d tasks, cursor %q", n, r.Header.Get("X-Next-Cursor"))
		}
	})
	for _, q := range []struct{ query, field string }{
		{"status=open", "status"}, {"priority=p0", "priority"}, {"overdue=false", "overdue"}, {"overdue=yes", "overdue"},
		{"limit=0", "limit"}, {"cursor=bogus", "cursor"},
	} {
		t.Run("invalid "+q.query, func(t *testing.T) {
			wantErr(t, headB.do("GET", "/api/tasks?"+q.query, nil), 400, q.field, q.query)
		})
	}
	want(t, headB.do("GET", "/api/tasks?departmentId="+w.deptA, nil), 403, "head filters another department")
	want(t, empB.do("GET", "/api/tasks?departmentId="+w.deptA, nil), 403, "employee filters another department")
}

// graphEdges reads a department's dependency graph straight from the table.
func graphEdges(t testing.TB, w *world, dept string) map[string][]string {
	t.Helper()
	items := partition(t, w, "DEPT#"+dept)
	for _, it := range items {
		if sk, _ := it["SK"].(*types.AttributeValueMemberS); sk != nil && sk.Value == "TASKGRAPH" {
			var g dynamo.TaskGraph
			if err := dynamo.UnmarshalEntity(it, &g); err != nil {
				t.Fatal(err)
			}
			return g.Edges
		}
	}
	return nil
}

func dependsOn(t testing.TB, c *client, id string) []string {
	t.Helper()
	r := c.do("GET", "/api/tasks/"+id, nil)
	want(t, r, 200, "get task")
	var tk struct {
		DependsOn []string `json:"dependsOn"`
	}
	if err := json.Unmarshal(r.Body, &tk); err != nil {
		t.Fatal(err)
	}
	return tk.DependsOn
}

func TestTaskDependencies(t *testing.T) {
	w := newWorld(t)
	head := w.call(t, w.headA)
	mk := func() string { t.Helper(); return newTask(t, head, nil)["id"].(string) }
	a, b, c := mk(), mk(), mk()
	addDep := func(cl *client, from, to string) response {
		t.Helper()
		return cl.do("POST", "/api/tasks/"+from+"/dependencies", map[string]any{"dependsOn": to})
	}
	r := addDep(head, a, b)
	want(t, r, 200, "A depends on B")
	if got := r.obj(t)["dependsOn"]; fmt.Sprint(got) != "["+b+"]" {
		t.Errorf("A.dependsOn = %v, want [%s]", got, b)
	}
	want(t, addDep(head, a, b), 200, "again")
	if got := dependsOn(t, head, a); !slices.Equal(got, []string{b}) {
		t.Errorf("after adding twice A.dependsOn = %v", got)
	}
	want(t, addDep(w.call(t, w.admin), b, c), 200, "admin: B depends on C")

	t.Run("cycle", func(t *testing.T) {
		r := addDep(head, c, a)
		want(t, r, 409, "C depends on A closes A→B→C→A")
		msg := errMessage(t, r)
		for _, id := range []string{a, b, c} {
			if !strings.Contains(msg, id) {
				t.Errorf("cycle message %q does not name %s", msg, id)
			}
		}
		if !strings.Contains(strings.ToLower(msg), "cycle") {
			t.Errorf("message %q does not say cycle", msg)
		}
		r = addDep(head, a, a)
		want(t, r, 409, "self-dependency")
		if msg := errMessage(t, r); !strings.Contains(msg, a) {
			t.Errorf("self-dependency message %q does not name %s", msg, a)
		}
		want(t, addDep(head, c, b), 409, "two-task cycle")
		if got := dependsOn(t, head, c); len(got) != 0 {
			t.Errorf("refused dependencies were stored: C.dependsOn = %v", got)
		}
	})

	t.Run("refused", func(t *testing.T) {
		taskB := w.task(w.headB, w.deptB, "")
		wantErr(t, addDep(head, a, taskB), 400, "dependsOn", "cross-department")
		wantErr(t, addDep(w.call(t, w.admin), a, taskB), 400, "dependsOn", "cross-department as admin")
		wantErr(t, addDep(head, a, "TSK-0000000000000000000000000"), 400, "dependsOn", "unknown task")
		wantErr(t, addDep(head, a, "nonsense"), 400, "dependsOn", "junk id")
		wantErr(t, head.do("POST", "/api/tasks/"+a+"/dependencies", map[string]any{"dependsOn": b, "extra": 1}), 400, "extra", "unknown field")
		want(t, addDep(w.call(t, w.empA), a, c), 403, "employee")
		want(t, addDep(w.call(t, w.headB), a, c), 404, "other department's head")
		want(t, w.call(t, w.headB).do("DELETE", "/api/tasks/"+a+"/dependencies/"+b, nil), 404, "other department's head removes")
	})

	t.Run("blockers", func(t *testing.T) {
		for _, st := range []string{"in_progress", "completed"} {
			r := head.do("PUT", "/api/tasks/"+a, map[string]any{"status": st})
			want(t, r, 409, "A to "+st+" while B is pending")
			if msg := errMessage(t, r); !strings.Contains(msg, b) || strings.Contains(msg, c) {
				t.Errorf("blocker message %q should name B %s only", msg, b)
			}
		}
		// The assignee is blocked the same way.
		mustPut(t, head, "/api/tasks/"+a, map[string]any{"assignedToId": w.empAID})
		want(t, w.call(t, w.empA).do("PUT", "/api/tasks/"+a, map[string]any{"status": "in_progress"}), 409, "assignee starts blocked task")
		// Other changes of a blocked task are fine.
		mustPut(t, head, "/api/tasks/"+a, map[string]any{"progress": 10, "priority": "high"})
		want(t, head.do("PUT", "/api/tasks/"+b, map[string]any{"status": "in_progress"}), 409, "B blocked by C")
		mustPut(t, head, "/api/tasks/"+c, map[string]any{"status": "completed"})
		mustPut(t, head, "/api/tasks/"+b, map[string]any{"status": "in_progress"})
		want(t, head.do("PUT", "/api/tasks/"+a, map[string]any{"status": "in_progress"}), 409, "A blocked by B in progress")
		mustPut(t, head, "/api/tasks/"+b, map[string]any{"status": "completed"})
		mustPut(t, w.call(t, w.empA), "/api/tasks/"+a, map[string]any{"status": "in_progress"})
		mustPut(t, head, "/api/tasks/"+a, map[string]any{"status": "completed"})

		// Several blockers are all named; a cancelled one does not block.
		f, g, h := mk(), mk(), mk()
		want(t, addDep(head, f, g), 200, "F on G")
		want(t, addDep(head, f, h), 200, "F on H")
		r := head.do("PUT", "/api/tasks/"+f, map[string]any{"status": "completed"})
		want(t, r, 409, "F with two blockers")
		if msg := errMessage(t, r); !strings.Contains(msg, g) || !strings.Contains(msg, h) {
			t.Errorf("message %q should name both blockers %s and %s", msg, g, h)
		}
		mustPut(t, head, "/api/tasks/"+g, map[string]any{"status": "cancelled"})
		r = head.do("PUT", "/api/tasks/"+f, map[string]any{"status": "in_progress"})
		want(t, r, 409, "F still blocked by H")
		if msg := errMessage(t, r); strings.Contains(msg, g) || !strings.Contains(msg, h) {
			t.Errorf("message %q should name only H %s", msg, h)
		}
		mustPut(t, head, "/api/tasks/"+h, map[string]any{"status": "cancelled"})
		mustPut(t, head, "/api/tasks/"+f, map[string]any{"status": "in_progress"})
	})

	t.Run("remove", func(t *testing.T) {
		r := head.do("DELETE", "/api/tasks/"+a+"/dependencies/"+b, nil)
		want(t, r, 200, "remove A→B")
		if got := dependsOn(t, head, a); len(got) != 0 {
			t.Errorf("after removal A.dependsOn = %v", got)
		}
		want(t, head.do("DELETE", "/api/tasks/"+a+"/dependencies/"+b, nil), 404, "remove twice")
		wantErr(t, head.do("DELETE", "/api/tasks/"+a+"/dependencies/nonsense", nil), 400, "dependsOnId", "junk id")
		want(t, w.call(t, w.empA).do("DELETE", "/api/tasks/"+b+"/dependencies/"+c, nil), 403, "employee removes")
		// Without A→B, C→A no longer closes a cycle.
		want(t, addDep(head, c, a), 200, "C depends on A")
	})

	t.Run("graph matches tasks", func(t *testing.T) {
		edges := graphEdges(t, w, w.deptA)
		for _, id := range []string{a, b, c} {
			if got := dependsOn(t, head, id); !slices.Equal(got, edges[id]) {
				t.Errorf("task %s dependsOn %v, graph %v", id, got, edges[id])
			}
		}
	})
}

// TestTaskDeleteCascade: deleting a task removes its comments, history and
// every dependency link to or from it.
func TestTaskDeleteCascade(t *testing.T) {
	w := newWorld(t)
	head := w.call(t, w.headA)
	mk := func() string { t.Helper(); return newTask(t, head, nil)["id"].(string) }
	x, y, z, v := mk(), mk(), mk(), mk()
	for _, e := range [][2]string{{x, y}, {z, x}, {z, y}, {v, x}} {
		want(t, head.do("POST", "/api/tasks/"+e[0]+"/dependencies", map[string]any{"dependsOn": e[1]}), 200, "add dependency")
	}
	comment := mustCreate(t, head, "/api/comments", map[string]any{"taskId": x, "content": "Doomed"})["id"].(string)
	waitProjected(t, w)
	if n := len(partition(t, w, "TASK#"+x)); n < 3 {
		t.Fatalf("task X's partition has %d items, want task, comment and history", n)
	}
	zVersion := head.do("GET", "/api/tasks/"+z, nil).obj(t)["version"].(float64)

	want(t, w.call(t, w.admin).do("DELETE", "/api/tasks/"+x, nil), 200, "delete X")
	waitProjected(t, w)

	if items := partition(t, w, "TASK#"+x); len(items) != 0 {
		t.Errorf("task X's partition still holds %v", sortKeys(items))
	}
	if items := partition(t, w, "CMT#"+comment); len(items) != 0 {
		t.Errorf("comment alias remains")
	}
	if got := dependsOn(t, head, z); !slices.Equal(got, []string{y}) {
		t.Errorf("Z.dependsOn = %v, want [%s] (X removed)", got, y)
	}
	if got := dependsOn(t, head, v); len(got) != 0 {
		t.Errorf("V.dependsOn = %v, want [] (X removed)", got)
	}
	if got := dependsOn(t, head, y); len(got) != 0 {
		t.Errorf("Y.dependsOn = %v", got)
	}
	edges := graphEdges(t, w, w.deptA)
	if _, ok := edges[x]; ok {
		t.Errorf("graph keeps X's node: %v", edges)
	}
	for n, deps := range edges {
		if slices.Contains(deps, x) {
			t.Errorf("graph keeps edge %s → X", n)
		}
	}
	if !slices.Equal(edges[z], []string{y}) || len(edges[v]) != 0 {
		t.Errorf("graph after delete = %v, want only Z → Y", edges)
	}
	// The cleanup is a change of Z like any other: a new version, so stale
	// writers conflict, and history that keeps the earlier entries.
	gz := head.do("GET", "/api/tasks/"+z, nil)
	if v := gz.obj(t)["version"].(float64); v <= zVersion {
		t.Errorf("Z's version after cleanup = %v, want above %v", v, zVersion)
	}
	want(t, head.doH("PUT", "/api/tasks/"+z, map[string]any{"priority": "low"}, map[string]string{"If-Match": fmt.Sprintf(`"%d"`, int(zVersion))}), 412, "write with Z's version from before the cleanup")
	// Z's dependency history: +X (v2), +Y (v3), then the cleanup's -X.
	var deps []string
	for _, h := range historyOf(t, head, "tasks", z) {
		if h["field"] == "dependsOn" {
			deps = append(deps, fmt.Sprint(h["oldValue"], " → ", h["newValue"]))
		}
	}
	wantDeps := []string{
		fmt.Sprint(nil, " → ", []any{x}),
		fmt.Sprint([]any{x}, " → ", []any{x, y}),
		fmt.Sprint([]any{x, y}, " → ", []any{y}),
	}
	if !slices.Equal(deps, wantDeps) {
		t.Errorf("Z's dependsOn history:\n%q\nwant\n%q", deps, wantDeps)
	}
	// Z and V may start now (X no longer blocks).
	mustPut(t, head, "/api/tasks/"+v, map[string]any{"status": "in_progress"})
	want(t, head.do("GET", "/api/tasks/"+x, nil), 404, "deleted task")
}

func TestTaskHistory(t *testing.T) {
	w := newWorld(t)
	adminID := userIDOf(t, w, w.admin)
	head := w.call(t, w.headA)
	tk := newTask(t, head, map[string]any{"title": "First title"})
	id := tk["id"].(string)
	mustPut(t, head, "/api/tasks/"+id, map[string]any{"title": "Second title", "priority": "urgent", "assignedToId": w.empAID, "dueDate": "2031-02-03"})
	mustPut(t, w.call(t, w.empA), "/api/tasks/"+id, map[string]any{"status": "in_progress", "progress": 20})
	other := newTask(t, head, nil)["id"].(string)
	want(t, w.call(t, w.admin).do("POST", "/api/tasks/"+id+"/dependencies", map[string]any{"dependsOn": other}), 200, "dependency")
	cid := mustCreate(t, w.call(t, w.empA), "/api/comments", map[string]any{"taskId": id, "content": "Task note"})["id"].(string)
	waitProjected(t, w)

	type entry struct {
		action, field string
		old, new      any
		actor         string
		version       float64
	}
	wants := []entry{
		{"created", "", nil, nil, w.headAID, 1},
		{"updated", "title", "First title", "Second title", w.headAID, 2},
		{"updated", "priority", "medium", "urgent", w.headAID, 2},
		{"updated", "assignedToId", nil, w.empAID, w.headAID, 2},
		{"updated", "dueDate", nil, "2031-02-03T00:00:00Z", w.headAID, 2},
		{"updated", "status", "pending", "in_progress", w.empAID, 3},
		{"updated", "progress", 0.0, 20.0, w.empAID, 3},
		{"updated", "dependsOn", nil, []any{other}, adminID, 4},
		{"comment_added", "", nil, "Task note", w.empAID, 1},
	}
	hist := historyOf(t, w.call(t, w.empA), "tasks", id)
	var got []entry
	for _, h := range hist {
		e := entry{action: h["action"].(string), old: h["oldValue"], new: h["newValue"]}
		e.field, _ = h["field"].(string)
		e.actor, _ = h["actorId"].(string)
		e.version, _ = h["version"].(float64)
		got = append(got, e)
		if h["entityType"] != "task" || h["entityId"] != id {
			t.Errorf("entry names %v %v", h["entityType"], h["entityId"])
		}
		if e.action == "comment_added" && h["commentId"] != cid {
			t.Errorf("comment entry commentId %v, want %s", h["commentId"], cid)
		}
	}
	if len(got) != len(wants) {
		t.Errorf("got %d entries, want %d: %+v", len(got), len(wants), got)
	}
	for _, we := range wants {
		if !slices.ContainsFunc(got, func(g entry) bool { return fmt.Sprint(g) == fmt.Sprint(we) }) {
			t.Errorf("history lacks %+v\ngot %+v", we, got)
		}
	}
	want(t, w.call(t, w.headB).do("GET", "/api/tasks/"+id+"/history", nil), 404, "other department's head")
	_, stranger := w.user("employee", w.deptA)
	want(t, w.call(t, stranger).do("GET", "/api/tasks/"+id+"/history", nil), 404, "uninvolved employee")
}
