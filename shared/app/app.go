// Package app assembles Deskline from its parts: given configuration and
// clients, it builds the store, the token issuer, the handlers of every route
// and the authorizer. Lambda mains and the local cloud both use it, so they
// serve identical handlers.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/deskline/deskline/shared/analytics"
	"github.com/deskline/deskline/shared/api"
	"github.com/deskline/deskline/shared/auth"
	"github.com/deskline/deskline/shared/authorizer"
	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/dynamo"
	"github.com/deskline/deskline/shared/httpapi"
	"github.com/deskline/deskline/shared/mail"
	"github.com/deskline/deskline/shared/notifier"
	"github.com/deskline/deskline/shared/objects"
	"github.com/deskline/deskline/shared/projector"
	"github.com/deskline/deskline/shared/routes"
	"github.com/deskline/deskline/shared/uploads"
	"github.com/deskline/deskline/shared/wsapi"
)

// Config is Deskline's configuration. See README.md, "Configuration".
type Config struct {
	Stage      string        // local, test, dev, prod
	Table      string        // DynamoDB table name
	JWTSecret  []byte        // HS256 signing secret, at least 32 bytes
	TokenTTL   time.Duration // session token lifetime
	BcryptCost int
	MailFrom   string // SES sender address (dev, prod)
	PublicURL  string // web client base URL, for links in mail
	Bucket     string // S3 bucket of file attachments
}

// Environment variable names (read by the mains and the local cloud, never
// by shared/ itself: they pass a getenv function in).
const (
	EnvStage        = "DESKLINE_STAGE"
	EnvTable        = "DESKLINE_TABLE"
	EnvJWTSecret    = "DESKLINE_JWT_SECRET"
	EnvJWTSecretARN = "DESKLINE_JWT_SECRET_ARN"
	EnvTokenTTL     = "DESKLINE_TOKEN_TTL"
	EnvBcryptCost   = "DESKLINE_BCRYPT_COST"
	EnvMailFrom     = "DESKLINE_MAIL_FROM"
	EnvPublicURL    = "DESKLINE_PUBLIC_URL"
	EnvBucket       = "DESKLINE_BUCKET"
	// EnvConnectionsURL is the WebSocket API's @connections endpoint
	// (https://{api}.execute-api.{region}.amazonaws.com/{stage}).
	EnvConnectionsURL = "DESKLINE_CONNECTIONS_URL"
	DefaultTable      = "deskline"
	DefaultTokenTTL   = time.Hour
	DefaultBcryptCost = 10
)

// ConfigFromEnv reads the configuration through getenv (os.Getenv in a main).
// The JWT secret is left empty when it is to come from Secrets Manager
// (EnvJWTSecretARN); the caller fetches it.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		Stage: getenv(EnvStage), Table: getenv(EnvTable), JWTSecret: []byte(getenv(EnvJWTSecret)),
		TokenTTL: DefaultTokenTTL, BcryptCost: DefaultBcryptCost,
		MailFrom: getenv(EnvMailFrom), PublicURL: getenv(EnvPublicURL), Bucket: getenv(EnvBucket),
	}
	if c.Stage == "" {
		c.Stage = api.StageProd
	}
	if c.Table == "" {
		c.Table = DefaultTable
	}
	if v := getenv(EnvTokenTTL); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute {
			return c, fmt.Errorf("%s must be a duration of at least 1m, got %q", EnvTokenTTL, v)
		}
		c.TokenTTL = d
	}
	if v := getenv(EnvBcryptCost); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return c, fmt.Errorf("%s must be an integer, got %q", EnvBcryptCost, v)
		}
		c.BcryptCost = n
	}
	return c, nil
}

// Validate checks a complete configuration.
func (c Config) Validate() error {
	switch c.Stage {
	case api.StageLocal, api.StageTest, api.StageDev, api.StageProd:
	default:
		return fmt.Errorf("%s must be local, test, dev or prod, got %q", EnvStage, c.Stage)
	}
	// Only the functions that issue or verify tokens get the secret (see
	// routes.NeedTokens); without one, those paths fail, nothing else does.
	if len(c.JWTSecret) > 0 && len(c.JWTSecret) < auth.MinSecretLen {
		return fmt.Errorf("the JWT secret (%s or %s) must be at least %d bytes", EnvJWTSecret, EnvJWTSecretARN, auth.MinSecretLen)
	}
	if (c.Stage == api.StageDev || c.Stage == api.StageProd) && c.MailFrom == "" {
		return fmt.Errorf("%s is required in stage %s", EnvMailFrom, c.Stage)
	}
	return nil
}

// Deps are the clients App needs.
type Deps struct {
	DynamoDB dynamo.API
	SES      mail.SESAPI // used in dev and prod; may be nil in local and test
	// Connections posts to WebSocket connections (@connections); nil
	// disables live pushes (notifications are still stored).
	Connections notifier.Poster
	Clock       deskline.Clock
	IDs         deskline.IDGenerator
	Log         *slog.Logger
	// S3 reaches the attachments bucket (Config.Bucket); nil disables file
	// uploads and downloads.
	S3 *s3.Client
}

// App is an assembled Deskline.
type App struct {
	Config     Config
	Store      *dynamo.Store
	Server     *api.Server
	Authorizer *authorizer.Authorizer
	Projector  *projector.Projector
	Notifier   *notifier.Notifier
	WebSocket  *wsapi.Handlers
	Objects    *objects.Store     // nil without Deps.S3
	Uploads    *uploads.Validator // nil without Deps.S3
	Log        *slog.Logger
}

// New assembles Deskline.
func New(cfg Config, d Deps) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d.Clock == nil {
		d.Clock = deskline.SystemClock{}
	}
	if d.IDs == nil {
		d.IDs = deskline.RandomIDs{Clock: d.Clock}
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	var tokens *auth.Tokens
	if len(cfg.JWTSecret) > 0 {
		t, err := auth.NewTokens(cfg.JWTSecret, cfg.TokenTTL, d.Clock)
		if err != nil {
			return nil, err
		}
		tokens = t
	}
	pw, err := auth.NewPasswords(cfg.BcryptCost)
	if err != nil {
		return nil, err
	}
	store := dynamo.New(d.DynamoDB, cfg.Table, d.Clock)
	var mailer api.Mailer = &mail.Outbox{Store: store, Clock: d.Clock, IDs: d.IDs}
	if cfg.Stage == api.StageDev || cfg.Stage == api.StageProd {
		if d.SES == nil {
			return nil, fmt.Errorf("stage %s needs an SES client", cfg.Stage)
		}
		mailer = &mail.SES{Client: d.SES, From: cfg.MailFrom}
	}
	srv := &api.Server{
		Store: store, Tokens: tokens, Passwords: pw, Mailer: mailer, Clock: d.Clock, IDs: d.IDs,
		Stage: cfg.Stage, PublicURL: cfg.PublicURL, Log: d.Log,
	}
	a := &App{
		Config: cfg, Store: store, Server: srv, Authorizer: authorizer.New(tokens, store, d.Log),
		Projector: projector.New(store, analytics.NewAggregator(store, d.Log), d.Log), Notifier: notifier.New(store, d.Connections, d.Log).WithMail(store, mailer, cfg.PublicURL),
		WebSocket: wsapi.New(srv, store, d.Clock, d.Log), Log: d.Log,
	}
	if a.Objects, a.Uploads, err = wireFiles(cfg, d, store, srv, a.Projector); err != nil {
		return nil, err
	}
	return a, nil
}

// HTTPHandler returns the Lambda handler of the named HTTP route.
func (a *App) HTTPHandler(name string) (httpapi.LambdaHandler, error) {
	r, ok := routes.ByName(name)
	if !ok {
		return nil, fmt.Errorf("no HTTP route named %q", name)
	}
	return httpapi.Lambda(r.Name, r.Access, r.Handler(a.Server), a.Log), nil
}

// StreamHandler is a DynamoDB Streams consumer's Lambda handler.
type StreamHandler func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error)

// StreamHandler returns the handler of the named stream consumer.
func (a *App) StreamHandler(name string) (StreamHandler, error) {
	switch name {
	case "stream-projector":
		return a.Projector.Handle, nil
	case "stream-notifier":
		return a.Notifier.Handle, nil
	}
	return nil, fmt.Errorf("no stream consumer named %q", name)
}

// WebSocketHandler returns the handler of the named WebSocket route function.
func (a *App) WebSocketHandler(name string) (wsapi.Handler, error) {
	switch name {
	case "ws-connect":
		return a.WebSocket.Connect, nil
	case "ws-disconnect":
		return a.WebSocket.Disconnect, nil
	case "ws-default":
		return a.WebSocket.Default, nil
	}
	return nil, fmt.Errorf("no WebSocket function named %q", name)
}
