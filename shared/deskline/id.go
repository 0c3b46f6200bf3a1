package deskline

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"strings"
	"time"
)

// Id prefixes, as in the original contract (USR-…, DEP-…).
const (
	PrefixUser       = "USR"
	PrefixDepartment = "DEP"
	PrefixSession    = "SES"
)

// IDGenerator makes new ids. It is injected so tests can make ids predictable.
type IDGenerator interface {
	NewID(prefix string) string
}

// Clock tells the time. It is injected so expiry logic is testable.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock, in UTC.
type SystemClock struct{}

// Now returns the current time in UTC.
func (SystemClock) Now() time.Time { return time.Now().UTC() }

// idEncoding is Crockford's base32 alphabet. It is in ASCII order, so encoded
// ids sort like the bytes they encode.
var idEncoding = base32.NewEncoding("0123456789ABCDEFGHJKMNPQRSTVWXYZ").WithPadding(base32.NoPadding)

// RandomIDs makes ids of the form PFX-<26 Crockford base32 characters>: 48 bits
// of milliseconds (so ids sort by creation time) and 80 random bits, like a ULID.
type RandomIDs struct {
	Clock Clock
}

// NewID returns a new id with the given prefix.
func (g RandomIDs) NewID(prefix string) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(g.Clock.Now().UnixMilli())<<16)
	_, _ = rand.Read(b[6:]) // never fails since Go 1.24
	return prefix + "-" + idEncoding.EncodeToString(b[:])
}

// ValidID reports whether id looks like an id with the given prefix. It
// guards keys against junk before any lookup.
func ValidID(prefix, id string) bool {
	rest, ok := strings.CutPrefix(id, prefix+"-")
	if !ok || len(rest) < 5 || len(rest) > 40 {
		return false
	}
	for _, r := range rest {
		if !(r >= '0' && r <= '9') && !(r >= 'A' && r <= 'Z') && r != '-' {
			return false
		}
	}
	return true
}
