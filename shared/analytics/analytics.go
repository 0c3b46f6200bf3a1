// Package analytics defines Deskline's analytics: the aggregates the stream
// projector keeps per department, per user and for the whole help desk per
// UTC day, the activity log per user, how both are derived from the base
// items (tickets, tasks, comments and their history), and how the read side
// turns day buckets into statistics. It is plain Go: the store behind the
// interfaces here is package dynamo; the only AWS import is aws-lambda-go's
// stream event type.
//
// # Buckets
//
// A bucket is one scope (the whole help desk, a department or a user) on one
// UTC day, holding integer counters by field name. Three kinds of field live
// side by side in a bucket, and each says which day it counts on:
//
//   - events count on the day they happened (a ticket resolved on Tuesday
//     counts in Tuesday's bucket), in the department the item belonged to then
//     and for the user who did it;
//   - cohorts count items by their creation day, with their current status,
//     priority and category, in their current department and for their
//     current assignee (so "tickets created in March by status" is a sum of
//     March's buckets);
//   - the task due cohort counts unfinished tasks by their due day, in their
//     current department and for their current assignee (so "overdue" is the
//     sum over past days).
//
// Every field is a function of the base items alone (docs/analytics.md gives
// the definitions), which is what lets the rebuild recompute them.
package analytics

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/deskline/deskline/shared/deskline"
)

// Scope is whose counters a bucket holds.
type Scope string

// All is the whole help desk.
const All Scope = "ALL"

// Dept is a department's scope.
func Dept(id string) Scope { return Scope("DEPT#" + id) }

// User is a user's scope.
func User(id string) Scope { return Scope("USER#" + id) }

// DayLayout formats a UTC day.
const DayLayout = "2006-01-02"

// DayOf returns t's UTC day.
func DayOf(t time.Time) string { return t.UTC().Format(DayLayout) }

// Event fields: counted on the day of the event, for the department of the
// item at that time and for the user who acted (the creator for creations,
// the author for comments).
const (
	FTicketsCreated  = "tNew"  // tickets created
	FTicketsResolved = "tRes"  // open|in_progress → resolved|closed
	FTicketsClosed   = "tClo"  // any → closed
	FTicketsReopened = "tReo"  // resolved|closed → open|in_progress
	FResolutionSum   = "tResS" // seconds from creation to resolution, summed
	FResolutionHist  = "tResH" // + bucket index: resolutions per duration bucket
	FResolvedByPrio  = "tResP" // + "#" + priority code: resolutions
	FResolutionByPri = "tRsPS" // + "#" + priority code: resolution seconds
	FFirstResponses  = "tFr"   // first responses (first comment by someone not the creator)
	FFirstRespSum    = "tFrS"  // seconds from creation to first response, summed
	FFirstRespHist   = "tFrH"  // + bucket index
	FTasksCreated    = "kNew"  // tasks created
	FTasksCompleted  = "kDone" // any → completed
	FTasksLate       = "kLate" // completed after the due date
	FCompletionSum   = "kDnS"  // seconds from creation to completion, summed
	FCompletionHist  = "kDnH"  // + bucket index
	FCompletedByPrio = "kDnP"  // + "#" + priority code: completions
	FCompletionByPri = "kDPS"  // + "#" + priority code: completion seconds
	FCommentsAdded   = "cNew"  // comments written (on tickets and tasks)
	FCommentsEdited  = "cEdt"  // comment edits that changed the content
	FActions         = "act"   // activity log entries (user and ALL scopes only)
)

// Cohort fields.
const (
	// FTicketCube + status, priority and category codes ("tC#ohb"): tickets
	// created that day now in that status, priority and category.
	FTicketCube = "tC#"
	// FTaskCube + status and priority codes ("kC#ph"): tasks created that
	// day now in that status and priority.
	FTaskCube = "kC#"
	// FTaskDueOpen: unfinished tasks due that day (counted on the due day).
	FTaskDueOpen = "kDue"
)

// One-letter codes keep the cube's attribute names short: a bucket of a busy
// day holds many of them, and a year of buckets must fit one Query page.
var (
	ticketStatusCodes = map[deskline.TicketStatus]byte{deskline.TicketOpen: 'o', deskline.TicketInProgress: 'i', deskline.TicketResolved: 'r', deskline.TicketClosed: 'c'}
	taskStatusCodes   = map[deskline.TaskStatus]byte{deskline.TaskPending: 'p', deskline.TaskInProgress: 'i', deskline.TaskCompleted: 'c', deskline.TaskCancelled: 'x'}
	priorityCodes     = map[deskline.Priority]byte{deskline.PriorityLow: 'l', deskline.PriorityMedium: 'm', deskline.PriorityHigh: 'h', deskline.PriorityUrgent: 'u'}
	categoryCodes     = map[deskline.Category]byte{deskline.CategoryBug: 'b', deskline.CategoryFeature: 'f', deskline.CategorySupport: 's', deskline.CategoryOther: 'o'}
)

func code[K comparable](m map[K]byte, k K) byte {
	if c, ok := m[k]; ok {
		return c
	}
	return '_'
}

func decode[K comparable](m map[K]byte, c byte) (K, bool) {
	for k, v := range m {
		if v == c {
			return k, true
		}
	}
	var zero K
	return zero, false
}

// TicketCubeField is the cohort field of a ticket's status, priority and category.
func TicketCubeField(s deskline.TicketStatus, p deskline.Priority, c deskline.Category) string {
	return FTicketCube + string([]byte{code(ticketStatusCodes, s), code(priorityCodes, p), code(categoryCodes, c)})
}

// TaskCubeField is the cohort field of a task's status and priority.
func TaskCubeField(s deskline.TaskStatus, p deskline.Priority) string {
	return FTaskCube + string([]byte{code(taskStatusCodes, s), code(priorityCodes, p)})
}

// PriorityField is a per-priority field: prefix + "#" + the priority's code.
func PriorityField(prefix string, p deskline.Priority) string {
	return prefix + "#" + string(code(priorityCodes, p))
}

// HistField is a histogram bucket's field: prefix + the bucket index.
func HistField(prefix string, i int) string { return prefix + strconv.Itoa(i) }

// DurationBounds are the upper bounds of the duration histogram's buckets;
// a last bucket holds everything longer than 30 days. The bounds are fixed:
// changing them means a rebuild.
var DurationBounds = []time.Duration{
	5 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour,
	8 * time.Hour, 16 * time.Hour, 24 * time.Hour, 48 * time.Hour, 72 * time.Hour, 120 * time.Hour,
	168 * time.Hour, 336 * time.Hour, 720 * time.Hour,
}

// HistBuckets is the number of histogram buckets.
var HistBuckets = len(DurationBounds) + 1

// BucketOf returns the histogram bucket of a duration in whole seconds
// (bucket i holds bounds[i-1] < d ≤ bounds[i]).
func BucketOf(secs int64) int {
	return sort.Search(len(DurationBounds), func(i int) bool { return int64(DurationBounds[i]/time.Second) >= secs })
}

// Seconds is the whole seconds from a to b, never negative (clocks of
// different writers may disagree a little).
func Seconds(a, b time.Time) int64 {
	s := int64(b.Sub(a) / time.Second)
	if s < 0 {
		return 0
	}
	return s
}

// Percentile estimates the q-quantile (0 < q ≤ 1) in seconds from a
// histogram: it finds the bucket holding the q·count-th value and
// interpolates linearly inside it. The open last bucket answers its lower
// bound. An empty histogram gives 0.
func Percentile(hist []int64, q float64) float64 {
	var total int64
	for _, n := range hist {
		total += n
	}
	if total <= 0 {
		return 0
	}
	rank := q * float64(total)
	var cum int64
	for i, n := range hist {
		if n <= 0 {
			continue
		}
		if float64(cum+n) >= rank {
			lo := 0.0
			if i > 0 {
				lo = DurationBounds[i-1].Seconds()
			}
			if i >= len(DurationBounds) {
				return lo
			}
			hi := DurationBounds[i].Seconds()
			return lo + (hi-lo)*(rank-float64(cum))/float64(n)
		}
		cum += n
	}
	return DurationBounds[len(DurationBounds)-1].Seconds()
}

// Counters are a bucket's fields.
type Counters map[string]int64

// Add adds o into c.
func (c Counters) Add(o Counters) {
	for k, v := range o {
		c[k] += v
	}
}

// Hist returns the histogram of a prefix.
func (c Counters) Hist(prefix string) []int64 {
	h := make([]int64, HistBuckets)
	for i := range h {
		h[i] = c[HistField(prefix, i)]
	}
	return h
}

// NonZero returns c without zero fields (a decrement to zero leaves the
// attribute in place).
func (c Counters) NonZero() Counters {
	out := Counters{}
	for k, v := range c {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

// Key names one counter of one bucket.
type Key struct {
	Scope Scope
	Day   string
	Field string
}

// String encodes a key for the contribution maps of entity states.
func (k Key) String() string { return string(k.Scope) + "|" + k.Day + "|" + k.Field }

// ParseKey decodes Key.String.
func ParseKey(s string) (Key, bool) {
	a, rest, ok := strings.Cut(s, "|")
	if !ok {
		return Key{}, false
	}
	d, f, ok := strings.Cut(rest, "|")
	if !ok {
		return Key{}, false
	}
	return Key{Scope(a), d, f}, true
}

// Deltas are counter changes.
type Deltas map[Key]int64

func (d Deltas) add(day, field string, n int64, scopes ...Scope) {
	for _, s := range scopes {
		if s == "" {
			continue
		}
		d[Key{s, day, field}] += n
	}
}

// Merge adds o into d.
func (d Deltas) Merge(o Deltas) {
	for k, v := range o {
		d[k] += v
	}
}

// NonZero drops keys whose changes cancel out.
func (d Deltas) NonZero() Deltas {
	out := Deltas{}
	for k, v := range d {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}

// Negate returns -d.
func (d Deltas) Negate() Deltas {
	out := Deltas{}
	for k, v := range d {
		out[k] = -v
	}
	return out
}

// Buckets groups deltas by scope and day.
func (d Deltas) Buckets() map[Scope]map[string]Counters {
	out := map[Scope]map[string]Counters{}
	for k, v := range d {
		if out[k.Scope] == nil {
			out[k.Scope] = map[string]Counters{}
		}
		if out[k.Scope][k.Day] == nil {
			out[k.Scope][k.Day] = Counters{}
		}
		out[k.Scope][k.Day][k.Field] += v
	}
	return out
}

// deptScope and userScope return "" (no scope) for empty ids.
func deptScope(id string) Scope {
	if id == "" {
		return ""
	}
	return Dept(id)
}

func userScope(id string) Scope {
	if id == "" {
		return ""
	}
	return User(id)
}
