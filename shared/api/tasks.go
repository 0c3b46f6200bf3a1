package api

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/dynamo"
	"github.com/deskline/deskline/shared/httpapi"
)

var errTaskNotFound = deskline.Errorf(deskline.ENOTFOUND, "Task not found")

// taskView is a task as responses show it (the contract's shape).
type taskView struct {
	*deskline.Task
	Overdue      bool       `json:"overdue"`
	AssignedUser *personRef `json:"assignedUser"`
	Creator      *personRef `json:"creator"`
	Department   *deptRef   `json:"Department"`
}

func (s *Server) viewTask(p *dynamo.People, t *deskline.Task) taskView {
	if t.DependsOn == nil {
		t.DependsOn = []string{}
	}
	return taskView{Task: t, Overdue: t.Overdue(s.Clock.Now()), AssignedUser: refUser(p, t.AssignedToID), Creator: refUser(p, t.CreatedBy), Department: refDept(p, t.DepartmentID)}
}

type taskRequest struct {
	Title        *string              `json:"title"`
	Description  *string              `json:"description"`
	Status       *deskline.TaskStatus `json:"status"`
	Priority     *deskline.Priority   `json:"priority"`
	DueDate      *string              `json:"dueDate"`
	AssignedToID *string              `json:"assignedToId"`
	DepartmentID *string              `json:"departmentId"`
	TicketID     *string              `json:"ticketId"`
	Progress     *int                 `json:"progress"`
	Version      *int64               `json:"version"`
}

// apply validates and copies the planning fields (everything but status,
// progress and department) onto t.
func (in *taskRequest) apply(t *deskline.Task) error {
	shared := workFields{in.Title, in.Description, in.Priority, in.DueDate, "dueDate"}
	if err := shared.apply(&t.Title, &t.Description, &t.Priority, &t.DueDate); err != nil {
		return err
	}
	if in.AssignedToID != nil {
		t.AssignedToID = *in.AssignedToID
	}
	if in.TicketID != nil {
		if *in.TicketID != "" && !deskline.ValidID(deskline.PrefixTicket, *in.TicketID) {
			return deskline.Invalid("ticketId", "Ticket not found")
		}
		t.TicketID = *in.TicketID
	}
	if in.Progress != nil {
		if err := deskline.ValidateProgress(*in.Progress); err != nil {
			return err
		}
		t.Progress = *in.Progress
	}
	return nil
}

var errTaskAssignee = &deskline.Error{Code: deskline.EINVALID, Field: "assignedToId", Message: "The assignee must be an approved member of the task's department"}

// checkRefs checks a task's assignee and linked ticket against what was read.
func checkRefs(refs *dynamo.People, t *deskline.Task, prev *deskline.Task) error {
	if t.AssignedToID != "" && (prev == nil || prev.AssignedToID != t.AssignedToID) && !approvedMember(refs.User(t.AssignedToID), t.DepartmentID) {
		return errTaskAssignee
	}
	if t.TicketID != "" && (prev == nil || prev.TicketID != t.TicketID) {
		if tk := refs.Ticket(t.TicketID); tk == nil || tk.DepartmentID != t.DepartmentID {
			return &deskline.Error{Code: deskline.EINVALID, Field: "ticketId", Message: "The ticket must exist in the task's department"}
		}
	}
	return nil
}

// CreateTask creates a task (admins anywhere, heads in their department).
func (s *Server) CreateTask(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in taskRequest
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
	if in.Status != nil || in.Progress != nil {
		return nil, deskline.Invalid("status", "New tasks are pending with no progress")
	}
	now := s.Clock.Now()
	t := &deskline.Task{Status: deskline.TaskPending, Priority: deskline.PriorityMedium, CreatedBy: p.UserID, UpdatedBy: p.UserID,
		IsActive: true, CreatedAt: now, UpdatedAt: now, DependsOn: []string{}}
	if err := in.apply(t); err != nil {
		return nil, err
	}
	switch {
	case in.DepartmentID != nil && *in.DepartmentID != "":
		t.DepartmentID = *in.DepartmentID
	case !p.IsAdmin():
		t.DepartmentID = p.DepartmentID
	default:
		return nil, deskline.Invalid("departmentId", "Department is required")
	}
	if !p.CanTriage(t.DepartmentID) {
		return nil, deskline.Errorf(deskline.EFORBIDDEN, "Not authorized to create tasks in this department")
	}
	if !deskline.ValidID(deskline.PrefixDepartment, t.DepartmentID) {
		return nil, deskline.Invalid("departmentId", "Department not found or inactive")
	}
	return s.idempotent(ctx, r, func(rec *dynamo.Idem) (*httpapi.Response, error) {
		refs, err := s.Store.GetRefs(ctx, dynamo.RefIDs{Users: []string{p.UserID, t.AssignedToID}, Departments: []string{t.DepartmentID}, Tickets: []string{t.TicketID}})
		if err != nil {
			return nil, err
		}
		if d := refs.Department(t.DepartmentID); d == nil || !d.IsActive {
			return nil, deskline.Invalid("departmentId", "Department not found or inactive")
		}
		if err := checkRefs(refs, t, nil); err != nil {
			return nil, err
		}
		t.ID, t.Version = s.IDs.NewID(deskline.PrefixTask), 1
		resp := withETag(httpapi.JSON(http.StatusCreated, s.viewTask(refs, t)), 1)
		if err := render(rec, resp); err != nil {
			return nil, err
		}
		if err := s.Store.CreateTask(ctx, t, rec); err != nil {
			return nil, err
		}
		return resp, nil
	})
}

// loadTask finds the task named by path parameter param, hidden from callers
// who may not read it.
func (s *Server) loadTask(ctx context.Context, r *httpapi.Request, param string) (*deskline.Task, error) {
	id := r.Param(param)
	if !deskline.ValidID(deskline.PrefixTask, id) {
		return nil, errTaskNotFound
	}
	t, err := s.Store.GetTask(ctx, id)
	if err != nil {
		return nil, err
	}
	if !r.Principal.CanReadTask(t) {
		return nil, errTaskNotFound
	}
	return t, nil
}

// GetTask returns a task with its assignee, creator and department.
func (s *Server) GetTask(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t, err := s.loadTask(ctx, r, "id")
	if err != nil {
		return nil, err
	}
	refs, err := s.Store.GetPeople(ctx, []string{t.AssignedToID, t.CreatedBy}, []string{t.DepartmentID})
	if err != nil {
		return nil, err
	}
	return withETag(httpapi.JSON(http.StatusOK, s.viewTask(refs, t)), t.Version), nil
}

// ListTasks lists tasks newest first: admins any, heads their department's,
// employees those they created or are assigned. Bare array; the next page's
// cursor is in X-Next-Cursor.
func (s *Server) ListTasks(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	pg, err := r.Paging(defaultPageSize, maxPageSize)
	if err != nil {
		return nil, err
	}
	q, p := r.Query, r.Principal
	f := dynamo.TaskFilter{Limit: pg.Limit, Cursor: pg.Cursor}
	for _, v := range splitList(q.Get("status")) {
		if err := deskline.ValidateTaskStatus(deskline.TaskStatus(v)); err != nil {
			return nil, err
		}
		f.Statuses = append(f.Statuses, deskline.TaskStatus(v))
	}
	for _, v := range splitList(q.Get("priority")) {
		if err := deskline.ValidatePriority(deskline.Priority(v)); err != nil {
			return nil, err
		}
		f.Priorities = append(f.Priorities, deskline.Priority(v))
	}
	dept := q.Get("departmentId")
	switch {
	case p.IsAdmin():
		f.DepartmentID = dept
	case dept != "" && dept != p.DepartmentID:
		return nil, deskline.Errorf(deskline.EFORBIDDEN, "Not authorized to view tasks of another department")
	default:
		f.DepartmentID = p.DepartmentID
	}
	if p.Role == deskline.RoleEmployee {
		f.InvolvingID = p.UserID
	}
	me := func(v string) string {
		if v == "me" {
			return p.UserID
		}
		return v
	}
	f.AssignedToID, f.CreatedBy, f.TicketID = me(q.Get("assignedToId")), me(q.Get("createdBy")), q.Get("ticketId")
	switch q.Get("overdue") {
	case "":
	case "true":
		now := s.Clock.Now()
		f.OverdueAt = &now
	default:
		return nil, deskline.Invalid("overdue", "overdue must be true when given")
	}
	page, err := s.Store.ListTasks(ctx, f)
	if err != nil {
		return nil, err
	}
	var users, depts []string
	for _, t := range page.Items {
		users = append(users, t.AssignedToID, t.CreatedBy)
		depts = append(depts, t.DepartmentID)
	}
	refs, err := s.Store.GetPeople(ctx, users, depts)
	if err != nil {
		return nil, err
	}
	views := make([]taskView, len(page.Items))
	for i, t := range page.Items {
		views[i] = s.viewTask(refs, t)
	}
	return httpapi.List(views, page.NextCursor), nil
}

// blockers lists the unfinished tasks among deps.
func blockers(refs *dynamo.People, deps []string) []string {
	var out []string
	for _, d := range deps {
		if t := refs.Task(d); t != nil && !t.Status.Finished() {
			out = append(out, d)
		}
	}
	return out
}

// UpdateTask changes a task. Employees (creator or assignee) change status
// and progress only; heads in their department and admins change everything
// but the department. A task cannot start or complete while a task it
// depends on is unfinished.
func (s *Server) UpdateTask(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in taskRequest
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	p := r.Principal
	prev, err := s.loadTask(ctx, r, "id")
	if err != nil {
		return nil, err
	}
	if !p.CanTriage(prev.DepartmentID) {
		if prev.CreatedBy != p.UserID && prev.AssignedToID != p.UserID {
			return nil, deskline.Errorf(deskline.EFORBIDDEN, "Not authorized to update this task")
		}
		if in.Title != nil || in.Description != nil || in.Priority != nil || in.DueDate != nil || in.AssignedToID != nil || in.TicketID != nil || in.DepartmentID != nil {
			return nil, deskline.Errorf(deskline.EFORBIDDEN, "Employees may change only the status and progress of a task")
		}
	}
	if in.DepartmentID != nil && *in.DepartmentID != prev.DepartmentID {
		return nil, deskline.Invalid("departmentId", "Tasks cannot move between departments")
	}
	if err := checkIfMatch(r, prev.Version); err != nil {
		return nil, err
	}
	if in.Version != nil && *in.Version != prev.Version {
		return nil, deskline.Errorf(deskline.ECONFLICT, "The task was changed by another request; reload and retry")
	}
	next := *prev
	next.DependsOn = slices.Clone(prev.DependsOn)
	if err := in.apply(&next); err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	if in.Status != nil {
		if err := deskline.ValidateTaskStatus(*in.Status); err != nil {
			return nil, err
		}
		if err := deskline.CanTransitionTask(prev.Status, *in.Status); err != nil {
			return nil, err
		}
		next.SetStatus(*in.Status, now)
		if in.Progress != nil && *in.Status != deskline.TaskCompleted {
			next.Progress = *in.Progress
		}
	}
	if next.Status == deskline.TaskCompleted && next.Progress != 100 {
		return nil, deskline.Invalid("progress", "A completed task has progress 100")
	}
	starting := next.Status != prev.Status && (next.Status == deskline.TaskInProgress || next.Status == deskline.TaskCompleted)
	ids := dynamo.RefIDs{Users: []string{next.AssignedToID, next.CreatedBy}, Departments: []string{next.DepartmentID}, Tickets: []string{next.TicketID}}
	if starting {
		ids.Tasks = next.DependsOn
	}
	refs, err := s.Store.GetRefs(ctx, ids)
	if err != nil {
		return nil, err
	}
	if err := checkRefs(refs, &next, prev); err != nil {
		return nil, err
	}
	if starting {
		if b := blockers(refs, next.DependsOn); len(b) > 0 {
			return nil, deskline.Errorf(deskline.ECONFLICT, "Blocked by unfinished tasks: %s", strings.Join(b, ", "))
		}
	}
	next.UpdatedBy, next.UpdatedAt = p.UserID, now
	if err := s.Store.UpdateTask(ctx, prev, &next, nil); err != nil {
		return nil, err
	}
	return withETag(httpapi.JSON(http.StatusOK, s.viewTask(refs, &next)), next.Version), nil
}

// DeleteTask deletes a task (admins); its comments, history, dependency
// links and attachments go with it.
func (s *Server) DeleteTask(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t, err := s.loadTask(ctx, r, "id")
	if err != nil {
		return nil, err
	}
	if err := checkIfMatch(r, t.Version); err != nil {
		return nil, err
	}
	if err := s.Store.DeleteTask(ctx, t); err != nil {
		return nil, err
	}
	return httpapi.Message(http.StatusOK, "Task deleted successfully"), nil
}

// TaskHistory lists a task's recorded changes and comments, oldest first.
func (s *Server) TaskHistory(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t, err := s.loadTask(ctx, r, "id")
	if err != nil {
		return nil, err
	}
	return s.history(ctx, r, dynamo.TypeTask, t.ID)
}

type dependencyRequest struct {
	DependsOn string `json:"dependsOn"`
}

// AddDependency makes a task depend on another of its department (admins,
// the department's head). A dependency that would close a cycle is 409,
// naming the cycle.
func (s *Server) AddDependency(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in dependencyRequest
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	if !deskline.ValidID(deskline.PrefixTask, in.DependsOn) {
		return nil, deskline.Invalid("dependsOn", "dependsOn must be a task id")
	}
	return s.changeDependency(ctx, r, in.DependsOn, true)
}

// RemoveDependency removes a dependency (admins, the department's head).
func (s *Server) RemoveDependency(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	dep := r.Param("dependsOnId")
	if !deskline.ValidID(deskline.PrefixTask, dep) {
		return nil, deskline.Invalid("dependsOnId", "Not a task id")
	}
	return s.changeDependency(ctx, r, dep, false)
}

// changeDependency adds or removes the edge task → dep in one BatchGetItem
// (both tasks and the graph) and one transaction (the task and the graph).
func (s *Server) changeDependency(ctx context.Context, r *httpapi.Request, dep string, add bool) (*httpapi.Response, error) {
	p, id := r.Principal, r.Param("id")
	if !deskline.ValidID(deskline.PrefixTask, id) {
		return nil, errTaskNotFound
	}
	// The graph lives in the task's department, which only the read tells;
	// the caller's department is right for heads, and admins retry once.
	dept := p.DepartmentID
	for attempt := 0; attempt < 2; attempt++ {
		refs, err := s.Store.GetRefs(ctx, dynamo.RefIDs{Tasks: []string{id, dep}, GraphDepartment: dept})
		if err != nil {
			return nil, err
		}
		prev := refs.Task(id)
		if prev == nil || !p.CanReadTask(prev) {
			return nil, errTaskNotFound
		}
		if !p.CanTriage(prev.DepartmentID) {
			return nil, deskline.Errorf(deskline.EFORBIDDEN, "Only admins and the department's head change dependencies")
		}
		if prev.DepartmentID != dept {
			dept = prev.DepartmentID
			continue
		}
		if err := checkIfMatch(r, prev.Version); err != nil {
			return nil, err
		}
		g := refs.Graph()
		next := *prev
		if add {
			d := refs.Task(dep)
			if d == nil || d.DepartmentID != prev.DepartmentID {
				return nil, &deskline.Error{Code: deskline.EINVALID, Field: "dependsOn", Message: "The task depended on must exist in the same department"}
			}
			if slices.Contains(prev.DependsOn, dep) {
				return httpapi.JSON(http.StatusOK, s.viewTask(refs, prev)), nil
			}
			if cycle := deskline.Cycle(g.Edges, id, dep); cycle != nil {
				return nil, deskline.Errorf(deskline.ECONFLICT, "Dependency cycle: %s", strings.Join(cycle, " → "))
			}
			next.DependsOn = append(slices.Clone(prev.DependsOn), dep)
		} else {
			if !slices.Contains(prev.DependsOn, dep) {
				return nil, deskline.Errorf(deskline.ENOTFOUND, "Task %s does not depend on %s", id, dep)
			}
			next.DependsOn = slices.DeleteFunc(slices.Clone(prev.DependsOn), func(x string) bool { return x == dep })
		}
		g.Edges[id] = next.DependsOn
		if len(next.DependsOn) == 0 {
			delete(g.Edges, id)
		}
		next.UpdatedBy, next.UpdatedAt = p.UserID, s.Clock.Now()
		if err := s.Store.UpdateTask(ctx, prev, &next, g); err != nil {
			return nil, err
		}
		return withETag(httpapi.JSON(http.StatusOK, s.viewTask(refs, &next)), next.Version), nil
	}
	return nil, errTaskNotFound
}
