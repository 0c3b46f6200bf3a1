// Package api implements the HTTP API's handlers: one method per route of
// the route table. Handlers check who may do what (with the rules in package
// deskline), call the store, and shape responses as the contract says.
package api

import (
	"context"
	"log/slog"
	"time"

	"github.com/deskline/deskline/shared/auth"
	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/dynamo"
	"github.com/deskline/deskline/shared/httpapi"
)

// Stages. In StageLocal and StageTest reset tokens are also returned in
// responses, as the contract's clients expect; mail goes to the outbox.
const (
	StageLocal = "local"
	StageTest  = "test"
	StageDev   = "dev"
	StageProd  = "prod"
)

// Mailer sends e-mail.
type Mailer interface {
	Send(ctx context.Context, to, subject, body string) error
}

// Login throttling: after MaxLoginFailures failed logins within
// LoginFailureWindow, further attempts are refused until the window passes.
const (
	MaxLoginFailures   = 5
	LoginFailureWindow = 15 * time.Minute
	ResetTokenTTL      = time.Hour
)

// Server holds the handlers' dependencies.
type Server struct {
	Store     *dynamo.Store
	Tokens    *auth.Tokens
	Passwords *auth.Passwords
	Mailer    Mailer
	Clock     deskline.Clock
	IDs       deskline.IDGenerator
	Stage     string
	// PublicURL is where users reach the web client, for links in mail.
	PublicURL string
	// Objects is the attachments bucket; nil when none is configured.
	Objects FileObjects
	Log     *slog.Logger
}

// exposesResetTokens reports whether reset tokens are returned in responses.
func (s *Server) exposesResetTokens() bool {
	return s.Stage == StageLocal || s.Stage == StageTest
}

// Health answers liveness checks.
func (s *Server) Health(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	return httpapi.JSON(200, map[string]string{"status": "ok"}), nil
}
