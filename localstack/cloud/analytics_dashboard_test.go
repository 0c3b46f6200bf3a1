package cloud_test

import (
	"io"
	"log/slog"
	"testing"

	"github.com/deskline/deskline/shared/app"
	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/dynamo"
)

// countingApp builds a second app on the world's table whose DynamoDB calls
// are counted.
func countingApp(t *testing.T, w *world) (*app.App, *countingDB) {
	t.Helper()
	counter := &countingDB{API: dynamo.LocalClient(w.cloud.DynamoDBEndpoint), calls: map[string]int{}}
	a, err := app.New(w.cloud.App.Config, app.Deps{DynamoDB: counter, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return a, counter
}

var testAdmin = &deskline.Principal{UserID: "USR-01JB0000000000000000000001", Role: deskline.RoleAdmin}

// TestAnalyticsUpdateMetrics: the contract's POST /update-metrics answers
// as the original did and touches nothing: the aggregates are always
// current.
func TestAnalyticsUpdateMetrics(t *testing.T) {
	w := newWorld(t)
	r := w.c.as(w.admin).do("POST", "/api/analytics/update-metrics", nil)
	want(t, r, 200, "update metrics")
	if got := r.obj(t)["message"]; got != "Metrics updated successfully" {
		t.Errorf("message = %v, want %q", got, "Metrics updated successfully")
	}
	want(t, w.c.as(w.headA).do("POST", "/api/analytics/update-metrics", nil), 403, "head")

	a, counter := countingApp(t, w)
	resp := invokeAs(t, a, "analytics-update-metrics", "POST", "/api/analytics/update-metrics", nil, "", "", testAdmin)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
	}
	if got := counter.reset(); len(got) != 0 {
		t.Errorf("update-metrics made DynamoDB calls %v, want none", got)
	}
}
