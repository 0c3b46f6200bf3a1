package notifier_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/dynamo"
	"github.com/deskline/deskline/shared/notifier"
)

// fakeUsers answers GetUsers from a map.
type fakeUsers map[string]*deskline.User

func (f fakeUsers) GetUsers(_ context.Context, ids []string) (map[string]*deskline.User, error) {
	out := map[string]*deskline.User{}
	for _, id := range ids {
		if u := f[id]; u != nil {
			out[id] = u
		}
	}
	return out, nil
}

// sentMail is one message a fakeMailer was asked to send.
type sentMail struct{ to, subject, body string }

// fakeMailer records messages; fail makes every send fail.
type fakeMailer struct {
	sent []sentMail
	fail bool
}

func (m *fakeMailer) Send(_ context.Context, to, subject, body string) error {
	if m.fail {
		return errors.New("SES throttled")
	}
	m.sent = append(m.sent, sentMail{to, subject, body})
	return nil
}

func mailUser(id, name string, on bool, status deskline.UserStatus) *deskline.User {
	return &deskline.User{ID: id, Username: name, Email: name + "@example.com", Status: status, EmailNotifications: on}
}

func TestNotificationMail(t *testing.T) {
	users := fakeUsers{
		head1: mailUser(head1, "head1", true, deskline.StatusApproved),
		head2: mailUser(head2, "head2", false, deskline.StatusApproved),
		emp1:  mailUser(emp1, "emp1", true, deskline.StatusApproved),
		emp2:  mailUser(emp2, "emp2", true, deskline.StatusRejected),
	}
	// A new ticket by emp1: heads 1 and 2 are notified; only head1 wants mail.
	newTicket := func(t *testing.T) events.DynamoDBEventRecord { return record(t, dynamo.TypeTicket, nil, ticket(nil)) }
	// emp1 is assigned a task by head1; emp2 (rejected) another.
	assigned := func(t *testing.T) events.DynamoDBEventRecord {
		return record(t, dynamo.TypeTask, nil, task(func(x *deskline.Task) { x.AssignedToID = emp1 }))
	}
	toRejected := func(t *testing.T) events.DynamoDBEventRecord {
		return record(t, dynamo.TypeTask, nil, task(func(x *deskline.Task) { x.ID, x.AssignedToID = "TSK-01JB0000000000000000000002", emp2 }))
	}
	tests := []struct {
		name string
		rec  func(t *testing.T) events.DynamoDBEventRecord
		want []string // recipients mailed
	}{
		{"only recipients who turned mail on", newTicket, []string{"head1@example.com"}},
		{"an assignment", assigned, []string{"emp1@example.com"}},
		{"nobody who is not approved", toRejected, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &fakeMailer{}
			n := notifier.New(newStore(), nil, quiet()).WithMail(users, m, "https://desk.example.org/")
			rec := tt.rec(t)
			handle(t, n, batch(rec))
			var got []string
			for _, s := range m.sent {
				got = append(got, s.to)
				if !strings.HasPrefix(s.subject, "Deskline: ") || !strings.Contains(s.body, "Open Deskline: https://desk.example.org\n") ||
					!strings.Contains(s.body, `"emailNotifications": false`) {
					t.Errorf("mail to %s: subject %q body %q", s.to, s.subject, s.body)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("mailed %v, want %v", got, tt.want)
			}
			// A replayed record creates no notification, so mails nothing.
			handle(t, n, batch(rec))
			if len(m.sent) != len(tt.want) {
				t.Errorf("after a replay %d mails, want %d", len(m.sent), len(tt.want))
			}
		})
	}

	t.Run("a failing mailer fails nothing", func(t *testing.T) {
		s, m := newStore(), &fakeMailer{fail: true}
		n := notifier.New(s, nil, quiet()).WithMail(users, m, "")
		if resp := handle(t, n, batch(assigned(t))); len(resp.BatchItemFailures) != 0 {
			t.Fatalf("failures %v", resp.BatchItemFailures)
		}
		if got := s.got(); len(got) != 1 {
			t.Errorf("stored %v, want the assignment", got)
		}
	})

	t.Run("long messages make short subjects", func(t *testing.T) {
		m := &fakeMailer{}
		n := notifier.New(newStore(), nil, quiet()).WithMail(users, m, "")
		long := strings.Repeat("very long title ", 20)
		handle(t, n, batch(record(t, dynamo.TypeTask, nil, task(func(x *deskline.Task) { x.Title, x.AssignedToID = long, emp1 }))))
		if len(m.sent) != 1 || len([]rune(m.sent[0].subject)) != 120 || !strings.HasSuffix(m.sent[0].subject, "…") {
			t.Errorf("sent %+v", m.sent)
		}
		if strings.Contains(m.sent[0].body, "Open Deskline") {
			t.Error("a link without a public URL")
		}
	})
}
