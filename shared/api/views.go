package api

import (
	"time"

	"github.com/deskline/deskline/shared/deskline"
)

// deptRef is the contract's embedded Department{id,name}.
type deptRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// userView is a user as responses show it: never a password hash or reset
// token.
type userView struct {
	ID           string              `json:"id"`
	Username     string              `json:"username"`
	Email        string              `json:"email"`
	Role         deskline.Role       `json:"role"`
	DepartmentID *string             `json:"departmentId"`
	Status       deskline.UserStatus `json:"status"`
	CreatedAt    time.Time           `json:"createdAt"`
	UpdatedAt    time.Time           `json:"updatedAt"`
	Version      int64               `json:"version"`
	// EmailNotifications: notifications also arrive by e-mail.
	EmailNotifications bool     `json:"emailNotifications"`
	Department         *deptRef `json:"Department,omitempty"`
}

func viewUser(u *deskline.User, d *deskline.Department) userView {
	v := userView{
		ID: u.ID, Username: u.Username, Email: u.Email, Role: u.Role, Status: u.Status,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt, Version: u.Version, EmailNotifications: u.EmailNotifications,
	}
	if u.DepartmentID != "" {
		v.DepartmentID = &u.DepartmentID
	}
	if d != nil {
		v.Department = &deptRef{ID: d.ID, Name: d.Name}
	}
	return v
}

// memberView is a department member as the department routes list them.
type memberView struct {
	ID       string        `json:"id"`
	Username string        `json:"username"`
	Email    string        `json:"email"`
	Role     deskline.Role `json:"role"`
}

// departmentView is a department, with its members when the caller may see them.
type departmentView struct {
	*deskline.Department
	Users *[]memberView `json:"Users,omitempty"`
}
