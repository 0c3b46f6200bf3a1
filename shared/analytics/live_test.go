package analytics_test

import (
	"testing"

	"github.com/deskline/deskline/shared/analytics"
	"github.com/deskline/deskline/shared/deskline"
)

func TestTaskStates(t *testing.T) {
	tests := []struct {
		name string
		c    analytics.Counters
		want analytics.TaskStates
	}{
		{"empty", analytics.Counters{}, analytics.TaskStates{}},
		{"every status, priorities summed", analytics.Counters{"kC#pl": 1, "kC#ph": 2, "kC#iu": 3, "kC#cm": 4, "kC#xl": 5, "kNew": 99, "kDone": 7},
			analytics.TaskStates{Total: 15, Pending: 3, InProgress: 3, Completed: 4, Cancelled: 5}},
		{"zeroes left by decrements", analytics.Counters{"kC#pl": 0, "kC#cl": 1}, analytics.TaskStates{Total: 1, Completed: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.TaskStates(); got != tt.want {
				t.Errorf("TaskStates() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestTaskCubeFields(t *testing.T) {
	got := analytics.TaskCubeFields()
	if want := len(deskline.TaskStatuses) * len(deskline.Priorities); len(got) != want {
		t.Fatalf("%d fields, want %d", len(got), want)
	}
	c := analytics.Counters{}
	for _, f := range got {
		c[f] = 1
	}
	if states := c.TaskStates(); states.Total != int64(len(got)) {
		t.Errorf("every field is a cube cell: TaskStates = %+v, want total %d", states, len(got))
	}
}
