package api

import (
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
