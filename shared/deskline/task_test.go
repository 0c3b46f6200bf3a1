package deskline_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deskline/deskline/shared/deskline"
)

func TestTaskTransitionTable(t *testing.T) {
	allowed := map[deskline.TaskStatus][]deskline.TaskStatus{
		deskline.TaskPending:    {deskline.TaskInProgress, deskline.TaskCompleted, deskline.TaskCancelled},
		deskline.TaskInProgress: {deskline.TaskPending, deskline.TaskCompleted, deskline.TaskCancelled},
		deskline.TaskCompleted:  {deskline.TaskInProgress, deskline.TaskPending},
		deskline.TaskCancelled:  {deskline.TaskPending},
	}
	for _, from := range deskline.TaskStatuses {
		for _, to := range deskline.TaskStatuses {
			t.Run(fmt.Sprintf("%s to %s", from, to), func(t *testing.T) {
				want := from == to || slices.Contains(allowed[from], to)
				err := deskline.CanTransitionTask(from, to)
				if (err == nil) != want {
					t.Fatalf("got %v, want allowed=%v", err, want)
				}
				if err != nil && deskline.ErrorCode(err) != deskline.ECONFLICT {
					t.Errorf("code %q, want conflict", deskline.ErrorCode(err))
				}
			})
		}
	}
}

func TestTaskFinished(t *testing.T) {
	for _, s := range deskline.TaskStatuses {
		want := s == deskline.TaskCompleted || s == deskline.TaskCancelled
		if got := s.Finished(); got != want {
			t.Errorf("%s.Finished() = %v, want %v", s, got, want)
		}
	}
}

func TestTaskValidation(t *testing.T) {
	for _, p := range []int{0, 1, 50, 99, 100} {
		checkInvalid(t, deskline.ValidateProgress(p), "", "")
	}
	for _, p := range []int{-1, 101, -100, 1 << 30} {
		checkInvalid(t, deskline.ValidateProgress(p), "progress", "Progress must be from 0 to 100")
	}
	for _, s := range deskline.TaskStatuses {
		checkInvalid(t, deskline.ValidateTaskStatus(s), "", "")
	}
	for _, s := range []deskline.TaskStatus{"", "open", "done", "Completed"} {
		checkInvalid(t, deskline.ValidateTaskStatus(s), "status", "Invalid status")
	}
}

func TestTaskOverdue(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { v := now.Add(d); return &v }
	tests := []struct {
		name   string
		due    *time.Time
		status deskline.TaskStatus
		want   bool
	}{
		{"no due date", nil, deskline.TaskPending, false},
		{"due in the future", at(time.Hour), deskline.TaskPending, false},
		{"due right now", at(0), deskline.TaskPending, false},
		{"past due, pending", at(-time.Second), deskline.TaskPending, true},
		{"past due, in progress", at(-48 * time.Hour), deskline.TaskInProgress, true},
		{"past due, completed", at(-time.Hour), deskline.TaskCompleted, false},
		{"past due, cancelled", at(-time.Hour), deskline.TaskCancelled, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			task := &deskline.Task{DueDate: tt.due, Status: tt.status}
			if got := task.Overdue(now); got != tt.want {
				t.Errorf("Overdue = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTaskSetStatusProgress(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name          string
		from          deskline.TaskStatus
		progress      int
		to            deskline.TaskStatus
		wantProgress  int
		wantCompleted bool
	}{
		{"complete sets 100", deskline.TaskInProgress, 40, deskline.TaskCompleted, 100, true},
		{"complete from pending", deskline.TaskPending, 0, deskline.TaskCompleted, 100, true},
		{"reopen drops below 100", deskline.TaskCompleted, 100, deskline.TaskInProgress, 90, false},
		{"back to pending", deskline.TaskCompleted, 100, deskline.TaskPending, 90, false},
		{"start keeps progress", deskline.TaskPending, 30, deskline.TaskInProgress, 30, false},
		{"cancel keeps progress", deskline.TaskInProgress, 60, deskline.TaskCancelled, 60, false},
		{"same status changes nothing", deskline.TaskInProgress, 100, deskline.TaskInProgress, 100, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			task := &deskline.Task{Status: tt.from, Progress: tt.progress}
			if tt.from == deskline.TaskCompleted {
				task.CompletedAt = &t0
			}
			task.SetStatus(tt.to, t0.Add(time.Hour))
			if task.Status != tt.to || task.Progress != tt.wantProgress {
				t.Errorf("status %s progress %d, want %s %d", task.Status, task.Progress, tt.to, tt.wantProgress)
			}
			if tt.wantCompleted && (task.CompletedAt == nil || !task.CompletedAt.Equal(t0.Add(time.Hour))) {
				t.Errorf("completedAt = %v, want %v", task.CompletedAt, t0.Add(time.Hour))
			}
			if !tt.wantCompleted && tt.from != tt.to && task.CompletedAt != nil {
				t.Errorf("completedAt = %v, want cleared", task.CompletedAt)
			}
		})
	}
}

func TestTaskPermissions(t *testing.T) {
	task := &deskline.Task{DepartmentID: "DEP-A", CreatedBy: "USR-CREATOR", AssignedToID: "USR-ASSIGNEE"}
	tests := []struct {
		name string
		p    deskline.Principal
		want bool
	}{
		{"admin", deskline.Principal{UserID: "USR-ADMIN", Role: deskline.RoleAdmin}, true},
		{"head", deskline.Principal{UserID: "USR-HEAD", Role: deskline.RoleDepartmentHead, DepartmentID: "DEP-A"}, true},
		{"other head", deskline.Principal{UserID: "USR-HEAD", Role: deskline.RoleDepartmentHead, DepartmentID: "DEP-B"}, false},
		{"assignee", deskline.Principal{UserID: "USR-ASSIGNEE", Role: deskline.RoleEmployee, DepartmentID: "DEP-A"}, true},
		{"creator", deskline.Principal{UserID: "USR-CREATOR", Role: deskline.RoleEmployee, DepartmentID: "DEP-A"}, true},
		{"uninvolved employee", deskline.Principal{UserID: "USR-OTHER", Role: deskline.RoleEmployee, DepartmentID: "DEP-A"}, false},
		{"assignee moved away", deskline.Principal{UserID: "USR-ASSIGNEE", Role: deskline.RoleEmployee, DepartmentID: "DEP-B"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.CanReadTask(task); got != tt.want {
				t.Errorf("CanReadTask = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestCycle checks the cycle a new edge from → to would close, as the path
// the 409 names.
func TestCycle(t *testing.T) {
	tests := []struct {
		name     string
		graph    map[string][]string
		from, to string
		want     []string
	}{
		{"self", nil, "A", "A", []string{"A", "A"}},
		{"empty graph", nil, "A", "B", nil},
		{"two-cycle", map[string][]string{"B": {"A"}}, "A", "B", []string{"A", "B", "A"}},
		{"three-cycle", map[string][]string{"A": {"B"}, "B": {"C"}}, "C", "A", []string{"C", "A", "B", "C"}},
		{"chain without cycle", map[string][]string{"A": {"B"}, "B": {"C"}}, "A", "C", nil},
		{"diamond without cycle", map[string][]string{"A": {"B", "C"}, "B": {"D"}, "C": {"D"}}, "A", "D", nil},
		{"cycle through a branch", map[string][]string{"B": {"X", "C"}, "C": {"A"}, "X": {"Y"}}, "A", "B", []string{"A", "B", "C", "A"}},
		{"existing cycle elsewhere", map[string][]string{"X": {"Y"}, "Y": {"X"}}, "A", "X", nil},
		{"long cycle", map[string][]string{"B": {"C"}, "C": {"D"}, "D": {"E"}, "E": {"A"}}, "A", "B", []string{"A", "B", "C", "D", "E", "A"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := deskline.Cycle(tt.graph, tt.from, tt.to)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("Cycle(%s → %s) = %v, want %v", tt.from, tt.to, got, tt.want)
			}
			if got == nil {
				return
			}
			// The path is a real cycle: every step is an edge of the graph
			// plus the new one.
			if got[0] != tt.from || got[len(got)-1] != tt.from {
				t.Errorf("path %v does not start and end at %s", got, tt.from)
			}
			for i := 0; i+1 < len(got); i++ {
				a, b := got[i], got[i+1]
				if !(a == tt.from && b == tt.to) && !slices.Contains(tt.graph[a], b) {
					t.Errorf("step %s → %s of %v is not an edge", a, b, got)
				}
			}
		})
	}
}

func TestNormalizeComment(t *testing.T) {
	tests := []struct {
		name, in, want, msg string
	}{
		{"trimmed", "  hello \n", "hello", ""},
		{"empty", "", "", "Comment content is required"},
		{"blank", " \t\n", "", "Comment content is required"},
		{"5000 runes", strings.Repeat("ö", 5000), strings.Repeat("ö", 5000), ""},
		{"too long", strings.Repeat("x", 5001), "", "Comment must be at most 5000 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := deskline.NormalizeComment(tt.in)
			checkInvalid(t, err, "content", tt.msg)
			if tt.msg == "" && got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
