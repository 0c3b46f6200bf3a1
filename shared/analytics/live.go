package analytics

import "github.com/deskline/deskline/shared/deskline"

// TaskCubeFields lists every field of the task cohort cube (status ×
// priority), the fields a read of current task states needs.
func TaskCubeFields() []string {
	out := make([]string, 0, len(deskline.TaskStatuses)*len(deskline.Priorities))
	for _, s := range deskline.TaskStatuses {
		for _, p := range deskline.Priorities {
			out = append(out, TaskCubeField(s, p))
		}
	}
	return out
}

// TaskStates counts tasks by current status.
type TaskStates struct {
	Total      int64 `json:"totalTasks"`
	Completed  int64 `json:"completedTasks"`
	InProgress int64 `json:"inProgressTasks"`
	Pending    int64 `json:"pendingTasks"`
	Cancelled  int64 `json:"cancelledTasks"`
}

// TaskStates reads the task cohort of c: the tasks it counts (by creation
// day, in their current department) by their current status.
func (c Counters) TaskStates() TaskStates {
	var t TaskStates
	for _, cell := range c.TaskCube() {
		t.Total += cell.Count
		switch cell.Status {
		case deskline.TaskCompleted:
			t.Completed += cell.Count
		case deskline.TaskInProgress:
			t.InProgress += cell.Count
		case deskline.TaskPending:
			t.Pending += cell.Count
		case deskline.TaskCancelled:
			t.Cancelled += cell.Count
		}
	}
	return t
}
