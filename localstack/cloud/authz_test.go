package cloud_test

import (
	"testing"

	"github.com/deskline/deskline/shared/routes"
)

// callers are the columns of the authorization table.
var callers = []string{"admin", "headA", "headB", "empA", "empB", "anon"}

// cells gives the expected status per caller, in the order of callers.
type cells [6]int

// request makes one call of a route; it may create fresh targets so that
// destructive routes can run once per caller.
type request func(w *world) (method, path string, body any)

// authzRow is one route's row.
type authzRow struct {
	route string
	req   request
	want  cells
}

func static(method, path string, body any) request {
	return func(*world) (string, string, any) { return method, path, body }
}

var (
	anyone   = cells{200, 200, 200, 200, 200, 401}
	public   = cells{200, 200, 200, 200, 200, 200}
	adminOK  = cells{200, 403, 403, 403, 403, 401}
	adminNew = cells{201, 403, 403, 403, 403, 401}
	// sameDept: readable by admins and department A's people only.
	sameDept = cells{200, 200, 404, 200, 404, 401}
	// deptAnalytics: department A's analytics: admins and A's head only.
	deptAnalytics = cells{200, 200, 404, 403, 403, 401}
	// userAnalytics: empA's analytics: admins, A's head and empA.
	userAnalytics = cells{200, 200, 404, 200, 404, 401}
)

// authzTable has one row per route. Department A is the "same" department of
// headA and empA; targets live in department A.
var authzTable = []authzRow{
	{"health", static("GET", "/api/health", nil), public},
	{"openapi", static("GET", "/api/openapi.json", nil), public},
	{"auth-register", func(w *world) (string, string, any) {
		n := unique("r")
		return "POST", "/api/auth/register", map[string]string{"username": n, "email": n + "@test.local", "password": testPassword, "departmentId": w.deptA}
	}, cells{201, 201, 201, 201, 201, 201}},
	{"auth-login", static("POST", "/api/auth/login", map[string]string{"email": adminEmail, "password": adminPassword}), public},
	{"auth-logout", nil, anyone}, // special-cased: logs out a fresh session of the caller
	{"auth-me", static("GET", "/api/auth/me", nil), anyone},
	{"auth-profile", static("GET", "/api/auth/profile", nil), anyone},
	{"auth-forgot-password", static("POST", "/api/auth/forgot-password", map[string]string{"email": "nobody@test.local"}), public},
	{"auth-reset-password", static("POST", "/api/auth/reset-password", map[string]string{"token": "00", "password": testPassword}), cells{400, 400, 400, 400, 400, 400}},
	{"auth-verify-reset-token", static("GET", "/api/auth/verify-reset-token/00", nil), cells{400, 400, 400, 400, 400, 400}},

	{"users-list", static("GET", "/api/users", nil), adminOK},
	{"users-profile", static("GET", "/api/users/profile", nil), anyone},
	{"users-create", func(w *world) (string, string, any) {
		n := unique("c")
		return "POST", "/api/users", map[string]string{"username": n, "email": n + "@test.local", "password": testPassword, "role": "employee", "departmentId": w.deptA}
	}, adminNew},
	{"users-get", func(w *world) (string, string, any) { return "GET", "/api/users/" + w.headAID, nil }, cells{200, 200, 404, 200, 404, 401}},
	{"users-update", func(w *world) (string, string, any) {
		return "PUT", "/api/users/" + w.empAID, map[string]string{"username": unique("n")}
	}, cells{200, 403, 403, 200, 403, 401}}, // empA is the target itself: self-update
	{"users-delete", func(w *world) (string, string, any) {
		id, _ := w.pending(w.deptA)
		return "DELETE", "/api/users/" + id, nil
	}, adminOK},
	{"users-approve", func(w *world) (string, string, any) {
		id, _ := w.pending(w.deptA)
		return "PATCH", "/api/users/" + id + "/approve", nil
	}, adminOK},
	{"users-reject", func(w *world) (string, string, any) {
		id, _ := w.pending(w.deptA)
		return "PATCH", "/api/users/" + id + "/reject", nil
	}, adminOK},

	{"departments-create", func(w *world) (string, string, any) {
		return "POST", "/api/departments", map[string]string{"name": unique("Dept "), "code": code()}
	}, adminNew},
	{"departments-list", static("GET", "/api/departments", nil), anyone},
	{"departments-get", func(w *world) (string, string, any) { return "GET", "/api/departments/" + w.deptA, nil }, anyone},
	{"departments-update", func(w *world) (string, string, any) {
		return "PUT", "/api/departments/" + w.deptA, map[string]string{"description": unique("d")}
	}, adminOK},
	{"departments-delete", func(w *world) (string, string, any) {
		return "DELETE", "/api/departments/" + w.department(unique("Empty ")), nil
	}, adminOK},

	{"tickets-create", func(w *world) (string, string, any) {
		return "POST", "/api/tickets", map[string]any{"title": "Broken laptop", "description": "Screen is dark.", "priority": "low", "category": "bug", "departmentId": w.deptA}
	}, cells{201, 201, 403, 201, 403, 401}},
	{"tickets-list", static("GET", "/api/tickets", nil), anyone},
	{"tickets-stats", static("GET", "/api/tickets/stats", nil), cells{200, 200, 200, 403, 403, 401}},
	{"tickets-get", func(w *world) (string, string, any) { return "GET", "/api/tickets/" + w.ticketA, nil }, sameDept},
	{"tickets-update", func(w *world) (string, string, any) {
		return "PUT", "/api/tickets/" + w.ticketA, map[string]any{"priority": "urgent"}
	}, cells{200, 200, 404, 403, 404, 401}}, // empA neither created nor is assigned ticketA
	{"tickets-delete", func(w *world) (string, string, any) {
		return "DELETE", "/api/tickets/" + w.ticket(w.headA, w.deptA), nil
	}, adminOK},
	{"tickets-history", func(w *world) (string, string, any) { return "GET", "/api/tickets/" + w.ticketA + "/history", nil }, sameDept},
	{"tickets-comments-list", func(w *world) (string, string, any) { return "GET", "/api/tickets/" + w.ticketA + "/comments", nil }, sameDept},
	{"tickets-comments-create", func(w *world) (string, string, any) {
		return "POST", "/api/tickets/" + w.ticketA + "/comments", map[string]any{"content": "Looking"}
	}, cells{201, 201, 404, 201, 404, 401}},

	{"tasks-create", func(w *world) (string, string, any) {
		return "POST", "/api/tasks", map[string]any{"title": "Order parts", "description": "Two screens.", "departmentId": w.deptA}
	}, cells{201, 201, 403, 403, 403, 401}},
	{"tasks-list", static("GET", "/api/tasks", nil), anyone},
	{"tasks-get", func(w *world) (string, string, any) { return "GET", "/api/tasks/" + w.taskA, nil }, sameDept},
	{"tasks-update", func(w *world) (string, string, any) {
		return "PUT", "/api/tasks/" + w.taskA, map[string]any{"progress": 10}
	}, sameDept}, // empA is taskA's assignee
	{"tasks-delete", func(w *world) (string, string, any) {
		return "DELETE", "/api/tasks/" + w.task(w.headA, w.deptA, ""), nil
	}, adminOK},
	{"tasks-history", func(w *world) (string, string, any) { return "GET", "/api/tasks/" + w.taskA + "/history", nil }, sameDept},
	{"tasks-dependencies-add", func(w *world) (string, string, any) {
		a, b := w.task(w.headA, w.deptA, ""), w.task(w.headA, w.deptA, "")
		return "POST", "/api/tasks/" + a + "/dependencies", map[string]any{"dependsOn": b}
	}, cells{200, 200, 404, 403, 403, 401}},
	{"tasks-dependencies-remove", func(w *world) (string, string, any) {
		a, b := w.task(w.headA, w.deptA, ""), w.task(w.headA, w.deptA, "")
		want(w.c.t, w.c.as(w.headA).do("POST", "/api/tasks/"+a+"/dependencies", map[string]any{"dependsOn": b}), 200, "add dependency")
		return "DELETE", "/api/tasks/" + a + "/dependencies/" + b, nil
	}, cells{200, 200, 404, 403, 403, 401}},

	{"comments-create", func(w *world) (string, string, any) {
		return "POST", "/api/comments", map[string]any{"taskId": w.taskA, "content": "Done soon"}
	}, cells{201, 201, 404, 201, 404, 401}},
	{"comments-list-task", func(w *world) (string, string, any) { return "GET", "/api/comments/task/" + w.taskA, nil }, sameDept},
	{"comments-update", func(w *world) (string, string, any) {
		return "PUT", "/api/comments/" + w.commentA, map[string]any{"content": unique("edited ")}
	}, cells{403, 403, 404, 200, 404, 401}}, // only the author, empA
	{"comments-delete", func(w *world) (string, string, any) {
		return "DELETE", "/api/comments/" + w.comment(w.empA, w.taskA), nil
	}, cells{200, 403, 404, 200, 404, 401}},

	{"notifications-list", static("GET", "/api/notifications", nil), anyone},
	{"notifications-related", static("GET", "/api/notifications/related", nil), anyone},
	{"notifications-unread-count", static("GET", "/api/notifications/unread/count", nil), anyone},
	{"notifications-read", func(w *world) (string, string, any) {
		return "PUT", "/api/notifications/" + empANotification(w) + "/read", nil
	}, cells{404, 404, 404, 200, 404, 401}}, // empA's own (taskA's assignment): nobody else's
	{"notifications-read-all", static("PUT", "/api/notifications/read-all", nil), anyone},
	{"messages-send", func(w *world) (string, string, any) {
		return "POST", "/api/messages", map[string]any{"to": w.headAID, "body": "Hello"}
	}, cells{201, 400, 201, 201, 400, 401}}, // headA is the caller itself; empB is another department's employee
	{"messages-conversations", static("GET", "/api/messages", nil), anyone},
	{"messages-history", func(w *world) (string, string, any) { return "GET", "/api/messages/" + w.headAID, nil }, anyone},
	{"messages-read", func(w *world) (string, string, any) {
		headAWritesToEveryone(w)
		return "PUT", "/api/messages/" + w.headAID + "/read", nil
	}, cells{200, 404, 200, 200, 200, 401}}, // headA has no conversation with itself

	// Analytics: admins everything; heads their department (another one in
	// the path is 404, as a filter 403) and its people; everyone themself.
	{"analytics-tickets", static("GET", "/api/analytics/tickets", nil), cells{200, 200, 200, 403, 403, 401}},
	{"analytics-department-metrics", func(w *world) (string, string, any) {
		return "GET", "/api/analytics/department/" + w.deptA + "/metrics", nil
	}, deptAnalytics},
	{"analytics-department-metrics-export", func(w *world) (string, string, any) {
		return "GET", "/api/analytics/department/" + w.deptA + "/metrics/export", nil
	}, deptAnalytics},
	{"analytics-department-analytics", func(w *world) (string, string, any) {
		return "GET", "/api/analytics/department/" + w.deptA + "/analytics", nil
	}, deptAnalytics},
	{"analytics-department-trends", func(w *world) (string, string, any) {
		return "GET", "/api/analytics/department/" + w.deptA + "/trends?period=weekly", nil
	}, deptAnalytics},
	{"analytics-user-performance", func(w *world) (string, string, any) {
		return "GET", "/api/analytics/user/" + w.empAID + "/performance", nil
	}, userAnalytics},
	{"analytics-user-performance-export", func(w *world) (string, string, any) {
		return "GET", "/api/analytics/user/" + w.empAID + "/performance/export", nil
	}, userAnalytics},
	{"analytics-user-activity", func(w *world) (string, string, any) {
		return "GET", "/api/analytics/user/" + w.empAID + "/activity", nil
	}, userAnalytics},
	{"analytics-task-distribution", static("GET", "/api/analytics/dashboard/task-distribution", nil), cells{200, 200, 200, 403, 403, 401}},
	{"analytics-performance-trends", static("GET", "/api/analytics/dashboard/performance-trends?period=monthly", nil), cells{200, 200, 200, 403, 403, 401}},
	{"analytics-priority-metrics", static("GET", "/api/analytics/dashboard/priority-metrics", nil), cells{200, 200, 200, 403, 403, 401}},
	{"analytics-department-comparison", static("GET", "/api/analytics/dashboard/department-comparison", nil), adminOK},
	{"analytics-dashboard-department-trends", func(w *world) (string, string, any) {
		return "GET", "/api/analytics/dashboard/department/" + w.deptA + "/trends", nil
	}, deptAnalytics},
	{"analytics-forecast-task-completion", func(w *world) (string, string, any) {
		return "GET", "/api/analytics/dashboard/department/" + w.deptA + "/forecast/task-completion", nil
	}, deptAnalytics},
	{"analytics-forecast-productivity", func(w *world) (string, string, any) {
		return "GET", "/api/analytics/dashboard/user/" + w.empAID + "/forecast/productivity", nil
	}, cells{200, 200, 404, 403, 403, 401}}, // empA's forecast: admins and A's head; employees not even their own
	{"analytics-forecast-workload", func(w *world) (string, string, any) {
		return "GET", "/api/analytics/dashboard/department/" + w.deptA + "/forecast/workload", nil
	}, deptAnalytics},
	{"analytics-anomalies-department", func(w *world) (string, string, any) {
		return "GET", "/api/analytics/dashboard/department/" + w.deptA + "/anomalies", nil
	}, deptAnalytics},
	{"analytics-anomalies-user", func(w *world) (string, string, any) {
		return "GET", "/api/analytics/dashboard/user/" + w.empAID + "/anomalies", nil
	}, cells{200, 200, 404, 403, 403, 401}},
	{"analytics-live-department-metrics", static("GET", "/api/analytics/dashboard/live/department-metrics", nil), adminOK},
	{"analytics-live-task-status", static("GET", "/api/analytics/dashboard/live/task-status", nil), adminOK},
	{"analytics-dashboard-user-activity", static("GET", "/api/analytics/dashboard/user-activity", nil), cells{200, 200, 200, 403, 403, 401}},
	{"analytics-live-user-activity", static("GET", "/api/analytics/dashboard/live/user-activity", nil), adminOK},
	{"analytics-update-metrics", static("POST", "/api/analytics/update-metrics", nil), adminOK},
	{"analytics-reports-create", static("POST", "/api/analytics/reports", map[string]any{"name": "Weekly", "type": "task"}), adminNew},
	{"analytics-reports-list", static("GET", "/api/analytics/reports", nil), adminOK},
	{"analytics-reports-get", func(w *world) (string, string, any) { return "GET", "/api/analytics/reports/" + w.report(), nil }, adminOK},
	{"analytics-reports-update", func(w *world) (string, string, any) {
		return "PUT", "/api/analytics/reports/" + w.report(), map[string]any{"isActive": false}
	}, adminOK},
	{"analytics-reports-delete", func(w *world) (string, string, any) { return "DELETE", "/api/analytics/reports/" + w.report(), nil }, adminOK},
	{"analytics-reports-export", func(w *world) (string, string, any) {
		return "GET", "/api/analytics/reports/" + w.report() + "/export", nil
	}, adminOK},
	{"analytics-reports-schedule", func(w *world) (string, string, any) {
		return "PUT", "/api/analytics/reports/" + w.report() + "/schedule", map[string]any{"cron": "0 8 * * 1", "recipientEmail": "lead@test.local"}
	}, adminOK},
	{"files-upload-ticket", func(w *world) (string, string, any) {
		return "POST", "/api/files/ticket/" + w.ticketA, map[string]any{"fileName": "a.png", "contentType": "image/png", "size": 100}
	}, cells{201, 201, 404, 201, 404, 401}},
	{"files-upload-task", func(w *world) (string, string, any) {
		return "POST", "/api/files/task/" + w.taskA, map[string]any{"fileName": "a.pdf", "contentType": "application/pdf", "size": 100}
	}, cells{201, 201, 404, 201, 404, 401}}, // empA is taskA's assignee
	{"files-upload-comment", func(w *world) (string, string, any) {
		return "POST", "/api/files/comment/" + w.commentA, map[string]any{"fileName": "a.txt", "contentType": "text/plain", "size": 100}
	}, cells{201, 201, 404, 201, 404, 401}},
	{"files-list-ticket", func(w *world) (string, string, any) { return "GET", "/api/files/ticket/" + w.ticketA, nil }, sameDept},
	{"files-list-task", func(w *world) (string, string, any) { return "GET", "/api/files/task/" + w.taskA, nil }, sameDept},
	{"files-list-comment", func(w *world) (string, string, any) { return "GET", "/api/files/comment/" + w.commentA, nil }, sameDept},
	{"files-get", func(w *world) (string, string, any) { return "GET", "/api/files/" + w.availableFile(), nil }, sameDept},
	{"files-download", func(w *world) (string, string, any) {
		return "GET", "/api/files/" + w.availableFile() + "/download", nil
	}, cells{302, 302, 404, 302, 404, 401}},
	{"files-delete", func(w *world) (string, string, any) {
		return "DELETE", "/api/files/" + w.pendingFile(w.empA, "ticket/"+w.ticketA), nil
	}, cells{200, 403, 404, 200, 404, 401}}, // the uploader (empA) or an admin
}

func TestAuthorizationTableCoversEveryRoute(t *testing.T) {
	rows := map[string]bool{}
	for _, r := range authzTable {
		if rows[r.route] {
			t.Errorf("route %s has two rows", r.route)
		}
		rows[r.route] = true
	}
	for _, r := range routes.HTTP {
		if !rows[r.Name] {
			t.Errorf("route %s has no row in the authorization table", r.Name)
		}
		delete(rows, r.Name)
	}
	for name := range rows {
		t.Errorf("row %s names no route", name)
	}
}

// TestAuthorization calls every route as every kind of caller.
func TestAuthorization(t *testing.T) {
	w := newWorld(t)
	emails := map[string]string{}
	for _, row := range authzTable {
		t.Run(row.route, func(t *testing.T) {
			for i, caller := range callers {
				token := w.token(caller)
				var method, path string
				var body any
				if row.route == "auth-logout" {
					method, path = "POST", "/api/auth/logout"
					if caller != "anon" {
						token = w.freshSession(caller, emails)
					}
				} else {
					method, path, body = row.req(w)
				}
				got := w.c.as(token).do(method, path, body)
				if got.Status != row.want[i] {
					t.Errorf("%s as %s: got %d, want %d (body %s)", row.route, caller, got.Status, row.want[i], got.Body)
				}
			}
		})
	}
	// Logging out fresh sessions must not have ended the callers' own.
	for _, caller := range callers[:5] {
		if r := w.c.as(w.token(caller)).do("GET", "/api/auth/me", nil); r.Status != 200 {
			t.Errorf("%s's session ended: GET /api/auth/me = %d", caller, r.Status)
		}
	}
}

// freshSession logs the caller in again, so logging out does not end the
// session the rest of the table uses.
func (w *world) freshSession(caller string, emails map[string]string) string {
	w.c.t.Helper()
	if caller == "admin" {
		return w.c.login(adminEmail, adminPassword)
	}
	email, ok := emails[caller]
	if !ok {
		me := w.c.as(w.token(caller)).do("GET", "/api/auth/me", nil)
		email = me.obj(w.c.t)["email"].(string)
		emails[caller] = email
	}
	return w.c.login(email, testPassword)
}
