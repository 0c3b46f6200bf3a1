// Package auth issues and verifies session tokens (JWT, HS256), hashes
// passwords (bcrypt) and makes password-reset tokens. It knows nothing of
// storage: whether a session is still active is the store's question.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/deskline/deskline/shared/deskline"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"
)

// Token claims fixed for every Deskline token.
const (
	Issuer   = "deskline"
	Audience = "deskline-api"
	// MinSecretLen is the shortest HS256 secret accepted (256 bits).
	MinSecretLen = 32
)

// Claims is what a verified token says.
type Claims struct {
	UserID    string
	SessionID string
	ExpiresAt time.Time
}

// Tokens issues and verifies JWTs for one secret.
type Tokens struct {
	secret []byte
	ttl    time.Duration
	clock  deskline.Clock
}

// NewTokens returns a Tokens for the given secret and token lifetime.
func NewTokens(secret []byte, ttl time.Duration, clock deskline.Clock) (*Tokens, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("jwt secret must be at least %d bytes, got %d", MinSecretLen, len(secret))
	}
	if ttl <= 0 {
		return nil, fmt.Errorf("token ttl must be positive, got %s", ttl)
	}
	return &Tokens{secret: secret, ttl: ttl, clock: clock}, nil
}

// TTL is how long an issued token lives.
func (t *Tokens) TTL() time.Duration { return t.ttl }

type claims struct {
	SessionID string `json:"sid"`
	jwt.RegisteredClaims
}

// Issue signs a token for a user's session.
func (t *Tokens) Issue(userID, sessionID string) (string, time.Time, error) {
	now := t.clock.Now()
	exp := now.Add(t.ttl)
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims{
		SessionID: sessionID,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    Issuer,
			Subject:   userID,
			Audience:  jwt.ClaimStrings{Audience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
		},
	})
	s, err := tok.SignedString(t.secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign token: %w", err)
	}
	return s, exp, nil
}

// Errors Parse returns; their messages are the contract's.
var (
	ErrInvalidToken = &deskline.Error{Code: deskline.EUNAUTHORIZED, Message: "Invalid token"}
	ErrTokenExpired = &deskline.Error{Code: deskline.EUNAUTHORIZED, Message: "Token expired"}
)

// Parse verifies a token's signature, algorithm, issuer, audience and times.
func (t *Tokens) Parse(token string) (*Claims, error) {
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(Issuer),
		jwt.WithAudience(Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(5*time.Second),
		jwt.WithTimeFunc(t.clock.Now),
	)
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, ErrTokenExpired
	case err != nil:
		return nil, ErrInvalidToken
	case c.Subject == "" || c.SessionID == "":
		return nil, ErrInvalidToken
	}
	return &Claims{UserID: c.Subject, SessionID: c.SessionID, ExpiresAt: c.ExpiresAt.Time}, nil
}

// Passwords hashes and checks passwords with bcrypt.
type Passwords struct {
	Cost  int
	dummy []byte
}

// NewPasswords returns a Passwords using the given bcrypt cost.
func NewPasswords(cost int) (*Passwords, error) {
	if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return nil, fmt.Errorf("bcrypt cost %d out of range %d..%d", cost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte("deskline-dummy-password-1"), cost)
	if err != nil {
		return nil, fmt.Errorf("hash dummy password: %w", err)
	}
	return &Passwords{Cost: cost, dummy: dummy}, nil
}

// Hash returns the bcrypt hash of pw.
func (p *Passwords) Hash(pw string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), p.Cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// Check reports whether pw matches hash. With an empty hash it still spends a
// bcrypt comparison, so unknown accounts take as long as wrong passwords.
func (p *Passwords) Check(hash, pw string) bool {
	if hash == "" {
		_ = bcrypt.CompareHashAndPassword(p.dummy, []byte(pw))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}

// NewResetToken returns a fresh reset token (32 random bytes, hex) and the
// hash under which it is stored; the token itself is never stored.
func NewResetToken() (token, hash string) {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails since Go 1.24
	token = hex.EncodeToString(b[:])
	return token, HashResetToken(token)
}

// HashResetToken returns the stored form of a reset token.
func HashResetToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// NewSessionSecret returns 32 random bytes, hex encoded, for generated secrets.
func NewSessionSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
