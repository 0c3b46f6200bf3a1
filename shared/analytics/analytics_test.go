package analytics_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/deskline/deskline/shared/analytics"
	"github.com/deskline/deskline/shared/deskline"
)

func TestBucketOf(t *testing.T) {
	tests := []struct {
		secs int64
		want int
	}{
		{0, 0}, {300, 0}, {301, 1}, {900, 1}, {3600, 3}, {3601, 4}, {86400, 8}, {30 * 86400, 14}, {30*86400 + 1, 15}, {1 << 40, 15},
	}
	for _, tt := range tests {
		if got := analytics.BucketOf(tt.secs); got != tt.want {
			t.Errorf("BucketOf(%d) = %d, want %d", tt.secs, got, tt.want)
		}
	}
	if analytics.HistBuckets != 16 {
		t.Errorf("HistBuckets = %d: changing the buckets needs a rebuild and a docs update", analytics.HistBuckets)
	}
}

func TestPercentile(t *testing.T) {
	h := make([]int64, analytics.HistBuckets)
	if got := analytics.Percentile(h, 0.5); got != 0 {
		t.Errorf("empty p50 = %v", got)
	}
	h[3] = 10 // ten values in (30m, 1h]
	if got, want := analytics.Percentile(h, 0.5), 45*60.0; got != want {
		t.Errorf("p50 = %v, want %v", got, want)
	}
	if got, want := analytics.Percentile(h, 0.9), 57*60.0; math.Abs(got-want) > 1e-6 {
		t.Errorf("p90 = %v, want %v", got, want)
	}
	h[3], h[0], h[15] = 0, 5, 5 // half under 5 minutes, half over 30 days
	if got, want := analytics.Percentile(h, 0.5), 300.0; got != want {
		t.Errorf("p50 = %v, want %v", got, want)
	}
	if got, want := analytics.Percentile(h, 0.9), (720 * time.Hour).Seconds(); got != want {
		t.Errorf("p90 of the open bucket = %v, want its lower bound %v", got, want)
	}
	// The estimate always lies in the bucket that holds the true quantile.
	rng := rand.New(rand.NewPCG(1, 1))
	for range 200 {
		var vals []int64
		h := make([]int64, analytics.HistBuckets)
		for range 1 + rng.IntN(50) {
			v := rng.Int64N(40 * 86400)
			vals = append(vals, v)
			h[analytics.BucketOf(v)]++
		}
		for _, q := range []float64{0.5, 0.9} {
			sorted := append([]int64(nil), vals...)
			slicesSort(sorted)
			rank := int(math.Ceil(q*float64(len(sorted)))) - 1
			truth := sorted[max(rank, 0)]
			got := analytics.Percentile(h, q)
			b := analytics.BucketOf(truth)
			lo, hi := 0.0, math.Inf(1)
			if b > 0 {
				lo = analytics.DurationBounds[b-1].Seconds()
			}
			if b < len(analytics.DurationBounds) {
				hi = analytics.DurationBounds[b].Seconds()
			}
			if got < lo || got > hi {
				t.Fatalf("q%.1f of %v = %v, outside the true value's bucket [%v, %v]", q, vals, got, lo, hi)
			}
		}
	}
}

func slicesSort(s []int64) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParseRange(t *testing.T) {
	today := day("2025-03-10").Add(15 * time.Hour)
	tests := []struct {
		start, end   string
		first, last  string
		errField     string
		wantDaysSpan int
	}{
		{"", "", "2025-02-09", "2025-03-10", "", 30},
		{"2025-03-01", "", "2025-03-01", "2025-03-10", "", 10},
		{"", "2025-01-31", "2025-01-02", "2025-01-31", "", 30},
		{"2025-04-01", "", "2025-04-01", "2025-04-01", "", 1}, // a future start: that day
		{"2025-03-05T23:59:59Z", "2025-03-06T00:00:01+02:00", "2025-03-05", "2025-03-05", "", 1},
		{"2024-03-11", "2025-03-10", "2024-03-11", "2025-03-10", "", 365},
		{"2024-03-10", "2025-03-10", "2024-03-10", "2025-03-10", "", 366},
		{"2024-03-09", "2025-03-10", "", "", "endDate", 0},
		{"2025-03-10", "2025-03-09", "", "", "endDate", 0},
		{"yesterday", "", "", "", "startDate", 0},
		{"", "2025-02-30", "", "", "endDate", 0},
	}
	for _, tt := range tests {
		r, err := analytics.ParseRange(tt.start, tt.end, today)
		if tt.errField != "" {
			var de *deskline.Error
			if e, ok := err.(*deskline.Error); ok {
				de = e
			}
			if de == nil || de.Code != deskline.EINVALID || de.Field != tt.errField {
				t.Errorf("ParseRange(%q, %q) = %v, want an invalid %s", tt.start, tt.end, err, tt.errField)
			}
			continue
		}
		if err != nil || r.FirstDay() != tt.first || r.LastDay() != tt.last || r.Days() != tt.wantDaysSpan {
			t.Errorf("ParseRange(%q, %q) = %s..%s (%d days), %v; want %s..%s (%d)", tt.start, tt.end, r.FirstDay(), r.LastDay(), r.Days(), err, tt.first, tt.last, tt.wantDaysSpan)
		}
	}
	if _, err := analytics.ParsePeriod(""); err == nil {
		t.Error("a missing period is accepted")
	}
	if _, err := analytics.ParsePeriod("hourly"); err == nil {
		t.Error("period hourly is accepted")
	}
}

func TestSplit(t *testing.T) {
	str := func(ps []analytics.Period) string {
		out := ""
		for _, p := range ps {
			out += analytics.DayOf(p.Start) + ".." + analytics.DayOf(p.End) + " "
		}
		return out
	}
	r := analytics.Range{Start: day("2025-03-05"), End: day("2025-03-20")} // a Wednesday
	if got, want := str(r.Split(analytics.Weekly)), "2025-03-05..2025-03-09 2025-03-10..2025-03-16 2025-03-17..2025-03-20 "; got != want {
		t.Errorf("weekly = %s, want %s", got, want)
	}
	r = analytics.Range{Start: day("2025-01-15"), End: day("2025-03-02")}
	if got, want := str(r.Split(analytics.Monthly)), "2025-01-15..2025-01-31 2025-02-01..2025-02-28 2025-03-01..2025-03-02 "; got != want {
		t.Errorf("monthly = %s, want %s", got, want)
	}
	if got := len(r.Split(analytics.Daily)); got != r.Days() {
		t.Errorf("daily = %d periods, want %d", got, r.Days())
	}
}

func TestTicketTransitions(t *testing.T) {
	created := day("2025-03-03").Add(9 * time.Hour)
	s := analytics.TicketSnap{Dept: "D", Status: deskline.TicketOpen, Priority: deskline.PriorityHigh, Category: deskline.CategoryBug, CreatedBy: "U1", CreatedAt: created}
	d := analytics.Deltas{}
	analytics.TicketCreated(d, s)
	step := func(st deskline.TicketStatus, at time.Time, who string) {
		n := s
		n.Status = st
		analytics.TicketChanged(d, s, n, at, who)
		s = n
	}
	step(deskline.TicketResolved, created.Add(90*time.Minute), "U2") // resolved after 1.5 h
	step(deskline.TicketOpen, created.Add(24*time.Hour), "U1")       // reopened the next day
	step(deskline.TicketClosed, created.Add(48*time.Hour), "U2")     // closed (and resolved) two days in
	b := d.NonZero().Buckets()
	day1, day2, day3 := "2025-03-03", "2025-03-04", "2025-03-05"
	dept := b[analytics.Dept("D")]
	want := analytics.Counters{"tNew": 1, "tRes": 1, "tResS": 5400, "tResH4": 1, "tResP#h": 1, "tRsPS#h": 5400, "tC#chb": 1}
	if !reflect.DeepEqual(dept[day1], want) {
		t.Errorf("day 1 = %v, want %v", dept[day1], want)
	}
	if want := (analytics.Counters{"tReo": 1}); !reflect.DeepEqual(dept[day2], want) {
		t.Errorf("day 2 = %v, want %v", dept[day2], want)
	}
	if want := (analytics.Counters{"tRes": 1, "tClo": 1, "tResS": 172800, "tResH9": 1, "tResP#h": 1, "tRsPS#h": 172800}); !reflect.DeepEqual(dept[day3], want) {
		t.Errorf("day 3 = %v, want %v", dept[day3], want)
	}
	if got := b[analytics.User("U2")][day3]["tRes"]; got != 1 {
		t.Errorf("U2 resolved %d on day 3, want 1", got)
	}
	if got := b[analytics.User("U1")][day1]["tNew"]; got != 1 {
		t.Errorf("U1 created %d, want 1", got)
	}
	sum := dept[day1].Tickets()
	if sum.ByStatus["closed"] != 1 || sum.ByPriority["high"] != 1 || sum.ByCategory["bug"] != 1 || sum.ResolutionTime.Count != 1 || sum.ResolutionTime.AverageHours != 1.5 {
		t.Errorf("summary of day 1 = %+v", sum)
	}
}

func TestTaskTransitions(t *testing.T) {
	created := day("2025-03-03").Add(9 * time.Hour)
	due := created.Add(24 * time.Hour)
	s := analytics.TaskSnap{Dept: "D", Status: deskline.TaskPending, Priority: deskline.PriorityLow, AssignedTo: "U2", CreatedBy: "U1", CreatedAt: created, Due: &due}
	d := analytics.Deltas{}
	analytics.TaskCreated(d, s)
	if got := d.NonZero().Buckets()[analytics.User("U2")]["2025-03-04"]["kDue"]; got != 1 {
		t.Errorf("the assignee's due day counts %d open tasks, want 1", got)
	}
	n := s
	n.Status = deskline.TaskCompleted
	analytics.TaskChanged(d, s, n, due.Add(time.Hour), "U2")
	b := d.NonZero().Buckets()
	if got := b[analytics.User("U2")]["2025-03-04"]; !reflect.DeepEqual(got, analytics.Counters{"kDone": 1, "kLate": 1, "kDnS": 90000, "kDnH9": 1, "kDnP#l": 1, "kDPS#l": 90000}) {
		t.Errorf("U2's completion day = %v", got)
	}
	if got := b[analytics.Dept("D")]["2025-03-03"]; got["kC#cl"] != 1 || got["kNew"] != 1 || len(got) != 2 {
		t.Errorf("creation day = %v", got)
	}
	series := analytics.Series{{Day: "2025-03-03", Counters: b[analytics.Dept("D")]["2025-03-03"]}}
	if sum := series.Summarize("2025-03-10", nil); sum.Tasks.CompletionRate != 1 || sum.Tasks.ByStatus["completed"] != 1 {
		t.Errorf("summary = %+v", sum.Tasks)
	}
}

// TestDeriveMatchesIncremental: for random ticket and task histories, the
// rebuild's backward replay (Derive) counts exactly what the stream counts
// version by version.
func TestDeriveMatchesIncremental(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	users := []string{"USR-1", "USR-2", "USR-3"}
	depts := []string{"DEP-A", "DEP-B"}
	for run := range 300 {
		at := day("2025-03-03").Add(time.Duration(rng.IntN(1440)) * time.Minute)
		incremental := analytics.Deltas{}
		var rows []analytics.HistoryRow
		row := func(v int64, field string, old, nw any, actor string, at time.Time) {
			rows = append(rows, analytics.HistoryRow{
				SK:    fmt.Sprintf("H#%s#v%09d#%s", at.Format("2006-01-02T15:04:05.000000000Z07:00"), v, field),
				Entry: deskline.HistoryEntry{EntityType: "ticket", EntityID: "TKT-1", Action: "updated", Field: field, OldValue: old, NewValue: nw, ActorID: actor, At: at, Version: v},
			})
		}
		or := func(s string) any {
			if s == "" {
				return nil
			}
			return s
		}
		if run%2 == 0 {
			s := analytics.TicketSnap{Dept: pickOne(rng, depts), Status: deskline.TicketOpen, Priority: pickOne(rng, deskline.Priorities),
				Category: pickOne(rng, deskline.Categories), CreatedBy: pickOne(rng, users), CreatedAt: at}
			analytics.TicketCreated(incremental, s)
			var fr *analytics.FirstResponse
			for v := int64(2); v < int64(2+rng.IntN(12)); v++ {
				at = at.Add(time.Duration(1+rng.IntN(3000)) * time.Minute)
				who := pickOne(rng, users)
				if rng.IntN(3) == 0 { // a comment
					c := analytics.HistoryRow{SK: fmt.Sprintf("H#%s#c#CMT-%d#added", at.Format("2006-01-02T15:04:05.000000000Z07:00"), v),
						Entry: deskline.HistoryEntry{EntityType: "ticket", EntityID: "TKT-1", Action: "comment_added", ActorID: who, At: at, CommentID: fmt.Sprintf("CMT-%d", v)}}
					rows = append(rows, c)
					analytics.CommentAdded(incremental, s.Dept, who, at)
					if who != s.CreatedBy && fr == nil {
						fr = &analytics.FirstResponse{At: at, CommentID: c.Entry.CommentID, Actor: who, Dept: s.Dept, Seconds: analytics.Seconds(s.CreatedAt, at)}
						fr.Count(incremental, 1)
					}
					analytics.Action(incremental, who, at)
					v--
					continue
				}
				n := s
				switch rng.IntN(4) {
				case 0:
					n.Priority = pickOne(rng, deskline.Priorities)
				case 1:
					n.Dept = pickOne(rng, depts)
				case 2:
					n.AssignedTo = pickOne(rng, append([]string{""}, users...))
				}
				n.Status = pickOne(rng, deskline.TicketStatuses)
				if n == s {
					continue
				}
				analytics.TicketChanged(incremental, s, n, at, who)
				for _, f := range []struct {
					name     string
					old, new string
				}{{"status", string(s.Status), string(n.Status)}, {"priority", string(s.Priority), string(n.Priority)},
					{"department_id", s.Dept, n.Dept}, {"assigned_to", s.AssignedTo, n.AssignedTo}} {
					if f.old != f.new {
						row(v, f.name, or(f.old), or(f.new), who, at)
						analytics.Action(incremental, who, at)
					}
				}
				s = n
			}
			tk := &deskline.Ticket{ID: "TKT-1", DepartmentID: s.Dept, Status: s.Status, Priority: s.Priority, Category: s.Category,
				AssignedTo: s.AssignedTo, CreatedBy: s.CreatedBy, CreatedAt: s.CreatedAt}
			st, _ := analytics.Derive(analytics.Source{Ticket: tk, History: rows})
			if got, want := st.Contribution().NonZero(), incremental.NonZero(); !reflect.DeepEqual(got, want) {
				t.Fatalf("run %d: ticket: Derive counted\n%v\nthe stream counted\n%v", run, got, want)
			}
			continue
		}
		due := at.Add(time.Duration(rng.IntN(96)) * time.Hour)
		s := analytics.TaskSnap{Dept: pickOne(rng, depts), Status: deskline.TaskPending, Priority: pickOne(rng, deskline.Priorities), CreatedBy: pickOne(rng, users), CreatedAt: at, Due: &due}
		analytics.TaskCreated(incremental, s)
		for v := int64(2); v < int64(2+rng.IntN(12)); v++ {
			at = at.Add(time.Duration(1+rng.IntN(3000)) * time.Minute)
			who := pickOne(rng, users)
			n := s
			n.Status = pickOne(rng, deskline.TaskStatuses)
			if rng.IntN(3) == 0 {
				d := at.Add(time.Duration(rng.IntN(96)) * time.Hour)
				n.Due = &d
			}
			if rng.IntN(3) == 0 {
				n.AssignedTo = pickOne(rng, users)
			}
			analytics.TaskChanged(incremental, s, n, at, who)
			for _, f := range []struct {
				name     string
				old, new any
			}{{"status", string(s.Status), string(n.Status)}, {"assignedToId", or(s.AssignedTo), or(n.AssignedTo)},
				{"dueDate", s.Due.Format(time.RFC3339Nano), n.Due.Format(time.RFC3339Nano)}} {
				if f.old != f.new {
					row(v, f.name, f.old, f.new, who, at)
					analytics.Action(incremental, who, at)
				}
			}
			s = n
		}
		for i := range rows {
			rows[i].Entry.EntityType, rows[i].Entry.EntityID = "task", "TSK-1"
		}
		tk := &deskline.Task{ID: "TSK-1", DepartmentID: s.Dept, Status: s.Status, Priority: s.Priority, AssignedToID: s.AssignedTo,
			CreatedBy: s.CreatedBy, CreatedAt: s.CreatedAt, DueDate: s.Due}
		st, acts := analytics.Derive(analytics.Source{Task: tk, History: rows})
		if got, want := st.Contribution().NonZero(), incremental.NonZero(); !reflect.DeepEqual(got, want) {
			t.Fatalf("run %d: task: Derive counted\n%v\nthe stream counted\n%v", run, got, want)
		}
		if len(acts) != len(rows) || len(st.Activity) != len(rows) {
			t.Fatalf("run %d: %d activity entries of %d history items", run, len(acts), len(rows))
		}
	}
}

func pickOne[T any](rng *rand.Rand, vs []T) T { return vs[rng.IntN(len(vs))] }

func TestProductivityScore(t *testing.T) {
	if got := analytics.ProductivityScore(0, 0, 0, 0); got != 0 {
		t.Errorf("no work = %v", got)
	}
	if got := analytics.ProductivityScore(4, 1, 2, 2); got != 62.5 { // (4-1+2)/(4+2+2)
		t.Errorf("score = %v, want 62.5", got)
	}
}

func TestValidateReport(t *testing.T) {
	ok := &analytics.Report{Name: " Weekly ", Type: "department", Parameters: analytics.ReportParams{DepartmentID: "DEP-01JB0000000000000000000000", StartDate: "2025-01-01"},
		Schedule: &analytics.Schedule{Cron: " 0 8  * * 1", RecipientEmail: "Lead@Example.com"}}
	if err := analytics.ValidateReport(ok); err != nil || ok.Name != "Weekly" || ok.Schedule.Cron != "0 8 * * 1" || ok.Schedule.RecipientEmail != "lead@example.com" {
		t.Errorf("ValidateReport = %v, %+v", err, ok)
	}
	bad := []struct {
		r     analytics.Report
		field string
	}{
		{analytics.Report{Type: "task"}, "name"},
		{analytics.Report{Name: "x", Type: "pie"}, "type"},
		{analytics.Report{Name: "x", Type: "department"}, "parameters.departmentId"},
		{analytics.Report{Name: "x", Type: "user", Parameters: analytics.ReportParams{UserID: "nobody"}}, "parameters.userId"},
		{analytics.Report{Name: "x", Type: "task", Parameters: analytics.ReportParams{StartDate: "2025-02-01", EndDate: "2025-01-01"}}, "parameters.endDate"},
		{analytics.Report{Name: "x", Type: "task", Schedule: &analytics.Schedule{Cron: "daily", RecipientEmail: "a@b.co"}}, "cron"},
		{analytics.Report{Name: "x", Type: "task", Schedule: &analytics.Schedule{Cron: "0 8 * * 1", RecipientEmail: "nope"}}, "recipientEmail"},
	}
	for _, tt := range bad {
		err := analytics.ValidateReport(&tt.r)
		de, _ := err.(*deskline.Error)
		if de == nil || de.Field != tt.field {
			t.Errorf("ValidateReport(%+v) = %v, want an error on %s", tt.r, err, tt.field)
		}
	}
}
