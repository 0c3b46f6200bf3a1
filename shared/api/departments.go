package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/dynamo"
	"github.com/deskline/deskline/shared/httpapi"
)

var errDepartmentNotFound = deskline.Errorf(deskline.ENOTFOUND, "Department not found")

type departmentRequest struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
	Code        *string `json:"code"`
	IsActive    *bool   `json:"isActive"`
	Version     *int64  `json:"version"`
}

// apply validates and copies the request's fields onto d.
func (in *departmentRequest) apply(d *deskline.Department) error {
	if in.Name != nil {
		if err := deskline.ValidateDepartmentName(*in.Name); err != nil {
			return err
		}
		d.Name = strings.TrimSpace(*in.Name)
	}
	if in.Description != nil {
		if err := deskline.ValidateDepartmentDescription(*in.Description); err != nil {
			return err
		}
		d.Description = *in.Description
	}
	if in.Code != nil {
		if err := deskline.ValidateDepartmentCode(*in.Code); err != nil {
			return err
		}
		d.Code = *in.Code
	}
	if in.IsActive != nil {
		d.IsActive = *in.IsActive
	}
	return nil
}

// CreateDepartment creates a department (admins). Its code defaults to one
// derived from the name.
func (s *Server) CreateDepartment(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in departmentRequest
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, deskline.Invalid("name", "Department name is required")
	}
	d := &deskline.Department{IsActive: true}
	if err := in.apply(d); err != nil {
		return nil, err
	}
	if d.Code == "" {
		d.Code = deskline.DeriveDepartmentCode(d.Name)
	}
	now := s.Clock.Now()
	d.ID, d.CreatedAt, d.UpdatedAt = s.IDs.NewID(deskline.PrefixDepartment), now, now
	if err := s.Store.CreateDepartment(ctx, d); err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusCreated, d), nil
}

// members lists a department's members for callers who may see them.
func (s *Server) members(ctx context.Context, p *deskline.Principal, d *deskline.Department) (*[]memberView, error) {
	if !p.CanSeeDepartmentMembers(d.ID) {
		return nil, nil
	}
	out := []memberView{}
	f := dynamo.UserFilter{DepartmentID: d.ID, Limit: 1000}
	for {
		page, err := s.Store.ListUsers(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, u := range page.Items {
			out = append(out, memberView{ID: u.ID, Username: u.Username, Email: u.Email, Role: u.Role})
		}
		if page.NextCursor == "" {
			return &out, nil
		}
		f.Cursor = page.NextCursor
	}
}

// ListDepartments lists departments by name. Members are included only for
// the departments the caller may see the members of.
func (s *Server) ListDepartments(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	pg, err := r.Paging(defaultPageSize, maxPageSize)
	if err != nil {
		return nil, err
	}
	page, err := s.Store.ListDepartments(ctx, pg.Limit, pg.Cursor)
	if err != nil {
		return nil, err
	}
	views := make([]departmentView, len(page.Items))
	for i, d := range page.Items {
		views[i].Department = d
		if views[i].Users, err = s.members(ctx, r.Principal, d); err != nil {
			return nil, err
		}
	}
	return httpapi.List(views, page.NextCursor), nil
}

// getDepartment loads the department named in the path.
func (s *Server) getDepartment(ctx context.Context, r *httpapi.Request) (*deskline.Department, error) {
	id := r.Param("id")
	if !deskline.ValidID(deskline.PrefixDepartment, id) {
		return nil, errDepartmentNotFound
	}
	return s.Store.GetDepartment(ctx, id)
}

// GetDepartment returns a department, with members for those who may see them.
func (s *Server) GetDepartment(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	d, err := s.getDepartment(ctx, r)
	if err != nil {
		return nil, err
	}
	v := departmentView{Department: d}
	if v.Users, err = s.members(ctx, r.Principal, d); err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, v), nil
}

// UpdateDepartment changes a department (admins).
func (s *Server) UpdateDepartment(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in departmentRequest
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	prev, err := s.getDepartment(ctx, r)
	if err != nil {
		return nil, err
	}
	if in.Version != nil && *in.Version != prev.Version {
		return nil, deskline.Errorf(deskline.ECONFLICT, "The department was changed by another request; reload and retry")
	}
	next := *prev
	if err := in.apply(&next); err != nil {
		return nil, err
	}
	next.UpdatedAt = s.Clock.Now()
	if err := s.Store.UpdateDepartment(ctx, prev, &next); err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, &next), nil
}

// DeleteDepartment removes a department that has no members (admins).
func (s *Server) DeleteDepartment(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	d, err := s.getDepartment(ctx, r)
	if err != nil {
		return nil, err
	}
	if err := s.Store.DeleteDepartment(ctx, d); err != nil {
		return nil, err
	}
	return httpapi.Message(http.StatusOK, "Department deleted successfully"), nil
}
