package deskline_test

import (
	"encoding/base32"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/deskline/deskline/shared/deskline"
)

// fixedClock always tells the same time.
type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

// steppingClock advances by step on every call.
type steppingClock struct {
	t    time.Time
	step time.Duration
}

func (c *steppingClock) Now() time.Time {
	now := c.t
	c.t = c.t.Add(c.step)
	return now
}

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

var epoch = time.Date(2025, 11, 26, 2, 34, 56, 789_000_000, time.UTC)

// idMillis decodes the millisecond timestamp in the first 48 bits of an id.
func idMillis(t *testing.T, prefix, id string) int64 {
	t.Helper()
	rest, ok := strings.CutPrefix(id, prefix+"-")
	if !ok {
		t.Fatalf("id %q lacks prefix %q", id, prefix+"-")
	}
	b, err := base32.NewEncoding(crockford).WithPadding(base32.NoPadding).DecodeString(rest)
	if err != nil {
		t.Fatalf("id %q is not Crockford base32: %v", id, err)
	}
	if len(b) != 16 {
		t.Fatalf("id %q decodes to %d bytes, want 16", id, len(b))
	}
	var ms [8]byte
	copy(ms[2:], b[:6])
	return int64(binary.BigEndian.Uint64(ms[:]))
}

func TestRandomIDsShape(t *testing.T) {
	g := deskline.RandomIDs{Clock: fixedClock{epoch}}
	for _, prefix := range []string{deskline.PrefixUser, deskline.PrefixDepartment, deskline.PrefixSession} {
		t.Run(prefix, func(t *testing.T) {
			id := g.NewID(prefix)
			rest, ok := strings.CutPrefix(id, prefix+"-")
			if !ok {
				t.Fatalf("got id %q, want prefix %q", id, prefix+"-")
			}
			if len(rest) != 26 {
				t.Errorf("got %d characters after the prefix in %q, want 26", len(rest), id)
			}
			for _, r := range rest {
				if !strings.ContainsRune(crockford, r) {
					t.Errorf("id %q has %q, not in Crockford base32", id, r)
				}
			}
			if !deskline.ValidID(prefix, id) {
				t.Errorf("ValidID(%q, %q) = false, want true", prefix, id)
			}
			if got, want := idMillis(t, prefix, id), epoch.UnixMilli(); got != want {
				t.Errorf("id %q encodes %d ms, want %d", id, got, want)
			}
		})
	}
}

func TestRandomIDsUnique(t *testing.T) {
	// A frozen clock: all ids share the time part, so uniqueness rests on
	// the 80 random bits alone.
	g := deskline.RandomIDs{Clock: fixedClock{epoch}}
	const n = 10_000
	seen := make(map[string]bool, n)
	for i := range n {
		id := g.NewID(deskline.PrefixUser)
		if seen[id] {
			t.Fatalf("duplicate id %q after %d ids", id, i)
		}
		seen[id] = true
	}
}

func TestRandomIDsSortByTime(t *testing.T) {
	// One millisecond apart: the random tail of an earlier id is often
	// larger than a later one's, so only the time part can keep them sorted.
	g := deskline.RandomIDs{Clock: &steppingClock{t: epoch, step: time.Millisecond}}
	prev := g.NewID(deskline.PrefixDepartment)
	for i := range 2000 {
		id := g.NewID(deskline.PrefixDepartment)
		if id <= prev {
			t.Fatalf("id %d: %q sorts before or equal to earlier %q", i, id, prev)
		}
		prev = id
	}
}

func TestRandomIDsSameMillisecondShareTimePrefix(t *testing.T) {
	g := deskline.RandomIDs{Clock: fixedClock{epoch}}
	a, b := g.NewID("USR"), g.NewID("USR")
	// 48 bits of time fill the first 9 characters (45 bits) entirely.
	if a[:4+9] != b[:4+9] {
		t.Errorf("ids of the same millisecond %q and %q differ in their time prefix", a, b)
	}
	if a == b {
		t.Errorf("two ids of the same millisecond are equal: %q", a)
	}
}

func TestValidID(t *testing.T) {
	tests := []struct {
		name, prefix, id string
		want             bool
	}{
		{"generated shape", "USR", "USR-01JD3Q8K9ZC0V4M5N6P7R8S9TW", true},
		{"shortest", "USR", "USR-ABCDE", true},
		{"longest", "USR", "USR-" + strings.Repeat("A", 40), true},
		{"inner hyphen", "DEP", "DEP-AB-CD", true},
		{"too short", "USR", "USR-ABCD", false},
		{"too long", "USR", "USR-" + strings.Repeat("A", 41), false},
		{"other prefix", "USR", "DEP-ABCDE", false},
		{"prefix is case-sensitive", "USR", "usr-ABCDE", false},
		{"lower-case body", "USR", "USR-abcde", false},
		{"no hyphen", "USR", "USRABCDE", false},
		{"prefix only", "USR", "USR-", false},
		{"empty", "USR", "", false},
		{"space", "USR", "USR-AB CDE", false},
		{"trailing newline", "USR", "USR-ABCDE\n", false},
		{"key injection", "USR", "USR-ABCDE#SES", false},
		{"non-ASCII", "USR", "USR-ÄBCDE", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := deskline.ValidID(tt.prefix, tt.id); got != tt.want {
				t.Errorf("ValidID(%q, %q) = %v, want %v", tt.prefix, tt.id, got, tt.want)
			}
		})
	}
}
