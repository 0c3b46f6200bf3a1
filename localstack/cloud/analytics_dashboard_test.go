package cloud_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/deskline/deskline/shared/analytics"
	"github.com/deskline/deskline/shared/app"
	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/dynamo"
)

// countingApp builds a second app on the world's table whose DynamoDB calls
// are counted.
func countingApp(t *testing.T, w *world) (*app.App, *countingDB) {
	t.Helper()
	counter := &countingDB{API: dynamo.LocalClient(w.cloud.DynamoDBEndpoint), calls: map[string]int{}}
	a, err := app.New(w.cloud.App.Config, app.Deps{DynamoDB: counter, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return a, counter
}

var (
	// testAdmin calls routes directly (invokeAs); in the calls test,
	// liveAdmin marks the requests that carry no dates (the live routes
	// refuse them).
	testAdmin = &deskline.Principal{UserID: "USR-01JB0000000000000000000001", Role: deskline.RoleAdmin}
	liveAdmin = &deskline.Principal{UserID: "USR-01JB0000000000000000000001", Role: deskline.RoleAdmin}
)

// TestAnalyticsUpdateMetrics: the contract's POST /update-metrics answers
// as the original did and touches nothing: the aggregates are always
// current.
func TestAnalyticsUpdateMetrics(t *testing.T) {
	w := newWorld(t)
	r := w.c.as(w.admin).do("POST", "/api/analytics/update-metrics", nil)
	want(t, r, 200, "update metrics")
	if got := r.obj(t)["message"]; got != "Metrics updated successfully" {
		t.Errorf("message = %v, want %q", got, "Metrics updated successfully")
	}
	want(t, w.c.as(w.headA).do("POST", "/api/analytics/update-metrics", nil), 403, "head")

	a, counter := countingApp(t, w)
	resp := invokeAs(t, a, "analytics-update-metrics", "POST", "/api/analytics/update-metrics", nil, "", "", testAdmin)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
	}
	if got := counter.reset(); len(got) != 0 {
		t.Errorf("update-metrics made DynamoDB calls %v, want none", got)
	}
}

// seedBuckets writes whole day buckets of a scope.
func seedBuckets(t *testing.T, w *world, scope analytics.Scope, days map[string]analytics.Counters) {
	t.Helper()
	if err := w.store.PutBuckets(context.Background(), scope, days); err != nil {
		t.Fatalf("seed buckets: %v", err)
	}
}

// checkScoping checks the errors every department dashboard route shares:
// another department's head 404 (the path names a department outside
// their scope), employees 403, an unknown department 404, bad dates and
// unsupported filters 400.
func checkScoping(t *testing.T, w *world, path func(id string) string) {
	t.Helper()
	want(t, w.c.as(w.headB).do("GET", path(w.deptA), nil), 404, "another department's head")
	want(t, w.c.as(w.empA).do("GET", path(w.deptA), nil), 403, "employee")
	want(t, w.c.as(w.admin).do("GET", path("DEP-01JB0000000000000000000099"), nil), 404, "unknown department")
	want(t, w.c.as(w.admin).do("GET", path("nonsense"), nil), 404, "malformed department id")
	wantErr(t, w.c.as(w.headA).do("GET", path(w.deptA)+"?startDate=2025-03-08&endDate=2025-03-01", nil), 400, "endDate", "end before start")
	wantErr(t, w.c.as(w.headA).do("GET", path(w.deptA)+"?startDate=2024-01-01&endDate=2025-12-31", nil), 400, "endDate", "too long")
	wantErr(t, w.c.as(w.headA).do("GET", path(w.deptA)+"?startDate=someday", nil), 400, "startDate", "bad date")
	wantErr(t, w.c.as(w.headA).do("GET", path(w.deptA)+"?assignedTo="+w.empAID, nil), 400, "assignedTo", "unsupported filter")
}

// TestAnalyticsDashboardDepartmentTrends compares the halves of a seeded
// eight-day range.
func TestAnalyticsDashboardDepartmentTrends(t *testing.T) {
	w := newWorld(t)
	days := map[string]analytics.Counters{}
	for i := range 8 {
		d := fmt.Sprintf("2025-03-%02d", i+1)
		c := analytics.Counters{"kDone": 3, "kDnS": 3 * 3600, "tRes": 1, "tResS": 3600}
		if i < 4 {
			c["tNew"], c["kNew"], c["kC#ch"] = 2, 2, 2 // first half: 8 tickets, 8 tasks all completed
		} else {
			c["tNew"], c["kNew"], c["kC#ch"], c["kC#pm"] = 4, 4, 1, 3 // second half: 16 tickets, 16 tasks, 4 completed
			c["tResS"] = 3 * 3600                                     // resolutions take 3 h instead of 1 h
		}
		days[d] = c
	}
	days["2025-03-02"]["kDue"] = 2 // two unfinished tasks were due in the first half
	seedBuckets(t, w, analytics.Dept(w.deptA), days)
	// Department B's buckets of the same days must not count.
	seedBuckets(t, w, analytics.Dept(w.deptB), map[string]analytics.Counters{"2025-03-01": {"tNew": 100}})

	path := func(id string) string { return "/api/analytics/dashboard/department/" + id + "/trends" }
	r := w.c.as(w.headA).do("GET", path(w.deptA)+"?startDate=2025-03-01&endDate=2025-03-08", nil)
	want(t, r, 200, "trends")
	got := map[string][3]any{}
	for _, m := range decode[[]map[string]any](t, r) {
		got[m["metric"].(string)] = [3]any{m["trend"], m["from"], m["to"]}
	}
	wantTrends := map[string][3]any{
		"ticketsCreated":        {"up", 8.0, 16.0},
		"ticketsResolved":       {"flat", 4.0, 4.0},
		"averageResolutionTime": {"up", 1.0, 3.0},
		"tasksCreated":          {"up", 8.0, 16.0},
		"tasksCompleted":        {"flat", 12.0, 12.0},
		"completionRate":        {"down", 1.0, 0.25},
		"averageCompletionTime": {"flat", 1.0, 1.0},
		"overdueTasks":          {"down", 2.0, 0.0},
		// (12 on time + 4 resolved) / (12 + 4 + 2 overdue) = 88.9; 16 / 16 = 100.
		"productivityScore": {"up", 88.9, 100.0},
	}
	if !reflect.DeepEqual(got, wantTrends) {
		t.Errorf("trends = %v\nwant %v", got, wantTrends)
	}
	r = w.c.as(w.admin).do("GET", path(w.deptA)+"?startDate=2025-03-01&endDate=2025-03-01", nil)
	want(t, r, 200, "one day")
	if string(r.Body) != "[]" {
		t.Errorf("one day's trends = %s, want []", r.Body)
	}
	checkScoping(t, w, path)
}

// TestAnalyticsDashboardCallsPerRequest counts the DynamoDB calls of the
// dashboard routes over a 90-day range.
func TestAnalyticsDashboardCallsPerRequest(t *testing.T) {
	w := newWorld(t)
	waitIdle(t, w.cloud)
	a, counter := countingApp(t, w)
	end := time.Now().UTC()
	rng := "startDate=" + end.AddDate(0, 0, -89).Format("2006-01-02") + "&endDate=" + end.Format("2006-01-02")
	named := map[string]int{"GetItem": 1, "Query": 1}
	depts, err := w.store.DepartmentIDs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	dept := func(suffix string) (string, map[string]string) {
		return "/api/analytics/dashboard/department/" + w.deptA + suffix, map[string]string{"id": w.deptA}
	}
	tests := []struct {
		route  string
		path   func() (string, map[string]string)
		caller *deskline.Principal
		want   map[string]int
	}{
		{"analytics-dashboard-department-trends", func() (string, map[string]string) { return dept("/trends") }, testAdmin, named},
		{"analytics-dashboard-department-trends", func() (string, map[string]string) { return dept("/trends") },
			&deskline.Principal{UserID: w.headAID, Role: deskline.RoleDepartmentHead, DepartmentID: w.deptA}, named},
		{"analytics-forecast-task-completion", func() (string, map[string]string) { return dept("/forecast/task-completion") }, testAdmin, named},
		{"analytics-forecast-workload", func() (string, map[string]string) { return dept("/forecast/workload") }, testAdmin, named},
		{"analytics-forecast-productivity", func() (string, map[string]string) {
			return "/api/analytics/dashboard/user/" + w.empAID + "/forecast/productivity", map[string]string{"id": w.empAID}
		}, testAdmin, named},
		{"analytics-anomalies-department", func() (string, map[string]string) { return dept("/anomalies") }, testAdmin, named},
		{"analytics-anomalies-user", func() (string, map[string]string) {
			return "/api/analytics/dashboard/user/" + w.empAID + "/anomalies", map[string]string{"id": w.empAID}
		}, testAdmin, named},
		{"analytics-live-department-metrics", func() (string, map[string]string) {
			return "/api/analytics/dashboard/live/department-metrics", nil
		}, testAdmin, map[string]int{"Query": 1 + len(depts)}},
		{"analytics-live-task-status", func() (string, map[string]string) {
			return "/api/analytics/dashboard/live/task-status", nil
		}, liveAdmin, map[string]int{"Query": 1, "BatchGetItem": 1}},
		{"analytics-live-user-activity", func() (string, map[string]string) {
			return "/api/analytics/dashboard/live/user-activity", nil
		}, liveAdmin, map[string]int{"Query": 1, "BatchGetItem": 1}},
		{"analytics-dashboard-user-activity", func() (string, map[string]string) {
			return "/api/analytics/dashboard/user-activity", nil
		}, &deskline.Principal{UserID: w.headAID, Role: deskline.RoleDepartmentHead, DepartmentID: w.deptA}, map[string]int{"Query": 1, "BatchGetItem": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.route, func(t *testing.T) {
			path, params := tt.path()
			query, caller := rng, tt.caller
			if caller == liveAdmin {
				query = "" // the live task board takes no dates
			}
			counter.reset()
			resp := invokeAs(t, a, tt.route, "GET", path, params, query, "", caller)
			got := counter.reset()
			if resp.StatusCode != 200 {
				t.Errorf("status %d: %s", resp.StatusCode, resp.Body)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s as %s made %v DynamoDB calls, want %v", path, caller.Role, got, tt.want)
			}
		})
	}
}

// forecastValues reads a forecast's dates and values.
func forecastValues(t *testing.T, r response, name string) ([]string, []float64) {
	t.Helper()
	var days []string
	var vals []float64
	for _, p := range decode[[]map[string]any](t, r) {
		days = append(days, p["date"].(string))
		vals = append(vals, p[name].(float64))
	}
	return days, vals
}

// TestAnalyticsDashboardForecasts fits seeded weeks and checks the next
// seven days.
func TestAnalyticsDashboardForecasts(t *testing.T) {
	w := newWorld(t)
	dept, user := map[string]analytics.Counters{}, map[string]analytics.Counters{}
	for i := range 7 {
		d := fmt.Sprintf("2025-03-%02d", i+1)
		// Completions rise by one a day (1…7); new tasks fall (10…4).
		dept[d] = analytics.Counters{"kDone": int64(i + 1), "kNew": int64(10 - i)}
		user[d] = analytics.Counters{"cNew": 1} // a day without scored work
	}
	// empA's scored days: 100 on the 1st, 80 on the 3rd, 60 on the 5th.
	user["2025-03-01"] = analytics.Counters{"kDone": 1}
	user["2025-03-03"] = analytics.Counters{"kDone": 5, "kLate": 1}
	user["2025-03-05"] = analytics.Counters{"kDone": 5, "kLate": 2}
	seedBuckets(t, w, analytics.Dept(w.deptA), dept)
	seedBuckets(t, w, analytics.User(w.empAID), user)
	week := "?startDate=2025-03-01&endDate=2025-03-07"
	next := []string{"2025-03-08", "2025-03-09", "2025-03-10", "2025-03-11", "2025-03-12", "2025-03-13", "2025-03-14"}

	tests := []struct {
		name, path, field string
		want              []float64
	}{
		{"task completion", "/api/analytics/dashboard/department/" + w.deptA + "/forecast/task-completion", "predictedCompletedTasks", []float64{8, 9, 10, 11, 12, 13, 14}},
		{"workload, never negative", "/api/analytics/dashboard/department/" + w.deptA + "/forecast/workload", "predictedTotalTasks", []float64{3, 2, 1, 0, 0, 0, 0}},
		{"productivity, scored days only", "/api/analytics/dashboard/user/" + w.empAID + "/forecast/productivity", "predictedProductivityScore", []float64{30, 20, 10, 0, 0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := w.c.as(w.headA).do("GET", tt.path+week, nil)
			want(t, r, 200, tt.name)
			days, vals := forecastValues(t, r, tt.field)
			if !reflect.DeepEqual(days, next) || !reflect.DeepEqual(vals, tt.want) {
				t.Errorf("forecast = %v %v, want %v %v", days, vals, next, tt.want)
			}
			// One day is too little data.
			r = w.c.as(w.admin).do("GET", tt.path+"?startDate=2025-03-02&endDate=2025-03-02", nil)
			want(t, r, 200, tt.name+", one day")
			if string(r.Body) != "[]" {
				t.Errorf("one day's forecast = %s, want []", r.Body)
			}
		})
	}
	t.Run("no data", func(t *testing.T) {
		r := w.c.as(w.admin).do("GET", "/api/analytics/dashboard/department/"+w.deptB+"/forecast/workload"+week, nil)
		want(t, r, 200, "department B")
		if string(r.Body) != "[]" {
			t.Errorf("forecast without data = %s, want []", r.Body)
		}
	})
	t.Run("scoping", func(t *testing.T) {
		checkScoping(t, w, func(id string) string {
			return "/api/analytics/dashboard/department/" + id + "/forecast/task-completion"
		})
		checkScoping(t, w, func(id string) string { return "/api/analytics/dashboard/department/" + id + "/forecast/workload" })
		user := func(id string) string { return "/api/analytics/dashboard/user/" + id + "/forecast/productivity" }
		want(t, w.c.as(w.headB).do("GET", user(w.empAID), nil), 404, "another department's person")
		want(t, w.c.as(w.empA).do("GET", user(w.empAID), nil), 403, "employee, even their own")
		want(t, w.c.as(w.admin).do("GET", user("USR-01JB0000000000000000000099"), nil), 404, "unknown user")
		wantErr(t, w.c.as(w.headA).do("GET", user(w.empAID)+"?startDate=2025-03-08&endDate=2025-03-01", nil), 400, "endDate", "end before start")
	})
}

// TestAnalyticsDashboardAnomalies finds the seeded outliers of two weeks,
// and nothing else.
func TestAnalyticsDashboardAnomalies(t *testing.T) {
	w := newWorld(t)
	dept, user := map[string]analytics.Counters{}, map[string]analytics.Counters{}
	for i := range 14 {
		d := fmt.Sprintf("2025-04-%02d", i+1)
		dept[d] = analytics.Counters{"tNew": 3, "kDone": 5, "kNew": int64(4 + i%3)}
		user[d] = analytics.Counters{"cNew": 2, "kDone": 1}
	}
	dept["2025-04-08"]["tNew"] = 20 // a spike of new tickets
	dept["2025-04-11"]["kDone"] = 0 // nothing completed
	dept["2025-04-03"]["kDue"] = 1  // one overdue task: too small to matter
	user["2025-04-05"]["cNew"] = 12 // a day of many comments
	seedBuckets(t, w, analytics.Dept(w.deptA), dept)
	seedBuckets(t, w, analytics.User(w.empAID), user)
	seedBuckets(t, w, analytics.Dept(w.deptB), map[string]analytics.Counters{"2025-04-02": {"tNew": 500}})
	rng := "?startDate=2025-04-01&endDate=2025-04-14"

	type hit struct{ Date, Type, Metric, Message string }
	hits := func(r response) []hit {
		var out []hit
		for _, a := range decode[[]map[string]any](t, r) {
			out = append(out, hit{a["date"].(string), a["type"].(string), a["metric"].(string), a["message"].(string)})
		}
		return out
	}
	r := w.c.as(w.headA).do("GET", "/api/analytics/dashboard/department/"+w.deptA+"/anomalies"+rng, nil)
	want(t, r, 200, "department anomalies")
	wantHits := []hit{
		{"2025-04-08", "spike", "ticketsCreated", "20 tickets created on 2025-04-08, far above the daily mean of 4.21 (standard deviation 4.38) over 14 days"},
		{"2025-04-11", "drop", "tasksCompleted", "0 tasks completed on 2025-04-11, far below the daily mean of 4.64 (standard deviation 1.29) over 14 days"},
	}
	if got := hits(r); !reflect.DeepEqual(got, wantHits) {
		t.Errorf("department anomalies = %+v\nwant %+v", got, wantHits)
	}
	r = w.c.as(w.headA).do("GET", "/api/analytics/dashboard/user/"+w.empAID+"/anomalies"+rng, nil)
	want(t, r, 200, "user anomalies")
	if got := hits(r); len(got) != 1 || got[0].Date != "2025-04-05" || got[0].Type != "spike" || got[0].Metric != "commentsAdded" {
		t.Errorf("user anomalies = %+v, want the comments spike of 2025-04-05", got)
	}
	// A week without the spike has nothing to report; fewer than 7 days
	// are too few to tell.
	for _, q := range []string{"?startDate=2025-04-01&endDate=2025-04-07", "?startDate=2025-04-06&endDate=2025-04-11"} {
		r = w.c.as(w.admin).do("GET", "/api/analytics/dashboard/department/"+w.deptA+"/anomalies"+q, nil)
		want(t, r, 200, "anomalies "+q)
		if string(r.Body) != "[]" {
			t.Errorf("anomalies %s = %s, want []", q, r.Body)
		}
	}
	t.Run("scoping", func(t *testing.T) {
		checkScoping(t, w, func(id string) string { return "/api/analytics/dashboard/department/" + id + "/anomalies" })
		user := func(id string) string { return "/api/analytics/dashboard/user/" + id + "/anomalies" }
		want(t, w.c.as(w.headB).do("GET", user(w.empAID), nil), 404, "another department's person")
		want(t, w.c.as(w.empA).do("GET", user(w.empAID), nil), 403, "employee")
		want(t, w.c.as(w.admin).do("GET", user("USR-01JB0000000000000000000099"), nil), 404, "unknown user")
		wantErr(t, w.c.as(w.headA).do("GET", user(w.empAID)+"?endDate=soon", nil), 400, "endDate", "bad date")
	})
}

// TestAnalyticsLiveDepartmentMetrics counts department A's tasks by their
// current status, made through the API, plus an old seeded cohort.
func TestAnalyticsLiveDepartmentMetrics(t *testing.T) {
	w := newWorld(t) // department A has one pending task
	headA := w.c.as(w.headA)
	for _, st := range []string{"in_progress", "completed", "cancelled"} {
		id := w.task(w.headA, w.deptA, w.empAID)
		want(t, headA.do("PUT", "/api/tasks/"+id, map[string]any{"status": st}), 200, "set status "+st)
	}
	w.task(w.headB, w.deptB, "") // department B's only task
	waitIdle(t, w.cloud)
	// Two tasks created well over a year ago, still pending.
	seedBuckets(t, w, analytics.Dept(w.deptA), map[string]analytics.Counters{"2023-05-04": {"kC#ph": 2}})

	rows := func(query string) map[string]map[string]any {
		r := w.c.as(w.admin).do("GET", "/api/analytics/dashboard/live/department-metrics"+query, nil)
		want(t, r, 200, "live department metrics "+query)
		out := map[string]map[string]any{}
		for _, row := range decode[[]map[string]any](t, r) {
			out[row["departmentId"].(string)] = row
		}
		return out
	}
	got := rows("")
	wantA := map[string]any{"departmentId": w.deptA, "departmentName": got[w.deptA]["departmentName"],
		"totalTasks": 6.0, "completedTasks": 1.0, "inProgressTasks": 1.0, "pendingTasks": 3.0, "cancelledTasks": 1.0}
	if !reflect.DeepEqual(got[w.deptA], wantA) || got[w.deptA]["departmentName"] == "" {
		t.Errorf("department A = %v, want %v", got[w.deptA], wantA)
	}
	if b := got[w.deptB]; b == nil || b["totalTasks"] != 1.0 || b["pendingTasks"] != 1.0 {
		t.Errorf("department B = %v, want its one pending task", b)
	}
	// With a range: the tasks created in it.
	today := time.Now().UTC().Format("2006-01-02")
	if a := rows("?startDate=" + today)[w.deptA]; a["totalTasks"] != 4.0 || a["pendingTasks"] != 1.0 {
		t.Errorf("department A today = %v, want 4 tasks, 1 pending", a)
	}
	wantErr(t, w.c.as(w.admin).do("GET", "/api/analytics/dashboard/live/department-metrics?startDate=2025-03-08&endDate=2025-03-01", nil), 400, "endDate", "end before start")
	wantErr(t, w.c.as(w.admin).do("GET", "/api/analytics/dashboard/live/department-metrics?status=pending", nil), 400, "status", "unsupported filter")
	want(t, w.c.as(w.headA).do("GET", "/api/analytics/dashboard/live/department-metrics", nil), 403, "head")
}

// TestAnalyticsLiveTaskStatus lists the 50 most recently changed tasks
// with their people.
func TestAnalyticsLiveTaskStatus(t *testing.T) {
	w := newWorld(t) // w.taskA: the oldest task, by head A for empA
	for range 52 {
		w.task(w.headB, w.deptB, w.empBID)
	}
	// Changing the oldest task makes it the most recently changed.
	want(t, w.c.as(w.headA).do("PUT", "/api/tasks/"+w.taskA, map[string]any{"status": "in_progress"}), 200, "change the oldest task")

	r := w.c.as(w.admin).do("GET", "/api/analytics/dashboard/live/task-status", nil)
	want(t, r, 200, "live task status")
	for _, bad := range []string{"password", "Hash", "reset"} {
		if strings.Contains(string(r.Body), bad) {
			t.Errorf("the task board mentions %q: %s", bad, r.Body)
		}
	}
	tasks := decode[[]map[string]any](t, r)
	if len(tasks) != 50 {
		t.Fatalf("%d tasks, want 50", len(tasks))
	}
	first := tasks[0]
	if first["id"] != w.taskA || first["status"] != "in_progress" {
		t.Errorf("first task = %v, want the changed task %s in progress", first, w.taskA)
	}
	person := func(v any) map[string]any { m, _ := v.(map[string]any); return m }
	if a := person(first["assignedUser"]); a["id"] != w.empAID || a["username"] == "" || a["email"] == "" || len(a) != 3 {
		t.Errorf("assignee = %v, want empA's id, username and e-mail only", a)
	}
	if c := person(first["creator"]); c["id"] != w.headAID || len(c) != 3 {
		t.Errorf("creator = %v, want head A's id, username and e-mail", c)
	}
	for i := 1; i < len(tasks); i++ {
		if tasks[i-1]["updatedAt"].(string) < tasks[i]["updatedAt"].(string) {
			t.Errorf("task %d changed at %v, after task %d at %v: want newest change first", i, tasks[i]["updatedAt"], i-1, tasks[i-1]["updatedAt"])
		}
		if person(tasks[i]["assignedUser"])["id"] != w.empBID {
			t.Errorf("task %d assignee = %v, want empB", i, tasks[i]["assignedUser"])
		}
	}
	wantErr(t, w.c.as(w.admin).do("GET", "/api/analytics/dashboard/live/task-status?startDate=2025-01-01", nil), 400, "startDate", "dates")
	want(t, w.c.as(w.headA).do("GET", "/api/analytics/dashboard/live/task-status", nil), 403, "head")
}

// TestAnalyticsDashboardUserActivity lists activity by department (the one
// the ticket or task was in then) and for everyone, from the activity
// entries' sparse index keys.
func TestAnalyticsDashboardUserActivity(t *testing.T) {
	w := newWorld(t) // in A: head A opened w.ticketA and w.taskA, empA commented on w.taskA
	ticketB := w.ticket(w.headB, w.deptB)
	// The admin moves w.ticketA to B: the move counts in B, its past in A.
	want(t, w.c.as(w.admin).do("PUT", "/api/tickets/"+w.ticketA, map[string]any{"department_id": w.deptB}), 200, "move ticket")
	waitIdle(t, w.cloud)

	type entry struct{ user, action, entity, dept string }
	list := func(as, query string) ([]entry, []map[string]any, response) {
		t.Helper()
		r := w.c.as(as).do("GET", "/api/analytics/dashboard/user-activity"+query, nil)
		want(t, r, 200, "user activity "+query)
		raw := decode[[]map[string]any](t, r)
		var out []entry
		for _, a := range raw {
			d := a["details"].(map[string]any)
			if a["username"] == "" || a["User"].(map[string]any)["id"] != a["userId"] {
				t.Errorf("entry without its user: %v", a)
			}
			dept, _ := d["departmentId"].(string)
			out = append(out, entry{a["userId"].(string), a["action"].(string), d["entityId"].(string), dept})
		}
		return out, raw, r
	}
	adminID := decode[map[string]any](t, w.c.as(w.admin).do("GET", "/api/auth/me", nil))["id"].(string)
	wantA := []entry{ // newest first
		{w.empAID, "comment_added", w.taskA, w.deptA},
		{w.headAID, "created", w.taskA, w.deptA},
		{w.headAID, "created", w.ticketA, w.deptA},
	}
	gotA, _, _ := list(w.headA, "")
	if !reflect.DeepEqual(gotA, wantA) {
		t.Errorf("head A's department activity = %v\nwant %v", gotA, wantA)
	}
	if got, _, _ := list(w.admin, "?departmentId="+w.deptA); !reflect.DeepEqual(got, wantA) {
		t.Errorf("admin's view of A = %v, want %v", got, wantA)
	}
	gotB, rawB, _ := list(w.headB, "")
	if len(gotB) < 2 {
		t.Fatalf("B's activity = %v: want ticket B's creation and ticket A's move", gotB)
	}
	if oldest := gotB[len(gotB)-1]; oldest.action != "created" || oldest.entity != ticketB || oldest.dept != w.deptB {
		t.Errorf("B's activity = %v: want ticket B's creation oldest, the move after it", gotB)
	}
	moved := false
	for i, e := range gotB {
		d := rawB[i]["details"].(map[string]any)
		if e.user == adminID && e.entity == w.ticketA && d["field"] == "department_id" {
			moved = d["oldValue"] == w.deptA && d["newValue"] == w.deptB && e.dept == w.deptB
		}
	}
	if !moved {
		t.Errorf("B's activity = %v: want the admin's move of ticket A from A to B", rawB)
	}
	all, _, _ := list(w.admin, "")
	if len(all) != len(gotA)+len(gotB) {
		t.Errorf("everyone's activity has %d entries, want A's %d + B's %d", len(all), len(gotA), len(gotB))
	}

	// Filters, paging, dates.
	if got, _, _ := list(w.headA, "?action=comment_added"); len(got) != 1 || got[0] != wantA[0] {
		t.Errorf("comments = %v, want %v", got, wantA[:1])
	}
	page1, _, r := list(w.headA, "?limit=2")
	cursor := r.Header.Get("X-Next-Cursor")
	if len(page1) != 2 || cursor == "" {
		t.Fatalf("first page = %v, cursor %q: want 2 entries and a cursor", page1, cursor)
	}
	if page2, _, _ := list(w.headA, "?limit=2&cursor="+cursor); len(page2) != 1 || page2[0] != wantA[2] {
		t.Errorf("second page = %v, want %v", page2, wantA[2:])
	}
	yesterday := time.Now().UTC().AddDate(0, 0, -1).Format("2006-01-02")
	if got, _, _ := list(w.headA, "?startDate="+yesterday+"&endDate="+yesterday); len(got) != 0 {
		t.Errorf("yesterday's activity = %v, want none", got)
	}
	want(t, w.c.as(w.headA).do("GET", "/api/analytics/dashboard/user-activity?departmentId="+w.deptB, nil), 403, "head A asks for B")
	want(t, w.c.as(w.empA).do("GET", "/api/analytics/dashboard/user-activity", nil), 403, "employee")
	wantErr(t, w.c.as(w.headA).do("GET", "/api/analytics/dashboard/user-activity?action=dance", nil), 400, "action", "bad action")
	wantErr(t, w.c.as(w.headA).do("GET", "/api/analytics/dashboard/user-activity?startDate=someday", nil), 400, "startDate", "bad date")
	wantErr(t, w.c.as(w.admin).do("GET", "/api/analytics/dashboard/user-activity?departmentId=nonsense", nil), 400, "departmentId", "bad department id")
	wantErr(t, w.c.as(w.headA).do("GET", "/api/analytics/dashboard/user-activity?cursor=bogus", nil), 400, "cursor", "bad cursor")

	// The live feed: everyone's latest, the same order.
	r = w.c.as(w.admin).do("GET", "/api/analytics/dashboard/live/user-activity", nil)
	want(t, r, 200, "live user activity")
	live := decode[[]map[string]any](t, r)
	if len(live) != len(all) || r.Header.Get("X-Next-Cursor") != "" {
		t.Fatalf("live feed has %d entries (cursor %q), want %d and no cursor", len(live), r.Header.Get("X-Next-Cursor"), len(all))
	}
	for i, a := range live {
		if a["userId"] != all[i].user || a["details"].(map[string]any)["entityId"] != all[i].entity || a["action"] != all[i].action {
			t.Errorf("live entry %d = %v, want %v", i, a, all[i])
		}
	}
	want(t, w.c.as(w.headA).do("GET", "/api/analytics/dashboard/live/user-activity", nil), 403, "head")
	wantErr(t, w.c.as(w.admin).do("GET", "/api/analytics/dashboard/live/user-activity?startDate=2025-01-01", nil), 400, "startDate", "dates")
}
