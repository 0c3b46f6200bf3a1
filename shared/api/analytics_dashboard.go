package api

import (
	"context"
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/deskline/deskline/shared/analytics"
	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/dynamo"
	"github.com/deskline/deskline/shared/httpapi"
)

// The dashboard routes of docs/analytics.md that the original computed from
// rows it wrote on demand: here they read the same aggregates as the other
// analytics routes, with the same range, filter and scope rules.

// UpdateMetrics answers the contract's POST /update-metrics (admins). The
// original wrote today's metric rows for every department and its users on
// demand; here the stream projector keeps every aggregate current as items
// change (docs/analytics.md), so there is nothing to update: it writes
// nothing, reads nothing, and answers as the original did.
func (s *Server) UpdateMetrics(context.Context, *httpapi.Request) (*httpapi.Response, error) {
	return httpapi.Message(http.StatusOK, "Metrics updated successfully"), nil
}

// DepartmentDashboardTrends compares the first half of the range with the
// second for every department metric the day buckets give:
// [{metric, trend (up, down, flat), from, to}] (see analytics.CompareHalves
// and analytics.FlatTolerance). One GetItem (the department) and one Query.
func (s *Server) DepartmentDashboardTrends(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	_, rng, series, err := s.departmentSeries(ctx, r)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, analytics.CompareHalves(series, rng, s.today())), nil
}

// forecast answers a forecast as [{date, <name>}].
func forecast(preds []analytics.Prediction, name string) *httpapi.Response {
	out := make([]map[string]any, len(preds))
	for i, p := range preds {
		out[i] = map[string]any{"date": p.Date, name: p.Value}
	}
	return httpapi.JSON(http.StatusOK, out)
}

// DepartmentTaskCompletionForecast predicts the tasks a department will
// complete on each of the 7 days after the range's end, from the
// least-squares line through the range's whole days (see
// analytics.Forecast): [{date, predictedCompletedTasks}], never negative;
// [] with fewer than 2 days of data. One GetItem and one Query.
func (s *Server) DepartmentTaskCompletionForecast(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	_, rng, series, err := s.departmentSeries(ctx, r)
	if err != nil {
		return nil, err
	}
	pts := series.CountPoints(rng, s.today(), analytics.FTasksCompleted)
	return forecast(analytics.Forecast(rng, pts, 0, math.Inf(1)), "predictedCompletedTasks"), nil
}

// DepartmentWorkloadForecast predicts the tasks a department will get
// (tasks created, the metrics' totalTasks) on each of the 7 days after the
// range's end: [{date, predictedTotalTasks}], as
// DepartmentTaskCompletionForecast.
func (s *Server) DepartmentWorkloadForecast(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	_, rng, series, err := s.departmentSeries(ctx, r)
	if err != nil {
		return nil, err
	}
	pts := series.CountPoints(rng, s.today(), analytics.FTasksCreated)
	return forecast(analytics.Forecast(rng, pts, 0, math.Inf(1)), "predictedTotalTasks"), nil
}

// UserProductivityForecast predicts a user's productivity score (0–100) on
// each of the 7 days after the range's end, from the line through the
// range's whole days that had scored work: [{date,
// predictedProductivityScore}]; [] with fewer than 2 such days. One GetItem
// (the user) and one Query.
func (s *Server) UserProductivityForecast(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	_, rng, series, err := s.userSeries(ctx, r)
	if err != nil {
		return nil, err
	}
	pts := series.ProductivityPoints(rng, s.today())
	return forecast(analytics.Forecast(rng, pts, 0, 100), "predictedProductivityScore"), nil
}

// DepartmentAnomalies lists the days of the range on which a department's
// daily counts stood out (see analytics.Series.Anomalies and
// analytics.DepartmentAnomalyMetrics): [{date, type (spike, drop), metric,
// value, mean, stdDev, message}]. One GetItem and one Query.
func (s *Server) DepartmentAnomalies(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	_, rng, series, err := s.departmentSeries(ctx, r)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, series.Anomalies(rng, s.today(), analytics.DepartmentAnomalyMetrics)), nil
}

// UserAnomalies lists the days of the range on which a user's daily counts
// stood out (analytics.UserAnomalyMetrics), as DepartmentAnomalies. One
// GetItem (the user) and one Query.
func (s *Server) UserAnomalies(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	_, rng, series, err := s.userSeries(ctx, r)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, series.Anomalies(rng, s.today(), analytics.UserAnomalyMetrics)), nil
}

// LiveDepartmentMetrics answers every department's tasks by current status
// (admins): [{departmentId, departmentName, totalTasks, completedTasks,
// inProgressTasks, pendingTasks, cancelledTasks}], read from the task
// cohorts of the department's buckets, which count every task in its
// current department by its current status. Without dates every task
// counts; with startDate or endDate (the usual range rules) the tasks
// created in the range. The department list (one Query per 100), then one
// Query per department, 8 at a time.
func (s *Server) LiveDepartmentMetrics(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var rng *analytics.Range
	if r.Query.Get("startDate") != "" || r.Query.Get("endDate") != "" {
		rg, err := s.analyticsRange(r)
		if err != nil {
			return nil, err
		}
		rng = &rg
	}
	if err := unsupported(r, "status", "priority", "assignedTo", "createdBy", "departmentId", "department_id"); err != nil {
		return nil, err
	}
	depts, err := s.allDepartments(ctx)
	if err != nil {
		return nil, err
	}
	type row struct {
		DepartmentID   string `json:"departmentId"`
		DepartmentName string `json:"departmentName"`
		analytics.TaskStates
	}
	out := make([]row, len(depts))
	err = perDepartment(depts, func(i int, d *deskline.Department) error {
		c, err := s.Store.TaskCohorts(ctx, analytics.Dept(d.ID), rng)
		if err != nil {
			return err
		}
		out[i] = row{DepartmentID: d.ID, DepartmentName: d.Name, TaskStates: c.TaskStates()}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, out), nil
}

// liveTasks is how many tasks the live task board shows.
const liveTasks = 50

// liveTaskView is one task of the live task board.
type liveTaskView struct {
	ID           string              `json:"id"`
	Title        string              `json:"title"`
	Status       deskline.TaskStatus `json:"status"`
	Priority     deskline.Priority   `json:"priority"`
	Progress     int                 `json:"progress"`
	DueDate      *time.Time          `json:"dueDate"`
	Overdue      bool                `json:"overdue"`
	DepartmentID string              `json:"departmentId"`
	TicketID     string              `json:"ticketId"`
	CreatedAt    time.Time           `json:"createdAt"`
	UpdatedAt    time.Time           `json:"updatedAt"`
	AssignedUser *personRef          `json:"assignedUser"`
	Creator      *personRef          `json:"creator"`
}

// LiveTaskStatus answers the live task board (admins): the 50 most
// recently changed tasks, newest change first, with their assignee and
// creator ({id, username, email}), among the newest 1 MB of task items
// (see dynamo.Store.RecentlyChangedTasks). It takes no dates or filters.
// One Query and one BatchGetItem (at most 100 people).
func (s *Server) LiveTaskStatus(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if err := unsupported(r, "startDate", "endDate", "status", "priority", "assignedTo", "createdBy", "departmentId", "department_id"); err != nil {
		return nil, err
	}
	tasks, _, err := s.Store.RecentlyChangedTasks(ctx, liveTasks)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, t := range tasks {
		for _, id := range []string{t.AssignedToID, t.CreatedBy} {
			if id != "" && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	people, err := s.Store.GetPeople(ctx, ids, nil)
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	out := make([]liveTaskView, len(tasks))
	for i, t := range tasks {
		out[i] = liveTaskView{ID: t.ID, Title: t.Title, Status: t.Status, Priority: t.Priority, Progress: t.Progress,
			DueDate: t.DueDate, Overdue: t.Overdue(now), DepartmentID: t.DepartmentID, TicketID: t.TicketID,
			CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt, AssignedUser: refUser(people, t.AssignedToID), Creator: refUser(people, t.CreatedBy)}
	}
	return httpapi.JSON(http.StatusOK, out), nil
}

// activityFeedView is one entry of a department's or everyone's activity:
// the contract's {userId, username, action, timestamp, details}, with the
// entry's id and its user.
type activityFeedView struct {
	ID        string          `json:"id"`
	UserID    string          `json:"userId"`
	Username  string          `json:"username"`
	Action    string          `json:"action"`
	Timestamp time.Time       `json:"timestamp"`
	Details   activityDetails `json:"details"`
	User      *personRef      `json:"User"`
}

// activityDetails say what an activity entry was about.
type activityDetails struct {
	EntityType   string `json:"entityType"`
	EntityID     string `json:"entityId"`
	DepartmentID string `json:"departmentId,omitempty"`
	Field        string `json:"field,omitempty"`
	OldValue     any    `json:"oldValue,omitempty"`
	NewValue     any    `json:"newValue,omitempty"`
	CommentID    string `json:"commentId,omitempty"`
}

// activityFeed answers activity entries with their people (one
// BatchGetItem per 100 of them).
func (s *Server) activityFeed(ctx context.Context, page dynamo.Page[analytics.Activity]) (*httpapi.Response, error) {
	var ids []string
	for _, a := range page.Items {
		if !slices.Contains(ids, a.UserID) {
			ids = append(ids, a.UserID)
		}
	}
	people, err := s.Store.GetPeople(ctx, ids, nil)
	if err != nil {
		return nil, err
	}
	out := make([]activityFeedView, len(page.Items))
	for i, a := range page.Items {
		u := refUser(people, a.UserID) // entries always have a user
		out[i] = activityFeedView{ID: a.ID, UserID: a.UserID, Username: u.Username, Action: a.Action, Timestamp: a.At, User: u,
			Details: activityDetails{EntityType: a.EntityType, EntityID: a.EntityID, DepartmentID: a.DepartmentID, Field: a.Field,
				OldValue: a.OldValue, NewValue: a.NewValue, CommentID: a.CommentID}}
	}
	return httpapi.List(out, page.NextCursor), nil
}

// DashboardUserActivity lists the activity on a department's tickets and
// tasks (the department they were in then), newest first: admins of any
// department (departmentId) or of everyone (without), heads of their own
// (another departmentId is 403). Dates as everywhere (default: the last 30
// days); action filters; limit (50, at most 200) and cursor (X-Next-Cursor)
// page. One Query and one BatchGetItem (the page's people, per 100).
func (s *Server) DashboardUserActivity(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	_, dept, err := filterScope(r)
	if err != nil {
		return nil, err
	}
	if dept == "" && !r.Principal.IsAdmin() {
		return nil, deskline.Errorf(deskline.EFORBIDDEN, "Not authorized to view the activity of every department")
	}
	rng, err := s.analyticsRange(r)
	if err != nil {
		return nil, err
	}
	if err := unsupported(r, "status", "priority", "assignedTo", "createdBy"); err != nil {
		return nil, err
	}
	pg, err := r.Paging(50, 200)
	if err != nil {
		return nil, err
	}
	action := r.Query.Get("action")
	if action != "" && !slices.Contains(analytics.ActivityActions, action) {
		return nil, deskline.Invalid("action", "Invalid action (created, updated, comment_added or comment_edited)")
	}
	page, err := s.Store.ListActivityFeed(ctx, dynamo.ActivityFeedFilter{DepartmentID: dept, Range: &rng, Action: action, Limit: pg.Limit, Cursor: pg.Cursor})
	if err != nil {
		return nil, err
	}
	return s.activityFeed(ctx, page)
}

// liveActivities is how many entries the live activity feed shows.
const liveActivities = 50

// LiveUserActivity answers the help desk's latest 50 activity entries,
// newest first, with their people (admins). It takes no dates or filters.
// One Query and one BatchGetItem.
func (s *Server) LiveUserActivity(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if err := unsupported(r, "startDate", "endDate", "action", "departmentId", "department_id", "limit", "cursor"); err != nil {
		return nil, err
	}
	page, err := s.Store.ListActivityFeed(ctx, dynamo.ActivityFeedFilter{Limit: liveActivities})
	if err != nil {
		return nil, err
	}
	page.NextCursor = ""
	return s.activityFeed(ctx, page)
}
