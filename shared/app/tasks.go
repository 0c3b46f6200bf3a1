package app

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/deskline/deskline/shared/analytics"
)

// TaskHandler is a task function's Lambda handler: invoked by hand or by a
// command, with any JSON payload, answering a JSON report.
type TaskHandler func(ctx context.Context, payload json.RawMessage) (any, error)

// TaskHandler returns the handler of the named task function.
func (a *App) TaskHandler(name string) (TaskHandler, error) {
	switch name {
	case "analytics-rebuild":
		return func(ctx context.Context, _ json.RawMessage) (any, error) { return a.RebuildAnalytics(ctx) }, nil
	}
	return nil, fmt.Errorf("no task function named %q", name)
}

// RebuildAnalytics recomputes every analytics aggregate, activity log and
// aggregator state from the base items (tickets, tasks and their history).
func (a *App) RebuildAnalytics(ctx context.Context) (analytics.RebuildReport, error) {
	return analytics.Rebuild(ctx, a.Store, a.Log)
}
