package notifier

import (
	"context"
	"log/slog"
	"strings"
	"unicode/utf8"

	"github.com/deskline/deskline/shared/deskline"
)

// Mailer sends plain-text e-mail.
type Mailer interface {
	Send(ctx context.Context, to, subject, body string) error
}

// UserReader reads the recipients of notifications.
type UserReader interface {
	GetUsers(ctx context.Context, ids []string) (map[string]*deskline.User, error)
}

// maxSubject bounds a notification mail's subject line, in runes.
const maxSubject = 120

// WithMail makes the notifier also mail each new notification to its
// recipient when they turned e-mail notifications on (and are approved).
// Like the push, mail is best effort and sent once: only for notifications
// this record created, so a replayed record mails nothing again, and a
// failed send is logged, not retried.
func (n *Notifier) WithMail(users UserReader, m Mailer, publicURL string) *Notifier {
	n.users, n.mailer, n.publicURL = users, m, strings.TrimRight(publicURL, "/")
	return n
}

// mail sends the new notifications ns to the recipients who want them.
func (n *Notifier) mail(ctx context.Context, ns []deskline.Notification) {
	if n.mailer == nil || len(ns) == 0 {
		return
	}
	ids := make([]string, 0, len(ns))
	for _, nt := range ns {
		ids = append(ids, nt.UserID)
	}
	users, err := n.users.GetUsers(ctx, ids)
	if err != nil {
		n.log.WarnContext(ctx, "notification mail: read recipients", slog.String("error", err.Error()))
		return
	}
	for _, nt := range ns {
		u := users[nt.UserID]
		if u == nil || !u.EmailNotifications || u.Status != deskline.StatusApproved || u.Email == "" {
			continue
		}
		if err := n.mailer.Send(ctx, u.Email, subject(nt.Message), n.mailBody(u, nt)); err != nil {
			n.log.WarnContext(ctx, "notification mail not sent", slog.String("notificationId", nt.ID), slog.String("error", err.Error()))
		}
	}
}

func subject(message string) string {
	s := "Deskline: " + strings.Join(strings.Fields(message), " ")
	if utf8.RuneCountInString(s) > maxSubject {
		s = string([]rune(s)[:maxSubject-1]) + "…"
	}
	return s
}

func (n *Notifier) mailBody(u *deskline.User, nt deskline.Notification) string {
	var b strings.Builder
	b.WriteString("Hello " + u.Username + ",\n\n" + nt.Message + "\n")
	if n.publicURL != "" {
		b.WriteString("\nOpen Deskline: " + n.publicURL + "\n")
	}
	b.WriteString("\nYou receive these e-mails because e-mail notifications are on in your Deskline profile " +
		"(PUT /api/users/" + u.ID + ` with {"emailNotifications": false} turns them off).` + "\n")
	return b.String()
}
