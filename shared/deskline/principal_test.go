package deskline_test

import (
	"testing"

	"github.com/deskline/deskline/shared/deskline"
)

const (
	depIT = "DEP-01JD3Q8K9ZC0V4M5N6P7R8S9IT"
	depHR = "DEP-01JD3Q8K9ZC0V4M5N6P7R8S9HR"
)

func principal(id string, role deskline.Role, dep string) *deskline.Principal {
	return &deskline.Principal{UserID: id, Role: role, DepartmentID: dep, Status: deskline.StatusApproved, SessionID: "SES-ABCDE"}
}

func TestCanSeeDepartmentMembers(t *testing.T) {
	tests := []struct {
		name string
		p    *deskline.Principal
		dep  string
		want bool
	}{
		{"admin, any department", principal("USR-ADMIN", deskline.RoleAdmin, ""), depIT, true},
		{"employee of the department", principal("USR-EMP01", deskline.RoleEmployee, depIT), depIT, true},
		{"head of the department", principal("USR-HEAD1", deskline.RoleDepartmentHead, depIT), depIT, true},
		{"employee of another department", principal("USR-EMP01", deskline.RoleEmployee, depHR), depIT, false},
		{"head of another department", principal("USR-HEAD1", deskline.RoleDepartmentHead, depHR), depIT, false},
		{"no department never matches the empty id", principal("USR-EMP01", deskline.RoleEmployee, ""), "", false},
		{"nil principal", nil, depIT, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.CanSeeDepartmentMembers(tt.dep); got != tt.want {
				t.Errorf("CanSeeDepartmentMembers(%q) = %v, want %v", tt.dep, got, tt.want)
			}
		})
	}
}

func TestCanViewUser(t *testing.T) {
	admin := &deskline.User{ID: "USR-ADMIN", Role: deskline.RoleAdmin}
	itEmployee := &deskline.User{ID: "USR-EMP01", Role: deskline.RoleEmployee, DepartmentID: depIT}
	hrEmployee := &deskline.User{ID: "USR-EMP02", Role: deskline.RoleEmployee, DepartmentID: depHR}
	tests := []struct {
		name string
		p    *deskline.Principal
		u    *deskline.User
		want bool
	}{
		{"admin views an employee", principal("USR-ADMIN", deskline.RoleAdmin, ""), hrEmployee, true},
		{"admin views another admin", principal("USR-ADMN2", deskline.RoleAdmin, ""), admin, true},
		{"self", principal("USR-EMP02", deskline.RoleEmployee, depHR), hrEmployee, true},
		{"self after a department move", principal("USR-EMP02", deskline.RoleEmployee, depIT), hrEmployee, true},
		{"same department", principal("USR-EMP09", deskline.RoleEmployee, depIT), itEmployee, true},
		{"head views own department", principal("USR-HEAD1", deskline.RoleDepartmentHead, depIT), itEmployee, true},
		{"other department", principal("USR-EMP09", deskline.RoleEmployee, depIT), hrEmployee, false},
		{"head views other department", principal("USR-HEAD1", deskline.RoleDepartmentHead, depIT), hrEmployee, false},
		{"employee views an admin", principal("USR-EMP09", deskline.RoleEmployee, depIT), admin, false},
		// Neither has a department: "" must not count as the same one.
		{"no department views an admin", principal("USR-EMP09", deskline.RoleEmployee, ""), admin, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.CanViewUser(tt.u); got != tt.want {
				t.Errorf("CanViewUser(%s) = %v, want %v", tt.u.ID, got, tt.want)
			}
		})
	}
}

func TestIsAdminAndInDepartment(t *testing.T) {
	var none *deskline.Principal
	if none.IsAdmin() {
		t.Error("nil principal IsAdmin() = true, want false")
	}
	if none.InDepartment(depIT) {
		t.Error("nil principal InDepartment() = true, want false")
	}
	head := principal("USR-HEAD1", deskline.RoleDepartmentHead, depIT)
	if head.IsAdmin() {
		t.Error("department head IsAdmin() = true, want false")
	}
	if !head.InDepartment(depIT) {
		t.Errorf("InDepartment(%q) = false, want true", depIT)
	}
	if head.InDepartment("") {
		t.Error(`InDepartment("") = true, want false`)
	}
}
