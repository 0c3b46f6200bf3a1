package analytics

import (
	"fmt"
	"math"
)

// The anomaly rule: over a range's whole days (those before today), a day
// is anomalous in a metric when its value lies more than AnomalyStdDevs
// standard deviations from the metric's daily mean, and at least
// AnomalyMinDeviation away from it. Fewer than AnomalyMinDays whole days
// give no anomalies.
const (
	// AnomalyStdDevs: how many (population) standard deviations from the
	// mean make a day stand out.
	AnomalyStdDevs = 2.0
	// AnomalyMinDeviation keeps small counts quiet: in a range of zeroes, a
	// single day with 1 or 2 is more than 2 standard deviations off, but
	// not news.
	AnomalyMinDeviation = 3.0
	// AnomalyMinDays: with n values none lies more than (n−1)/√n standard
	// deviations from their mean, so 5 days or fewer cannot show a 2σ day
	// at all, and 6 only when the other five are equal; a week is the least
	// that says something.
	AnomalyMinDays = 7
)

// Anomaly types.
const (
	AnomalySpike = "spike" // far above the mean
	AnomalyDrop  = "drop"  // far below the mean
)

// Anomaly is one day on which one metric stood out.
type Anomaly struct {
	Date    string  `json:"date"`
	Type    string  `json:"type"`   // spike or drop
	Metric  string  `json:"metric"` // e.g. ticketsCreated
	Value   float64 `json:"value"`
	Mean    float64 `json:"mean"`   // the metric's daily mean over the range's whole days
	StdDev  float64 `json:"stdDev"` // … and its population standard deviation
	Message string  `json:"message"`
}

// AnomalyMetric is a daily count an anomaly rule watches.
type AnomalyMetric struct {
	Name  string // as in answers: ticketsCreated
	Label string // as in messages: tickets created
	Field string // the bucket field
}

// Metrics the anomaly routes watch, in the order anomalies of one day are
// listed. Overdue counts unfinished tasks due that day (whole days are all
// past).
var (
	DepartmentAnomalyMetrics = []AnomalyMetric{
		{"ticketsCreated", "tickets created", FTicketsCreated},
		{"ticketsResolved", "tickets resolved", FTicketsResolved},
		{"tasksCreated", "tasks created", FTasksCreated},
		{"tasksCompleted", "tasks completed", FTasksCompleted},
		{"overdueTasks", "tasks overdue", FTaskDueOpen},
	}
	UserAnomalyMetrics = []AnomalyMetric{
		{"tasksCompleted", "tasks completed", FTasksCompleted},
		{"ticketsResolved", "tickets resolved", FTicketsResolved},
		{"firstResponses", "first responses", FFirstResponses},
		{"commentsAdded", "comments written", FCommentsAdded},
		{"overdueTasks", "tasks overdue", FTaskDueOpen},
	}
)

func round2(f float64) float64 { return math.Round(f*100) / 100 }

// Anomalies lists the days of r's whole days on which one of metrics
// stood out (see AnomalyStdDevs), by day, then in the order of metrics.
// Days without a bucket count 0 (nothing happened).
func (s Series) Anomalies(r Range, today string, metrics []AnomalyMetric) []Anomaly {
	out := []Anomaly{}
	days, _ := observedDays(r, today)
	n := len(days)
	if n < AnomalyMinDays {
		return out
	}
	byDay := s.ByDay()
	type stat struct{ mean, sd float64 }
	stats := make([]stat, len(metrics))
	for i, m := range metrics {
		var sum, sq float64
		for _, d := range days {
			sum += float64(byDay[d][m.Field])
		}
		mean := sum / float64(n)
		for _, d := range days {
			v := float64(byDay[d][m.Field]) - mean
			sq += v * v
		}
		stats[i] = stat{mean, math.Sqrt(sq / float64(n))}
	}
	for _, d := range days {
		for i, m := range metrics {
			x, st := float64(byDay[d][m.Field]), stats[i]
			dev := x - st.mean
			if math.Abs(dev) <= AnomalyStdDevs*st.sd || math.Abs(dev) < AnomalyMinDeviation {
				continue
			}
			typ, dir := AnomalySpike, "above"
			if dev < 0 {
				typ, dir = AnomalyDrop, "below"
			}
			out = append(out, Anomaly{Date: d, Type: typ, Metric: m.Name, Value: x, Mean: round2(st.mean), StdDev: round2(st.sd),
				Message: fmt.Sprintf("%d %s on %s, far %s the daily mean of %.2f (standard deviation %.2f) over %d days",
					int64(x), m.Label, d, dir, st.mean, st.sd, n)})
		}
	}
	return out
}
