package dynamo_test

import (
	"errors"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/dynamo"
)

const (
	sessionTTL  = time.Hour
	loginWindow = 15 * time.Minute
)

// session creates a session of userID that expires sessionTTL from now.
func (f *fixture) session(userID string) string {
	f.t.Helper()
	now := f.clock.Now()
	s := dynamo.Session{ID: f.id(deskline.PrefixSession), UserID: userID, CreatedAt: now, ExpiresAt: now.Add(sessionTTL)}
	if err := f.store.CreateSession(f.ctx, s); err != nil {
		f.t.Fatalf("CreateSession: %v", err)
	}
	return s.ID
}

// wantSession checks what GetSessionUser answers for one session: the user
// when want is nil, else the error want.
func (f *fixture) wantSession(userID, sessionID string, want error) {
	f.t.Helper()
	u, err := f.store.GetSessionUser(f.ctx, userID, sessionID)
	switch {
	case want == nil && err != nil:
		f.t.Errorf("GetSessionUser(%s, %s) err = %v, want the user", userID, sessionID, err)
	case want == nil && u.ID != userID:
		f.t.Errorf("GetSessionUser(%s, %s) = user %s, want %s", userID, sessionID, u.ID, userID)
	case want != nil && !errors.Is(err, want):
		f.t.Errorf("GetSessionUser(%s, %s) = %v, %v; want error %v", userID, sessionID, u, err, want)
	}
}

func TestGetSessionUser(t *testing.T) {
	t.Run("active session returns its user", func(t *testing.T) {
		f := newFixture(t)
		u := f.user("alice", "")
		sid := f.session(u.ID)
		got, err := f.store.GetSessionUser(f.ctx, u.ID, sid)
		if err != nil {
			t.Fatalf("GetSessionUser: %v", err)
		}
		wantSameUser(t, got, u)
	})

	expiry := []struct {
		name    string
		advance time.Duration
		want    error
	}{
		{"one second before expiry", sessionTTL - time.Second, nil},
		{"at expiry", sessionTTL, dynamo.ErrSessionInvalid},
		{"a month after expiry (TTL has not deleted it)", sessionTTL + 30*24*time.Hour, dynamo.ErrSessionInvalid},
	}
	for _, tc := range expiry {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			u := f.user("alice", "")
			sid := f.session(u.ID)
			f.clock.Advance(tc.advance)
			f.wantSession(u.ID, sid, tc.want)
		})
	}

	t.Run("unknown session, or another user's", func(t *testing.T) {
		f := newFixture(t)
		alice, bob := f.user("alice", ""), f.user("bob", "")
		bobs := f.session(bob.ID)
		f.wantSession(alice.ID, "SES-UNKNOWN", dynamo.ErrSessionInvalid)
		f.wantSession(alice.ID, bobs, dynamo.ErrSessionInvalid)
		f.wantSession(bob.ID, bobs, nil)
	})

	t.Run("session of a user whose profile is gone", func(t *testing.T) {
		f := newFixture(t)
		u := f.user("alice", "")
		sid := f.session(u.ID)
		// Remove only the profile, as between DeleteUser's transaction and
		// its sweep of the user's partition.
		if _, err := f.db.DeleteItem(f.ctx, &dynamodb.DeleteItemInput{
			TableName: aws.String(f.table),
			Key: map[string]types.AttributeValue{
				"PK": &types.AttributeValueMemberS{Value: "USER#" + u.ID},
				"SK": &types.AttributeValueMemberS{Value: "PROFILE"},
			},
		}); err != nil {
			t.Fatalf("delete profile: %v", err)
		}
		f.wantSession(u.ID, sid, dynamo.ErrUserGone)
	})
}

func TestDeleteSession(t *testing.T) {
	f := newFixture(t)
	u := f.user("alice", "")
	s1, s2 := f.session(u.ID), f.session(u.ID)
	if err := f.store.DeleteSession(f.ctx, u.ID, s1); err != nil {
		t.Fatalf("DeleteSession: %v", err)
	}
	f.wantSession(u.ID, s1, dynamo.ErrSessionInvalid)
	f.wantSession(u.ID, s2, nil)
	for _, sid := range []string{s1, "SES-UNKNOWN"} {
		if err := f.store.DeleteSession(f.ctx, u.ID, sid); err != nil {
			t.Errorf("DeleteSession(%s) of a missing session: %v, want nil", sid, err)
		}
	}
}

func TestDeleteUserSessions(t *testing.T) {
	tests := []struct {
		name string
		keep int // index of the session to keep, -1 for none
	}{
		{"keeps the current session", 1},
		{"keep empty revokes all", -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			u, bob := f.user("alice", ""), f.user("bob", "")
			sids := []string{f.session(u.ID), f.session(u.ID), f.session(u.ID)}
			bobs := f.session(bob.ID)
			keep := ""
			if tc.keep >= 0 {
				keep = sids[tc.keep]
			}
			if err := f.store.DeleteUserSessions(f.ctx, u.ID, keep); err != nil {
				t.Fatalf("DeleteUserSessions: %v", err)
			}
			for i, sid := range sids {
				var want error = dynamo.ErrSessionInvalid
				if i == tc.keep {
					want = nil
				}
				f.wantSession(u.ID, sid, want)
			}
			f.wantSession(bob.ID, bobs, nil)
			wantSameUser(t, f.getUser(u.ID), u) // the profile shares the partition
		})
	}
}

func TestLoginFailures(t *testing.T) {
	t.Run("counts failures within the window", func(t *testing.T) {
		f := newFixture(t)
		u := f.user("alice", "")
		if _, lf, err := f.store.GetLoginState(f.ctx, u.ID); err != nil || lf.Count != 0 {
			t.Fatalf("GetLoginState before any failure = %+v, %v; want count 0", lf, err)
		}
		for want := 1; want <= 3; want++ {
			lf, err := f.store.RecordLoginFailure(f.ctx, u.ID, loginWindow)
			if err != nil {
				t.Fatalf("RecordLoginFailure #%d: %v", want, err)
			}
			if lf.Count != want || !lf.WindowStart.Equal(t0) {
				t.Errorf("RecordLoginFailure #%d = %+v, want count %d, window start %v", want, lf, want, t0)
			}
			f.clock.Advance(time.Minute)
		}
		got, lf, err := f.store.GetLoginState(f.ctx, u.ID)
		if err != nil {
			t.Fatalf("GetLoginState: %v", err)
		}
		wantSameUser(t, got, u)
		if lf.Count != 3 || !lf.WindowStart.Equal(t0) {
			t.Errorf("GetLoginState failures = %+v, want count 3, window start %v", lf, t0)
		}
	})

	t.Run("concurrent failures are all counted", func(t *testing.T) {
		f := newFixture(t)
		u := f.user("alice", "")
		const n = 20
		counts := make([]int, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				lf, err := f.store.RecordLoginFailure(f.ctx, u.ID, loginWindow)
				if err != nil {
					t.Errorf("RecordLoginFailure: %v", err)
				}
				counts[i] = lf.Count
			}()
		}
		close(start)
		wg.Wait()
		_, lf, err := f.store.GetLoginState(f.ctx, u.ID)
		if err != nil {
			t.Fatalf("GetLoginState: %v", err)
		}
		if lf.Count != n {
			t.Errorf("count after %d concurrent failures = %d, want %d", n, lf.Count, n)
		}
		// Every failure saw its own count: 1..n, each once.
		slices.Sort(counts)
		for i, c := range counts {
			if c != i+1 {
				t.Errorf("counts returned = %v, want 1..%d each once", counts, n)
				break
			}
		}
	})

	t.Run("window restarts once it has passed", func(t *testing.T) {
		f := newFixture(t)
		u := f.user("alice", "")
		steps := []struct {
			advance   time.Duration
			wantCount int
			wantStart time.Time
		}{
			{0, 1, t0},
			{loginWindow - time.Millisecond, 2, t0},
			{time.Millisecond, 1, t0.Add(loginWindow)}, // exactly one window after the first failure
			{time.Minute, 2, t0.Add(loginWindow)},
			{2 * loginWindow, 1, t0.Add(3*loginWindow + time.Minute)},
		}
		for i, st := range steps {
			f.clock.Advance(st.advance)
			lf, err := f.store.RecordLoginFailure(f.ctx, u.ID, loginWindow)
			if err != nil {
				t.Fatalf("step %d: RecordLoginFailure: %v", i, err)
			}
			if lf.Count != st.wantCount || !lf.WindowStart.Equal(st.wantStart) {
				t.Errorf("step %d: got %+v, want count %d, window start %v", i, lf, st.wantCount, st.wantStart)
			}
			if _, stored, err := f.store.GetLoginState(f.ctx, u.ID); err != nil || stored.Count != st.wantCount || !stored.WindowStart.Equal(st.wantStart) {
				t.Errorf("step %d: GetLoginState = %+v, %v; want count %d, window start %v", i, stored, err, st.wantCount, st.wantStart)
			}
		}
	})

	t.Run("CreateSession clears the count", func(t *testing.T) {
		f := newFixture(t)
		u := f.user("alice", "")
		for range 3 {
			if _, err := f.store.RecordLoginFailure(f.ctx, u.ID, loginWindow); err != nil {
				t.Fatalf("RecordLoginFailure: %v", err)
			}
		}
		f.session(u.ID)
		if _, lf, err := f.store.GetLoginState(f.ctx, u.ID); err != nil || lf.Count != 0 {
			t.Errorf("GetLoginState after login = %+v, %v; want count 0", lf, err)
		}
		if lf, err := f.store.RecordLoginFailure(f.ctx, u.ID, loginWindow); err != nil || lf.Count != 1 {
			t.Errorf("RecordLoginFailure after login = %+v, %v; want count 1", lf, err)
		}
	})

	t.Run("unknown user", func(t *testing.T) {
		f := newFixture(t)
		u, _, err := f.store.GetLoginState(f.ctx, "USR-UNKNOWN")
		if deskline.ErrorCode(err) != deskline.ENOTFOUND {
			t.Errorf("GetLoginState(unknown) = %v, %v; want not_found", u, err)
		}
	})
}

// TestCallCounts pins the hot paths (every authorized request, every login)
// to one DynamoDB call each.
func TestCallCounts(t *testing.T) {
	f := newFixture(t)
	u := f.user("alice", "")
	sid := f.session(u.ID)
	if _, err := f.store.RecordLoginFailure(f.ctx, u.ID, loginWindow); err != nil {
		t.Fatalf("RecordLoginFailure: %v", err)
	}
	tests := []struct {
		name    string
		call    func() error
		wantErr error
	}{
		{"GetSessionUser", func() error { _, err := f.store.GetSessionUser(f.ctx, u.ID, sid); return err }, nil},
		{"GetSessionUser of an unknown session", func() error { _, err := f.store.GetSessionUser(f.ctx, u.ID, "SES-NOPE"); return err }, dynamo.ErrSessionInvalid},
		{"GetLoginState", func() error { _, _, err := f.store.GetLoginState(f.ctx, u.ID); return err }, nil},
	}
	want := map[string]int{"BatchGetItem": 1}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.calls.reset()
			if err := tc.call(); !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if got := f.calls.counts(); !maps.Equal(got, want) {
				t.Errorf("DynamoDB calls = %v, want %v", got, want)
			}
		})
	}
}
