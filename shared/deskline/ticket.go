package deskline

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Id prefixes of the core entities.
const (
	PrefixTicket  = "TKT"
	PrefixTask    = "TSK"
	PrefixComment = "CMT"
)

// TicketStatus is where a ticket stands.
type TicketStatus string

// Ticket statuses.
const (
	TicketOpen       TicketStatus = "open"
	TicketInProgress TicketStatus = "in_progress"
	TicketResolved   TicketStatus = "resolved"
	TicketClosed     TicketStatus = "closed"
)

// TicketStatuses lists every ticket status.
var TicketStatuses = []TicketStatus{TicketOpen, TicketInProgress, TicketResolved, TicketClosed}

// Priority is how urgent a ticket or task is.
type Priority string

// Priorities.
const (
	PriorityLow    Priority = "low"
	PriorityMedium Priority = "medium"
	PriorityHigh   Priority = "high"
	PriorityUrgent Priority = "urgent"
)

// Priorities lists every priority, lowest first.
var Priorities = []Priority{PriorityLow, PriorityMedium, PriorityHigh, PriorityUrgent}

// Category is what kind of request a ticket is.
type Category string

// Categories.
const (
	CategoryBug     Category = "bug"
	CategoryFeature Category = "feature"
	CategorySupport Category = "support"
	CategoryOther   Category = "other"
)

// Categories lists every category.
var Categories = []Category{CategoryBug, CategoryFeature, CategorySupport, CategoryOther}

// ticketTransitions is the written transition table: from → allowed targets.
// Reopening a closed ticket is for admins only (see CanTransitionTicket).
var ticketTransitions = map[TicketStatus][]TicketStatus{
	TicketOpen:       {TicketInProgress, TicketResolved, TicketClosed},
	TicketInProgress: {TicketOpen, TicketResolved, TicketClosed},
	TicketResolved:   {TicketOpen, TicketInProgress, TicketClosed},
	TicketClosed:     {TicketOpen},
}

// CanTransitionTicket checks a status change against the transition table.
// Closed is final except that an admin may reopen it.
func CanTransitionTicket(from, to TicketStatus, role Role) error {
	if from == to {
		return nil
	}
	if from == TicketClosed && role != RoleAdmin {
		return Errorf(ECONFLICT, "Closed tickets can only be reopened by an admin")
	}
	if !slices.Contains(ticketTransitions[from], to) {
		return Errorf(ECONFLICT, "A ticket cannot move from %s to %s", from, to)
	}
	return nil
}

// Ticket is a help-desk request. Its JSON field names are the contract's
// (snake_case for tickets).
type Ticket struct {
	ID           string       `json:"id"`
	Key          string       `json:"key"`
	Title        string       `json:"title"`
	Description  string       `json:"description"`
	Status       TicketStatus `json:"status"`
	Priority     Priority     `json:"priority"`
	Category     Category     `json:"category"`
	DepartmentID string       `json:"department_id"`
	AssignedTo   string       `json:"assigned_to"`
	CreatedBy    string       `json:"created_by"`
	UpdatedBy    string       `json:"updated_by"`
	DueDate      *time.Time   `json:"due_date"`
	Tags         []string     `json:"tags"`
	IsActive     bool         `json:"is_active"`
	ResolvedAt   *time.Time   `json:"resolved_at"`
	ClosedAt     *time.Time   `json:"closed_at"`
	CreatedAt    time.Time    `json:"createdAt"`
	UpdatedAt    time.Time    `json:"updatedAt"`
	Version      int64        `json:"version"`
}

// SetStatus changes the status and keeps resolved_at / closed_at true.
func (t *Ticket) SetStatus(s TicketStatus, now time.Time) {
	if t.Status == s {
		return
	}
	t.Status = s
	switch s {
	case TicketResolved:
		t.ResolvedAt, t.ClosedAt = &now, nil
	case TicketClosed:
		t.ClosedAt = &now
		if t.ResolvedAt == nil {
			t.ResolvedAt = &now
		}
	default:
		t.ResolvedAt, t.ClosedAt = nil, nil
	}
}

// ticketKeyPattern matches human ticket keys such as IT-42.
var ticketKeyPattern = regexp.MustCompile(`^[A-Z][A-Z0-9]{1,9}-[1-9][0-9]{0,9}$`)

// IsTicketKey reports whether s is a human ticket key (IT-42) rather than an id.
func IsTicketKey(s string) bool { return ticketKeyPattern.MatchString(s) }

// TicketKey formats a department code and sequence number as a ticket key.
func TicketKey(code string, n int64) string { return fmt.Sprintf("%s-%d", code, n) }

// ValidateTitle checks a ticket or task title: 3–200 characters.
func ValidateTitle(title string) error {
	n := utf8.RuneCountInString(strings.TrimSpace(title))
	switch {
	case n == 0:
		return Invalid("title", "Title is required")
	case n < 3 || n > 200:
		return Invalid("title", "Title must be between 3 and 200 characters")
	}
	return nil
}

// ValidateDescription checks a description: required, at most 5000 characters.
func ValidateDescription(d string) error {
	n := utf8.RuneCountInString(strings.TrimSpace(d))
	switch {
	case n == 0:
		return Invalid("description", "Description is required")
	case n > 5000:
		return Invalid("description", "Description must be at most 5000 characters")
	}
	return nil
}

// ValidatePriority checks a priority.
func ValidatePriority(p Priority) error {
	if !slices.Contains(Priorities, p) {
		return Invalid("priority", "Invalid priority level")
	}
	return nil
}

// ValidateCategory checks a category.
func ValidateCategory(c Category) error {
	if c == "" {
		return Invalid("category", "Category is required")
	}
	if !slices.Contains(Categories, c) {
		return Invalid("category", "Invalid category (bug, feature, support or other)")
	}
	return nil
}

// ValidateTicketStatus checks a ticket status.
func ValidateTicketStatus(s TicketStatus) error {
	if !slices.Contains(TicketStatuses, s) {
		return Invalid("status", "Invalid status")
	}
	return nil
}

// NormalizeTags validates tags (at most 10, each 1–30 characters) and returns
// them trimmed, lower-cased and without duplicates.
func NormalizeTags(tags []string) ([]string, error) {
	if len(tags) > 10 {
		return nil, Invalid("tags", "At most 10 tags")
	}
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		t = strings.ToLower(strings.TrimSpace(t))
		if n := utf8.RuneCountInString(t); n == 0 || n > 30 {
			return nil, Invalid("tags", "Each tag must be 1 to 30 characters")
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out, nil
}

// ParseDate reads an RFC 3339 timestamp or a YYYY-MM-DD date (midnight UTC).
func ParseDate(field, s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, Invalid(field, fmt.Sprintf("%s must be an ISO 8601 date (YYYY-MM-DD or RFC 3339)", field))
}

// SearchText is the lower-cased text that ticket search matches words in.
func SearchText(parts ...string) string {
	return strings.ToLower(strings.Join(strings.Fields(strings.Join(parts, " ")), " "))
}

// SearchWords splits a search query into lower-cased words (at most 10).
func SearchWords(q string) ([]string, error) {
	words := strings.Fields(strings.ToLower(q))
	if len(words) > 10 {
		return nil, Invalid("search", "At most 10 search words")
	}
	return words, nil
}

// CanReadTicket reports whether the caller may see a ticket: admins all,
// everyone else their own department's.
func (p *Principal) CanReadTicket(t *Ticket) bool {
	return p.IsAdmin() || p.InDepartment(t.DepartmentID)
}

// CanEditTicket reports whether the caller may change a ticket at all:
// admins; heads in their department; employees on tickets of their
// department that they created or are assigned to.
func (p *Principal) CanEditTicket(t *Ticket) bool {
	return p.involved(t.DepartmentID, t.CreatedBy, t.AssignedTo)
}

// involved reports whether the caller works on an item of a department:
// admins; the department's head; its people who created or are assigned it.
func (p *Principal) involved(department, creator, assignee string) bool {
	switch {
	case p.IsAdmin():
		return true
	case !p.InDepartment(department):
		return false
	case p.Role == RoleDepartmentHead:
		return true
	}
	return creator == p.UserID || assignee == p.UserID
}

// CanTriage reports whether the caller may assign and reschedule work in a
// department: admins, and that department's head.
func (p *Principal) CanTriage(departmentID string) bool {
	return p.IsAdmin() || (p.Role == RoleDepartmentHead && p.InDepartment(departmentID))
}
