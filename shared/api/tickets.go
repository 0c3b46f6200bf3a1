package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/dynamo"
	"github.com/deskline/deskline/shared/httpapi"
)

var errTicketNotFound = deskline.Errorf(deskline.ENOTFOUND, "Ticket not found")

// ticketView is a ticket as responses show it (the contract's shape).
type ticketView struct {
	*deskline.Ticket
	Creator    *personRef    `json:"creator"`
	Assignee   *personRef    `json:"assignee"`
	Department *deptRef      `json:"Department"`
	Comments   []commentView `json:"Comments,omitempty"`
}

// ticketDetail is GET /api/tickets/{id}: the ticket with its comments and
// its attachments (the ticket's files and its comments', which carry
// comment_id; newest first).
type ticketDetail struct {
	ticketView
	Attachments []fileView `json:"attachments"`
}

func viewTicket(p *dynamo.People, t *deskline.Ticket) ticketView {
	return ticketView{Ticket: t, Creator: refUser(p, t.CreatedBy), Assignee: refUser(p, t.AssignedTo), Department: refDept(p, t.DepartmentID)}
}

// ticketRequest carries ticket fields. Both the contract's request names
// (departmentId, assignedTo, dueDate) and its response names (department_id,
// assigned_to, due_date) are accepted.
type ticketRequest struct {
	Title         *string                `json:"title"`
	Description   *string                `json:"description"`
	Status        *deskline.TicketStatus `json:"status"`
	Priority      *deskline.Priority     `json:"priority"`
	Category      *deskline.Category     `json:"category"`
	DepartmentID  *string                `json:"departmentId"`
	DepartmentID2 *string                `json:"department_id"`
	AssignedTo    *string                `json:"assignedTo"`
	AssignedTo2   *string                `json:"assigned_to"`
	DueDate       *string                `json:"dueDate"`
	DueDate2      *string                `json:"due_date"`
	Tags          *[]string              `json:"tags"`
	Version       *int64                 `json:"version"`
}

func either(a, b *string) *string {
	if a != nil {
		return a
	}
	return b
}

// apply validates the request's content fields and copies them onto t.
func (in *ticketRequest) apply(t *deskline.Ticket) error {
	shared := workFields{in.Title, in.Description, in.Priority, either(in.DueDate, in.DueDate2), "due_date"}
	if err := shared.apply(&t.Title, &t.Description, &t.Priority, &t.DueDate); err != nil {
		return err
	}
	if in.Category != nil {
		if err := deskline.ValidateCategory(*in.Category); err != nil {
			return err
		}
		t.Category = *in.Category
	}
	if in.Tags != nil {
		tags, err := deskline.NormalizeTags(*in.Tags)
		if err != nil {
			return err
		}
		t.Tags = tags
	}
	return nil
}

var errBadAssignee = &deskline.Error{Code: deskline.EINVALID, Field: "assigned_to", Message: "The assignee must be an approved member of the ticket's department"}

// CreateTicket opens a ticket in the caller's department (admins: any), with
// the next key of that department (IT-42).
func (s *Server) CreateTicket(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in ticketRequest
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	p := r.Principal
	if in.Title == nil {
		return nil, deskline.Invalid("title", "Title is required")
	}
	if in.Description == nil {
		return nil, deskline.Invalid("description", "Description is required")
	}
	if in.Priority == nil {
		return nil, deskline.Invalid("priority", "Priority is required")
	}
	if in.Category == nil {
		return nil, deskline.Invalid("category", "Category is required")
	}
	if in.Status != nil && *in.Status != deskline.TicketOpen {
		return nil, deskline.Invalid("status", "New tickets are open")
	}
	now := s.Clock.Now()
	t := &deskline.Ticket{Status: deskline.TicketOpen, CreatedBy: p.UserID, UpdatedBy: p.UserID, IsActive: true, CreatedAt: now, UpdatedAt: now, Tags: []string{}}
	if err := in.apply(t); err != nil {
		return nil, err
	}
	if d := either(in.DepartmentID, in.DepartmentID2); d != nil && *d != "" {
		t.DepartmentID = *d
	} else if !p.IsAdmin() {
		t.DepartmentID = p.DepartmentID
	} else {
		return nil, deskline.Invalid("departmentId", "Department is required")
	}
	if !p.IsAdmin() && !p.InDepartment(t.DepartmentID) {
		return nil, deskline.Errorf(deskline.EFORBIDDEN, "Not authorized to create tickets in this department")
	}
	if !deskline.ValidID(deskline.PrefixDepartment, t.DepartmentID) {
		return nil, deskline.Invalid("departmentId", "Department not found or inactive")
	}
	if a := either(in.AssignedTo, in.AssignedTo2); a != nil && *a != "" {
		if !p.CanTriage(t.DepartmentID) {
			return nil, &deskline.Error{Code: deskline.EFORBIDDEN, Field: "assigned_to", Message: "Only admins and the department's head assign tickets"}
		}
		t.AssignedTo = *a
	}
	return s.idempotent(ctx, r, func(rec *dynamo.Idem) (*httpapi.Response, error) {
		people, err := s.Store.GetRefs(ctx, dynamo.RefIDs{Users: []string{p.UserID, t.AssignedTo}, Departments: []string{t.DepartmentID}, SeqDepartment: t.DepartmentID})
		if err != nil {
			return nil, err
		}
		seq := people.TicketSeq()
		d := people.Department(t.DepartmentID)
		if d == nil || !d.IsActive {
			return nil, deskline.Invalid("departmentId", "Department not found or inactive")
		}
		if t.AssignedTo != "" && !approvedMember(people.User(t.AssignedTo), t.DepartmentID) {
			return nil, errBadAssignee
		}
		t.ID = s.IDs.NewID(deskline.PrefixTicket)
		t.Key = deskline.TicketKey(d.Code, seq+1)
		t.Version = 1
		resp := withETag(httpapi.JSON(http.StatusCreated, viewTicket(people, t)), 1)
		if err := render(rec, resp); err != nil {
			return nil, err
		}
		err = s.Store.CreateTicket(ctx, t, seq, rec)
		if dynamo.IsSeqRace(err) {
			// Another ticket took the number. Retrying the read-then-write
			// starves under contention; take the next number from the
			// counter atomically instead.
			n, err := s.Store.ReserveTicketNumber(ctx, t.DepartmentID)
			if err != nil {
				return nil, err
			}
			t.Key = deskline.TicketKey(d.Code, n)
			resp = withETag(httpapi.JSON(http.StatusCreated, viewTicket(people, t)), 1)
			if err := render(rec, resp); err != nil {
				return nil, err
			}
			if err := s.Store.CreateReservedTicket(ctx, t, rec); err != nil {
				return nil, err
			}
			return resp, nil
		}
		if err != nil {
			return nil, err
		}
		return resp, nil
	})
}

// loadTicket finds the ticket named in the path, by id or key, and hides it
// from callers who may not read it.
func (s *Server) loadTicket(ctx context.Context, r *httpapi.Request) (*deskline.Ticket, error) {
	id, err := s.ticketID(ctx, r.Param("id"))
	if err != nil {
		return nil, err
	}
	t, err := s.Store.GetTicket(ctx, id)
	if err != nil {
		return nil, err
	}
	if !r.Principal.CanReadTicket(t) {
		return nil, errTicketNotFound
	}
	return t, nil
}

// ticketID resolves an id or a human key (IT-42) to a ticket id.
func (s *Server) ticketID(ctx context.Context, idOrKey string) (string, error) {
	switch {
	case deskline.IsTicketKey(idOrKey):
		return s.Store.TicketIDByKey(ctx, idOrKey)
	case deskline.ValidID(deskline.PrefixTicket, idOrKey):
		return idOrKey, nil
	}
	return "", errTicketNotFound
}

// GetTicket returns a ticket with its people, department and comments.
func (s *Server) GetTicket(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	id, err := s.ticketID(ctx, r.Param("id"))
	if err != nil {
		return nil, err
	}
	d, err := s.Store.GetTicketDetail(ctx, id)
	if err != nil {
		return nil, err
	}
	t := d.Ticket
	if !r.Principal.CanReadTicket(t) {
		return nil, errTicketNotFound
	}
	ids := []string{t.CreatedBy, t.AssignedTo}
	for _, c := range d.Comments {
		ids = append(ids, c.AuthorID)
	}
	for _, f := range d.Files {
		ids = append(ids, f.UploadedBy)
	}
	people, err := s.Store.GetPeople(ctx, ids, []string{t.DepartmentID})
	if err != nil {
		return nil, err
	}
	v := ticketDetail{ticketView: viewTicket(people, t)}
	v.Comments = viewComments(people, d.Comments)
	if v.Comments == nil {
		v.Comments = []commentView{}
	}
	v.Attachments = make([]fileView, len(d.Files))
	for i, f := range d.Files {
		v.Attachments[i] = fileView{File: f, Uploader: refUser(people, f.UploadedBy)}
	}
	return withETag(httpapi.JSON(http.StatusOK, v), t.Version), nil
}

// UpdateTicket changes a ticket. Employees edit content and status of the
// tickets they created or are assigned; heads (in their department) and
// admins also assign, reschedule and reopen; only admins move departments.
func (s *Server) UpdateTicket(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in ticketRequest
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	p := r.Principal
	prev, err := s.loadTicket(ctx, r)
	if err != nil {
		return nil, err
	}
	if !p.CanEditTicket(prev) {
		return nil, deskline.Errorf(deskline.EFORBIDDEN, "Not authorized to update this ticket")
	}
	if err := checkIfMatch(r, prev.Version); err != nil {
		return nil, err
	}
	if in.Version != nil && *in.Version != prev.Version {
		return nil, deskline.Errorf(deskline.ECONFLICT, "The ticket was changed by another request; reload and retry")
	}
	next := *prev
	next.Tags = append([]string(nil), prev.Tags...)
	if err := in.apply(&next); err != nil {
		return nil, err
	}
	if d := either(in.DepartmentID, in.DepartmentID2); d != nil && *d != prev.DepartmentID {
		if !p.IsAdmin() {
			return nil, &deskline.Error{Code: deskline.EFORBIDDEN, Field: "department_id", Message: "Only admins move tickets between departments"}
		}
		if !deskline.ValidID(deskline.PrefixDepartment, *d) {
			return nil, deskline.Invalid("department_id", "Department not found or inactive")
		}
		next.DepartmentID = *d
	}
	if a := either(in.AssignedTo, in.AssignedTo2); a != nil {
		next.AssignedTo = *a
	}
	triage := next.AssignedTo != prev.AssignedTo || !sameTime(next.DueDate, prev.DueDate)
	if triage && !p.CanTriage(prev.DepartmentID) {
		return nil, deskline.Errorf(deskline.EFORBIDDEN, "Only admins and the department's head assign and reschedule tickets")
	}
	now := s.Clock.Now()
	if in.Status != nil {
		if err := deskline.ValidateTicketStatus(*in.Status); err != nil {
			return nil, err
		}
		if err := deskline.CanTransitionTicket(prev.Status, *in.Status, p.Role); err != nil {
			return nil, err
		}
		next.SetStatus(*in.Status, now)
	}
	people, err := s.Store.GetPeople(ctx, []string{next.CreatedBy, next.AssignedTo}, []string{next.DepartmentID})
	if err != nil {
		return nil, err
	}
	if next.DepartmentID != prev.DepartmentID {
		if d := people.Department(next.DepartmentID); d == nil || !d.IsActive {
			return nil, deskline.Invalid("department_id", "Department not found or inactive")
		}
	}
	if next.AssignedTo != "" && (next.AssignedTo != prev.AssignedTo || next.DepartmentID != prev.DepartmentID) &&
		!approvedMember(people.User(next.AssignedTo), next.DepartmentID) {
		return nil, errBadAssignee
	}
	next.UpdatedBy, next.UpdatedAt = p.UserID, now
	if err := s.Store.UpdateTicket(ctx, prev, &next); err != nil {
		return nil, err
	}
	return withETag(httpapi.JSON(http.StatusOK, viewTicket(people, &next)), next.Version), nil
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// DeleteTicket deletes a ticket (admins). Its comments, history and
// attachments go with it.
func (s *Server) DeleteTicket(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t, err := s.loadTicket(ctx, r)
	if err != nil {
		return nil, err
	}
	if err := checkIfMatch(r, t.Version); err != nil {
		return nil, err
	}
	if err := s.Store.DeleteTicket(ctx, t); err != nil {
		return nil, err
	}
	return httpapi.Message(http.StatusOK, "Ticket deleted successfully"), nil
}

// ticketFilter reads a list's filters and applies the caller's scope.
func (s *Server) ticketFilter(r *httpapi.Request) (dynamo.TicketFilter, error) {
	q, p := r.Query, r.Principal
	var f dynamo.TicketFilter
	for _, v := range splitList(q.Get("status")) {
		if err := deskline.ValidateTicketStatus(deskline.TicketStatus(v)); err != nil {
			return f, err
		}
		f.Statuses = append(f.Statuses, deskline.TicketStatus(v))
	}
	for _, v := range splitList(q.Get("priority")) {
		if err := deskline.ValidatePriority(deskline.Priority(v)); err != nil {
			return f, err
		}
		f.Priorities = append(f.Priorities, deskline.Priority(v))
	}
	for _, v := range splitList(q.Get("category")) {
		if err := deskline.ValidateCategory(deskline.Category(v)); err != nil {
			return f, err
		}
		f.Categories = append(f.Categories, deskline.Category(v))
	}
	dept := firstOf(q.Get("department_id"), q.Get("departmentId"))
	switch {
	case p.IsAdmin():
		f.DepartmentID = dept
	case dept != "" && dept != p.DepartmentID:
		// A filter never widens a caller's scope.
		return f, deskline.Errorf(deskline.EFORBIDDEN, "Not authorized to view tickets of another department")
	default:
		f.DepartmentID = p.DepartmentID
	}
	if f.DepartmentID != "" && !deskline.ValidID(deskline.PrefixDepartment, f.DepartmentID) {
		return f, deskline.Invalid("department_id", "Invalid department id")
	}
	me := func(v string) string {
		if v == "me" {
			return p.UserID
		}
		return v
	}
	f.AssignedTo = me(firstOf(q.Get("assigned_to"), q.Get("assignedTo")))
	f.CreatedBy = me(firstOf(q.Get("created_by"), q.Get("createdBy")))
	for _, d := range []dateParam{{"created_from", &f.CreatedFrom, false}, {"created_to", &f.CreatedTo, true}, {"updated_from", &f.UpdatedFrom, false}, {"updated_to", &f.UpdatedTo, true}} {
		if err := d.read(q.Get(d.name)); err != nil {
			return f, err
		}
	}
	if f.CreatedFrom != nil && f.CreatedTo != nil && f.CreatedTo.Before(*f.CreatedFrom) {
		return f, deskline.Invalid("created_to", "created_to must not be before created_from")
	}
	words, err := deskline.SearchWords(q.Get("search"))
	if err != nil {
		return f, err
	}
	f.Words = words
	return f, nil
}

// dateParam is a date query parameter bounding a range.
type dateParam struct {
	name string
	dst  **time.Time
	end  bool // an end bound: a plain date includes that whole day
}

func (d dateParam) read(v string) error {
	if v == "" {
		return nil
	}
	t, err := deskline.ParseDate(d.name, v)
	if err != nil {
		return err
	}
	if d.end && len(v) == len("2006-01-02") {
		t = t.Add(24*time.Hour - time.Nanosecond)
	}
	*d.dst = &t
	return nil
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// ListTickets lists tickets newest first, filtered and scoped: employees and
// heads see their department's, admins any. It pages by number (page,
// limit; with total and totalPages) or by cursor (nextCursor).
func (s *Server) ListTickets(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	f, err := s.ticketFilter(r)
	if err != nil {
		return nil, err
	}
	limit, page := 10, 1
	if v := r.Query.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 100 {
			return nil, deskline.Invalid("limit", "limit must be an integer from 1 to 100")
		}
	}
	if v := r.Query.Get("page"); v != "" {
		if page, err = strconv.Atoi(v); err != nil || page < 1 {
			return nil, deskline.Invalid("page", "page must be a positive integer")
		}
	}
	cursor := r.Query.Get("cursor")
	tp, err := s.Store.ListTickets(ctx, f, page, limit, cursor)
	if err != nil {
		return nil, err
	}
	var ids, depts []string
	for _, t := range tp.Tickets {
		ids = append(ids, t.CreatedBy, t.AssignedTo)
		depts = append(depts, t.DepartmentID)
	}
	people, err := s.Store.GetPeople(ctx, ids, depts)
	if err != nil {
		return nil, err
	}
	views := make([]ticketView, len(tp.Tickets))
	for i, t := range tp.Tickets {
		views[i] = viewTicket(people, t)
	}
	body := map[string]any{"tickets": views, "nextCursor": nil}
	if tp.NextCursor != "" {
		body["nextCursor"] = tp.NextCursor
	}
	if tp.Total >= 0 {
		body["total"], body["currentPage"], body["limit"] = tp.Total, page, limit
		body["totalPages"] = (tp.Total + limit - 1) / limit
	}
	return httpapi.JSON(http.StatusOK, body), nil
}

// TicketStats counts the tickets created in a date range (default: the last
// 30 days) by their current status and priority (admins; heads for their
// department), from the analytics aggregates: see analytics.go.
func (s *Server) TicketStats(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	return s.ticketStatsFromAggregates(ctx, r)
}

// TicketHistory lists a ticket's recorded changes and comments, oldest first.
func (s *Server) TicketHistory(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t, err := s.loadTicket(ctx, r)
	if err != nil {
		return nil, err
	}
	return s.history(ctx, r, dynamo.TypeTicket, t.ID)
}

func (s *Server) history(ctx context.Context, r *httpapi.Request, typ, id string) (*httpapi.Response, error) {
	pg, err := r.Paging(100, 500)
	if err != nil {
		return nil, err
	}
	page, err := s.Store.ListHistory(ctx, typ, id, pg.Limit, pg.Cursor)
	if err != nil {
		return nil, err
	}
	return httpapi.List(page.Items, page.NextCursor), nil
}
