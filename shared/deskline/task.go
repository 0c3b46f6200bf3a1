package deskline

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// TaskStatus is where a task stands.
type TaskStatus string

// Task statuses.
const (
	TaskPending    TaskStatus = "pending"
	TaskInProgress TaskStatus = "in_progress"
	TaskCompleted  TaskStatus = "completed"
	TaskCancelled  TaskStatus = "cancelled"
)

// TaskStatuses lists every task status.
var TaskStatuses = []TaskStatus{TaskPending, TaskInProgress, TaskCompleted, TaskCancelled}

// Finished reports whether a task no longer blocks the tasks that depend on it.
func (s TaskStatus) Finished() bool { return s == TaskCompleted || s == TaskCancelled }

// taskTransitions is the written transition table of tasks.
var taskTransitions = map[TaskStatus][]TaskStatus{
	TaskPending:    {TaskInProgress, TaskCompleted, TaskCancelled},
	TaskInProgress: {TaskPending, TaskCompleted, TaskCancelled},
	TaskCompleted:  {TaskInProgress, TaskPending},
	TaskCancelled:  {TaskPending},
}

// CanTransitionTask checks a task status change against the transition table.
func CanTransitionTask(from, to TaskStatus) error {
	if from == to || slices.Contains(taskTransitions[from], to) {
		return nil
	}
	return Errorf(ECONFLICT, "A task cannot move from %s to %s", from, to)
}

// ValidateTaskStatus checks a task status.
func ValidateTaskStatus(s TaskStatus) error {
	if !slices.Contains(TaskStatuses, s) {
		return Invalid("status", "Invalid status")
	}
	return nil
}

// ValidateProgress checks a progress percentage.
func ValidateProgress(p int) error {
	if p < 0 || p > 100 {
		return Invalid("progress", "Progress must be from 0 to 100")
	}
	return nil
}

// Task is a unit of work with an assignee, a due date and dependencies. Its
// JSON field names are the contract's (camelCase for tasks).
type Task struct {
	ID           string     `json:"id"`
	Title        string     `json:"title"`
	Description  string     `json:"description"`
	Status       TaskStatus `json:"status"`
	Priority     Priority   `json:"priority"`
	DueDate      *time.Time `json:"dueDate"`
	AssignedToID string     `json:"assignedToId"`
	CreatedBy    string     `json:"createdBy"`
	UpdatedBy    string     `json:"updatedBy"`
	DepartmentID string     `json:"departmentId"`
	TicketID     string     `json:"ticketId"`
	Progress     int        `json:"progress"`
	DependsOn    []string   `json:"dependsOn"`
	IsActive     bool       `json:"isActive"`
	CompletedAt  *time.Time `json:"completedAt"`
	CreatedAt    time.Time  `json:"createdAt"`
	UpdatedAt    time.Time  `json:"updatedAt"`
	Version      int64      `json:"version"`
}

// Overdue reports whether the task is past its due date and unfinished.
func (t *Task) Overdue(now time.Time) bool {
	return t.DueDate != nil && now.After(*t.DueDate) && !t.Status.Finished()
}

// SetStatus changes the status; completing sets progress to 100.
func (t *Task) SetStatus(s TaskStatus, now time.Time) {
	if t.Status == s {
		return
	}
	t.Status = s
	if s == TaskCompleted {
		t.Progress, t.CompletedAt = 100, &now
	} else {
		t.CompletedAt = nil
		if t.Progress == 100 {
			t.Progress = 90
		}
	}
}

// CanReadTask reports whether the caller may see a task: admins all; heads
// their department's; employees the tasks they created or are assigned.
func (p *Principal) CanReadTask(t *Task) bool {
	return p.involved(t.DepartmentID, t.CreatedBy, t.AssignedToID)
}

// Cycle finds a dependency cycle that adding from → to would close in graph
// (task → the tasks it depends on). It returns the cycle as a path starting
// and ending at from, or nil.
func Cycle(graph map[string][]string, from, to string) []string {
	if from == to {
		return []string{from, from}
	}
	// Depth-first search from `to` for `from`, remembering the path.
	seen := map[string]bool{}
	var path []string
	var visit func(n string) bool
	visit = func(n string) bool {
		if seen[n] {
			return false
		}
		seen[n] = true
		path = append(path, n)
		if n == from {
			return true
		}
		for _, m := range graph[n] {
			if visit(m) {
				return true
			}
		}
		path = path[:len(path)-1]
		return false
	}
	if !visit(to) {
		return nil
	}
	return append([]string{from}, path...)
}

// Comment is a message on a ticket or a task.
type Comment struct {
	ID        string    `json:"id"`
	Content   string    `json:"content"`
	TicketID  string    `json:"ticketId,omitempty"`
	TaskID    string    `json:"taskId,omitempty"`
	AuthorID  string    `json:"authorId"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	Version   int64     `json:"version"`
}

// NormalizeComment trims and checks comment content (1–5000 characters).
func NormalizeComment(content string) (string, error) {
	content = strings.TrimSpace(content)
	n := utf8.RuneCountInString(content)
	switch {
	case n == 0:
		return "", Invalid("content", "Comment content is required")
	case n > 5000:
		return "", Invalid("content", "Comment must be at most 5000 characters")
	}
	return content, nil
}

// HistoryEntry is one recorded change of a ticket or task.
type HistoryEntry struct {
	EntityType string    `json:"entityType"` // ticket or task
	EntityID   string    `json:"entityId"`
	Action     string    `json:"action"` // created, updated, comment_added, comment_edited, comment_deleted
	Field      string    `json:"field,omitempty"`
	OldValue   any       `json:"oldValue,omitempty"`
	NewValue   any       `json:"newValue,omitempty"`
	ActorID    string    `json:"actorId"`
	At         time.Time `json:"at"`
	Version    int64     `json:"version,omitempty"`
	CommentID  string    `json:"commentId,omitempty"`
}
