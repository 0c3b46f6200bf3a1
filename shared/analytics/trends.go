package analytics

import "math"

// Trend directions.
const (
	TrendUp   = "up"
	TrendDown = "down"
	TrendFlat = "flat"
)

// FlatTolerance is the relative change at or below which a trend is flat:
// |to − from| ≤ FlatTolerance × max(|from|, |to|). Two zeroes are flat.
const FlatTolerance = 0.05

// Direction says whether a metric went up, down or stayed flat from one
// value to the next (see FlatTolerance).
func Direction(from, to float64) string {
	if math.Abs(to-from) <= FlatTolerance*math.Max(math.Abs(from), math.Abs(to)) {
		return TrendFlat
	}
	if to > from {
		return TrendUp
	}
	return TrendDown
}

// Halves splits the range into its first and second half of equal length;
// the middle day of an odd range belongs to neither. A one-day range has no
// halves (ok false).
func (r Range) Halves() (first, second Period, ok bool) {
	n := r.Days()
	if n < 2 {
		return Period{}, Period{}, false
	}
	h := n / 2
	first = Period{Start: r.Start, End: r.Start.AddDate(0, 0, h-1)}
	second = Period{Start: r.End.AddDate(0, 0, -(h - 1)), End: r.End}
	return first, second, true
}

// MetricTrend is one metric of the first half of a range against the
// second.
type MetricTrend struct {
	Metric string  `json:"metric"`
	Trend  string  `json:"trend"` // up, down or flat
	From   float64 `json:"from"`  // the first half's value
	To     float64 `json:"to"`    // the second half's value
}

// halfMetric is one metric of a group of days: its value, and whether it
// has one (an average of nothing has none).
type halfMetric struct {
	name  string
	value float64
	ok    bool
}

// halfMetrics are the department metrics of a group of days, from its
// summed counters and its overdue count.
func halfMetrics(c Counters, overdue int64) []halfMetric {
	t := c.Tasks(overdue)
	var newTasks int64
	for _, n := range t.ByStatus {
		newTasks += n
	}
	return []halfMetric{
		{"ticketsCreated", float64(c[FTicketsCreated]), true},
		{"ticketsResolved", float64(c[FTicketsResolved]), true},
		{"averageResolutionTime", AverageHours(c[FResolutionSum], c[FTicketsResolved]), c[FTicketsResolved] > 0},
		{"tasksCreated", float64(c[FTasksCreated]), true},
		{"tasksCompleted", float64(c[FTasksCompleted]), true},
		{"completionRate", t.CompletionRate, newTasks > 0},
		{"averageCompletionTime", AverageHours(c[FCompletionSum], c[FTasksCompleted]), c[FTasksCompleted] > 0},
		{"overdueTasks", float64(overdue), true},
		{"productivityScore", ProductivityScore(t.Completed, t.CompletedLate, c[FTicketsResolved], overdue), t.Completed+c[FTicketsResolved]+overdue > 0},
	}
}

// CompareHalves compares the first half of the range with the second for
// every department metric the day buckets give: tickets created and
// resolved, average ticket resolution time (hours), tasks created and
// completed, completion rate (of each half's new tasks, completed by now),
// average task completion time (hours), overdue tasks (due in the half,
// unfinished, once past: days before today) and the productivity score.
// Counts and rates are of each half as a whole, not averages of days. A
// metric without a value in either half (an average of nothing) is left
// out; a one-day range has no halves and no trends.
func CompareHalves(s Series, r Range, today string) []MetricTrend {
	first, second, ok := r.Halves()
	if !ok {
		return []MetricTrend{}
	}
	a := halfMetrics(s.Sum(first.Contains), s.Overdue(today, first.Contains))
	b := halfMetrics(s.Sum(second.Contains), s.Overdue(today, second.Contains))
	out := make([]MetricTrend, 0, len(a))
	for i := range a {
		if !a[i].ok || !b[i].ok {
			continue
		}
		out = append(out, MetricTrend{Metric: a[i].name, Trend: Direction(a[i].value, b[i].value), From: a[i].value, To: b[i].value})
	}
	return out
}
