package dynamo_test

import (
	"slices"
	"testing"

	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/dynamo"
)

func TestCreateUser(t *testing.T) {
	t.Run("stores the user, its e-mail and its membership", func(t *testing.T) {
		f := newFixture(t)
		d := f.dept("Support", "SUP")
		u := f.newUser("Alice", d.ID)
		if err := f.store.CreateUser(f.ctx, u); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		if u.Version != 1 {
			t.Errorf("version after create = %d, want 1", u.Version)
		}
		wantSameUser(t, f.getUser(u.ID), u)
		if id, err := f.store.UserIDByEmail(f.ctx, u.Email); err != nil || id != u.ID {
			t.Errorf("UserIDByEmail(%s) = %q, %v; want %q", u.Email, id, err, u.ID)
		}
		f.wantMembers(d, 1)
		f.user("root", "") // no department: counted nowhere
		f.wantMembers(d, 1)
	})

	// Each case makes a create fail, checks that nothing of it was written,
	// then repairs only the failing field: the retry (same id, same other
	// fields) succeeds only if the failed create left no user item, no guard
	// and no membership behind.
	tests := []struct {
		name                 string
		spoil                func(u *deskline.User, inactive *deskline.Department)
		repair               func(u *deskline.User, active *deskline.Department)
		code, message, field string
	}{
		{
			name:    "e-mail already registered",
			spoil:   func(u *deskline.User, _ *deskline.Department) { u.Email = "alice@example.com" },
			repair:  func(u *deskline.User, _ *deskline.Department) { u.Email = "bob@example.com" },
			code:    deskline.ECONFLICT,
			message: "Email already registered",
		},
		{
			name:    "username taken in another case",
			spoil:   func(u *deskline.User, _ *deskline.Department) { u.Username = "ALICE" },
			repair:  func(u *deskline.User, _ *deskline.Department) { u.Username = "bob" },
			code:    deskline.ECONFLICT,
			message: "Username already taken",
		},
		{
			name:   "unknown department",
			spoil:  func(u *deskline.User, _ *deskline.Department) { u.DepartmentID = "DEP-MISSING" },
			repair: func(u *deskline.User, d *deskline.Department) { u.DepartmentID = d.ID },
			code:   deskline.EINVALID,
			field:  "departmentId",
		},
		{
			name:   "inactive department",
			spoil:  func(u *deskline.User, inactive *deskline.Department) { u.DepartmentID = inactive.ID },
			repair: func(u *deskline.User, d *deskline.Department) { u.DepartmentID = d.ID },
			code:   deskline.EINVALID,
			field:  "departmentId",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			active := f.dept("Support", "SUP")
			inactive := f.newDept("Archive", "ARC")
			inactive.IsActive = false
			if err := f.store.CreateDepartment(f.ctx, inactive); err != nil {
				t.Fatalf("CreateDepartment: %v", err)
			}
			alice := f.user("alice", active.ID)

			u := f.newUser("bob", active.ID)
			tc.spoil(u, inactive)
			err := f.store.CreateUser(f.ctx, u)
			wantErr(t, err, tc.code, tc.message, tc.field)

			f.wantNoUser(u.ID)
			f.wantMembers(active, 1)
			f.wantMembers(inactive, 0)
			if _, err := f.store.GetDepartment(f.ctx, "DEP-MISSING"); deskline.ErrorCode(err) != deskline.ENOTFOUND {
				t.Errorf("GetDepartment(DEP-MISSING) err = %v, want not_found (no department item may appear)", err)
			}
			if id, err := f.store.UserIDByEmail(f.ctx, alice.Email); err != nil || id != alice.ID {
				t.Errorf("UserIDByEmail(%s) = %q, %v; want the first user %q", alice.Email, id, err, alice.ID)
			}

			tc.repair(u, active)
			if err := f.store.CreateUser(f.ctx, u); err != nil {
				t.Fatalf("CreateUser after repairing only the failing field: %v (the failed create left something behind)", err)
			}
			f.wantMembers(active, 2)
		})
	}
}

func TestUpdateUser(t *testing.T) {
	t.Run("stale version is a conflict and changes nothing", func(t *testing.T) {
		f := newFixture(t)
		a, b := f.dept("Support", "SUP"), f.dept("Sales", "SAL")
		u := f.user("alice", a.ID)

		v2 := copyUser(u)
		v2.Role = deskline.RoleDepartmentHead
		if err := f.store.UpdateUser(f.ctx, u, v2); err != nil {
			t.Fatalf("UpdateUser: %v", err)
		}
		if v2.Version != 2 {
			t.Errorf("version after update = %d, want 2", v2.Version)
		}

		stale := copyUser(u) // still at version 1
		stale.Username, stale.Email, stale.DepartmentID = "alicia", "alicia@example.com", b.ID
		err := f.store.UpdateUser(f.ctx, u, stale)
		wantErr(t, err, deskline.ECONFLICT, "", "")

		wantSameUser(t, f.getUser(u.ID), v2)
		f.wantMembers(a, 1)
		f.wantMembers(b, 0)
		if _, err := f.store.UserIDByEmail(f.ctx, "alicia@example.com"); deskline.ErrorCode(err) != deskline.ENOTFOUND {
			t.Errorf("UserIDByEmail of the stale write's e-mail: err = %v, want not_found", err)
		}
		f.user("alicia", "") // the stale write's username stayed free
	})

	t.Run("e-mail change frees the old address and guards the new", func(t *testing.T) {
		f := newFixture(t)
		u := f.user("alice", "")
		next := copyUser(u)
		next.Email = "alice.new@example.com"
		if err := f.store.UpdateUser(f.ctx, u, next); err != nil {
			t.Fatalf("UpdateUser: %v", err)
		}
		if id, err := f.store.UserIDByEmail(f.ctx, next.Email); err != nil || id != u.ID {
			t.Errorf("UserIDByEmail(new) = %q, %v; want %q", id, err, u.ID)
		}
		if _, err := f.store.UserIDByEmail(f.ctx, u.Email); deskline.ErrorCode(err) != deskline.ENOTFOUND {
			t.Errorf("UserIDByEmail(old) err = %v, want not_found", err)
		}

		taker := f.newUser("carol", "")
		taker.Email = u.Email
		if err := f.store.CreateUser(f.ctx, taker); err != nil {
			t.Errorf("CreateUser with the freed e-mail: %v", err)
		}
		thief := f.newUser("dave", "")
		thief.Email = next.Email
		wantErr(t, f.store.CreateUser(f.ctx, thief), deskline.ECONFLICT, "Email already registered", "")
	})

	t.Run("username change frees the old name and guards the new", func(t *testing.T) {
		f := newFixture(t)
		u := f.user("alice", "")
		next := copyUser(u)
		next.Username = "alicia"
		if err := f.store.UpdateUser(f.ctx, u, next); err != nil {
			t.Fatalf("UpdateUser: %v", err)
		}
		taker := f.newUser("ALICE", "")
		taker.Email = "taker@example.com"
		if err := f.store.CreateUser(f.ctx, taker); err != nil {
			t.Errorf("CreateUser with the freed username: %v", err)
		}
		thief := f.newUser("Alicia", "")
		thief.Email = "thief@example.com"
		wantErr(t, f.store.CreateUser(f.ctx, thief), deskline.ECONFLICT, "Username already taken", "")
	})

	t.Run("username case change keeps the name guarded", func(t *testing.T) {
		f := newFixture(t)
		u := f.user("alice", "")
		next := copyUser(u)
		next.Username = "Alice"
		if err := f.store.UpdateUser(f.ctx, u, next); err != nil {
			t.Fatalf("UpdateUser: %v", err)
		}
		if got := f.getUser(u.ID).Username; got != "Alice" {
			t.Errorf("username = %q, want %q", got, "Alice")
		}
		other := f.newUser("alice", "")
		other.Email = "other@example.com"
		wantErr(t, f.store.CreateUser(f.ctx, other), deskline.ECONFLICT, "Username already taken", "")
	})

	t.Run("e-mail of another user is a conflict", func(t *testing.T) {
		f := newFixture(t)
		alice, bob := f.user("alice", ""), f.user("bob", "")
		next := copyUser(bob)
		next.Email = alice.Email
		wantErr(t, f.store.UpdateUser(f.ctx, bob, next), deskline.ECONFLICT, "Email already registered", "")
		wantSameUser(t, f.getUser(bob.ID), bob)
		if id, err := f.store.UserIDByEmail(f.ctx, bob.Email); err != nil || id != bob.ID {
			t.Errorf("UserIDByEmail(bob's) = %q, %v; want %q", id, err, bob.ID)
		}
	})

	t.Run("department move adjusts both member counts", func(t *testing.T) {
		f := newFixture(t)
		a, b := f.dept("Support", "SUP"), f.dept("Sales", "SAL")
		u := f.user("alice", a.ID)
		f.user("bob", a.ID)

		next := copyUser(u)
		next.DepartmentID = b.ID
		if err := f.store.UpdateUser(f.ctx, u, next); err != nil {
			t.Fatalf("UpdateUser: %v", err)
		}
		f.wantMembers(a, 1)
		f.wantMembers(b, 1)
		for _, tc := range []struct {
			dept *deskline.Department
			want []string
		}{{a, []string{"bob"}}, {b, []string{"alice"}}} {
			page, err := f.store.ListUsers(f.ctx, dynamo.UserFilter{DepartmentID: tc.dept.ID, Limit: 10})
			if err != nil {
				t.Fatalf("ListUsers(%s): %v", tc.dept.Name, err)
			}
			if got := usernames(page.Items); !slices.Equal(got, tc.want) {
				t.Errorf("members of %s = %v, want %v", tc.dept.Name, got, tc.want)
			}
		}

		out := copyUser(next) // to no department (an admin)
		out.DepartmentID, out.Role = "", deskline.RoleAdmin
		if err := f.store.UpdateUser(f.ctx, next, out); err != nil {
			t.Fatalf("UpdateUser out of the department: %v", err)
		}
		f.wantMembers(a, 1)
		f.wantMembers(b, 0)
	})

	t.Run("move into an inactive department is refused", func(t *testing.T) {
		f := newFixture(t)
		a := f.dept("Support", "SUP")
		closed := f.newDept("Archive", "ARC")
		closed.IsActive = false
		if err := f.store.CreateDepartment(f.ctx, closed); err != nil {
			t.Fatalf("CreateDepartment: %v", err)
		}
		u := f.user("alice", a.ID)
		next := copyUser(u)
		next.DepartmentID = closed.ID
		wantErr(t, f.store.UpdateUser(f.ctx, u, next), deskline.EINVALID, "", "departmentId")
		wantSameUser(t, f.getUser(u.ID), u)
		f.wantMembers(a, 1)
		f.wantMembers(closed, 0)
	})
}

func TestDeleteUser(t *testing.T) {
	t.Run("removes guards, sessions, login failures and membership", func(t *testing.T) {
		f := newFixture(t)
		d := f.dept("Support", "SUP")
		u := f.user("alice", d.ID)
		bob := f.user("bob", d.ID)
		s1, s2 := f.session(u.ID), f.session(u.ID)
		bobSession := f.session(bob.ID)
		if _, err := f.store.RecordLoginFailure(f.ctx, u.ID, loginWindow); err != nil {
			t.Fatalf("RecordLoginFailure: %v", err)
		}

		if err := f.store.DeleteUser(f.ctx, u); err != nil {
			t.Fatalf("DeleteUser: %v", err)
		}
		f.wantNoUser(u.ID)
		if got := f.partition("USER#" + u.ID); len(got) != 0 {
			t.Errorf("items left in the user's partition: %v", got)
		}
		for _, sid := range []string{s1, s2} {
			if _, err := f.store.GetSessionUser(f.ctx, u.ID, sid); err != dynamo.ErrSessionInvalid {
				t.Errorf("GetSessionUser(deleted user's session) err = %v, want ErrSessionInvalid", err)
			}
		}
		if _, err := f.store.UserIDByEmail(f.ctx, u.Email); deskline.ErrorCode(err) != deskline.ENOTFOUND {
			t.Errorf("UserIDByEmail(deleted) err = %v, want not_found", err)
		}
		f.wantMembers(d, 1)
		if _, err := f.store.GetSessionUser(f.ctx, bob.ID, bobSession); err != nil {
			t.Errorf("another user's session was hit: %v", err)
		}

		again := f.newUser("ALICE", d.ID) // same e-mail and username, other case
		again.Email = u.Email
		if err := f.store.CreateUser(f.ctx, again); err != nil {
			t.Errorf("CreateUser with the deleted user's e-mail and username: %v", err)
		}
		f.wantMembers(d, 2)
	})

	t.Run("stale version is a conflict", func(t *testing.T) {
		f := newFixture(t)
		d := f.dept("Support", "SUP")
		u := f.user("alice", d.ID)
		next := copyUser(u)
		next.Status = deskline.StatusRejected
		if err := f.store.UpdateUser(f.ctx, u, next); err != nil {
			t.Fatalf("UpdateUser: %v", err)
		}
		wantErr(t, f.store.DeleteUser(f.ctx, u), deskline.ECONFLICT, "", "")
		wantSameUser(t, f.getUser(u.ID), next)
		f.wantMembers(d, 1)
	})
}

func usernames(us []*deskline.User) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.Username
	}
	return out
}
