package cloud_test

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/deskline/deskline/shared/analytics"
	"github.com/deskline/deskline/shared/app"
	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/dynamo"
)

// denseBucket is a busy day: every field of a bucket set, the worst case for
// item size (a real day sets a fraction of them).
func denseBucket(rng *rand.Rand) analytics.Counters {
	c := analytics.Counters{}
	n := func() int64 { return 1 + rng.Int64N(400) }
	for _, s := range deskline.TicketStatuses {
		for _, p := range deskline.Priorities {
			for _, cat := range deskline.Categories {
				c[analytics.TicketCubeField(s, p, cat)] = n()
			}
		}
	}
	for _, s := range deskline.TaskStatuses {
		for _, p := range deskline.Priorities {
			c[analytics.TaskCubeField(s, p)] = n()
		}
	}
	for i := range analytics.HistBuckets {
		for _, h := range []string{analytics.FResolutionHist, analytics.FFirstRespHist, analytics.FCompletionHist} {
			c[analytics.HistField(h, i)] = n()
		}
	}
	for _, p := range deskline.Priorities {
		for _, f := range []string{analytics.FResolvedByPrio, analytics.FResolutionByPri, analytics.FCompletedByPrio, analytics.FCompletionByPri} {
			c[analytics.PriorityField(f, p)] = n() * 1000
		}
	}
	for _, f := range []string{analytics.FTicketsCreated, analytics.FTicketsResolved, analytics.FTicketsClosed, analytics.FTicketsReopened,
		analytics.FFirstResponses, analytics.FTasksCreated, analytics.FTasksCompleted, analytics.FTasksLate, analytics.FCommentsAdded,
		analytics.FCommentsEdited, analytics.FActions, analytics.FTaskDueOpen} {
		c[f] = n()
	}
	for _, f := range []string{analytics.FResolutionSum, analytics.FFirstRespSum, analytics.FCompletionSum} {
		c[f] = n() * 86400
	}
	return c
}

// seedDays writes dense buckets for the days ending today into scope.
func seedDays(t testing.TB, store *dynamo.Store, scope analytics.Scope, days int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	buckets := map[string]analytics.Counters{}
	for i := range days {
		buckets[analytics.DayOf(time.Now().UTC().AddDate(0, 0, -i))] = denseBucket(rng)
	}
	if err := store.PutBuckets(context.Background(), scope, buckets); err != nil {
		t.Fatal(err)
	}
}

// TestAnalyticsYearOfDenseBucketsIsOneQuery: the longest range a request may
// ask for, with every field of every bucket set, is still one Query page.
func TestAnalyticsYearOfDenseBucketsIsOneQuery(t *testing.T) {
	w := newWorld(t)
	seedDays(t, w.store, analytics.Dept(w.deptA), analytics.MaxRangeDays)
	counter := &countingDB{API: dynamo.LocalClient(w.cloud.DynamoDBEndpoint), calls: map[string]int{}}
	a, err := app.New(w.cloud.App.Config, app.Deps{DynamoDB: counter, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	end := time.Now().UTC()
	q := "startDate=" + end.AddDate(0, 0, -(analytics.MaxRangeDays-1)).Format("2006-01-02") + "&endDate=" + end.Format("2006-01-02")
	admin := &deskline.Principal{UserID: "USR-01JB0000000000000000000001", Role: deskline.RoleAdmin}
	resp := invokeAs(t, a, "analytics-department-analytics", "GET", "/api/analytics/department/"+w.deptA+"/analytics", map[string]string{"id": w.deptA}, q, "", admin)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
	}
	if got, want := counter.reset(), map[string]int{"GetItem": 1, "Query": 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("a %d-day range of dense buckets took %v calls, want %v", analytics.MaxRangeDays, got, want)
	}
}

// typicalDays simulates a busy department through the analytics
// definitions: 20 tickets and 10 tasks a day, most resolved or completed
// within days, with comments and first responses. It returns the
// department's buckets.
func typicalDays(dept string, days int) map[string]analytics.Counters {
	rng := rand.New(rand.NewPCG(3, 4))
	d := analytics.Deltas{}
	users := []string{"USR-A", "USR-B", "USR-C", "USR-D", "USR-E"}
	first := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -(days - 1))
	after := func(t time.Time) time.Time { return t.Add(time.Duration(rng.ExpFloat64() * float64(20*time.Hour))) }
	for day := range days {
		base := first.AddDate(0, 0, day)
		for range 20 {
			at := base.Add(time.Duration(rng.IntN(24*60)) * time.Minute)
			s := analytics.TicketSnap{Dept: dept, Status: deskline.TicketOpen, Priority: pickOne(rng, deskline.Priorities),
				Category: pickOne(rng, deskline.Categories), AssignedTo: pickOne(rng, users), CreatedBy: pickOne(rng, users), CreatedAt: at}
			analytics.TicketCreated(d, s)
			resp := after(at)
			fr := &analytics.FirstResponse{At: resp, CommentID: "c", Actor: s.AssignedTo, Dept: dept, Seconds: analytics.Seconds(at, resp)}
			fr.Count(d, 1)
			analytics.CommentAdded(d, dept, s.AssignedTo, resp)
			if rng.IntN(10) < 8 {
				next := s
				next.Status = pickOne(rng, []deskline.TicketStatus{deskline.TicketResolved, deskline.TicketClosed})
				analytics.TicketChanged(d, s, next, after(resp), s.AssignedTo)
			}
		}
		for range 10 {
			at := base.Add(time.Duration(rng.IntN(24*60)) * time.Minute)
			due := at.Add(72 * time.Hour)
			s := analytics.TaskSnap{Dept: dept, Status: deskline.TaskPending, Priority: pickOne(rng, deskline.Priorities),
				AssignedTo: pickOne(rng, users), CreatedBy: users[0], CreatedAt: at, Due: &due}
			analytics.TaskCreated(d, s)
			if rng.IntN(10) < 7 {
				next := s
				next.Status = deskline.TaskCompleted
				analytics.TaskChanged(d, s, next, after(at), s.AssignedTo)
			}
		}
	}
	return d.NonZero().Buckets()[analytics.Dept(dept)]
}

// BenchmarkAnalyticsDepartmentDashboard90d measures a department dashboard
// over 90 days (GET /api/analytics/department/{id}/analytics as the
// department's head: authorizer, one GetItem, one Query of 90 buckets, 90
// daily summaries) through the local cloud's HTTP API: with typical buckets
// of a busy department, and with dense buckets (every field set).
func BenchmarkAnalyticsDepartmentDashboard90d(b *testing.B) {
	for _, kind := range []string{"typical", "dense"} {
		b.Run(kind, func(b *testing.B) {
			w := newWorld(b)
			if kind == "dense" {
				seedDays(b, w.store, analytics.Dept(w.deptA), 90)
			} else if err := w.store.PutBuckets(context.Background(), analytics.Dept(w.deptA), typicalDays(w.deptA, 90)); err != nil {
				b.Fatal(err)
			}
			end := time.Now().UTC()
			url := w.cloud.HTTPURL + "/api/analytics/department/" + w.deptA + "/analytics?startDate=" +
				end.AddDate(0, 0, -89).Format("2006-01-02") + "&endDate=" + end.Format("2006-01-02")
			benchLatency(b, func() *http.Request {
				req, _ := http.NewRequest("GET", url, nil)
				req.Header.Set("Authorization", "Bearer "+w.headA)
				return req
			})
		})
	}
}

// BenchmarkAnalyticsDashboardRoutes90d measures the dashboard routes that
// compute over a range (trends, forecasts, anomalies) for 90 days of a
// busy department's buckets, as its head, through the local cloud's HTTP
// API: each is one GetItem and one Query plus its arithmetic.
func BenchmarkAnalyticsDashboardRoutes90d(b *testing.B) {
	w := newWorld(b)
	if err := w.store.PutBuckets(context.Background(), analytics.Dept(w.deptA), typicalDays(w.deptA, 90)); err != nil {
		b.Fatal(err)
	}
	end := time.Now().UTC()
	dates := "?startDate=" + end.AddDate(0, 0, -89).Format("2006-01-02") + "&endDate=" + end.Format("2006-01-02")
	for _, route := range []string{"trends", "forecast/task-completion", "forecast/workload", "anomalies"} {
		b.Run(strings.ReplaceAll(route, "/", "-"), func(b *testing.B) {
			url := w.cloud.HTTPURL + "/api/analytics/dashboard/department/" + w.deptA + "/" + route + dates
			benchLatency(b, func() *http.Request {
				req, _ := http.NewRequest("GET", url, nil)
				req.Header.Set("Authorization", "Bearer "+w.headA)
				return req
			})
		})
	}
}
