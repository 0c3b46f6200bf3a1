package app

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

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
	case "reports-mailer":
		return func(ctx context.Context, payload json.RawMessage) (any, error) {
			return a.Server.MailDueReports(ctx, scheduledAt(payload, a.Server.Clock.Now()))
		}, nil
	}
	return nil, fmt.Errorf("no task function named %q", name)
}

// RebuildAnalytics recomputes every analytics aggregate, activity log and
// aggregator state from the base items (tickets, tasks and their history).
func (a *App) RebuildAnalytics(ctx context.Context) (analytics.RebuildReport, error) {
	return analytics.Rebuild(ctx, a.Store, a.Log)
}

// scheduledAt is the time of an EventBridge scheduled event ("time"): a
// retried invocation carries the same time, so it looks for the same fires.
// Other payloads (a manual invoke) run at now.
func scheduledAt(payload json.RawMessage, now time.Time) time.Time {
	var ev struct {
		Time time.Time `json:"time"`
	}
	if json.Unmarshal(payload, &ev) != nil || ev.Time.IsZero() {
		return now
	}
	return ev.Time
}
