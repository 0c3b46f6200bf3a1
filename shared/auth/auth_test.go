package auth_test

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/deskline/deskline/shared/auth"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"
)

// fakeClock is a settable clock.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }

var (
	secret = []byte("0123456789abcdef0123456789abcdef") // 32 bytes
	t0     = time.Date(2025, 11, 26, 9, 30, 0, 0, time.UTC)
)

const ttl = time.Hour

func newTokens(t *testing.T, key []byte, clock *fakeClock) *auth.Tokens {
	t.Helper()
	tk, err := auth.NewTokens(key, ttl, clock)
	if err != nil {
		t.Fatalf("NewTokens: %v", err)
	}
	return tk
}

func issue(t *testing.T, tk *auth.Tokens, userID, sessionID string) string {
	t.Helper()
	s, _, err := tk.Issue(userID, sessionID)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	return s
}

// validClaims are the claims Issue would write at t0.
func validClaims() jwt.MapClaims {
	return jwt.MapClaims{
		"iss": auth.Issuer,
		"aud": []string{auth.Audience},
		"sub": "USR-ABCDE",
		"sid": "SES-ABCDE",
		"iat": t0.Unix(),
		"nbf": t0.Unix(),
		"exp": t0.Add(ttl).Unix(),
	}
}

// sign crafts a token by hand.
func sign(t *testing.T, method jwt.SigningMethod, key any, c jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, c).SignedString(key)
	if err != nil {
		t.Fatalf("sign %s token: %v", method.Alg(), err)
	}
	return s
}

func with(c jwt.MapClaims, k string, v any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for kk, vv := range c {
		out[kk] = vv
	}
	if v == nil {
		delete(out, k)
	} else {
		out[k] = v
	}
	return out
}

func TestIssueParseRoundTrip(t *testing.T) {
	clock := &fakeClock{now: t0}
	tk := newTokens(t, secret, clock)
	s, exp, err := tk.Issue("USR-ABCDE", "SES-12345")
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	if want := t0.Add(ttl); !exp.Equal(want) {
		t.Errorf("Issue expiry = %v, want %v", exp, want)
	}
	for _, at := range []time.Duration{0, 30 * time.Minute, ttl - time.Second} {
		clock.now = t0.Add(at)
		c, err := tk.Parse(s)
		if err != nil {
			t.Fatalf("Parse at t0+%v: %v", at, err)
		}
		if c.UserID != "USR-ABCDE" || c.SessionID != "SES-12345" {
			t.Errorf("Parse at t0+%v = user %q session %q, want USR-ABCDE SES-12345", at, c.UserID, c.SessionID)
		}
		if !c.ExpiresAt.Equal(t0.Add(ttl)) {
			t.Errorf("Parse at t0+%v ExpiresAt = %v, want %v", at, c.ExpiresAt, t0.Add(ttl))
		}
	}
	if got := tk.TTL(); got != ttl {
		t.Errorf("TTL() = %v, want %v", got, ttl)
	}
}

func TestParseTimes(t *testing.T) {
	tests := []struct {
		name string
		at   time.Duration // parse time relative to issue time
		want error
	}{
		{"just issued", 0, nil},
		{"at expiry, within leeway", ttl + 4*time.Second, nil},
		{"past expiry and leeway", ttl + 6*time.Second, auth.ErrTokenExpired},
		{"long expired", 30 * 24 * time.Hour, auth.ErrTokenExpired},
		{"clock skew within leeway", -4 * time.Second, nil},
		// Issued "in the future": iat and nbf are checked.
		{"not yet valid", -time.Minute, auth.ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{now: t0}
			tk := newTokens(t, secret, clock)
			s := issue(t, tk, "USR-ABCDE", "SES-ABCDE")
			clock.now = t0.Add(tt.at)
			_, err := tk.Parse(s)
			if !errors.Is(err, tt.want) {
				t.Errorf("Parse at t0%+v: got error %v, want %v", tt.at, err, tt.want)
			}
		})
	}
}

func TestParseRejectsBadTokens(t *testing.T) {
	clock := &fakeClock{now: t0}
	tk := newTokens(t, secret, clock)
	otherSecret := []byte("ffffffffffffffffffffffffffffffff")
	good := issue(t, tk, "USR-ABCDE", "SES-ABCDE")
	parts := strings.Split(good, ".")
	tests := []struct {
		name  string
		token string
		want  error
	}{
		// The control: the hand-crafted claims are accepted as they are, so
		// each case below fails for its one change.
		{"control: crafted HS256", sign(t, jwt.SigningMethodHS256, secret, validClaims()), nil},
		{"wrong secret", sign(t, jwt.SigningMethodHS256, otherSecret, validClaims()), auth.ErrInvalidToken},
		{"issued by other Tokens", issue(t, newTokens(t, otherSecret, clock), "USR-ABCDE", "SES-ABCDE"), auth.ErrInvalidToken},
		{"expired and wrong secret", sign(t, jwt.SigningMethodHS256, otherSecret, with(validClaims(), "exp", t0.Add(-time.Hour).Unix())), auth.ErrInvalidToken},
		{"HS512 with the right secret", sign(t, jwt.SigningMethodHS512, secret, validClaims()), auth.ErrInvalidToken},
		{"HS384 with the right secret", sign(t, jwt.SigningMethodHS384, secret, validClaims()), auth.ErrInvalidToken},
		{"alg none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, validClaims()), auth.ErrInvalidToken},
		{"alg none, signature of the original", strings.Join([]string{
			strings.Split(sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, validClaims()), ".")[0], parts[1], parts[2]}, "."), auth.ErrInvalidToken},
		{"wrong issuer", sign(t, jwt.SigningMethodHS256, secret, with(validClaims(), "iss", "someone-else")), auth.ErrInvalidToken},
		{"missing issuer", sign(t, jwt.SigningMethodHS256, secret, with(validClaims(), "iss", nil)), auth.ErrInvalidToken},
		{"wrong audience", sign(t, jwt.SigningMethodHS256, secret, with(validClaims(), "aud", []string{"other-api"})), auth.ErrInvalidToken},
		{"missing audience", sign(t, jwt.SigningMethodHS256, secret, with(validClaims(), "aud", nil)), auth.ErrInvalidToken},
		{"missing sid", sign(t, jwt.SigningMethodHS256, secret, with(validClaims(), "sid", nil)), auth.ErrInvalidToken},
		{"empty sid", sign(t, jwt.SigningMethodHS256, secret, with(validClaims(), "sid", "")), auth.ErrInvalidToken},
		{"missing sub", sign(t, jwt.SigningMethodHS256, secret, with(validClaims(), "sub", nil)), auth.ErrInvalidToken},
		{"missing exp", sign(t, jwt.SigningMethodHS256, secret, with(validClaims(), "exp", nil)), auth.ErrInvalidToken},
		{"expired", sign(t, jwt.SigningMethodHS256, secret, with(validClaims(), "exp", t0.Add(-time.Minute).Unix())), auth.ErrTokenExpired},
		{"issued in the future", sign(t, jwt.SigningMethodHS256, secret, with(validClaims(), "iat", t0.Add(time.Minute).Unix())), auth.ErrInvalidToken},
		{"not valid before a future time", sign(t, jwt.SigningMethodHS256, secret, with(validClaims(), "nbf", t0.Add(time.Minute).Unix())), auth.ErrInvalidToken},
		{"sid of the wrong type", sign(t, jwt.SigningMethodHS256, secret, with(validClaims(), "sid", 42)), auth.ErrInvalidToken},
		{"tampered payload", parts[0] + "." + strings.Split(sign(t, jwt.SigningMethodHS256, secret, with(validClaims(), "sub", "USR-ADMIN")), ".")[1] + "." + parts[2], auth.ErrInvalidToken},
		{"empty", "", auth.ErrInvalidToken},
		{"garbage", "not-a-token", auth.ErrInvalidToken},
		{"three garbage segments", "a.b.c", auth.ErrInvalidToken},
		{"missing signature", parts[0] + "." + parts[1], auth.ErrInvalidToken},
		{"bearer prefix left on", "Bearer " + good, auth.ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tk.Parse(tt.token)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Parse: got error %v, want %v", err, tt.want)
			}
			if tt.want != nil && c != nil {
				t.Errorf("Parse returned claims %+v with error %v", c, err)
			}
		})
	}
}

func TestTokensForDifferentSessionsDiffer(t *testing.T) {
	clock := &fakeClock{now: t0}
	tk := newTokens(t, secret, clock)
	a := issue(t, tk, "USR-ABCDE", "SES-AAAAA")
	b := issue(t, tk, "USR-ABCDE", "SES-BBBBB")
	if a == b {
		t.Fatal("two sessions issued in the same second got the same token")
	}
	for token, want := range map[string]string{a: "SES-AAAAA", b: "SES-BBBBB"} {
		c, err := tk.Parse(token)
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		if c.SessionID != want {
			t.Errorf("got session %q, want %q", c.SessionID, want)
		}
	}
}

func TestNewTokens(t *testing.T) {
	tests := []struct {
		name    string
		secret  []byte
		ttl     time.Duration
		wantErr bool
	}{
		{"nil secret", nil, ttl, true},
		{"31-byte secret", make([]byte, 31), ttl, true},
		{"32-byte secret", make([]byte, 32), ttl, false},
		{"64-byte secret", make([]byte, 64), ttl, false},
		{"zero ttl", secret, 0, true},
		{"negative ttl", secret, -time.Minute, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk, err := auth.NewTokens(tt.secret, tt.ttl, &fakeClock{now: t0})
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Fatalf("NewTokens: got error %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr && tk != nil {
				t.Errorf("NewTokens returned %v with an error", tk)
			}
		})
	}
}

func newPasswords(t *testing.T) *auth.Passwords {
	t.Helper()
	p, err := auth.NewPasswords(bcrypt.MinCost)
	if err != nil {
		t.Fatalf("NewPasswords: %v", err)
	}
	return p
}

func TestNewPasswordsCost(t *testing.T) {
	tests := []struct {
		name    string
		cost    int
		wantErr bool
	}{
		{"below minimum", bcrypt.MinCost - 1, true},
		{"minimum", bcrypt.MinCost, false},
		{"above maximum", bcrypt.MaxCost + 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := auth.NewPasswords(tt.cost)
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Errorf("NewPasswords(%d): got error %v, want error %v", tt.cost, err, tt.wantErr)
			}
		})
	}
}

func TestPasswordsHashAndCheck(t *testing.T) {
	p := newPasswords(t)
	const pw = "correct-horse-1"
	h, err := p.Hash(pw)
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	if cost, err := bcrypt.Cost([]byte(h)); err != nil || cost != bcrypt.MinCost {
		t.Errorf("hash cost = %d (%v), want %d", cost, err, bcrypt.MinCost)
	}
	if h2, _ := p.Hash(pw); h2 == h {
		t.Error("two hashes of the same password are equal: no salt")
	}
	tests := []struct {
		name string
		hash string
		pw   string
		want bool
	}{
		{"right password", h, pw, true},
		{"wrong password", h, "correct-horse-2", false},
		{"case matters", h, "Correct-horse-1", false},
		{"empty password", h, "", false},
		{"empty hash", "", pw, false},
		{"empty hash and password", "", "", false},
		// Check hashes against a dummy when there is no hash: its password
		// must not open an account that has none.
		{"empty hash, dummy's password", "", "deskline-dummy-password-1", false},
		{"not a bcrypt hash", "plaintext", "plaintext", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.Check(tt.hash, tt.pw); got != tt.want {
				t.Errorf("Check(%q, %q) = %v, want %v", tt.hash, tt.pw, got, tt.want)
			}
		})
	}
}

func TestPasswordsHashRejectsOverlongPassword(t *testing.T) {
	p := newPasswords(t)
	if _, err := p.Hash(strings.Repeat("a", 73)); err == nil {
		t.Error("Hash of 73 bytes succeeded; bcrypt would have ignored the tail")
	}
}

func checkHex(t *testing.T, name, s string, n int) {
	t.Helper()
	if len(s) != n {
		t.Errorf("%s %q has %d characters, want %d", name, s, len(s), n)
	}
	if _, err := hex.DecodeString(s); err != nil || strings.ToLower(s) != s {
		t.Errorf("%s %q is not lower-case hex: %v", name, s, err)
	}
}

func TestResetTokens(t *testing.T) {
	token, hash := auth.NewResetToken()
	checkHex(t, "token", token, 64)
	checkHex(t, "hash", hash, 64)
	if got := auth.HashResetToken(token); got != hash {
		t.Errorf("HashResetToken(token) = %q, want %q", got, hash)
	}
	if hash == token {
		t.Error("the stored hash equals the token")
	}
	if other, _ := auth.NewResetToken(); other == token {
		t.Error("two reset tokens are equal")
	}
	// SHA-256 of "abc" (FIPS 180-2 test vector).
	if got, want := auth.HashResetToken("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Errorf(`HashResetToken("abc") = %q, want %q`, got, want)
	}
}

func TestNewSessionSecret(t *testing.T) {
	s := auth.NewSessionSecret()
	checkHex(t, "secret", s, 64)
	if s == auth.NewSessionSecret() {
		t.Error("two generated secrets are equal")
	}
	if _, err := auth.NewTokens([]byte(s), ttl, &fakeClock{now: t0}); err != nil {
		t.Errorf("NewTokens rejects a generated secret: %v", err)
	}
}
