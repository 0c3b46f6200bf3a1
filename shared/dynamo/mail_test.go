package dynamo_test

import (
	"slices"
	"testing"
	"time"

	"github.com/deskline/deskline/shared/dynamo"
)

func TestOutbox(t *testing.T) {
	f := newFixture(t)
	// Sent out of order, several within one second: newest first must
	// follow the time, whatever its digits.
	sent := []struct {
		id string
		at time.Duration
	}{
		{"m2", 100 * time.Millisecond},
		{"m1", 0},
		{"m5", 2 * time.Second},
		{"m3", 120 * time.Millisecond},
		{"m4", 120*time.Millisecond + 5*time.Nanosecond},
	}
	for _, m := range sent {
		if err := f.store.PutMail(f.ctx, dynamo.Mail{
			ID: m.id, To: "Alice@Example.com", Subject: "subject " + m.id, Body: "body " + m.id, SentAt: t0.Add(m.at),
		}); err != nil {
			t.Fatalf("PutMail(%s): %v", m.id, err)
		}
	}
	if err := f.store.PutMail(f.ctx, dynamo.Mail{ID: "other", To: "bob@example.com", Subject: "s", SentAt: t0}); err != nil {
		t.Fatalf("PutMail(other): %v", err)
	}

	tests := []struct {
		name    string
		to      string
		limit   int
		advance time.Duration
		want    []string
	}{
		{"all, newest first", "alice@example.com", 10, 0, []string{"m5", "m4", "m3", "m2", "m1"}},
		{"limit keeps the newest", "ALICE@example.com", 2, 0, []string{"m5", "m4"}},
		{"another address", "bob@example.com", 10, 0, []string{"other"}},
		{"nobody", "carol@example.com", 10, 0, []string{}},
		{"after the retention", "alice@example.com", 10, 8 * 24 * time.Hour, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.clock.Advance(tc.advance)
			mails, err := f.store.Outbox(f.ctx, tc.to, tc.limit)
			if err != nil {
				t.Fatalf("Outbox: %v", err)
			}
			got := []string{}
			for _, m := range mails {
				got = append(got, m.ID)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Outbox(%s, %d) ids = %v, want %v", tc.to, tc.limit, got, tc.want)
			}
		})
	}

	t.Run("fields survive the round trip", func(t *testing.T) {
		f := newFixture(t)
		want := dynamo.Mail{ID: "m1", To: "alice@example.com", Subject: "Reset", Body: "line 1\nline 2", SentAt: t0.Add(123456789)}
		if err := f.store.PutMail(f.ctx, want); err != nil {
			t.Fatalf("PutMail: %v", err)
		}
		mails, err := f.store.Outbox(f.ctx, want.To, 10)
		if err != nil || len(mails) != 1 {
			t.Fatalf("Outbox = %v, %v; want one mail", mails, err)
		}
		if got := mails[0]; got.ID != want.ID || got.To != want.To || got.Subject != want.Subject || got.Body != want.Body || !got.SentAt.Equal(want.SentAt) {
			t.Errorf("mail = %+v, want %+v", got, want)
		}
	})
}
