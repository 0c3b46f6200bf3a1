package dynamo_test

import (
	"errors"
	"testing"
	"time"

	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/dynamo"
)

const resetTTL = time.Hour

// resetToken stores a reset token hash for userID, live for resetTTL.
func (f *fixture) resetToken(hash, userID string) {
	f.t.Helper()
	if err := f.store.CreateResetToken(f.ctx, hash, userID, f.clock.Now().Add(resetTTL)); err != nil {
		f.t.Fatalf("CreateResetToken: %v", err)
	}
}

func TestResetTokenUser(t *testing.T) {
	tests := []struct {
		name    string
		hash    string
		advance time.Duration
		wantErr error
	}{
		{"live token", "hash-1", 0, nil},
		{"one second before expiry", "hash-1", resetTTL - time.Second, nil},
		{"at expiry", "hash-1", resetTTL, dynamo.ErrResetInvalid},
		{"long expired (TTL has not deleted it)", "hash-1", 48 * time.Hour, dynamo.ErrResetInvalid},
		{"unknown token", "hash-unknown", 0, dynamo.ErrResetInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			u := f.user("alice", "")
			f.resetToken("hash-1", u.ID)
			f.clock.Advance(tc.advance)
			id, err := f.store.ResetTokenUser(f.ctx, tc.hash)
			switch {
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Errorf("ResetTokenUser = %q, %v; want %v", id, err, tc.wantErr)
			case tc.wantErr == nil && (err != nil || id != u.ID):
				t.Errorf("ResetTokenUser = %q, %v; want %q", id, err, u.ID)
			}
		})
	}
}

func TestResetPassword(t *testing.T) {
	t.Run("works once, sets the hash and bumps the version", func(t *testing.T) {
		f := newFixture(t)
		u := f.user("alice", "")
		f.resetToken("hash-1", u.ID)
		f.clock.Advance(time.Minute)
		now := f.clock.Now()

		if err := f.store.ResetPassword(f.ctx, "hash-1", u, "new-hash", now); err != nil {
			t.Fatalf("ResetPassword: %v", err)
		}
		want := copyUser(u)
		want.PasswordHash, want.UpdatedAt, want.Version = "new-hash", now, u.Version+1
		wantSameUser(t, f.getUser(u.ID), want)
		if _, err := f.store.ResetTokenUser(f.ctx, "hash-1"); !errors.Is(err, dynamo.ErrResetInvalid) {
			t.Errorf("ResetTokenUser of a used token: err = %v, want ErrResetInvalid", err)
		}

		err := f.store.ResetPassword(f.ctx, "hash-1", u, "newer-hash", now)
		if !errors.Is(err, dynamo.ErrResetInvalid) {
			t.Errorf("second ResetPassword: err = %v, want ErrResetInvalid", err)
		}
		wantSameUser(t, f.getUser(u.ID), want)

		// The version bump makes an update read before the reset stale.
		next := copyUser(u)
		next.Role = deskline.RoleEmployee
		wantErr(t, f.store.UpdateUser(f.ctx, u, next), deskline.ECONFLICT, "", "")
	})

	refused := []struct {
		name  string
		hash  string
		at    time.Duration // after the token was made
		owner bool          // reset the token owner's password, else another user's
	}{
		{"expired token", "hash-1", resetTTL, true},
		{"unknown token", "hash-unknown", 0, true},
		{"another user's token", "hash-1", 0, false},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			alice, bob := f.user("alice", ""), f.user("bob", "")
			f.resetToken("hash-1", alice.ID)
			target := alice
			if !tc.owner {
				target = bob
			}
			err := f.store.ResetPassword(f.ctx, tc.hash, target, "new-hash", t0.Add(tc.at))
			if !errors.Is(err, dynamo.ErrResetInvalid) {
				t.Errorf("ResetPassword: err = %v, want ErrResetInvalid", err)
			}
			wantSameUser(t, f.getUser(alice.ID), alice)
			wantSameUser(t, f.getUser(bob.ID), bob)
		})
	}
}
