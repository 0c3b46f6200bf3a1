package deskline

import (
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Role is what a user may do across the help desk.
type Role string

// Roles.
const (
	RoleAdmin          Role = "admin"
	RoleDepartmentHead Role = "department_head"
	RoleEmployee       Role = "employee"
)

// Roles lists every role, in order of decreasing power.
var Roles = []Role{RoleAdmin, RoleDepartmentHead, RoleEmployee}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	return r == RoleAdmin || r == RoleDepartmentHead || r == RoleEmployee
}

// UserStatus is where an account stands in the approval flow.
type UserStatus string

// User statuses.
const (
	StatusPending  UserStatus = "pending"
	StatusApproved UserStatus = "approved"
	StatusRejected UserStatus = "rejected"
)

// Valid reports whether s is a known status.
func (s UserStatus) Valid() bool {
	return s == StatusPending || s == StatusApproved || s == StatusRejected
}

// User is an account. PasswordHash never leaves the server: it is tagged out
// of JSON so no response can carry it.
type User struct {
	ID           string     `json:"id"`
	Username     string     `json:"username"`
	Email        string     `json:"email"`
	Role         Role       `json:"role"`
	DepartmentID string     `json:"departmentId"`
	Status       UserStatus `json:"status"`
	CreatedAt    time.Time  `json:"createdAt"`
	UpdatedAt    time.Time  `json:"updatedAt"`
	Version      int64      `json:"version"`
	PasswordHash string     `json:"-"`
	// EmailNotifications: the user also gets each notification by e-mail
	// (off unless they turn it on).
	EmailNotifications bool `json:"emailNotifications"`
}

// Password rules.
const (
	MinPasswordLen = 8
	// MaxPasswordBytes is bcrypt's limit: longer inputs would be silently truncated.
	MaxPasswordBytes = 72
)

// ValidateUsername checks a username's presence, length and alphabet.
func ValidateUsername(name string) error {
	n := utf8.RuneCountInString(name)
	switch {
	case strings.TrimSpace(name) == "":
		return Invalid("username", "Username is required")
	case n < 3 || n > 50:
		return Invalid("username", "Username must be between 3 and 50 characters")
	}
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '.' && r != '_' && r != '-' {
			return Invalid("username", "Username may contain only letters, digits, '.', '_' and '-'")
		}
	}
	return nil
}

// NormalizeEmail validates an e-mail address and returns its canonical,
// lower-case form, which is what uniqueness is checked on.
func NormalizeEmail(email string) (string, error) {
	email = strings.TrimSpace(email)
	if email == "" {
		return "", Invalid("email", "Email is required")
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || len(email) > 254 || !strings.Contains(email[strings.LastIndexByte(email, '@'):], ".") {
		return "", Invalid("email", "Invalid email format")
	}
	return strings.ToLower(email), nil
}

// ValidatePassword enforces the password rule: at least 8 characters with a
// letter and a digit, and no more than bcrypt can hash.
func ValidatePassword(field, pw string) error {
	if pw == "" {
		return Invalid(field, "Password is required")
	}
	if len(pw) > MaxPasswordBytes {
		return Invalid(field, "Password must be at most 72 bytes long")
	}
	var letter, digit bool
	for _, r := range pw {
		letter = letter || unicode.IsLetter(r)
		digit = digit || unicode.IsDigit(r)
	}
	if utf8.RuneCountInString(pw) < MinPasswordLen || !letter || !digit {
		return Invalid(field, "Password must be at least 8 characters long and contain a letter and a digit")
	}
	return nil
}

// ValidateMembership checks that a role and a department fit together:
// admins belong to no department, everyone else to exactly one.
func ValidateMembership(role Role, departmentID string) error {
	if !role.Valid() {
		return Invalid("role", "Invalid role")
	}
	if role == RoleAdmin && departmentID != "" {
		return Invalid("departmentId", "Admin should not have a department")
	}
	if role != RoleAdmin && departmentID == "" {
		return Invalid("departmentId", "Department is required for this role")
	}
	if departmentID != "" && !ValidID(PrefixDepartment, departmentID) {
		return Invalid("departmentId", "Department ID must be a valid department id (DEP-...)")
	}
	return nil
}
