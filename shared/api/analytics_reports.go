package api

import (
	"context"
	"net/http"
	"slices"
	"strconv"

	"github.com/deskline/deskline/shared/analytics"
	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/dynamo"
	"github.com/deskline/deskline/shared/httpapi"
)

// Saved reports (admins): a name, a type and parameters that select data
// from the aggregates; reading a report computes its data.

type reportRequest struct {
	Name        *string                 `json:"name"`
	Description *string                 `json:"description"`
	Type        *string                 `json:"type"`
	Parameters  *analytics.ReportParams `json:"parameters"`
	Schedule    *analytics.Schedule     `json:"schedule"`
	IsActive    *bool                   `json:"isActive"`
}

func (in *reportRequest) apply(rep *analytics.Report) {
	if in.Name != nil {
		rep.Name = *in.Name
	}
	if in.Description != nil {
		rep.Description = *in.Description
	}
	if in.Type != nil {
		rep.Type = *in.Type
	}
	if in.Parameters != nil {
		rep.Parameters = *in.Parameters
	}
	if in.Schedule != nil {
		rep.Schedule = in.Schedule
	}
	if in.IsActive != nil {
		rep.IsActive = *in.IsActive
	}
}

// CreateReport saves a report.
func (s *Server) CreateReport(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in reportRequest
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, deskline.Invalid("name", "Report name is required")
	}
	if in.Type == nil {
		return nil, deskline.Invalid("type", "Report type is required")
	}
	now := s.Clock.Now()
	rep := &analytics.Report{IsActive: true, CreatedBy: r.Principal.UserID, CreatedAt: now, UpdatedAt: now}
	in.apply(rep)
	if err := analytics.ValidateReport(rep); err != nil {
		return nil, err
	}
	rep.ID = s.IDs.NewID(analytics.PrefixReport)
	if err := s.Store.CreateReport(ctx, rep); err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusCreated, rep), nil
}

var errReportNotFound = deskline.Errorf(deskline.ENOTFOUND, "Report not found")

func (s *Server) loadReport(ctx context.Context, r *httpapi.Request) (*analytics.Report, error) {
	id := r.Param("id")
	if !deskline.ValidID(analytics.PrefixReport, id) {
		return nil, errReportNotFound
	}
	return s.Store.GetReport(ctx, id)
}

// ListReports lists saved reports newest first, with their creators;
// filters type and isActive; one page (limit, cursor) per request.
func (s *Server) ListReports(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	pg, err := r.Paging(defaultPageSize, maxPageSize)
	if err != nil {
		return nil, err
	}
	f := dynamo.ReportFilter{Type: r.Query.Get("type"), Limit: pg.Limit, Cursor: pg.Cursor}
	if f.Type != "" && !slices.Contains(analytics.ReportTypes, f.Type) {
		return nil, deskline.Invalid("type", "Invalid report type (task, user, department or custom)")
	}
	if v := r.Query.Get("isActive"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, deskline.Invalid("isActive", "isActive must be true or false")
		}
		f.IsActive = &b
	}
	page, err := s.Store.ListReports(ctx, f)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, rep := range page.Items {
		ids = append(ids, rep.CreatedBy)
	}
	people, err := s.Store.GetPeople(ctx, ids, nil)
	if err != nil {
		return nil, err
	}
	type view struct {
		*analytics.Report
		ReportCreator *personRef `json:"reportCreator"`
	}
	out := make([]view, len(page.Items))
	for i, rep := range page.Items {
		out[i] = view{Report: rep, ReportCreator: refUser(people, rep.CreatedBy)}
	}
	return httpapi.List(out, page.NextCursor), nil
}

// reportData computes a report's data and its CSV form.
func (s *Server) reportData(ctx context.Context, rep *analytics.Report) (any, []string, [][]string, error) {
	p := rep.Parameters
	rng, err := analytics.ParseRange(p.StartDate, p.EndDate, s.Clock.Now())
	if err != nil {
		return nil, nil, nil, err
	}
	today := s.today()
	scope := analytics.All
	if p.DepartmentID != "" {
		scope = analytics.Dept(p.DepartmentID)
	}
	switch rep.Type {
	case analytics.ReportUser:
		scope = analytics.User(p.UserID)
	case analytics.ReportDepartment:
		scope = analytics.Dept(p.DepartmentID)
	}
	series, err := s.Store.Aggregates(ctx, scope, rng)
	if err != nil {
		return nil, nil, nil, err
	}
	switch rep.Type {
	case analytics.ReportDepartment:
		rows := deptMetrics(p.DepartmentID, rng, series, today)
		recs := make([][]string, len(rows))
		for i, m := range rows {
			recs[i] = m.record()
		}
		return rows, deptMetricsHeader, recs, nil
	case analytics.ReportUser:
		rows := userPerformance(p.UserID, rng, series, today)
		recs := make([][]string, len(rows))
		for i, u := range rows {
			recs[i] = u.record()
		}
		return rows, userPerfHeader, recs, nil
	case analytics.ReportTask:
		t := series.Sum(nil).Tasks(series.Overdue(today, nil))
		var recs [][]string
		for _, st := range deskline.TaskStatuses {
			recs = append(recs, []string{"status", string(st), i64(t.ByStatus[string(st)])})
		}
		for _, pr := range deskline.Priorities {
			recs = append(recs, []string{"priority", string(pr), i64(t.ByPriority[string(pr)])})
		}
		return map[string]any{"byStatus": t.ByStatus, "byPriority": t.ByPriority}, []string{"dimension", "value", "count"}, recs, nil
	}
	rows := analyticsRows(p.DepartmentID, rng, series, today)
	header := []string{"id", "departmentId", "date", "ticketsCreated", "ticketsResolved", "ticketsClosed", "ticketsReopened",
		"resolutionAverageHours", "resolutionP50Hours", "resolutionP90Hours", "firstResponses", "firstResponseAverageHours",
		"firstResponseP50Hours", "firstResponseP90Hours", "tasksCreated", "tasksCompleted", "tasksCompletedLate", "tasksOverdue",
		"completionAverageHours", "completionP50Hours", "completionP90Hours", "commentsAdded", "commentsEdited", "actions"}
	recs := make([][]string, len(rows))
	for i, row := range rows {
		t, k := row.Tickets, row.Tasks
		recs[i] = []string{row.ID, p.DepartmentID, row.Date, i64(t.Created), i64(t.Resolved), i64(t.Closed), i64(t.Reopened),
			f64(t.ResolutionTime.AverageHours), f64(t.ResolutionTime.P50Hours), f64(t.ResolutionTime.P90Hours),
			i64(t.FirstResponseTime.Count), f64(t.FirstResponseTime.AverageHours), f64(t.FirstResponseTime.P50Hours), f64(t.FirstResponseTime.P90Hours),
			i64(k.Created), i64(k.Completed), i64(k.CompletedLate), i64(k.Overdue),
			f64(k.CompletionTime.AverageHours), f64(k.CompletionTime.P50Hours), f64(k.CompletionTime.P90Hours),
			i64(row.CommentsAdded), i64(row.CommentsEdited), i64(row.Actions)}
	}
	return rows, header, recs, nil
}

// GetReport answers a report with its data: {report, data}.
func (s *Server) GetReport(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	rep, err := s.loadReport(ctx, r)
	if err != nil {
		return nil, err
	}
	data, _, _, err := s.reportData(ctx, rep)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, map[string]any{"report": rep, "data": data}), nil
}

// ExportReport answers a report's data as CSV or a workbook.
func (s *Server) ExportReport(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	format, err := exportFormat(r)
	if err != nil {
		return nil, err
	}
	rep, err := s.loadReport(ctx, r)
	if err != nil {
		return nil, err
	}
	_, header, recs, err := s.reportData(ctx, rep)
	if err != nil {
		return nil, err
	}
	return exportResponse(format, "report-"+rep.ID, rep.Name, header, recs)
}

// UpdateReport changes a report's name, description, type, parameters,
// schedule or isActive.
func (s *Server) UpdateReport(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in reportRequest
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	prev, err := s.loadReport(ctx, r)
	if err != nil {
		return nil, err
	}
	next := *prev
	in.apply(&next)
	if err := analytics.ValidateReport(&next); err != nil {
		return nil, err
	}
	next.UpdatedAt = s.Clock.Now()
	if err := s.Store.UpdateReport(ctx, prev, &next); err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, &next), nil
}

// ScheduleReport sets when a report is to be mailed and to whom. The
// schedule is stored; nothing sends it yet.
func (s *Server) ScheduleReport(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in analytics.Schedule
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	if err := analytics.ValidateSchedule(&in); err != nil {
		return nil, err
	}
	prev, err := s.loadReport(ctx, r)
	if err != nil {
		return nil, err
	}
	next := *prev
	next.Schedule, next.UpdatedAt = &in, s.Clock.Now()
	if err := s.Store.UpdateReport(ctx, prev, &next); err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, map[string]any{"message": "Report schedule updated successfully", "report": &next}), nil
}

// DeleteReport deletes a report.
func (s *Server) DeleteReport(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	rep, err := s.loadReport(ctx, r)
	if err != nil {
		return nil, err
	}
	if err := s.Store.DeleteReport(ctx, rep); err != nil {
		return nil, err
	}
	return httpapi.Message(http.StatusOK, "Report deleted successfully"), nil
}
