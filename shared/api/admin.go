package api

import (
	"context"
	"fmt"

	"github.com/deskline/deskline/shared/deskline"
)

// EnsureAdmin creates an approved admin account unless one with this e-mail
// exists. It is how the first admin comes to be: nobody registers as admin.
// It reports whether it created the account.
func (s *Server) EnsureAdmin(ctx context.Context, username, email, password string) (bool, error) {
	u, err := s.newUser(username, email, password, deskline.RoleAdmin, "")
	if err != nil {
		return false, fmt.Errorf("seed admin: %w", err)
	}
	if _, err := s.Store.UserIDByEmail(ctx, u.Email); err == nil {
		return false, nil
	} else if deskline.ErrorCode(err) != deskline.ENOTFOUND {
		return false, fmt.Errorf("seed admin: %w", err)
	}
	now := s.Clock.Now()
	u.ID, u.Status, u.CreatedAt, u.UpdatedAt = s.IDs.NewID(deskline.PrefixUser), deskline.StatusApproved, now, now
	if err := s.Store.CreateUser(ctx, u); err != nil {
		if deskline.ErrorCode(err) == deskline.ECONFLICT {
			return false, nil // created concurrently
		}
		return false, fmt.Errorf("seed admin: %w", err)
	}
	return true, nil
}
