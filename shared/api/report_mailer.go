package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/deskline/deskline/shared/analytics"
	"github.com/deskline/deskline/shared/dynamo"
)

// ReportLookback is how late the report mailer may send a scheduled
// report: a fire further back than this when it runs (every few minutes)
// is skipped, so that the mailer coming back after an outage does not
// send stale reports.
const ReportLookback = time.Hour

// ReportMailing says what one run of the report mailer did.
type ReportMailing struct {
	At      time.Time `json:"at"`
	Checked int       `json:"checked"` // active reports with a schedule
	Sent    []string  `json:"sent"`    // ids of the reports mailed
	Failed  []string  `json:"failed"`  // ids of the reports whose mail failed
	// Unschedulable are reports whose stored cron the mailer cannot run
	// (saved before schedules were checked): skipped, logged, and not a
	// failure of the run, which a retry would not mend.
	Unschedulable []string `json:"unschedulable"`
}

// errUnschedulable marks a report whose cron expression does not parse.
var errUnschedulable = errors.New("unschedulable report")

// MailDueReports mails every active report whose schedule fired in the
// hour up to at (and after the report was last changed) and has not been
// mailed for that fire yet. A claim per report and fire, taken before
// sending, makes a retried or overlapping run send nothing twice; a mail
// that fails gives its claim back and makes the run fail, so a retry sends
// it.
func (s *Server) MailDueReports(ctx context.Context, at time.Time) (ReportMailing, error) {
	res := ReportMailing{At: at.UTC(), Sent: []string{}, Failed: []string{}, Unschedulable: []string{}}
	active := true
	var errs []error
	for cursor := ""; ; {
		page, err := s.Store.ListReports(ctx, dynamo.ReportFilter{IsActive: &active, Limit: 100, Cursor: cursor})
		if err != nil {
			return res, fmt.Errorf("list reports: %w", err)
		}
		for _, rep := range page.Items {
			if rep.Schedule == nil {
				continue
			}
			res.Checked++
			sent, err := s.mailIfDue(ctx, rep, at)
			switch {
			case errors.Is(err, errUnschedulable):
				res.Unschedulable = append(res.Unschedulable, rep.ID)
				s.Log.WarnContext(ctx, "scheduled report skipped", slog.String("reportId", rep.ID), slog.Any("error", err))
			case err != nil:
				res.Failed = append(res.Failed, rep.ID)
				errs = append(errs, err)
				s.Log.ErrorContext(ctx, "scheduled report not sent", slog.String("reportId", rep.ID), slog.Any("error", err))
			case sent:
				res.Sent = append(res.Sent, rep.ID)
			}
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	return res, errors.Join(errs...)
}

// mailIfDue sends one report if its schedule is due at at.
func (s *Server) mailIfDue(ctx context.Context, rep *analytics.Report, at time.Time) (bool, error) {
	c, err := analytics.ParseCron(rep.Schedule.Cron)
	if err != nil {
		return false, fmt.Errorf("%w %s: schedule %q: %v", errUnschedulable, rep.ID, rep.Schedule.Cron, err)
	}
	after := at.Add(-ReportLookback)
	if rep.UpdatedAt.After(after) {
		after = rep.UpdatedAt // a fire before the schedule was set is not due
	}
	fire, ok := c.LastFire(after, at)
	if !ok {
		return false, nil
	}
	claimed, prev, err := s.Store.ClaimReportRun(ctx, rep.ID, fire)
	if err != nil || !claimed {
		return false, err
	}
	subject, body, err := s.reportMail(ctx, rep, fire)
	if err == nil {
		err = s.Mailer.Send(ctx, rep.Schedule.RecipientEmail, subject, body)
	}
	if err != nil {
		if rerr := s.Store.ReleaseReportRun(ctx, rep.ID, fire, prev); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return false, fmt.Errorf("mail report %s for %s: %w", rep.ID, fire.Format(time.RFC3339), err)
	}
	return true, nil
}

// reportMail renders a report's mail: a short header and its data as CSV,
// the same rows GET /api/analytics/reports/{id}/export answers.
func (s *Server) reportMail(ctx context.Context, rep *analytics.Report, fire time.Time) (subject, body string, err error) {
	rng, err := analytics.ParseRange(rep.Parameters.StartDate, rep.Parameters.EndDate, s.Clock.Now())
	if err != nil {
		return "", "", err
	}
	_, header, recs, err := s.reportData(ctx, rep)
	if err != nil {
		return "", "", err
	}
	var b bytes.Buffer
	days := func(t time.Time) string { return t.Format(time.DateOnly) }
	fmt.Fprintf(&b, "Deskline report %q (%s)\n", rep.Name, rep.Type)
	if rep.Description != "" {
		fmt.Fprintf(&b, "%s\n", rep.Description)
	}
	fmt.Fprintf(&b, "Days %s to %s, %d rows. Scheduled %q (UTC), run for %s.\n\n", days(rng.Start), days(rng.End), len(recs), rep.Schedule.Cron, fire.Format(time.RFC3339))
	w := csv.NewWriter(&b)
	if len(recs) > 0 {
		if err := w.Write(header); err != nil {
			return "", "", err
		}
	}
	if err := w.WriteAll(recs); err != nil {
		return "", "", err
	}
	return fmt.Sprintf("Deskline report: %s (%s to %s)", rep.Name, days(rng.Start), days(rng.End)), b.String(), nil
}
