package analytics

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/deskline/deskline/shared/deskline"
)

// Range defaults and limits.
const (
	DefaultRangeDays = 30  // without startDate: the 30 days ending at endDate
	MaxRangeDays     = 366 // longer ranges are refused (400)
)

// Range is an inclusive range of UTC days.
type Range struct {
	Start, End time.Time // midnights UTC
}

// ParseRange reads startDate and endDate (YYYY-MM-DD, or RFC 3339 instants,
// which stand for their UTC day). Without endDate the range ends today, or
// on startDate if that is later; without startDate it starts
// DefaultRangeDays-1 days before its end. An end before the start, or more
// than MaxRangeDays days, is EINVALID.
func ParseRange(startDate, endDate string, today time.Time) (Range, error) {
	var r Range
	day := func(field, v string) (time.Time, error) {
		t, err := deskline.ParseDate(field, v)
		if err != nil {
			return t, err
		}
		return midnight(t), nil
	}
	var err error
	if startDate != "" {
		if r.Start, err = day("startDate", startDate); err != nil {
			return r, err
		}
	}
	switch {
	case endDate != "":
		if r.End, err = day("endDate", endDate); err != nil {
			return r, err
		}
	case startDate != "" && r.Start.After(midnight(today)):
		r.End = r.Start
	default:
		r.End = midnight(today)
	}
	if startDate == "" {
		r.Start = r.End.AddDate(0, 0, -(DefaultRangeDays - 1))
	}
	if r.End.Before(r.Start) {
		return r, deskline.Invalid("endDate", "End date must be after start date")
	}
	if r.Days() > MaxRangeDays {
		return r, deskline.Invalid("endDate", fmt.Sprintf("The date range may span at most %d days", MaxRangeDays))
	}
	return r, nil
}

func midnight(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Days is the number of days in the range.
func (r Range) Days() int { return int(r.End.Sub(r.Start)/(24*time.Hour)) + 1 }

// FirstDay and LastDay are the range's ends as days.
func (r Range) FirstDay() string { return DayOf(r.Start) }

// LastDay is the range's last day.
func (r Range) LastDay() string { return DayOf(r.End) }

// EachDay lists the range's days.
func (r Range) EachDay() []string {
	out := make([]string, 0, r.Days())
	for t := r.Start; !t.After(r.End); t = t.AddDate(0, 0, 1) {
		out = append(out, DayOf(t))
	}
	return out
}

// Periods.
const (
	Daily   = "daily"
	Weekly  = "weekly"
	Monthly = "monthly"
)

// ParsePeriod validates a required period.
func ParsePeriod(p string) (string, error) {
	switch p {
	case Daily, Weekly, Monthly:
		return p, nil
	case "":
		return "", deskline.Invalid("period", "period is required (daily, weekly or monthly)")
	}
	return "", deskline.Invalid("period", "Invalid period (daily, weekly or monthly)")
}

// Period is one group of days of a range: a day, an ISO week (Monday to
// Sunday) or a calendar month, clipped to the range.
type Period struct {
	Start, End time.Time
}

// Split cuts the range into periods.
func (r Range) Split(period string) []Period {
	var out []Period
	for t := r.Start; !t.After(r.End); {
		var next time.Time
		switch period {
		case Weekly:
			next = t.AddDate(0, 0, 7-(int(t.Weekday())+6)%7)
		case Monthly:
			next = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC)
		default:
			next = t.AddDate(0, 0, 1)
		}
		end := next.AddDate(0, 0, -1)
		if end.After(r.End) {
			end = r.End
		}
		out = append(out, Period{Start: t, End: end})
		t = next
	}
	return out
}

// Contains reports whether day lies in the period.
func (p Period) Contains(day string) bool { return day >= DayOf(p.Start) && day <= DayOf(p.End) }

// Day is one stored bucket: its day and counters.
type Day struct {
	Day      string
	Counters Counters
}

// Series are a scope's buckets of a range, as one Query returns them.
type Series []Day

// ByDay indexes the series by day.
func (s Series) ByDay() map[string]Counters {
	m := make(map[string]Counters, len(s))
	for _, d := range s {
		m[d.Day] = d.Counters
	}
	return m
}

// Sum adds the counters of the days for which keep is true (nil: all).
func (s Series) Sum(keep func(day string) bool) Counters {
	out := Counters{}
	for _, d := range s {
		if keep == nil || keep(d.Day) {
			out.Add(d.Counters)
		}
	}
	return out
}

// Overdue sums the unfinished-task due counts of the days for which keep is
// true that lie before today: tasks are overdue from the day after their due
// date's UTC day.
func (s Series) Overdue(today string, keep func(day string) bool) int64 {
	var n int64
	for _, d := range s {
		if d.Day < today && (keep == nil || keep(d.Day)) {
			n += d.Counters[FTaskDueOpen]
		}
	}
	return n
}

// Duration summarizes durations from a sum, a count and a histogram.
type Duration struct {
	Count        int64   `json:"count"`
	AverageHours float64 `json:"averageHours"`
	P50Hours     float64 `json:"p50Hours"`
	P90Hours     float64 `json:"p90Hours"`
}

func hours(secs float64) float64 { return math.Round(secs/3600*100) / 100 }

// DurationOf reads the duration stats of a count field, a sum field and a
// histogram prefix.
func DurationOf(c Counters, count, sum, hist string) Duration {
	n := c[count]
	if n <= 0 {
		return Duration{}
	}
	h := c.Hist(hist)
	return Duration{Count: n, AverageHours: hours(float64(c[sum]) / float64(n)),
		P50Hours: hours(Percentile(h, 0.5)), P90Hours: hours(Percentile(h, 0.9))}
}

// AverageHours is sum/count in hours, 0 without a count.
func AverageHours(sum, count int64) float64 {
	if count <= 0 {
		return 0
	}
	return hours(float64(sum) / float64(count))
}

// Ratio is a/b rounded to 4 places, 0 when b is 0.
func Ratio(a, b int64) float64 {
	if b <= 0 {
		return 0
	}
	return math.Round(float64(a)/float64(b)*10000) / 10000
}

// TicketCell is one cell of the ticket cube.
type TicketCell struct {
	Status   deskline.TicketStatus
	Priority deskline.Priority
	Category deskline.Category
	Count    int64
}

// TicketCube lists the non-empty cells of the ticket cohort cube.
func (c Counters) TicketCube() []TicketCell {
	var out []TicketCell
	for k, n := range c {
		codes, ok := strings.CutPrefix(k, FTicketCube)
		if !ok || len(codes) != 3 || n == 0 {
			continue
		}
		s, _ := decode(ticketStatusCodes, codes[0])
		p, _ := decode(priorityCodes, codes[1])
		cat, _ := decode(categoryCodes, codes[2])
		out = append(out, TicketCell{s, p, cat, n})
	}
	return out
}

// TaskCell is one cell of the task cube.
type TaskCell struct {
	Status   deskline.TaskStatus
	Priority deskline.Priority
	Count    int64
}

// TaskCube lists the non-empty cells of the task cohort cube.
func (c Counters) TaskCube() []TaskCell {
	var out []TaskCell
	for k, n := range c {
		codes, ok := strings.CutPrefix(k, FTaskCube)
		if !ok || len(codes) != 2 || n == 0 {
			continue
		}
		s, _ := decode(taskStatusCodes, codes[0])
		p, _ := decode(priorityCodes, codes[1])
		out = append(out, TaskCell{s, p, n})
	}
	return out
}

// TicketSummary are the ticket statistics of a range.
type TicketSummary struct {
	Created           int64            `json:"created"`
	Resolved          int64            `json:"resolved"`
	Closed            int64            `json:"closed"`
	Reopened          int64            `json:"reopened"`
	ByStatus          map[string]int64 `json:"byStatus"`   // tickets created in the range, by current status
	ByPriority        map[string]int64 `json:"byPriority"` // … by current priority
	ByCategory        map[string]int64 `json:"byCategory"` // … by current category
	ResolutionTime    Duration         `json:"resolutionTime"`
	FirstResponseTime Duration         `json:"firstResponseTime"`
}

// TaskSummary are the task statistics of a range.
type TaskSummary struct {
	Created        int64            `json:"created"`
	Completed      int64            `json:"completed"`
	CompletedLate  int64            `json:"completedLate"`
	Overdue        int64            `json:"overdue"`
	ByStatus       map[string]int64 `json:"byStatus"`   // tasks created in the range, by current status
	ByPriority     map[string]int64 `json:"byPriority"` // … by current priority
	CompletionRate float64          `json:"completionRate"`
	CompletionTime Duration         `json:"completionTime"`
}

// Summary are all statistics of a range of one scope.
type Summary struct {
	Tickets        TicketSummary `json:"tickets"`
	Tasks          TaskSummary   `json:"tasks"`
	CommentsAdded  int64         `json:"commentsAdded"`
	CommentsEdited int64         `json:"commentsEdited"`
	Actions        int64         `json:"actions"`
}

func zeroes[T ~string](vals []T) map[string]int64 {
	m := make(map[string]int64, len(vals))
	for _, v := range vals {
		m[string(v)] = 0
	}
	return m
}

// Tickets summarizes tickets.
func (c Counters) Tickets() TicketSummary {
	t := TicketSummary{
		Created: c[FTicketsCreated], Resolved: c[FTicketsResolved], Closed: c[FTicketsClosed], Reopened: c[FTicketsReopened],
		ByStatus: zeroes(deskline.TicketStatuses), ByPriority: zeroes(deskline.Priorities), ByCategory: zeroes(deskline.Categories),
		ResolutionTime:    DurationOf(c, FTicketsResolved, FResolutionSum, FResolutionHist),
		FirstResponseTime: DurationOf(c, FFirstResponses, FFirstRespSum, FFirstRespHist),
	}
	for _, cell := range c.TicketCube() {
		t.ByStatus[string(cell.Status)] += cell.Count
		t.ByPriority[string(cell.Priority)] += cell.Count
		t.ByCategory[string(cell.Category)] += cell.Count
	}
	return t
}

// Tasks summarizes tasks; overdue comes from the series (it depends on days).
func (c Counters) Tasks(overdue int64) TaskSummary {
	t := TaskSummary{
		Created: c[FTasksCreated], Completed: c[FTasksCompleted], CompletedLate: c[FTasksLate], Overdue: overdue,
		ByStatus: zeroes(deskline.TaskStatuses), ByPriority: zeroes(deskline.Priorities),
		CompletionTime: DurationOf(c, FTasksCompleted, FCompletionSum, FCompletionHist),
	}
	var total int64
	for _, cell := range c.TaskCube() {
		t.ByStatus[string(cell.Status)] += cell.Count
		t.ByPriority[string(cell.Priority)] += cell.Count
		total += cell.Count
	}
	t.CompletionRate = Ratio(t.ByStatus[string(deskline.TaskCompleted)], total)
	return t
}

// Summarize computes the statistics of the days of s for which keep is true.
func (s Series) Summarize(today string, keep func(day string) bool) Summary {
	return s.Sum(keep).Summary(s.Overdue(today, keep))
}

// Summary computes the statistics of counters; overdue comes from the
// series (it depends on the days).
func (c Counters) Summary(overdue int64) Summary {
	return Summary{
		Tickets: c.Tickets(), Tasks: c.Tasks(overdue),
		CommentsAdded: c[FCommentsAdded], CommentsEdited: c[FCommentsEdited], Actions: c[FActions],
	}
}

// ProductivityScore (0–100) is the share of work done on time: tasks
// completed by their due date plus tickets resolved, over tasks completed,
// tickets resolved and tasks overdue. 0 when there was no such work.
func ProductivityScore(tasksCompleted, tasksLate, ticketsResolved, tasksOverdue int64) float64 {
	den := tasksCompleted + ticketsResolved + tasksOverdue
	if den <= 0 {
		return 0
	}
	return math.Round(float64(tasksCompleted-tasksLate+ticketsResolved)/float64(den)*1000) / 10
}
