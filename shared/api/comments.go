package api

import (
	"context"
	"net/http"

	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/dynamo"
	"github.com/deskline/deskline/shared/httpapi"
)

var errCommentNotFound = deskline.Errorf(deskline.ENOTFOUND, "Comment not found")

// canRead reports whether the caller may read a comment's parent: whoever
// may read the parent may read and write its comments.
func canRead(p *deskline.Principal, parent dynamo.Parent) bool {
	switch {
	case parent.Ticket != nil:
		return p.CanReadTicket(parent.Ticket)
	case parent.Task != nil:
		return p.CanReadTask(parent.Task)
	}
	return false
}

type commentRequest struct {
	Content  *string `json:"content"`
	TaskID   *string `json:"taskId"`
	TicketID *string `json:"ticketId"`
	Version  *int64  `json:"version"`
}

// createComment adds a comment to a parent the caller may read: one read of
// the parent, one transaction.
func (s *Server) createComment(ctx context.Context, r *httpapi.Request, in commentRequest, ticketID, taskID string) (*httpapi.Response, error) {
	if in.Content == nil {
		return nil, deskline.Invalid("content", "Comment content is required")
	}
	content, err := deskline.NormalizeComment(*in.Content)
	if err != nil {
		return nil, err
	}
	p := r.Principal
	return s.idempotent(ctx, r, func(rec *dynamo.Idem) (*httpapi.Response, error) {
		refs, err := s.Store.GetRefs(ctx, dynamo.RefIDs{Tickets: []string{ticketID}, Tasks: []string{taskID}})
		if err != nil {
			return nil, err
		}
		parent := dynamo.Parent{Ticket: refs.Ticket(ticketID), Task: refs.Task(taskID)}
		if !canRead(p, parent) {
			if ticketID != "" {
				return nil, errTicketNotFound
			}
			return nil, errTaskNotFound
		}
		now := s.Clock.Now()
		c := &deskline.Comment{ID: s.IDs.NewID(deskline.PrefixComment), Content: content, TicketID: ticketID, TaskID: taskID, AuthorID: p.UserID, CreatedAt: now, UpdatedAt: now, Version: 1}
		resp := withETag(httpapi.JSON(http.StatusCreated, commentView{Comment: c, Author: refPrincipal(p)}), 1)
		if err := render(rec, resp); err != nil {
			return nil, err
		}
		if err := s.Store.CreateComment(ctx, c, rec); err != nil {
			return nil, err
		}
		return resp, nil
	})
}

// CreateComment adds a comment to a task (the contract's route; ticketId is
// accepted too).
func (s *Server) CreateComment(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in commentRequest
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	switch {
	case in.TaskID != nil && in.TicketID == nil:
		if !deskline.ValidID(deskline.PrefixTask, *in.TaskID) {
			return nil, errTaskNotFound
		}
		return s.createComment(ctx, r, in, "", *in.TaskID)
	case in.TicketID != nil && in.TaskID == nil:
		id, err := s.ticketID(ctx, *in.TicketID)
		if err != nil {
			return nil, err
		}
		return s.createComment(ctx, r, in, id, "")
	}
	return nil, deskline.Invalid("taskId", "Exactly one of taskId and ticketId is required")
}

// CreateTicketComment adds a comment to a ticket.
func (s *Server) CreateTicketComment(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in commentRequest
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	if in.TaskID != nil || in.TicketID != nil {
		return nil, deskline.Invalid("ticketId", "The ticket is named by the path")
	}
	id, err := s.ticketID(ctx, r.Param("id"))
	if err != nil {
		return nil, err
	}
	return s.createComment(ctx, r, in, id, "")
}

// listComments lists a readable parent's comments with their authors.
func (s *Server) listComments(ctx context.Context, r *httpapi.Request, parent dynamo.Parent) (*httpapi.Response, error) {
	pg, err := r.Paging(defaultPageSize, maxPageSize)
	if err != nil {
		return nil, err
	}
	order := r.Query.Get("order")
	if order != "" && order != "asc" && order != "desc" {
		return nil, deskline.Invalid("order", "order must be asc (oldest first) or desc (newest first)")
	}
	page, err := s.Store.ListComments(ctx, parent, order == "asc", pg.Limit, pg.Cursor)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, c := range page.Items {
		ids = append(ids, c.AuthorID)
	}
	people, err := s.Store.GetPeople(ctx, ids, nil)
	if err != nil {
		return nil, err
	}
	return httpapi.List(viewComments(people, page.Items), page.NextCursor), nil
}

// ListTaskComments lists a task's comments (newest first; order=asc for oldest first).
func (s *Server) ListTaskComments(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t, err := s.loadTask(ctx, r, "taskId")
	if err != nil {
		return nil, err
	}
	return s.listComments(ctx, r, dynamo.Parent{Task: t})
}

// ListTicketComments lists a ticket's comments (newest first; order=asc for oldest first).
func (s *Server) ListTicketComments(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t, err := s.loadTicket(ctx, r)
	if err != nil {
		return nil, err
	}
	return s.listComments(ctx, r, dynamo.Parent{Ticket: t})
}

// loadComment finds the comment named by path parameter param ("id" on
// /api/comments, "commentId" on /api/files), hidden from callers who may
// not read its parent.
func (s *Server) loadComment(ctx context.Context, r *httpapi.Request, param string) (*deskline.Comment, dynamo.Parent, error) {
	id := r.Param(param)
	if !deskline.ValidID(deskline.PrefixComment, id) {
		return nil, dynamo.Parent{}, errCommentNotFound
	}
	c, parent, err := s.Store.GetCommentWithParent(ctx, id)
	if err != nil {
		return nil, parent, err
	}
	if !canRead(r.Principal, parent) {
		return nil, parent, errCommentNotFound
	}
	return c, parent, nil
}

// UpdateComment edits a comment (its author only).
func (s *Server) UpdateComment(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in commentRequest
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	if in.Content == nil {
		return nil, deskline.Invalid("content", "Comment content is required")
	}
	content, err := deskline.NormalizeComment(*in.Content)
	if err != nil {
		return nil, err
	}
	prev, _, err := s.loadComment(ctx, r, "id")
	if err != nil {
		return nil, err
	}
	if (in.TaskID != nil && *in.TaskID != prev.TaskID) || (in.TicketID != nil && *in.TicketID != prev.TicketID) {
		return nil, deskline.Invalid("taskId", "A comment cannot move to another task or ticket")
	}
	if prev.AuthorID != r.Principal.UserID {
		return nil, deskline.Errorf(deskline.EFORBIDDEN, "Not authorized to update this comment")
	}
	if err := checkIfMatch(r, prev.Version); err != nil {
		return nil, err
	}
	if in.Version != nil && *in.Version != prev.Version {
		return nil, deskline.Errorf(deskline.ECONFLICT, "The comment was changed by another request; reload and retry")
	}
	next := *prev
	next.Content, next.UpdatedAt = content, s.Clock.Now()
	if err := s.Store.UpdateComment(ctx, prev, &next); err != nil {
		return nil, err
	}
	return withETag(httpapi.JSON(http.StatusOK, commentView{Comment: &next, Author: refPrincipal(r.Principal)}), next.Version), nil
}

// DeleteComment deletes a comment (its author or an admin).
func (s *Server) DeleteComment(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	c, _, err := s.loadComment(ctx, r, "id")
	if err != nil {
		return nil, err
	}
	if c.AuthorID != r.Principal.UserID && !r.Principal.IsAdmin() {
		return nil, deskline.Errorf(deskline.EFORBIDDEN, "Not authorized to delete this comment")
	}
	if err := checkIfMatch(r, c.Version); err != nil {
		return nil, err
	}
	if err := s.Store.DeleteComment(ctx, c, r.Principal.UserID); err != nil {
		return nil, err
	}
	return httpapi.Message(http.StatusOK, "Comment deleted successfully"), nil
}
