package cloud_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/deskline/deskline/shared/analytics"
	"github.com/deskline/deskline/shared/api"
	"github.com/deskline/deskline/shared/dynamo"
)

// failingMailer refuses every message.
type failingMailer struct{ tries int }

func (m *failingMailer) Send(context.Context, string, string, string) error {
	m.tries++
	return errors.New("SES is down")
}

// TestScheduledReportsAreMailed runs the reports-mailer task the way its
// EventBridge schedule does (a scheduled event's time) against reports
// saved through the API, and reads the outbox.
func TestScheduledReportsAreMailed(t *testing.T) {
	monday8 := time.Date(2025, 3, 3, 8, 0, 0, 0, time.UTC)
	clock := &stepClock{t: monday8}
	cl := newClockCloud(t, clock)
	c := newClient(t, cl)
	admin := c.as(c.login(adminEmail, adminPassword))
	const lead, other = "lead@example.com", "other@example.com"
	daily := mustCreate(t, admin, "/api/analytics/reports", map[string]any{
		"name": "Daily tasks", "type": "task", "schedule": map[string]any{"cron": "0 9 * * *", "recipientEmail": "Lead@Example.com"},
	})["id"].(string)
	paused := mustCreate(t, admin, "/api/analytics/reports", map[string]any{
		"name": "Paused", "type": "task", "schedule": map[string]any{"cron": "0 9 * * *", "recipientEmail": other},
	})["id"].(string)
	mustPut(t, admin, "/api/analytics/reports/"+paused, map[string]any{"isActive": false})
	mustCreate(t, admin, "/api/analytics/reports", map[string]any{"name": "Unscheduled", "type": "task"})
	// A schedule saved before crons were checked (Quartz's "?"): skipped
	// and reported, never a failed run.
	legacy := &analytics.Report{
		ID: "RPT-01JB0000000000000000000LEG", Name: "Legacy", Type: analytics.ReportTask, IsActive: true,
		Schedule:  &analytics.Schedule{Cron: "0 9 ? * MON", RecipientEmail: other},
		CreatedAt: clock.Now(), UpdatedAt: clock.Now(),
	}
	if err := cl.App.Store.CreateReport(context.Background(), legacy); err != nil {
		t.Fatal(err)
	}

	mailer, err := cl.App.TaskHandler("reports-mailer")
	if err != nil {
		t.Fatal(err)
	}
	run := func(at time.Time) api.ReportMailing {
		t.Helper()
		payload, _ := json.Marshal(map[string]string{"source": "aws.events", "detail-type": "Scheduled Event", "time": at.Format(time.RFC3339)})
		out, err := mailer(context.Background(), payload)
		if err != nil {
			t.Fatalf("reports-mailer at %s: %v", at, err)
		}
		return out.(api.ReportMailing)
	}
	outbox := func(to string) []dynamo.Mail {
		t.Helper()
		m, err := cl.App.Store.Outbox(context.Background(), to, 50)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	wantMails := func(when string, n int) {
		t.Helper()
		if got := outbox(lead); len(got) != n {
			t.Fatalf("%s: %d mails to %s, want %d", when, len(got), lead, n)
		}
	}

	if got := run(monday8.Add(59 * time.Minute)); got.Checked != 2 || len(got.Sent) != 0 || len(got.Unschedulable) != 1 || got.Unschedulable[0] != legacy.ID {
		t.Errorf("before the fire: %+v, want 2 checked, none sent, the legacy report unschedulable", got)
	}
	wantMails("before the fire", 0)

	got := run(monday8.Add(64 * time.Minute))
	if len(got.Sent) != 1 || got.Sent[0] != daily {
		t.Errorf("after the fire: %+v, want %s sent", got, daily)
	}
	wantMails("after the fire", 1)
	m := outbox(lead)[0]
	for _, want := range []string{`Deskline report "Daily tasks" (task)`, "run for 2025-03-03T09:00:00Z", "dimension,value,count", "status,pending,0", "priority,high,0"} {
		if !strings.Contains(m.Body, want) {
			t.Errorf("mail body lacks %q:\n%s", want, m.Body)
		}
	}
	if !strings.HasPrefix(m.Subject, "Deskline report: Daily tasks (") {
		t.Errorf("subject %q", m.Subject)
	}

	// A retried invocation (same event time) and the next runs of the
	// hour send nothing more; nor does anything reach the paused report's
	// recipient.
	run(monday8.Add(64 * time.Minute))
	run(monday8.Add(69 * time.Minute))
	wantMails("after retries", 1)
	if n := len(outbox(other)); n != 0 {
		t.Errorf("the paused report was mailed %d times", n)
	}

	// The next day's fire is sent.
	clock.advance(monday8.Add(25 * time.Hour).Sub(clock.Now()))
	run(monday8.Add(25*time.Hour + 2*time.Minute))
	wantMails("next day", 2)

	// A fire more than an hour back (the mailer was down) is skipped.
	run(monday8.Add(50*time.Hour + time.Minute))
	wantMails("after an outage", 2)

	// A fire before the report last changed is not due.
	clock.advance(monday8.Add(73*time.Hour + time.Minute).Sub(clock.Now()))
	mustPut(t, admin, "/api/analytics/reports/"+daily, map[string]any{"description": "for the stand-up"})
	run(monday8.Add(73*time.Hour + 3*time.Minute))
	wantMails("after an edit past the fire", 2)

	// A mail that fails gives its claim back: the run fails, and a retry
	// of the same event sends it.
	srv := *cl.App.Server
	down := &failingMailer{}
	srv.Mailer = down
	fourth := monday8.Add(97*time.Hour + time.Minute)
	if res, err := srv.MailDueReports(context.Background(), fourth); err == nil || len(res.Failed) != 1 || down.tries != 1 {
		t.Errorf("with SES down: %+v, %v (tries %d); want one failure", res, err, down.tries)
	}
	wantMails("with SES down", 2)
	if got := run(fourth); len(got.Sent) != 1 {
		t.Errorf("retry after SES came back: %+v", got)
	}
	wantMails("after SES came back", 3)
	if !strings.Contains(outbox(lead)[0].Body, "for the stand-up") {
		t.Errorf("latest mail lacks the description:\n%s", outbox(lead)[0].Body)
	}
}

// The schedule's cron is checked when it is set.
func TestReportScheduleCronIsChecked(t *testing.T) {
	w := newWorld(t)
	admin := w.call(t, w.admin)
	id := mustCreate(t, admin, "/api/analytics/reports", map[string]any{"name": "Cron check", "type": "task"})["id"].(string)
	for _, cron := range []string{"0 25 * * *", "0 9 * * MON#2", "0 9 L * *", "every day"} {
		wantErr(t, admin.do("PUT", "/api/analytics/reports/"+id+"/schedule", map[string]any{"cron": cron, "recipientEmail": "a@b.co"}), 400, "cron", cron)
	}
	got := mustPut(t, admin, "/api/analytics/reports/"+id+"/schedule", map[string]any{"cron": " 30  7 * * mon-fri ", "recipientEmail": "a@b.co"})
	if s := got["report"].(map[string]any)["schedule"].(map[string]any); s["cron"] != "30 7 * * mon-fri" {
		t.Errorf("stored schedule %v", s)
	}
}
