package analytics_test

import (
	"reflect"
	"testing"

	"github.com/deskline/deskline/shared/analytics"
)

func TestDirection(t *testing.T) {
	tests := []struct {
		name     string
		from, to float64
		want     string
	}{
		{"both zero", 0, 0, analytics.TrendFlat},
		{"from zero", 0, 1, analytics.TrendUp},
		{"to zero", 3, 0, analytics.TrendDown},
		{"within 5%", 100, 104, analytics.TrendFlat},
		{"exactly 5% of the larger", 100, 95, analytics.TrendFlat},
		{"just over 5%", 100, 94.9, analytics.TrendDown},
		{"up", 10, 12, analytics.TrendUp},
		{"small counts move", 1, 2, analytics.TrendUp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := analytics.Direction(tt.from, tt.to); got != tt.want {
				t.Errorf("Direction(%v, %v) = %q, want %q", tt.from, tt.to, got, tt.want)
			}
		})
	}
}

func TestHalves(t *testing.T) {
	tests := []struct {
		name                  string
		start, end            string
		ok                    bool
		firstEnd, secondStart string
	}{
		{"one day has no halves", "2025-10-01", "2025-10-01", false, "", ""},
		{"two days", "2025-10-01", "2025-10-02", true, "2025-10-01", "2025-10-02"},
		{"odd: the middle day is in neither", "2025-10-01", "2025-10-07", true, "2025-10-03", "2025-10-05"},
		{"even", "2025-10-01", "2025-10-30", true, "2025-10-15", "2025-10-16"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b, ok := analytics.Range{Start: day(tt.start), End: day(tt.end)}.Halves()
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			if got := [4]string{analytics.DayOf(a.Start), analytics.DayOf(a.End), analytics.DayOf(b.Start), analytics.DayOf(b.End)}; got != [4]string{tt.start, tt.firstEnd, tt.secondStart, tt.end} {
				t.Errorf("halves = %v, want [%s %s %s %s]", got, tt.start, tt.firstEnd, tt.secondStart, tt.end)
			}
		})
	}
}

func TestCompareHalves(t *testing.T) {
	rng := analytics.Range{Start: day("2025-10-01"), End: day("2025-10-04")}
	series := analytics.Series{
		// First half: 4 tickets created, 2 resolved in 1 h and 3 h; 2 tasks
		// created (1 completed, 1 pending), 1 completed in 2 h; 1 overdue.
		{Day: "2025-10-01", Counters: analytics.Counters{"tNew": 3, "tRes": 2, "tResS": 4 * 3600, "kNew": 2, "kC#ch": 1, "kC#pm": 1, "kDone": 1, "kDnS": 7200}},
		{Day: "2025-10-02", Counters: analytics.Counters{"tNew": 1, "kDue": 1}},
		// Second half: 4 tickets created (flat), nothing resolved (no
		// resolution time: left out), 4 tasks created, all completed, in 1 h.
		{Day: "2025-10-03", Counters: analytics.Counters{"tNew": 4, "kNew": 4, "kC#cl": 4, "kDone": 4, "kDnS": 4 * 3600}},
	}
	got := analytics.CompareHalves(series, rng, "2025-11-01")
	want := []analytics.MetricTrend{
		{Metric: "ticketsCreated", Trend: "flat", From: 4, To: 4},
		{Metric: "ticketsResolved", Trend: "down", From: 2, To: 0},
		{Metric: "tasksCreated", Trend: "up", From: 2, To: 4},
		{Metric: "tasksCompleted", Trend: "up", From: 1, To: 4},
		{Metric: "completionRate", Trend: "up", From: 0.5, To: 1},
		{Metric: "averageCompletionTime", Trend: "down", From: 2, To: 1},
		{Metric: "overdueTasks", Trend: "down", From: 1, To: 0},
		// (1 on time + 2 resolved) / (1 + 2 + 1 overdue) = 75; 4 / 4 = 100.
		{Metric: "productivityScore", Trend: "up", From: 75, To: 100},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("CompareHalves =\n%+v\nwant\n%+v", got, want)
	}
	t.Run("overdue counts only past days", func(t *testing.T) {
		got := analytics.CompareHalves(series, rng, "2025-10-02")
		for _, m := range got {
			if m.Metric == "overdueTasks" && (m.From != 0 || m.To != 0) {
				t.Errorf("overdueTasks = %+v, want 0 → 0 (the due day is today)", m)
			}
		}
	})
	t.Run("one day", func(t *testing.T) {
		if got := analytics.CompareHalves(series, analytics.Range{Start: day("2025-10-01"), End: day("2025-10-01")}, "2025-11-01"); len(got) != 0 {
			t.Errorf("CompareHalves of one day = %+v, want none", got)
		}
	})
}
