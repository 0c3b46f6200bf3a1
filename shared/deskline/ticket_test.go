package deskline_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deskline/deskline/shared/deskline"
)

// TestTicketTransitionTable checks every pair of statuses for every role
// against the written table: closed is final except that an admin may
// reopen it.
func TestTicketTransitionTable(t *testing.T) {
	allowed := map[deskline.TicketStatus][]deskline.TicketStatus{
		deskline.TicketOpen:       {deskline.TicketOpen, deskline.TicketInProgress, deskline.TicketResolved, deskline.TicketClosed},
		deskline.TicketInProgress: {deskline.TicketOpen, deskline.TicketInProgress, deskline.TicketResolved, deskline.TicketClosed},
		deskline.TicketResolved:   {deskline.TicketOpen, deskline.TicketInProgress, deskline.TicketResolved, deskline.TicketClosed},
		deskline.TicketClosed:     {deskline.TicketClosed},
	}
	adminAlso := map[[2]deskline.TicketStatus]bool{{deskline.TicketClosed, deskline.TicketOpen}: true}
	for _, role := range []deskline.Role{deskline.RoleAdmin, deskline.RoleDepartmentHead, deskline.RoleEmployee} {
		for _, from := range deskline.TicketStatuses {
			for _, to := range deskline.TicketStatuses {
				t.Run(fmt.Sprintf("%s %s to %s", role, from, to), func(t *testing.T) {
					want := slices.Contains(allowed[from], to) || (role == deskline.RoleAdmin && adminAlso[[2]deskline.TicketStatus{from, to}])
					err := deskline.CanTransitionTicket(from, to, role)
					if (err == nil) != want {
						t.Fatalf("got %v, want allowed=%v", err, want)
					}
					if err != nil && deskline.ErrorCode(err) != deskline.ECONFLICT {
						t.Errorf("refusal code %q, want %q", deskline.ErrorCode(err), deskline.ECONFLICT)
					}
				})
			}
		}
	}
}

func TestTicketSetStatusTimestamps(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	steps := []struct {
		to                 deskline.TicketStatus
		resolved, closed   bool
		resolvedAtThisStep bool
	}{
		{deskline.TicketInProgress, false, false, false},
		{deskline.TicketResolved, true, false, true},
		{deskline.TicketResolved, true, false, false}, // no change keeps the time
		{deskline.TicketClosed, true, true, false},    // closing keeps when it was resolved
		{deskline.TicketOpen, false, false, false},    // reopening clears both
		{deskline.TicketClosed, true, true, true},     // closing directly also resolves
		{deskline.TicketOpen, false, false, false},
	}
	tk := &deskline.Ticket{Status: deskline.TicketOpen}
	var resolvedAt time.Time
	for i, s := range steps {
		now := t0.Add(time.Duration(i) * time.Hour)
		tk.SetStatus(s.to, now)
		if tk.Status != s.to {
			t.Fatalf("step %d: status %s, want %s", i, tk.Status, s.to)
		}
		if (tk.ResolvedAt != nil) != s.resolved || (tk.ClosedAt != nil) != s.closed {
			t.Fatalf("step %d (%s): resolved_at %v closed_at %v, want set %v %v", i, s.to, tk.ResolvedAt, tk.ClosedAt, s.resolved, s.closed)
		}
		if s.resolvedAtThisStep {
			resolvedAt = now
		}
		if tk.ResolvedAt != nil && !tk.ResolvedAt.Equal(resolvedAt) {
			t.Errorf("step %d: resolved_at %v, want %v", i, tk.ResolvedAt, resolvedAt)
		}
		if tk.ClosedAt != nil && s.to == deskline.TicketClosed && !tk.ClosedAt.Equal(now) {
			t.Errorf("step %d: closed_at %v, want %v", i, tk.ClosedAt, now)
		}
	}
}

func TestTicketKeys(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"IT-1", true},
		{"IT-42", true},
		{"HR2-1234567890", true},
		{"ABCDEFGHIJ-9", true},
		{"ABCDEFGHIJK-9", false}, // code longer than 10
		{"I-1", false},           // code shorter than 2
		{"it-1", false},
		{"2B-1", false},
		{"IT-0", false},
		{"IT-01", false},
		{"IT-", false},
		{"IT1", false},
		{"IT-12345678901", false},
		{"TKT-06H1BJ8PKRKC79Q2FH25NQKR7G", false},
		{" IT-1", false},
		{"IT-1 ", false},
	}
	for _, tt := range tests {
		if got := deskline.IsTicketKey(tt.in); got != tt.want {
			t.Errorf("IsTicketKey(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
	if got := deskline.TicketKey("IT", 42); got != "IT-42" || !deskline.IsTicketKey(got) {
		t.Errorf("TicketKey(IT, 42) = %q", got)
	}
	// Every code a department may have makes keys that parse as keys.
	for _, code := range []string{"IT", "HR", "FIN", "A1", "ABCDEFGHIJ"} {
		if err := deskline.ValidateDepartmentCode(code); err != nil {
			t.Fatalf("code %s: %v", code, err)
		}
		if k := deskline.TicketKey(code, 1); !deskline.IsTicketKey(k) {
			t.Errorf("key %s of valid code %s is not recognized", k, code)
		}
	}
}

func TestTicketFieldValidation(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		field   string
		message string
	}{
		{"title ok", deskline.ValidateTitle("Fix it"), "", ""},
		{"title trimmed to 3", deskline.ValidateTitle("  abc  "), "", ""},
		{"title empty", deskline.ValidateTitle(""), "title", "Title is required"},
		{"title blank", deskline.ValidateTitle("   "), "title", "Title is required"},
		{"title short", deskline.ValidateTitle("ab"), "title", "Title must be between 3 and 200 characters"},
		{"title 200 runes", deskline.ValidateTitle(strings.Repeat("é", 200)), "", ""},
		{"title long", deskline.ValidateTitle(strings.Repeat("x", 201)), "title", "Title must be between 3 and 200 characters"},
		{"description ok", deskline.ValidateDescription("x"), "", ""},
		{"description empty", deskline.ValidateDescription(" \n"), "description", "Description is required"},
		{"description 5000", deskline.ValidateDescription(strings.Repeat("x", 5000)), "", ""},
		{"description long", deskline.ValidateDescription(strings.Repeat("x", 5001)), "description", "Description must be at most 5000 characters"},
		{"priority ok", deskline.ValidatePriority(deskline.PriorityUrgent), "", ""},
		{"priority bad", deskline.ValidatePriority("critical"), "priority", "Invalid priority level"},
		{"priority empty", deskline.ValidatePriority(""), "priority", "Invalid priority level"},
		{"priority case", deskline.ValidatePriority("High"), "priority", "Invalid priority level"},
		{"category ok", deskline.ValidateCategory(deskline.CategoryFeature), "", ""},
		{"category empty", deskline.ValidateCategory(""), "category", "Category is required"},
		{"category bad", deskline.ValidateCategory("hardware"), "category", "Invalid category (bug, feature, support or other)"},
		{"status ok", deskline.ValidateTicketStatus(deskline.TicketClosed), "", ""},
		{"status of tasks", deskline.ValidateTicketStatus("pending"), "status", "Invalid status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkInvalid(t, tt.err, tt.field, tt.message) })
	}
}

func TestNormalizeTags(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
		msg  string
	}{
		{"none", nil, []string{}, ""},
		{"trimmed, lower-cased, deduplicated", []string{" VPN ", "vpn", "Net"}, []string{"vpn", "net"}, ""},
		{"ten", strings.Split("a b c d e f g h i j", " "), strings.Split("a b c d e f g h i j", " "), ""},
		{"eleven", strings.Split("a b c d e f g h i j k", " "), nil, "At most 10 tags"},
		{"empty tag", []string{"a", "  "}, nil, "Each tag must be 1 to 30 characters"},
		{"long tag", []string{strings.Repeat("x", 31)}, nil, "Each tag must be 1 to 30 characters"},
		{"30 runes", []string{strings.Repeat("ü", 30)}, []string{strings.Repeat("ü", 30)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := deskline.NormalizeTags(tt.in)
			checkInvalid(t, err, "tags", tt.msg)
			if tt.msg == "" && !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2025-03-01", time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), true},
		{"2025-03-01T10:20:30Z", time.Date(2025, 3, 1, 10, 20, 30, 0, time.UTC), true},
		{"2025-03-01T10:20:30.5+02:00", time.Date(2025, 3, 1, 8, 20, 30, 500000000, time.UTC), true},
		{"2025-02-30", time.Time{}, false},
		{"01/03/2025", time.Time{}, false},
		{"tomorrow", time.Time{}, false},
		{"", time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := deskline.ParseDate("due_date", tt.in)
			if !tt.ok {
				checkInvalid(t, err, "due_date", "due_date must be an ISO 8601 date (YYYY-MM-DD or RFC 3339)")
				return
			}
			if err != nil || !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Errorf("got %v (%v), want %v in UTC", got, err, tt.want)
			}
		})
	}
}

func TestSearch(t *testing.T) {
	if got := deskline.SearchText("  Printer ON\tfire ", "IT-3", "", "vpn net"); got != "printer on fire it-3 vpn net" {
		t.Errorf("SearchText = %q", got)
	}
	words, err := deskline.SearchWords("  Printer   FIRE ")
	if err != nil || !slices.Equal(words, []string{"printer", "fire"}) {
		t.Errorf("SearchWords = %q, %v", words, err)
	}
	if words, err := deskline.SearchWords(""); err != nil || len(words) != 0 {
		t.Errorf("empty search = %q, %v", words, err)
	}
	_, err = deskline.SearchWords("a b c d e f g h i j k")
	checkInvalid(t, err, "search", "At most 10 search words")
}

func TestTicketPermissions(t *testing.T) {
	tk := &deskline.Ticket{DepartmentID: "DEP-A", CreatedBy: "USR-CREATOR", AssignedTo: "USR-ASSIGNEE"}
	p := func(id string, role deskline.Role, dept string) *deskline.Principal {
		return &deskline.Principal{UserID: id, Role: role, DepartmentID: dept}
	}
	tests := []struct {
		name                string
		p                   *deskline.Principal
		read, edit, triageA bool
	}{
		{"admin", p("USR-ADMIN", deskline.RoleAdmin, ""), true, true, true},
		{"head of the department", p("USR-HEAD", deskline.RoleDepartmentHead, "DEP-A"), true, true, true},
		{"head of another department", p("USR-HEADB", deskline.RoleDepartmentHead, "DEP-B"), false, false, false},
		{"creator", p("USR-CREATOR", deskline.RoleEmployee, "DEP-A"), true, true, false},
		{"assignee", p("USR-ASSIGNEE", deskline.RoleEmployee, "DEP-A"), true, true, false},
		{"other employee", p("USR-OTHER", deskline.RoleEmployee, "DEP-A"), true, false, false},
		{"creator moved away", p("USR-CREATOR", deskline.RoleEmployee, "DEP-B"), false, false, false},
		{"no department", p("USR-X", deskline.RoleEmployee, ""), false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.CanReadTicket(tk); got != tt.read {
				t.Errorf("CanReadTicket = %v, want %v", got, tt.read)
			}
			if got := tt.p.CanEditTicket(tk); got != tt.edit {
				t.Errorf("CanEditTicket = %v, want %v", got, tt.edit)
			}
			if got := tt.p.CanTriage("DEP-A"); got != tt.triageA {
				t.Errorf("CanTriage(DEP-A) = %v, want %v", got, tt.triageA)
			}
		})
	}
	if (&deskline.Principal{Role: deskline.RoleDepartmentHead}).CanTriage("") {
		t.Errorf("a head without department triages the empty department")
	}
}
