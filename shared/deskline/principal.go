package deskline

// Principal is the authenticated caller, as the authorizer established it.
type Principal struct {
	UserID       string
	Role         Role
	DepartmentID string
	Status       UserStatus
	SessionID    string
	Username     string
	Email        string
}

// IsAdmin reports whether the caller is an admin.
func (p *Principal) IsAdmin() bool { return p != nil && p.Role == RoleAdmin }

// InDepartment reports whether the caller belongs to department id.
func (p *Principal) InDepartment(id string) bool {
	return p != nil && id != "" && p.DepartmentID == id
}

// CanSeeDepartmentMembers reports whether the caller may see who belongs to
// department id: admins and the department's own people.
func (p *Principal) CanSeeDepartmentMembers(id string) bool {
	return p.IsAdmin() || p.InDepartment(id)
}

// CanViewUser reports whether the caller may read u's profile: admins, the
// user themself, and people of the same department.
func (p *Principal) CanViewUser(u *User) bool {
	return p.IsAdmin() || (p != nil && p.UserID == u.ID) || p.InDepartment(u.DepartmentID)
}
