package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"

	"github.com/deskline/deskline/shared/analytics"
	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/dynamo"
	"github.com/deskline/deskline/shared/httpapi"
	"github.com/deskline/deskline/shared/xlsx"
)

// Analytics answers from the aggregates the stream projector keeps (see
// docs/analytics.md): every request reads one Query per department or user
// it covers, plus the GetItem that finds the department or user named in
// its path. Scoping: admins see everything; department heads their own
// department and its people; everyone their own performance and activity.
// A department or user outside the caller's scope named in the path is 404
// (as if it did not exist); a departmentId filter outside it is 403, as on
// the ticket and task lists.

var (
	errAnalyticsDeptNotFound = deskline.Errorf(deskline.ENOTFOUND, "Department not found")
	errAnalyticsUserNotFound = deskline.Errorf(deskline.ENOTFOUND, "User not found")
)

// analyticsRange reads startDate and endDate.
func (s *Server) analyticsRange(r *httpapi.Request) (analytics.Range, error) {
	return analytics.ParseRange(r.Query.Get("startDate"), r.Query.Get("endDate"), s.Clock.Now())
}

func (s *Server) today() string { return analytics.DayOf(s.Clock.Now()) }

// unsupported refuses filters the aggregates cannot answer, rather than
// ignoring them.
func unsupported(r *httpapi.Request, names ...string) error {
	for _, n := range names {
		if r.Query.Get(n) != "" {
			return deskline.Invalid(n, fmt.Sprintf("Filter %s is not supported here", n))
		}
	}
	return nil
}

// scopedDepartment reads the department named in the path: admins any,
// heads their own; anything else is 404. One GetItem.
func (s *Server) scopedDepartment(ctx context.Context, r *httpapi.Request) (*deskline.Department, error) {
	id, p := r.Param("id"), r.Principal
	if !deskline.ValidID(deskline.PrefixDepartment, id) || !(p.IsAdmin() || (p.Role == deskline.RoleDepartmentHead && p.InDepartment(id))) {
		return nil, errAnalyticsDeptNotFound
	}
	d, err := s.Store.GetDepartment(ctx, id)
	if deskline.ErrorCode(err) == deskline.ENOTFOUND {
		return nil, errAnalyticsDeptNotFound
	}
	return d, err
}

// scopedUser reads the user named in the path: admins any, heads the people
// of their department, everyone themself; anything else is 404. One GetItem
// (none when an employee names someone else).
func (s *Server) scopedUser(ctx context.Context, r *httpapi.Request) (*deskline.User, error) {
	id, p := r.Param("id"), r.Principal
	if !deskline.ValidID(deskline.PrefixUser, id) || (p.Role == deskline.RoleEmployee && id != p.UserID) {
		return nil, errAnalyticsUserNotFound
	}
	u, err := s.Store.GetUser(ctx, id)
	if deskline.ErrorCode(err) == deskline.ENOTFOUND {
		return nil, errAnalyticsUserNotFound
	}
	if err != nil {
		return nil, err
	}
	if p.Role == deskline.RoleDepartmentHead && u.ID != p.UserID && !p.InDepartment(u.DepartmentID) {
		return nil, errAnalyticsUserNotFound
	}
	return u, nil
}

// filterScope reads the departmentId filter of dashboards: admins name any
// department or none (the whole help desk); heads get their department.
func filterScope(r *httpapi.Request) (analytics.Scope, string, error) {
	p, dept := r.Principal, firstOf(r.Query.Get("departmentId"), r.Query.Get("department_id"))
	switch {
	case p.IsAdmin():
	case dept != "" && dept != p.DepartmentID:
		return "", "", deskline.Errorf(deskline.EFORBIDDEN, "Not authorized to view analytics of another department")
	default:
		dept = p.DepartmentID
	}
	if dept == "" {
		return analytics.All, "", nil
	}
	if !deskline.ValidID(deskline.PrefixDepartment, dept) {
		return "", "", deskline.Invalid("departmentId", "Invalid department id")
	}
	return analytics.Dept(dept), dept, nil
}

// rowID names a day row of a scope.
func rowID(scopeID, day string) string { return scopeID + ":" + day }

// TicketStats counts the tickets created in the range (default: the last 30
// days) by their current status and priority: admins of every department or
// department_id, heads of theirs. Filters: status, priority, category.
func (s *Server) ticketStatsFromAggregates(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	f, err := s.ticketFilter(r)
	if err != nil {
		return nil, err
	}
	if f.AssignedTo != "" || f.CreatedBy != "" || len(f.Words) > 0 || f.CreatedFrom != nil || f.CreatedTo != nil || f.UpdatedFrom != nil || f.UpdatedTo != nil {
		return nil, deskline.Invalid("", "Ticket statistics filter by department_id, status, priority, category, startDate and endDate only")
	}
	rng, err := s.analyticsRange(r)
	if err != nil {
		return nil, err
	}
	scope := analytics.All
	if f.DepartmentID != "" {
		scope = analytics.Dept(f.DepartmentID)
	}
	series, err := s.Store.Aggregates(ctx, scope, rng)
	if err != nil {
		return nil, err
	}
	counts := map[[2]string]int64{}
	for _, cell := range series.Sum(nil).TicketCube() {
		if (len(f.Statuses) == 0 || slices.Contains(f.Statuses, cell.Status)) &&
			(len(f.Priorities) == 0 || slices.Contains(f.Priorities, cell.Priority)) &&
			(len(f.Categories) == 0 || slices.Contains(f.Categories, cell.Category)) {
			counts[[2]string{string(cell.Status), string(cell.Priority)}] += cell.Count
		}
	}
	out := []dynamo.TicketCount{}
	for _, st := range deskline.TicketStatuses {
		for _, pr := range deskline.Priorities {
			if n := counts[[2]string{string(st), string(pr)}]; n > 0 {
				out = append(out, dynamo.TicketCount{Status: st, Priority: pr, Count: int(n)})
			}
		}
	}
	return httpapi.JSON(http.StatusOK, out), nil
}

// TicketAnalytics answers ticket statistics of a range: created, resolved,
// closed and reopened; distributions by status, priority and category (of
// the tickets created in the range); resolution and first-response times.
func (s *Server) TicketAnalytics(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	scope, dept, err := filterScope(r)
	if err != nil {
		return nil, err
	}
	rng, err := s.analyticsRange(r)
	if err != nil {
		return nil, err
	}
	series, err := s.Store.Aggregates(ctx, scope, rng)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, struct {
		DepartmentID *string `json:"departmentId"`
		StartDate    string  `json:"startDate"`
		EndDate      string  `json:"endDate"`
		analytics.TicketSummary
	}{optional(dept), rng.FirstDay(), rng.LastDay(), series.Sum(nil).Tickets()}), nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// deptMetricsRow is the contract's department metrics row, one per day.
type deptMetricsRow struct {
	ID                    string  `json:"id"`
	DepartmentID          string  `json:"departmentId"`
	Date                  string  `json:"date"`
	TotalTasks            int64   `json:"totalTasks"`            // tasks created that day
	CompletedTasks        int64   `json:"completedTasks"`        // tasks completed that day
	PendingTasks          int64   `json:"pendingTasks"`          // of the day's new tasks, still pending or in progress
	OverdueTasks          int64   `json:"overdueTasks"`          // unfinished tasks due that day, once it is past
	AverageCompletionTime float64 `json:"averageCompletionTime"` // hours, of the tasks completed that day
	TicketsCreated        int64   `json:"ticketsCreated"`
	TicketsResolved       int64   `json:"ticketsResolved"`
	AverageResolutionTime float64 `json:"averageResolutionTime"` // hours, of the tickets resolved that day
}

var deptMetricsHeader = []string{"id", "departmentId", "date", "totalTasks", "completedTasks", "pendingTasks", "overdueTasks",
	"averageCompletionTime", "ticketsCreated", "ticketsResolved", "averageResolutionTime"}

func (m deptMetricsRow) record() []string {
	return []string{m.ID, m.DepartmentID, m.Date, i64(m.TotalTasks), i64(m.CompletedTasks), i64(m.PendingTasks), i64(m.OverdueTasks),
		f64(m.AverageCompletionTime), i64(m.TicketsCreated), i64(m.TicketsResolved), f64(m.AverageResolutionTime)}
}

func i64(n int64) string   { return strconv.FormatInt(n, 10) }
func f64(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func deptMetrics(deptID string, rng analytics.Range, series analytics.Series, today string) []deptMetricsRow {
	rows := make([]deptMetricsRow, 0, rng.Days())
	byDay := series.ByDay()
	for _, day := range rng.EachDay() {
		c := byDay[day]
		t := c.Tasks(0)
		row := deptMetricsRow{
			ID: rowID(deptID, day), DepartmentID: deptID, Date: day,
			TotalTasks: c[analytics.FTasksCreated], CompletedTasks: c[analytics.FTasksCompleted],
			PendingTasks:          t.ByStatus[string(deskline.TaskPending)] + t.ByStatus[string(deskline.TaskInProgress)],
			AverageCompletionTime: analytics.AverageHours(c[analytics.FCompletionSum], c[analytics.FTasksCompleted]),
			TicketsCreated:        c[analytics.FTicketsCreated], TicketsResolved: c[analytics.FTicketsResolved],
			AverageResolutionTime: analytics.AverageHours(c[analytics.FResolutionSum], c[analytics.FTicketsResolved]),
		}
		if day < today {
			row.OverdueTasks = c[analytics.FTaskDueOpen]
		}
		rows = append(rows, row)
	}
	return rows
}

// departmentSeries reads the department in the path and its buckets.
func (s *Server) departmentSeries(ctx context.Context, r *httpapi.Request) (*deskline.Department, analytics.Range, analytics.Series, error) {
	d, err := s.scopedDepartment(ctx, r)
	if err != nil {
		return nil, analytics.Range{}, nil, err
	}
	rng, err := s.analyticsRange(r)
	if err != nil {
		return nil, rng, nil, err
	}
	if err := unsupported(r, "status", "priority", "assignedTo", "createdBy"); err != nil {
		return nil, rng, nil, err
	}
	series, err := s.Store.Aggregates(ctx, analytics.Dept(d.ID), rng)
	return d, rng, series, err
}

// DepartmentMetrics answers the contract's metrics rows, one per day.
func (s *Server) DepartmentMetrics(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	d, rng, series, err := s.departmentSeries(ctx, r)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, deptMetrics(d.ID, rng, series, s.today())), nil
}

// exportFormat reads an export's format: csv (the default), or excel
// (also xlsx) for an Office Open XML workbook.
func exportFormat(r *httpapi.Request) (string, error) {
	switch r.Query.Get("format") {
	case "", "csv":
		return "csv", nil
	case "excel", "xlsx":
		return "xlsx", nil
	}
	return "", deskline.Invalid("format", "Invalid format (csv or excel)")
}

// exportResponse answers an export as an attachment named base.csv or
// base.xlsx: a header row, then the rows. CSV is quoted as RFC 4180 says
// (CRLF line ends); the workbook has one sheet, named sheet, with numbers
// as numbers.
func exportResponse(format, base, sheet string, header []string, rows [][]string) (*httpapi.Response, error) {
	if format == "xlsx" {
		var buf bytes.Buffer
		if err := xlsx.Write(&buf, sheet, header, rows); err != nil {
			return nil, err
		}
		return &httpapi.Response{Status: http.StatusOK, Body: httpapi.BinaryBody(buf.Bytes()), Headers: map[string]string{
			"Content-Type":        xlsx.ContentType,
			"Content-Disposition": fmt.Sprintf("attachment; filename=%q", base+".xlsx"),
		}}, nil
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	if err := w.Write(header); err != nil {
		return nil, fmt.Errorf("write csv: %w", err)
	}
	if err := w.WriteAll(rows); err != nil {
		return nil, fmt.Errorf("write csv: %w", err)
	}
	return &httpapi.Response{Status: http.StatusOK, Body: httpapi.RawBody(buf.String()), Headers: map[string]string{
		"Content-Type":        "text/csv; charset=utf-8",
		"Content-Disposition": fmt.Sprintf("attachment; filename=%q", base+".csv"),
	}}, nil
}

// ExportDepartmentMetrics answers the metrics rows as CSV or a workbook.
func (s *Server) ExportDepartmentMetrics(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	format, err := exportFormat(r)
	if err != nil {
		return nil, err
	}
	d, rng, series, err := s.departmentSeries(ctx, r)
	if err != nil {
		return nil, err
	}
	rows := deptMetrics(d.ID, rng, series, s.today())
	recs := make([][]string, len(rows))
	for i, m := range rows {
		recs[i] = m.record()
	}
	return exportResponse(format, fmt.Sprintf("department-%s-metrics-%s-%s", d.ID, rng.FirstDay(), rng.LastDay()), d.Name+" metrics", deptMetricsHeader, recs)
}

// analyticsRow is one day of a scope's statistics.
type analyticsRow struct {
	ID           string  `json:"id"`
	DepartmentID *string `json:"departmentId"`
	Date         string  `json:"date"`
	analytics.Summary
}

func analyticsRows(deptID string, rng analytics.Range, series analytics.Series, today string) []analyticsRow {
	rows := make([]analyticsRow, 0, rng.Days())
	scopeID := deptID
	if scopeID == "" {
		scopeID = string(analytics.All)
	}
	byDay := series.ByDay()
	for _, day := range rng.EachDay() {
		c, overdue := byDay[day], int64(0)
		if day < today {
			overdue = c[analytics.FTaskDueOpen]
		}
		rows = append(rows, analyticsRow{ID: rowID(scopeID, day), DepartmentID: optional(deptID), Date: day, Summary: c.Summary(overdue)})
	}
	return rows
}

// DepartmentAnalytics answers every statistic of a department, one row per day.
func (s *Server) DepartmentAnalytics(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	d, rng, series, err := s.departmentSeries(ctx, r)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, analyticsRows(d.ID, rng, series, s.today())), nil
}

// trendPoint is one period of a trend.
type trendPoint struct {
	Start                       string  `json:"start"`
	End                         string  `json:"end"`
	TasksCreated                int64   `json:"tasksCreated"`
	TasksCompleted              int64   `json:"tasksCompleted"`
	CompletionRate              float64 `json:"completionRate"`
	AverageResolutionTime       float64 `json:"averageResolutionTime"` // hours to complete a task
	TicketsCreated              int64   `json:"ticketsCreated"`
	TicketsResolved             int64   `json:"ticketsResolved"`
	AverageTicketResolutionTime float64 `json:"averageTicketResolutionTime"` // hours
	ProductivityScore           float64 `json:"productivityScore"`
}

func trend(series analytics.Series, rng analytics.Range, period, today string) []trendPoint {
	var out []trendPoint
	for _, p := range rng.Split(period) {
		in := p.Contains
		c := series.Sum(in)
		t := c.Tasks(series.Overdue(today, in))
		out = append(out, trendPoint{
			Start: analytics.DayOf(p.Start), End: analytics.DayOf(p.End),
			TasksCreated: t.Created, TasksCompleted: t.Completed, CompletionRate: t.CompletionRate,
			AverageResolutionTime: t.CompletionTime.AverageHours,
			TicketsCreated:        c[analytics.FTicketsCreated], TicketsResolved: c[analytics.FTicketsResolved],
			AverageTicketResolutionTime: analytics.AverageHours(c[analytics.FResolutionSum], c[analytics.FTicketsResolved]),
			ProductivityScore:           analytics.ProductivityScore(t.Completed, t.CompletedLate, c[analytics.FTicketsResolved], t.Overdue),
		})
	}
	return out
}

// DepartmentTrends answers the contract's trend object for the range (task
// completion rate, task resolution time, distributions of the range's new
// tasks) with its series per period (daily, weekly or monthly; required).
func (s *Server) DepartmentTrends(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	period, err := analytics.ParsePeriod(r.Query.Get("period"))
	if err != nil {
		return nil, err
	}
	d, rng, series, err := s.departmentSeries(ctx, r)
	if err != nil {
		return nil, err
	}
	today := s.today()
	t := series.Sum(nil).Tasks(series.Overdue(today, nil))
	return httpapi.JSON(http.StatusOK, map[string]any{
		"departmentId": d.ID, "period": period, "startDate": rng.FirstDay(), "endDate": rng.LastDay(),
		"completionRate": t.CompletionRate, "averageResolutionTime": t.CompletionTime.AverageHours,
		"priorityDistribution": t.ByPriority, "statusDistribution": t.ByStatus,
		"series": trend(series, rng, period, today),
	}), nil
}

// userPerfRow is the contract's user performance row, one per day.
type userPerfRow struct {
	ID                    string  `json:"id"`
	UserID                string  `json:"userId"`
	Date                  string  `json:"date"`
	TasksCompleted        int64   `json:"tasksCompleted"`
	TasksCompletedLate    int64   `json:"tasksCompletedLate"`
	TasksOverdue          int64   `json:"tasksOverdue"`        // assigned, unfinished, due that day, once past
	AverageResponseTime   float64 `json:"averageResponseTime"` // hours, of the first responses the user gave that day
	FirstResponses        int64   `json:"firstResponses"`
	TicketsResolved       int64   `json:"ticketsResolved"`
	AverageResolutionTime float64 `json:"averageResolutionTime"` // hours, of the tickets the user resolved that day
	CommentsAdded         int64   `json:"commentsAdded"`
	Actions               int64   `json:"actions"`
	ProductivityScore     float64 `json:"productivityScore"`
}

var userPerfHeader = []string{"id", "userId", "date", "tasksCompleted", "tasksCompletedLate", "tasksOverdue", "averageResponseTime",
	"firstResponses", "ticketsResolved", "averageResolutionTime", "commentsAdded", "actions", "productivityScore"}

func (u userPerfRow) record() []string {
	return []string{u.ID, u.UserID, u.Date, i64(u.TasksCompleted), i64(u.TasksCompletedLate), i64(u.TasksOverdue), f64(u.AverageResponseTime),
		i64(u.FirstResponses), i64(u.TicketsResolved), f64(u.AverageResolutionTime), i64(u.CommentsAdded), i64(u.Actions), f64(u.ProductivityScore)}
}

func userPerformance(userID string, rng analytics.Range, series analytics.Series, today string) []userPerfRow {
	rows := make([]userPerfRow, 0, rng.Days())
	byDay := series.ByDay()
	for _, day := range rng.EachDay() {
		c := byDay[day]
		row := userPerfRow{
			ID: rowID(userID, day), UserID: userID, Date: day,
			TasksCompleted: c[analytics.FTasksCompleted], TasksCompletedLate: c[analytics.FTasksLate],
			AverageResponseTime: analytics.AverageHours(c[analytics.FFirstRespSum], c[analytics.FFirstResponses]),
			FirstResponses:      c[analytics.FFirstResponses], TicketsResolved: c[analytics.FTicketsResolved],
			AverageResolutionTime: analytics.AverageHours(c[analytics.FResolutionSum], c[analytics.FTicketsResolved]),
			CommentsAdded:         c[analytics.FCommentsAdded], Actions: c[analytics.FActions],
		}
		if day < today {
			row.TasksOverdue = c[analytics.FTaskDueOpen]
		}
		row.ProductivityScore = analytics.ProductivityScore(row.TasksCompleted, row.TasksCompletedLate, row.TicketsResolved, row.TasksOverdue)
		rows = append(rows, row)
	}
	return rows
}

func (s *Server) userSeries(ctx context.Context, r *httpapi.Request) (*deskline.User, analytics.Range, analytics.Series, error) {
	u, err := s.scopedUser(ctx, r)
	if err != nil {
		return nil, analytics.Range{}, nil, err
	}
	rng, err := s.analyticsRange(r)
	if err != nil {
		return nil, rng, nil, err
	}
	if err := unsupported(r, "status", "priority", "assignedTo", "createdBy"); err != nil {
		return nil, rng, nil, err
	}
	series, err := s.Store.Aggregates(ctx, analytics.User(u.ID), rng)
	return u, rng, series, err
}

// UserPerformance answers the contract's performance rows, one per day.
func (s *Server) UserPerformance(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	u, rng, series, err := s.userSeries(ctx, r)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, userPerformance(u.ID, rng, series, s.today())), nil
}

// ExportUserPerformance answers the performance rows as CSV or a workbook.
func (s *Server) ExportUserPerformance(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	format, err := exportFormat(r)
	if err != nil {
		return nil, err
	}
	u, rng, series, err := s.userSeries(ctx, r)
	if err != nil {
		return nil, err
	}
	rows := userPerformance(u.ID, rng, series, s.today())
	recs := make([][]string, len(rows))
	for i, row := range rows {
		recs[i] = row.record()
	}
	return exportResponse(format, fmt.Sprintf("user-%s-performance-%s-%s", u.ID, rng.FirstDay(), rng.LastDay()), u.Username+" performance", userPerfHeader, recs)
}

// UserActivity lists a user's activity log in the range, newest first, one
// page (limit, default 50, at most 200; cursor in X-Next-Cursor) per
// request; `action` filters.
func (s *Server) UserActivity(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	u, err := s.scopedUser(ctx, r)
	if err != nil {
		return nil, err
	}
	rng, err := s.analyticsRange(r)
	if err != nil {
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
	page, err := s.Store.ListActivity(ctx, dynamo.ActivityFilter{UserID: u.ID, Range: rng, Action: action, Limit: pg.Limit, Cursor: pg.Cursor})
	if err != nil {
		return nil, err
	}
	type activityView struct {
		analytics.Activity
		User personRef `json:"User"`
	}
	out := make([]activityView, len(page.Items))
	for i, a := range page.Items {
		out[i] = activityView{Activity: a, User: personRef{ID: u.ID, Username: u.Username, Email: u.Email}}
	}
	return httpapi.List(out, page.NextCursor), nil
}

// dashboardSeries reads the buckets of a dashboard's scope.
func (s *Server) dashboardSeries(ctx context.Context, r *httpapi.Request) (analytics.Range, analytics.Series, error) {
	scope, _, err := filterScope(r)
	if err != nil {
		return analytics.Range{}, nil, err
	}
	rng, err := s.analyticsRange(r)
	if err != nil {
		return rng, nil, err
	}
	if err := unsupported(r, "assignedTo", "createdBy"); err != nil {
		return rng, nil, err
	}
	series, err := s.Store.Aggregates(ctx, scope, rng)
	return rng, series, err
}

// taskFilters reads the status and priority filters of task dashboards.
func taskFilters(r *httpapi.Request) ([]deskline.TaskStatus, []deskline.Priority, error) {
	var sts []deskline.TaskStatus
	var prs []deskline.Priority
	for _, v := range splitList(r.Query.Get("status")) {
		if err := deskline.ValidateTaskStatus(deskline.TaskStatus(v)); err != nil {
			return nil, nil, err
		}
		sts = append(sts, deskline.TaskStatus(v))
	}
	for _, v := range splitList(r.Query.Get("priority")) {
		if err := deskline.ValidatePriority(deskline.Priority(v)); err != nil {
			return nil, nil, err
		}
		prs = append(prs, deskline.Priority(v))
	}
	return sts, prs, nil
}

// TaskDistribution answers the tasks created in the range by current status
// and by priority (filters status and priority narrow both).
func (s *Server) TaskDistribution(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	sts, prs, err := taskFilters(r)
	if err != nil {
		return nil, err
	}
	_, series, err := s.dashboardSeries(ctx, r)
	if err != nil {
		return nil, err
	}
	byStatus, byPriority := zeroMap(deskline.TaskStatuses), zeroMap(deskline.Priorities)
	for _, cell := range series.Sum(nil).TaskCube() {
		if (len(sts) == 0 || slices.Contains(sts, cell.Status)) && (len(prs) == 0 || slices.Contains(prs, cell.Priority)) {
			byStatus[string(cell.Status)] += cell.Count
			byPriority[string(cell.Priority)] += cell.Count
		}
	}
	return httpapi.JSON(http.StatusOK, map[string]any{"byStatus": byStatus, "byPriority": byPriority}), nil
}

func zeroMap[T ~string](vals []T) map[string]int64 {
	m := make(map[string]int64, len(vals))
	for _, v := range vals {
		m[string(v)] = 0
	}
	return m
}

// PerformanceTrends answers the contract's trend points per period (required).
func (s *Server) PerformanceTrends(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	period, err := analytics.ParsePeriod(r.Query.Get("period"))
	if err != nil {
		return nil, err
	}
	if err := unsupported(r, "status", "priority"); err != nil {
		return nil, err
	}
	rng, series, err := s.dashboardSeries(ctx, r)
	if err != nil {
		return nil, err
	}
	type point struct {
		Date string `json:"date"`
		trendPoint
	}
	pts := trend(series, rng, period, s.today())
	out := make([]point, len(pts))
	for i, p := range pts {
		out[i] = point{Date: p.Start, trendPoint: p}
	}
	return httpapi.JSON(http.StatusOK, out), nil
}

// PriorityMetrics answers, per priority, the range's new tasks (total,
// completed by now, completion rate), the time tasks completed in the range
// took, and the same for tickets.
func (s *Server) PriorityMetrics(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if err := unsupported(r, "status"); err != nil {
		return nil, err
	}
	_, prs, err := taskFilters(r)
	if err != nil {
		return nil, err
	}
	_, series, err := s.dashboardSeries(ctx, r)
	if err != nil {
		return nil, err
	}
	c := series.Sum(nil)
	type ticketPart struct {
		Total             int64   `json:"total"`
		Resolved          int64   `json:"resolved"`
		AvgResolutionTime float64 `json:"avgResolutionTime"`
	}
	type row struct {
		Priority          deskline.Priority `json:"priority"`
		Total             int64             `json:"total"`
		Completed         int64             `json:"completed"`
		AvgResolutionTime float64           `json:"avgResolutionTime"` // hours to complete
		CompletionRate    float64           `json:"completionRate"`
		Tickets           ticketPart        `json:"tickets"`
	}
	rows := map[deskline.Priority]*row{}
	var out []*row
	for _, p := range deskline.Priorities {
		if len(prs) > 0 && !slices.Contains(prs, p) {
			continue
		}
		rw := &row{Priority: p,
			AvgResolutionTime: analytics.AverageHours(c[analytics.PriorityField(analytics.FCompletionByPri, p)], c[analytics.PriorityField(analytics.FCompletedByPrio, p)]),
			Tickets: ticketPart{Resolved: c[analytics.PriorityField(analytics.FResolvedByPrio, p)],
				AvgResolutionTime: analytics.AverageHours(c[analytics.PriorityField(analytics.FResolutionByPri, p)], c[analytics.PriorityField(analytics.FResolvedByPrio, p)])},
		}
		rows[p] = rw
		out = append(out, rw)
	}
	for _, cell := range c.TaskCube() {
		if rw := rows[cell.Priority]; rw != nil {
			rw.Total += cell.Count
			if cell.Status == deskline.TaskCompleted {
				rw.Completed += cell.Count
			}
		}
	}
	for _, cell := range c.TicketCube() {
		if rw := rows[cell.Priority]; rw != nil {
			rw.Tickets.Total += cell.Count
		}
	}
	for _, rw := range out {
		rw.CompletionRate = analytics.Ratio(rw.Completed, rw.Total)
	}
	return httpapi.JSON(http.StatusOK, out), nil
}

// maxParallelQueries bounds the Queries one comparison runs at once.
const maxParallelQueries = 8

// allDepartments lists every department by name: one Query per 100.
func (s *Server) allDepartments(ctx context.Context) ([]*deskline.Department, error) {
	var depts []*deskline.Department
	for cursor := ""; ; {
		p, err := s.Store.ListDepartments(ctx, 100, cursor)
		if err != nil {
			return nil, err
		}
		depts = append(depts, p.Items...)
		if cursor = p.NextCursor; cursor == "" {
			return depts, nil
		}
	}
}

// DepartmentComparison compares every department over the range (admins):
// the department list, then one Query per department, in parallel.
func (s *Server) DepartmentComparison(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	rng, err := s.analyticsRange(r)
	if err != nil {
		return nil, err
	}
	depts, err := s.allDepartments(ctx)
	if err != nil {
		return nil, err
	}
	type row struct {
		DepartmentID          string  `json:"departmentId"`
		DepartmentName        string  `json:"departmentName"`
		TotalTasks            int64   `json:"totalTasks"`     // created in the range
		CompletedTasks        int64   `json:"completedTasks"` // completed in the range
		CompletionRate        float64 `json:"completionRate"` // of the range's new tasks, completed by now
		AverageCompletionTime float64 `json:"averageCompletionTime"`
		TicketsCreated        int64   `json:"ticketsCreated"`
		TicketsResolved       int64   `json:"ticketsResolved"`
		AverageResolutionTime float64 `json:"averageResolutionTime"`
		ProductivityScore     float64 `json:"productivityScore"`
	}
	out := make([]row, len(depts))
	today := s.today()
	err = perDepartment(depts, func(i int, d *deskline.Department) error {
		series, err := s.Store.Aggregates(ctx, analytics.Dept(d.ID), rng)
		if err != nil {
			return err
		}
		c := series.Sum(nil)
		t := c.Tasks(series.Overdue(today, nil))
		out[i] = row{DepartmentID: d.ID, DepartmentName: d.Name, TotalTasks: t.Created, CompletedTasks: t.Completed,
			CompletionRate: t.CompletionRate, AverageCompletionTime: t.CompletionTime.AverageHours,
			TicketsCreated: c[analytics.FTicketsCreated], TicketsResolved: c[analytics.FTicketsResolved],
			AverageResolutionTime: analytics.AverageHours(c[analytics.FResolutionSum], c[analytics.FTicketsResolved]),
			ProductivityScore:     analytics.ProductivityScore(t.Completed, t.CompletedLate, c[analytics.FTicketsResolved], t.Overdue)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, out), nil
}

// perDepartment runs f for every department, at most maxParallelQueries at
// a time (each is a Query), and returns their errors joined.
func perDepartment(depts []*deskline.Department, f func(i int, d *deskline.Department) error) error {
	errs := make([]error, len(depts))
	sem := make(chan struct{}, maxParallelQueries)
	var wg sync.WaitGroup
	for i, d := range depts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = f(i, d)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
