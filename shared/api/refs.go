package api

import (
	"strings"
	"time"

	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/dynamo"
)

// personRef is the contract's embedded {id, username, email}.
type personRef struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Email    string `json:"email"`
}

func refUser(p *dynamo.People, id string) *personRef {
	if id == "" {
		return nil
	}
	if u := p.User(id); u != nil {
		return &personRef{ID: u.ID, Username: u.Username, Email: u.Email}
	}
	return &personRef{ID: id}
}

func refDept(p *dynamo.People, id string) *deptRef {
	if d := p.Department(id); d != nil {
		return &deptRef{ID: d.ID, Name: d.Name}
	}
	if id == "" {
		return nil
	}
	return &deptRef{ID: id}
}

// commentView is a comment with its author.
type commentView struct {
	*deskline.Comment
	Author *personRef `json:"author"`
}

func viewComments(p *dynamo.People, cs []*deskline.Comment) []commentView {
	out := make([]commentView, len(cs))
	for i, c := range cs {
		out[i] = commentView{Comment: c, Author: refUser(p, c.AuthorID)}
	}
	return out
}

// approvedMember reports whether u is an approved member of department dept.
func approvedMember(u *deskline.User, dept string) bool {
	return u != nil && u.Status == deskline.StatusApproved && u.DepartmentID == dept && dept != ""
}

// refPrincipal is the caller as an embedded person.
func refPrincipal(p *deskline.Principal) *personRef {
	return &personRef{ID: p.UserID, Username: p.Username, Email: p.Email}
}

// workFields are the planning fields tickets and tasks share: pointers to
// the request's values (nil: unchanged) and to the entity's.
type workFields struct {
	title, description *string
	priority           *deskline.Priority
	due                *string
	dueField           string
}

// apply validates the request's shared fields and copies them onto the
// entity's title, description, priority and due date.
func (in workFields) apply(title, description *string, priority *deskline.Priority, due **time.Time) error {
	if in.title != nil {
		if err := deskline.ValidateTitle(*in.title); err != nil {
			return err
		}
		*title = strings.TrimSpace(*in.title)
	}
	if in.description != nil {
		if err := deskline.ValidateDescription(*in.description); err != nil {
			return err
		}
		*description = strings.TrimSpace(*in.description)
	}
	if in.priority != nil {
		if err := deskline.ValidatePriority(*in.priority); err != nil {
			return err
		}
		*priority = *in.priority
	}
	if in.due != nil {
		if *in.due == "" {
			*due = nil
			return nil
		}
		d, err := deskline.ParseDate(in.dueField, *in.due)
		if err != nil {
			return err
		}
		*due = &d
	}
	return nil
}
