package analytics

import (
	"time"

	"github.com/deskline/deskline/shared/deskline"
)

// TicketSnap is what analytics reads of one version of a ticket.
type TicketSnap struct {
	Dept       string
	Status     deskline.TicketStatus
	Priority   deskline.Priority
	Category   deskline.Category
	AssignedTo string
	CreatedBy  string
	CreatedAt  time.Time
}

// SnapTicket takes the snapshot of a ticket.
func SnapTicket(t *deskline.Ticket) TicketSnap {
	return TicketSnap{Dept: t.DepartmentID, Status: t.Status, Priority: t.Priority, Category: t.Category,
		AssignedTo: t.AssignedTo, CreatedBy: t.CreatedBy, CreatedAt: t.CreatedAt}
}

// TaskSnap is what analytics reads of one version of a task.
type TaskSnap struct {
	Dept       string
	Status     deskline.TaskStatus
	Priority   deskline.Priority
	AssignedTo string
	CreatedBy  string
	CreatedAt  time.Time
	Due        *time.Time
}

// SnapTask takes the snapshot of a task.
func SnapTask(t *deskline.Task) TaskSnap {
	return TaskSnap{Dept: t.DepartmentID, Status: t.Status, Priority: t.Priority, AssignedTo: t.AssignedToID,
		CreatedBy: t.CreatedBy, CreatedAt: t.CreatedAt, Due: t.DueDate}
}

func unresolved(s deskline.TicketStatus) bool {
	return s == deskline.TicketOpen || s == deskline.TicketInProgress
}

// ticketCohort counts a ticket version into its creation day's cube.
func ticketCohort(d Deltas, s TicketSnap, sign int64) {
	d.add(DayOf(s.CreatedAt), TicketCubeField(s.Status, s.Priority, s.Category), sign, All, deptScope(s.Dept), userScope(s.AssignedTo))
}

// TicketCreated is a ticket's first version: created (for its creator) and
// counted into its cohort.
func TicketCreated(d Deltas, s TicketSnap) {
	d.add(DayOf(s.CreatedAt), FTicketsCreated, 1, All, deptScope(s.Dept), userScope(s.CreatedBy))
	ticketCohort(d, s, 1)
}

// TicketChanged is one version change of a ticket, made by actor at at: the
// cohort follows the ticket, and status changes are events.
func TicketChanged(d Deltas, old, nw TicketSnap, at time.Time, actor string) {
	ticketCohort(d, old, -1)
	ticketCohort(d, nw, 1)
	if old.Status == nw.Status {
		return
	}
	day, scopes := DayOf(at), []Scope{All, deptScope(nw.Dept), userScope(actor)}
	if unresolved(old.Status) && !unresolved(nw.Status) {
		secs := Seconds(nw.CreatedAt, at)
		d.add(day, FTicketsResolved, 1, scopes...)
		d.add(day, FResolutionSum, secs, scopes...)
		d.add(day, HistField(FResolutionHist, BucketOf(secs)), 1, scopes...)
		d.add(day, PriorityField(FResolvedByPrio, nw.Priority), 1, scopes...)
		d.add(day, PriorityField(FResolutionByPri, nw.Priority), secs, scopes...)
	}
	if nw.Status == deskline.TicketClosed {
		d.add(day, FTicketsClosed, 1, scopes...)
	}
	if !unresolved(old.Status) && unresolved(nw.Status) {
		d.add(day, FTicketsReopened, 1, scopes...)
	}
}

// taskCohort counts a task version into its creation day's cube and, while
// unfinished with a due date, into its due day.
func taskCohort(d Deltas, s TaskSnap, sign int64) {
	scopes := []Scope{All, deptScope(s.Dept), userScope(s.AssignedTo)}
	d.add(DayOf(s.CreatedAt), TaskCubeField(s.Status, s.Priority), sign, scopes...)
	if s.Due != nil && !s.Status.Finished() {
		d.add(DayOf(*s.Due), FTaskDueOpen, sign, scopes...)
	}
}

// TaskCreated is a task's first version.
func TaskCreated(d Deltas, s TaskSnap) {
	d.add(DayOf(s.CreatedAt), FTasksCreated, 1, All, deptScope(s.Dept), userScope(s.CreatedBy))
	taskCohort(d, s, 1)
}

// TaskChanged is one version change of a task, made by actor at at.
func TaskChanged(d Deltas, old, nw TaskSnap, at time.Time, actor string) {
	taskCohort(d, old, -1)
	taskCohort(d, nw, 1)
	if old.Status == deskline.TaskCompleted || nw.Status != deskline.TaskCompleted {
		return
	}
	day, scopes := DayOf(at), []Scope{All, deptScope(nw.Dept), userScope(actor)}
	secs := Seconds(nw.CreatedAt, at)
	d.add(day, FTasksCompleted, 1, scopes...)
	d.add(day, FCompletionSum, secs, scopes...)
	d.add(day, HistField(FCompletionHist, BucketOf(secs)), 1, scopes...)
	d.add(day, PriorityField(FCompletedByPrio, nw.Priority), 1, scopes...)
	d.add(day, PriorityField(FCompletionByPri, nw.Priority), secs, scopes...)
	if nw.Due != nil && at.After(*nw.Due) {
		d.add(day, FTasksLate, 1, scopes...)
	}
}

// CommentAdded counts a comment written by author at at on an item of dept.
func CommentAdded(d Deltas, dept, author string, at time.Time) {
	d.add(DayOf(at), FCommentsAdded, 1, All, deptScope(dept), userScope(author))
}

// CommentEdited counts an edit that changed a comment's content.
func CommentEdited(d Deltas, dept, author string, at time.Time) {
	d.add(DayOf(at), FCommentsEdited, 1, All, deptScope(dept), userScope(author))
}

// Action counts one activity log entry of actor.
func Action(d Deltas, actor string, at time.Time) {
	if actor == "" {
		return
	}
	d.add(DayOf(at), FActions, 1, All, User(actor))
}

// FirstResponse is a ticket's first response: the earliest comment (by time,
// then comment id) written by someone other than the ticket's creator.
type FirstResponse struct {
	At        time.Time `json:"at"`
	CommentID string    `json:"commentId"`
	Actor     string    `json:"actor"`
	Dept      string    `json:"dept"` // the ticket's department then
	Seconds   int64     `json:"seconds"`
}

// Before reports whether f comes before g (a nil g comes after everything).
func (f *FirstResponse) Before(g *FirstResponse) bool {
	if g == nil {
		return true
	}
	if !f.At.Equal(g.At) {
		return f.At.Before(g.At)
	}
	return f.CommentID < g.CommentID
}

// Count counts f (sign 1) or takes it back (sign -1).
func (f *FirstResponse) Count(d Deltas, sign int64) {
	day, scopes := DayOf(f.At), []Scope{All, deptScope(f.Dept), userScope(f.Actor)}
	d.add(day, FFirstResponses, sign, scopes...)
	d.add(day, FFirstRespSum, sign*f.Seconds, scopes...)
	d.add(day, HistField(FFirstRespHist, BucketOf(f.Seconds)), sign, scopes...)
}
