package dynamo_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/deskline/deskline/shared/deskline"
)

func TestCreateDepartment(t *testing.T) {
	t.Run("stores the department", func(t *testing.T) {
		f := newFixture(t)
		d := f.dept("Support", "SUP")
		if d.Version != 1 {
			t.Errorf("version after create = %d, want 1", d.Version)
		}
		got := f.getDept(d.ID)
		if got.Name != d.Name || got.Code != d.Code || got.Description != d.Description || !got.IsActive ||
			got.MemberCount != 0 || got.Version != 1 || !got.CreatedAt.Equal(d.CreatedAt) {
			t.Errorf("stored department = %+v, want %+v", *got, *d)
		}
	})

	// Each case fails on one guard; repairing only that field must then
	// succeed, so the failed create left neither its item nor its other guard.
	tests := []struct {
		name                 string
		spoil, repair        func(d *deskline.Department)
		code, message, field string
	}{
		{
			name:    "name taken in another case and spacing",
			spoil:   func(d *deskline.Department) { d.Name = "  SUPPORT " },
			repair:  func(d *deskline.Department) { d.Name = "Sales" },
			code:    deskline.ECONFLICT,
			message: "Department name already exists",
		},
		{
			name:   "code taken",
			spoil:  func(d *deskline.Department) { d.Code = "SUP" },
			repair: func(d *deskline.Department) { d.Code = "SAL" },
			code:   deskline.ECONFLICT,
			field:  "code",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.dept("Support", "SUP")
			d := f.newDept("Sales", "SAL")
			tc.spoil(d)
			wantErr(t, f.store.CreateDepartment(f.ctx, d), tc.code, tc.message, tc.field)
			if _, err := f.store.GetDepartment(f.ctx, d.ID); deskline.ErrorCode(err) != deskline.ENOTFOUND {
				t.Errorf("GetDepartment after a failed create: err = %v, want not_found", err)
			}
			tc.repair(d)
			if err := f.store.CreateDepartment(f.ctx, d); err != nil {
				t.Errorf("CreateDepartment after repairing only the failing field: %v", err)
			}
		})
	}
}

func TestUpdateDepartment(t *testing.T) {
	t.Run("name change frees the old name and guards the new", func(t *testing.T) {
		f := newFixture(t)
		d := f.dept("Support", "SUP")
		next := copyDept(d)
		next.Name = "Helpdesk"
		if err := f.store.UpdateDepartment(f.ctx, d, next); err != nil {
			t.Fatalf("UpdateDepartment: %v", err)
		}
		if got := f.getDept(d.ID); got.Name != "Helpdesk" || got.Version != 2 {
			t.Errorf("stored = name %q version %d, want Helpdesk 2", got.Name, got.Version)
		}
		f.dept("support", "SUP2")
		wantErr(t, f.store.CreateDepartment(f.ctx, f.newDept("HELPDESK", "HD")), deskline.ECONFLICT, "Department name already exists", "")
	})

	t.Run("code change frees the old code", func(t *testing.T) {
		f := newFixture(t)
		d := f.dept("Support", "SUP")
		next := copyDept(d)
		next.Code = "HD"
		if err := f.store.UpdateDepartment(f.ctx, d, next); err != nil {
			t.Fatalf("UpdateDepartment: %v", err)
		}
		f.dept("Supply", "SUP")
		wantErr(t, f.store.CreateDepartment(f.ctx, f.newDept("Help", "HD")), deskline.ECONFLICT, "", "code")
	})

	t.Run("name of another department is a conflict", func(t *testing.T) {
		f := newFixture(t)
		f.dept("Support", "SUP")
		d := f.dept("Sales", "SAL")
		next := copyDept(d)
		next.Name = "support"
		wantErr(t, f.store.UpdateDepartment(f.ctx, d, next), deskline.ECONFLICT, "Department name already exists", "")
		if got := f.getDept(d.ID); got.Name != "Sales" || got.Version != 1 {
			t.Errorf("stored = name %q version %d, want Sales 1", got.Name, got.Version)
		}
	})

	t.Run("stale version is a conflict", func(t *testing.T) {
		f := newFixture(t)
		d := f.dept("Support", "SUP")
		v2 := copyDept(d)
		v2.Description = "second"
		if err := f.store.UpdateDepartment(f.ctx, d, v2); err != nil {
			t.Fatalf("UpdateDepartment: %v", err)
		}
		stale := copyDept(d)
		stale.Description, stale.Name = "stale", "Helpdesk"
		wantErr(t, f.store.UpdateDepartment(f.ctx, d, stale), deskline.ECONFLICT, "", "")
		if got := f.getDept(d.ID); got.Description != "second" || got.Name != "Support" || got.Version != 2 {
			t.Errorf("stored = %+v, want the second version unchanged", *got)
		}
		f.dept("Helpdesk", "HD") // the stale write's name stayed free
	})

	t.Run("concurrent membership change is not lost", func(t *testing.T) {
		f := newFixture(t)
		d := f.dept("Support", "SUP") // d is read before the user joins
		f.user("alice", d.ID)

		next := copyDept(d)
		next.Description = "edited"
		wantErr(t, f.store.UpdateDepartment(f.ctx, d, next), deskline.ECONFLICT, "", "")
		f.wantMembers(d, 1)

		fresh := f.getDept(d.ID)
		next = copyDept(fresh)
		next.Description = "edited"
		next.MemberCount = 0 // a caller's stale or zero count must not be written
		if err := f.store.UpdateDepartment(f.ctx, fresh, next); err != nil {
			t.Fatalf("UpdateDepartment after reload: %v", err)
		}
		if got := f.getDept(d.ID); got.Description != "edited" || got.MemberCount != 1 {
			t.Errorf("stored = description %q memberCount %d, want edited 1", got.Description, got.MemberCount)
		}
	})
}

func TestDeleteDepartment(t *testing.T) {
	f := newFixture(t)
	d := f.dept("Support", "SUP")
	u := f.user("alice", d.ID)

	wantErr(t, f.store.DeleteDepartment(f.ctx, f.getDept(d.ID)), deskline.ECONFLICT, "Cannot delete department with assigned users", "")
	f.wantMembers(d, 1)

	if err := f.store.DeleteUser(f.ctx, u); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	f.wantMembers(d, 0)
	if err := f.store.DeleteDepartment(f.ctx, f.getDept(d.ID)); err != nil {
		t.Fatalf("DeleteDepartment with no members: %v", err)
	}
	if _, err := f.store.GetDepartment(f.ctx, d.ID); deskline.ErrorCode(err) != deskline.ENOTFOUND {
		t.Errorf("GetDepartment after delete: err = %v, want not_found", err)
	}
	f.dept("SUPPORT", "SUP") // name and code are free again
}

func TestGetDepartments(t *testing.T) {
	f := newFixture(t)
	a, b := f.dept("Support", "SUP"), f.dept("Sales", "SAL")
	f.dept("Finance", "FIN")

	tests := []struct {
		name string
		ids  []string
		want []string
	}{
		{"none", nil, nil},
		{"only missing", []string{"DEP-MISSING", ""}, nil},
		{"present, missing, repeated and empty", []string{a.ID, "DEP-MISSING", b.ID, a.ID, ""}, []string{a.ID, b.ID}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := f.store.GetDepartments(f.ctx, tc.ids)
			if err != nil {
				t.Fatalf("GetDepartments: %v", err)
			}
			ids := slices.Sorted(maps.Keys(got))
			if !slices.Equal(ids, tc.want) {
				t.Errorf("GetDepartments(%v) ids = %v, want %v", tc.ids, ids, tc.want)
			}
			for id, d := range got {
				if d.ID != id || d.Name == "" {
					t.Errorf("GetDepartments[%s] = %+v", id, *d)
				}
			}
		})
	}
}

// The list is ordered by name, case-insensitively, a name before the
// longer names it starts.
func TestListDepartmentsByName(t *testing.T) {
	f := newFixture(t)
	for _, n := range []string{"IT Support", "it-ops", "Facilities", "IT", "Human Resources"} {
		f.dept(n, strings.ToUpper(n[:2])+fmt.Sprint(len(n)))
	}
	var got []string
	cursor := ""
	for {
		page, err := f.store.ListDepartments(f.ctx, 2, cursor)
		if err != nil {
			t.Fatalf("ListDepartments: %v", err)
		}
		for _, d := range page.Items {
			got = append(got, d.Name)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	want := []string{"Facilities", "Human Resources", "IT", "IT Support", "it-ops"}
	if !slices.Equal(got, want) {
		t.Errorf("departments = %q, want %q", got, want)
	}
}
