package api

import (
	"context"
	"net/http"

	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/dynamo"
	"github.com/deskline/deskline/shared/httpapi"
)

// List sizes.
const (
	defaultPageSize = 50
	maxPageSize     = 200
)

// ListUsers lists users (admins), filtered by status, role and department.
func (s *Server) ListUsers(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	pg, err := r.Paging(defaultPageSize, maxPageSize)
	if err != nil {
		return nil, err
	}
	f := dynamo.UserFilter{Limit: pg.Limit, Cursor: pg.Cursor}
	if v := r.Query.Get("status"); v != "" {
		if f.Status = deskline.UserStatus(v); !f.Status.Valid() {
			return nil, deskline.Invalid("status", "Invalid status")
		}
	}
	if v := r.Query.Get("role"); v != "" {
		if f.Role = deskline.Role(v); !f.Role.Valid() {
			return nil, deskline.Invalid("role", "Invalid role")
		}
	}
	if v := r.Query.Get("departmentId"); v != "" {
		if !deskline.ValidID(deskline.PrefixDepartment, v) {
			return nil, deskline.Invalid("departmentId", "Invalid department id")
		}
		f.DepartmentID = v
	}
	page, err := s.Store.ListUsers(ctx, f)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(page.Items))
	for i, u := range page.Items {
		ids[i] = u.DepartmentID
	}
	depts, err := s.Store.GetDepartments(ctx, ids)
	if err != nil {
		return nil, err
	}
	views := make([]userView, len(page.Items))
	for i, u := range page.Items {
		views[i] = viewUser(u, depts[u.DepartmentID])
	}
	return httpapi.List(views, page.NextCursor), nil
}

// errUserNotFound hides whether a user the caller may not see exists.
var errUserNotFound = deskline.Errorf(deskline.ENOTFOUND, "User not found")

// GetUser returns one user to admins, the user themself and colleagues of
// the same department.
func (s *Server) GetUser(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	id := r.Param("id")
	if !deskline.ValidID(deskline.PrefixUser, id) {
		return nil, errUserNotFound
	}
	u, err := s.Store.GetUser(ctx, id)
	if err != nil {
		return nil, err
	}
	if !r.Principal.CanViewUser(u) {
		return nil, errUserNotFound
	}
	return httpapi.JSON(http.StatusOK, viewUser(u, nil)), nil
}

type createUserRequest struct {
	Username     string              `json:"username"`
	Email        string              `json:"email"`
	Password     string              `json:"password"`
	Role         deskline.Role       `json:"role"`
	DepartmentID string              `json:"departmentId"`
	Status       deskline.UserStatus `json:"status"`
}

// CreateUser creates an account as an admin: approved unless told otherwise.
func (s *Server) CreateUser(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in createUserRequest
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	if in.Status == "" {
		in.Status = deskline.StatusApproved
	} else if !in.Status.Valid() {
		return nil, deskline.Invalid("status", "Invalid status")
	}
	u, err := s.newUser(in.Username, in.Email, in.Password, in.Role, in.DepartmentID)
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	u.ID, u.Status, u.CreatedAt, u.UpdatedAt = s.IDs.NewID(deskline.PrefixUser), in.Status, now, now
	if err := s.Store.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusCreated, viewUser(u, nil)), nil
}

// updateUserRequest is a partial update: absent fields stay as they are.
type updateUserRequest struct {
	Username        *string              `json:"username"`
	Email           *string              `json:"email"`
	Password        *string              `json:"password"`
	CurrentPassword *string              `json:"currentPassword"`
	Role            *deskline.Role       `json:"role"`
	DepartmentID    *string              `json:"departmentId"`
	Status          *deskline.UserStatus `json:"status"`
	// EmailNotifications turns e-mail copies of notifications on or off.
	EmailNotifications *bool `json:"emailNotifications"`
	// Version, when given, must match the stored version (else 409).
	Version *int64 `json:"version"`
}

// UpdateUser changes an account. Users change their own name, e-mail,
// password (the last two need the current password) and e-mail
// notification preference; only admins change
// role, department and status, and never their own role or status.
func (s *Server) UpdateUser(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	id, p := r.Param("id"), r.Principal
	self := id == p.UserID
	// Permission before lookup: a 404 must not tell non-admins which ids exist.
	if !self && !p.IsAdmin() {
		return nil, deskline.Errorf(deskline.EFORBIDDEN, "Not authorized to update this user")
	}
	var in updateUserRequest
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	if !p.IsAdmin() && (in.Role != nil || in.DepartmentID != nil || in.Status != nil) {
		return nil, deskline.Errorf(deskline.EFORBIDDEN, "You cannot change your own role, department or status")
	}
	if !deskline.ValidID(deskline.PrefixUser, id) {
		return nil, errUserNotFound
	}
	prev, err := s.Store.GetUser(ctx, id)
	if err != nil {
		return nil, err
	}
	if in.Version != nil && *in.Version != prev.Version {
		return nil, deskline.Errorf(deskline.ECONFLICT, "The user was changed by another request; reload and retry")
	}
	next := *prev
	if in.Username != nil {
		if err := deskline.ValidateUsername(*in.Username); err != nil {
			return nil, err
		}
		next.Username = *in.Username
	}
	if in.Email != nil {
		if next.Email, err = deskline.NormalizeEmail(*in.Email); err != nil {
			return nil, err
		}
	}
	credentialsChange := next.Email != prev.Email || in.Password != nil
	if self && credentialsChange {
		if in.CurrentPassword == nil || !s.Passwords.Check(prev.PasswordHash, *in.CurrentPassword) {
			return nil, &deskline.Error{Code: deskline.EFORBIDDEN, Field: "currentPassword", Message: "Current password is required to change email or password"}
		}
	}
	if in.Password != nil {
		if err := deskline.ValidatePassword("password", *in.Password); err != nil {
			return nil, err
		}
		if next.PasswordHash, err = s.Passwords.Hash(*in.Password); err != nil {
			return nil, err
		}
	}
	if in.EmailNotifications != nil {
		next.EmailNotifications = *in.EmailNotifications
	}
	if in.Role != nil {
		next.Role = *in.Role
	}
	if in.DepartmentID != nil {
		next.DepartmentID = *in.DepartmentID
	}
	if in.Status != nil {
		if next.Status = *in.Status; !next.Status.Valid() {
			return nil, deskline.Invalid("status", "Invalid status")
		}
	}
	if err := deskline.ValidateMembership(next.Role, next.DepartmentID); err != nil {
		return nil, err
	}
	if self && (next.Role != prev.Role || next.Status != prev.Status) {
		return nil, deskline.Errorf(deskline.EFORBIDDEN, "You cannot change your own role or status")
	}
	next.UpdatedAt = s.Clock.Now()
	if err := s.Store.UpdateUser(ctx, prev, &next); err != nil {
		return nil, err
	}
	// New credentials or a rejection end the account's other sessions.
	if credentialsChange || next.Status == deskline.StatusRejected {
		keep := ""
		if self {
			keep = p.SessionID
		}
		if err := s.Store.DeleteUserSessions(ctx, id, keep); err != nil {
			return nil, err
		}
	}
	return httpapi.JSON(http.StatusOK, viewUser(&next, nil)), nil
}

// DeleteUser removes an account (admins; not their own).
func (s *Server) DeleteUser(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	id := r.Param("id")
	if id == r.Principal.UserID {
		return nil, deskline.Errorf(deskline.ECONFLICT, "You cannot delete your own account")
	}
	if !deskline.ValidID(deskline.PrefixUser, id) {
		return nil, errUserNotFound
	}
	u, err := s.Store.GetUser(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.Store.DeleteUser(ctx, u); err != nil {
		return nil, err
	}
	return httpapi.Message(http.StatusOK, "User deleted successfully"), nil
}

// ApproveUser approves an account (admins).
func (s *Server) ApproveUser(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	return s.setStatus(ctx, r, deskline.StatusApproved, "User approved successfully")
}

// RejectUser rejects an account (admins) and ends its sessions.
func (s *Server) RejectUser(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	return s.setStatus(ctx, r, deskline.StatusRejected, "User rejected successfully")
}

func (s *Server) setStatus(ctx context.Context, r *httpapi.Request, st deskline.UserStatus, msg string) (*httpapi.Response, error) {
	id := r.Param("id")
	if id == r.Principal.UserID {
		return nil, deskline.Errorf(deskline.EFORBIDDEN, "You cannot change your own role or status")
	}
	if !deskline.ValidID(deskline.PrefixUser, id) {
		return nil, errUserNotFound
	}
	prev, err := s.Store.GetUser(ctx, id)
	if err != nil {
		return nil, err
	}
	next := *prev
	if prev.Status != st {
		next.Status, next.UpdatedAt = st, s.Clock.Now()
		if err := s.Store.UpdateUser(ctx, prev, &next); err != nil {
			return nil, err
		}
	}
	if st == deskline.StatusRejected {
		if err := s.Store.DeleteUserSessions(ctx, id, ""); err != nil {
			return nil, err
		}
	}
	return httpapi.JSON(http.StatusOK, map[string]any{"message": msg, "user": viewUser(&next, nil)}), nil
}
