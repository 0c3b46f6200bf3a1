package analytics

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/deskline/deskline/shared/deskline"
)

// PrefixReport is the id prefix of saved reports.
const PrefixReport = "RPT"

// Report types: what a saved report's data is.
const (
	ReportTask       = "task"       // task distribution (of a department or all)
	ReportUser       = "user"       // a user's performance rows
	ReportDepartment = "department" // a department's metrics rows
	ReportCustom     = "custom"     // daily analytics rows (of a department or all)
)

// ReportTypes lists every report type.
var ReportTypes = []string{ReportTask, ReportUser, ReportDepartment, ReportCustom}

// Report is a saved report: a named query over the aggregates.
type Report struct {
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	Description string       `json:"description"`
	Type        string       `json:"type"`
	Parameters  ReportParams `json:"parameters"`
	Schedule    *Schedule    `json:"schedule"`
	IsActive    bool         `json:"isActive"`
	CreatedBy   string       `json:"createdBy"`
	CreatedAt   time.Time    `json:"createdAt"`
	UpdatedAt   time.Time    `json:"updatedAt"`
	Version     int64        `json:"version"`
}

// ReportParams select a report's data. Without dates a report covers the
// default range (the last 30 days) when it is read.
type ReportParams struct {
	DepartmentID string `json:"departmentId,omitempty"`
	UserID       string `json:"userId,omitempty"`
	StartDate    string `json:"startDate,omitempty"`
	EndDate      string `json:"endDate,omitempty"`
}

// Schedule is when a report is to be mailed, and to whom: the
// reports-mailer function mails an active report's data each time the
// cron expression fires (UTC).
type Schedule struct {
	Cron           string `json:"cron"`
	RecipientEmail string `json:"recipientEmail"`
}

// ValidateReport checks a report's fields.
func ValidateReport(r *Report) error {
	r.Name = strings.TrimSpace(r.Name)
	switch n := utf8.RuneCountInString(r.Name); {
	case n == 0:
		return deskline.Invalid("name", "Report name is required")
	case n > 100:
		return deskline.Invalid("name", "Report name must be at most 100 characters")
	}
	if utf8.RuneCountInString(r.Description) > 500 {
		return deskline.Invalid("description", "Description must be at most 500 characters")
	}
	if !slices.Contains(ReportTypes, r.Type) {
		return deskline.Invalid("type", "Invalid report type (task, user, department or custom)")
	}
	p := r.Parameters
	if p.DepartmentID != "" && !deskline.ValidID(deskline.PrefixDepartment, p.DepartmentID) {
		return deskline.Invalid("parameters.departmentId", "Invalid department id")
	}
	if p.UserID != "" && !deskline.ValidID(deskline.PrefixUser, p.UserID) {
		return deskline.Invalid("parameters.userId", "Invalid user id")
	}
	switch {
	case r.Type == ReportDepartment && p.DepartmentID == "":
		return deskline.Invalid("parameters.departmentId", "A department report needs parameters.departmentId")
	case r.Type == ReportUser && p.UserID == "":
		return deskline.Invalid("parameters.userId", "A user report needs parameters.userId")
	}
	if p.StartDate != "" || p.EndDate != "" {
		// Checked against a fixed day: only formats, order and length matter.
		if _, err := ParseRange(p.StartDate, p.EndDate, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
			if de, ok := err.(*deskline.Error); ok {
				de.Field = "parameters." + de.Field
			}
			return err
		}
	}
	if r.Schedule != nil {
		return ValidateSchedule(r.Schedule)
	}
	return nil
}

// ValidateSchedule checks a schedule: a five-field cron expression (see
// Cron; evaluated in UTC) and an e-mail address.
func ValidateSchedule(s *Schedule) error {
	if _, err := ParseCron(s.Cron); err != nil {
		return deskline.Invalid("cron", "cron must be a cron expression of five fields (minute hour day-of-month month day-of-week, UTC): "+err.Error())
	}
	fields := strings.Fields(s.Cron)
	s.Cron = strings.Join(fields, " ")
	email, err := deskline.NormalizeEmail(s.RecipientEmail)
	if err != nil {
		return deskline.Invalid("recipientEmail", "recipientEmail must be a valid e-mail address")
	}
	s.RecipientEmail = email
	return nil
}
