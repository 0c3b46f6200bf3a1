package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/deskline/deskline/shared/auth"
	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/dynamo"
	"github.com/deskline/deskline/shared/httpapi"
)

type registerRequest struct {
	Username     string        `json:"username"`
	Email        string        `json:"email"`
	Password     string        `json:"password"`
	Role         deskline.Role `json:"role"`
	DepartmentID string        `json:"departmentId"`
}

// newUser validates the fields every new account needs and returns the user
// (without id, status or times).
func (s *Server) newUser(username, email, password string, role deskline.Role, departmentID string) (*deskline.User, error) {
	if err := deskline.ValidateUsername(username); err != nil {
		return nil, err
	}
	email, err := deskline.NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	if err := deskline.ValidatePassword("password", password); err != nil {
		return nil, err
	}
	if err := deskline.ValidateMembership(role, departmentID); err != nil {
		return nil, err
	}
	hash, err := s.Passwords.Hash(password)
	if err != nil {
		return nil, err
	}
	return &deskline.User{Username: username, Email: email, Role: role, DepartmentID: departmentID, PasswordHash: hash}, nil
}

// Register creates a pending account. Nobody self-registers as admin.
func (s *Server) Register(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in registerRequest
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	if in.Role == "" {
		in.Role = deskline.RoleEmployee
	}
	if in.Role == deskline.RoleAdmin {
		return nil, &deskline.Error{Code: deskline.EFORBIDDEN, Field: "role", Message: "Admin accounts cannot be self-registered"}
	}
	u, err := s.newUser(in.Username, in.Email, in.Password, in.Role, in.DepartmentID)
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	u.ID, u.Status, u.CreatedAt, u.UpdatedAt = s.IDs.NewID(deskline.PrefixUser), deskline.StatusPending, now, now
	if err := s.Store.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusCreated, map[string]any{
		"user":    viewUser(u, nil),
		"message": "Registration received; an administrator must approve the account before you can log in",
	}), nil
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

var errBadCredentials = deskline.Errorf(deskline.EUNAUTHORIZED, "Invalid credentials")

// Login checks credentials and opens a session. Unknown e-mails and wrong
// passwords answer alike and take as long; repeated failures are throttled.
func (s *Server) Login(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in loginRequest
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	if strings.TrimSpace(in.Email) == "" {
		return nil, deskline.Invalid("email", "Email is required")
	}
	if in.Password == "" {
		return nil, deskline.Invalid("password", "Password is required")
	}
	email, err := deskline.NormalizeEmail(in.Email)
	if err != nil {
		return nil, err
	}
	userID, err := s.Store.UserIDByEmail(ctx, email)
	if deskline.ErrorCode(err) == deskline.ENOTFOUND {
		s.Passwords.Check("", in.Password)
		return nil, errBadCredentials
	} else if err != nil {
		return nil, err
	}
	u, fails, err := s.Store.GetLoginState(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("login %s: %w", userID, err)
	}
	now := s.Clock.Now()
	if until := fails.WindowStart.Add(LoginFailureWindow); fails.Count >= MaxLoginFailures && now.Before(until) {
		return nil, &deskline.Error{
			Code: deskline.ETOOMANY, Message: "Too many failed login attempts; try again later",
			RetryAfter: int(until.Sub(now)/time.Second) + 1,
		}
	}
	if !s.Passwords.Check(u.PasswordHash, in.Password) {
		if _, err := s.Store.RecordLoginFailure(ctx, u.ID, LoginFailureWindow); err != nil {
			return nil, err
		}
		return nil, errBadCredentials
	}
	switch u.Status {
	case deskline.StatusApproved:
	case deskline.StatusRejected:
		return nil, httpapi.ErrRejected
	default:
		return nil, httpapi.ErrNotApproved
	}
	sess := dynamo.Session{ID: s.IDs.NewID(deskline.PrefixSession), UserID: u.ID, CreatedAt: now}
	if s.Tokens == nil {
		return nil, errors.New("login: no JWT secret configured")
	}
	token, exp, err := s.Tokens.Issue(u.ID, sess.ID)
	if err != nil {
		return nil, err
	}
	sess.ExpiresAt = exp
	if err := s.Store.CreateSession(ctx, sess); err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, map[string]any{
		"token": token, "expiresAt": exp, "user": viewUser(u, nil),
	}), nil
}

// Logout revokes the caller's session: its token stops working at once.
func (s *Server) Logout(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if err := s.Store.DeleteSession(ctx, r.Principal.UserID, r.Principal.SessionID); err != nil {
		return nil, err
	}
	return httpapi.Message(http.StatusOK, "Logged out successfully"), nil
}

// Me returns the caller's own account with its department.
func (s *Server) Me(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	u, err := s.Store.GetUser(ctx, r.Principal.UserID)
	if err != nil {
		return nil, err
	}
	var d *deskline.Department
	if u.DepartmentID != "" {
		if d, err = s.Store.GetDepartment(ctx, u.DepartmentID); err != nil && deskline.ErrorCode(err) != deskline.ENOTFOUND {
			return nil, err
		}
	}
	return httpapi.JSON(http.StatusOK, viewUser(u, d)), nil
}

type forgotRequest struct {
	Email string `json:"email"`
}

const forgotMessage = "If an account exists for that email, a password reset link has been sent"

// ForgotPassword mails a reset token. It answers the same whether or not the
// e-mail is known.
func (s *Server) ForgotPassword(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in forgotRequest
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	email, err := deskline.NormalizeEmail(in.Email)
	if err != nil {
		return nil, err
	}
	body := map[string]any{"message": forgotMessage}
	userID, err := s.Store.UserIDByEmail(ctx, email)
	if deskline.ErrorCode(err) == deskline.ENOTFOUND {
		return httpapi.JSON(http.StatusOK, body), nil
	} else if err != nil {
		return nil, err
	}
	token, hash := auth.NewResetToken()
	if err := s.Store.CreateResetToken(ctx, hash, userID, s.Clock.Now().Add(ResetTokenTTL)); err != nil {
		return nil, err
	}
	link := strings.TrimRight(s.PublicURL, "/") + "/reset-password?token=" + token
	mail := fmt.Sprintf("Someone asked to reset the password of your Deskline account.\n\n"+
		"Reset token: %s\nOr open: %s\n\nThe token is valid for one hour and works once. "+
		"If you did not ask for this, ignore this message.\n", token, link)
	if err := s.Mailer.Send(ctx, email, "Reset your Deskline password", mail); err != nil {
		return nil, fmt.Errorf("send reset mail: %w", err)
	}
	if s.exposesResetTokens() {
		body["resetToken"] = token
	}
	return httpapi.JSON(http.StatusOK, body), nil
}

type resetRequest struct {
	Token    string `json:"token"`
	Password string `json:"password"`
}

// ResetPassword sets a new password with a reset token, consumes the token
// and revokes every session of the account.
func (s *Server) ResetPassword(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in resetRequest
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	if in.Token == "" {
		return nil, deskline.Invalid("token", "Reset token is required")
	}
	if err := deskline.ValidatePassword("password", in.Password); err != nil {
		return nil, err
	}
	hash := auth.HashResetToken(in.Token)
	userID, err := s.Store.ResetTokenUser(ctx, hash)
	if err != nil {
		return nil, err
	}
	u, err := s.Store.GetUser(ctx, userID)
	if deskline.ErrorCode(err) == deskline.ENOTFOUND {
		return nil, dynamo.ErrResetInvalid
	} else if err != nil {
		return nil, err
	}
	pw, err := s.Passwords.Hash(in.Password)
	if err != nil {
		return nil, err
	}
	if err := s.Store.ResetPassword(ctx, hash, u, pw, s.Clock.Now()); err != nil {
		return nil, err
	}
	if err := s.Store.DeleteUserSessions(ctx, u.ID, ""); err != nil {
		return nil, err
	}
	return httpapi.Message(http.StatusOK, "Password has been reset successfully"), nil
}

// VerifyResetToken tells whether a reset token is still usable.
func (s *Server) VerifyResetToken(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	token := r.Param("token")
	if len(token) != 64 {
		return nil, dynamo.ErrResetInvalid
	}
	if _, err := s.Store.ResetTokenUser(ctx, auth.HashResetToken(token)); err != nil {
		return nil, err
	}
	return httpapi.Message(http.StatusOK, "Valid reset token"), nil
}
