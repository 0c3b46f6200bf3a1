// Command localstack runs Deskline's local cloud (`make dev`): DynamoDB Local
// and the HTTP API on 127.0.0.1, with no AWS account and no Docker.
package main

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/deskline/deskline/localstack/cloud"
	"github.com/deskline/deskline/localstack/ddblocal"
	"github.com/deskline/deskline/shared/api"
	"github.com/deskline/deskline/shared/app"
	"github.com/deskline/deskline/shared/auth"
)

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		log.Fatalf("localstack: %v", err)
	}
}

func run(ctx context.Context) error {
	level := slog.LevelInfo
	if os.Getenv("DESKLINE_LOG_LEVEL") == "debug" {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	cfg, err := app.ConfigFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	cfg.Stage = env(app.EnvStage, api.StageLocal)
	dataDir := env("DESKLINE_DATA_DIR", ".data")
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	if len(cfg.JWTSecret) == 0 {
		// A secret kept with the data, so tokens survive restarts.
		if cfg.JWTSecret, err = localSecret(filepath.Join(dataDir, "jwt-secret")); err != nil {
			return err
		}
	}
	port, err := strconv.Atoi(env("DESKLINE_DYNAMODB_PORT", "8000"))
	if err != nil {
		return fmt.Errorf("DESKLINE_DYNAMODB_PORT: %w", err)
	}
	adminEmail := env("DESKLINE_ADMIN_EMAIL", "admin@deskline.local")
	adminPassword := env("DESKLINE_ADMIN_PASSWORD", "admin-password-1")
	c, err := cloud.Start(ctx, cloud.Options{
		HTTPAddr:         env("DESKLINE_HTTP_ADDR", "127.0.0.1:3000"),
		WSAddr:           env("DESKLINE_WS_ADDR", "127.0.0.1:3001"),
		DynamoDBEndpoint: os.Getenv("DESKLINE_DYNAMODB_ENDPOINT"),
		DynamoDBPort:     port,
		DataDir:          filepath.Join(dataDir, "dynamodb"),
		StreamStateDir:   dataDir,
		S3Endpoint:       os.Getenv("DESKLINE_S3_ENDPOINT"),
		S3DataDir:        filepath.Join(dataDir, "s3"),
		CacheDir:         ddblocal.DefaultCacheDir(),
		Config:           cfg,
		AdminEmail:       adminEmail,
		AdminPassword:    adminPassword,
		Log:              logger,
	})
	if err != nil {
		return err
	}
	defer c.Close()
	fmt.Printf(`
Deskline local cloud is ready (stage %s)
  HTTP API        %s/api   (health: %s/api/health, OpenAPI: %s/api/openapi.json)
  Web page        %s/  (log in, live notifications, messages)
  Mail outbox     %s/_local/mail?to=<address>  (mail is kept here, not sent)
  WebSocket API   %s?token=<token>  (@connections: %s/@connections/{id})
  DynamoDB        %s  table %q, data in %s
  S3              %s  bucket %q (attachments)
  Admin           %s / %s  (DESKLINE_ADMIN_EMAIL / DESKLINE_ADMIN_PASSWORD)
Press Ctrl-C to stop.
`, cfg.Stage, c.HTTPURL, c.HTTPURL, c.HTTPURL, c.HTTPURL, c.HTTPURL, c.WSURL, c.ConnectionsURL,
		c.DynamoDBEndpoint, cfg.Table, dataDir, c.S3Endpoint(), c.Bucket(), adminEmail, adminPassword)
	<-ctx.Done()
	fmt.Println("\nstopping")
	return c.Close()
}

// localSecret reads the local JWT secret, creating it on first start.
func localSecret(path string) ([]byte, error) {
	if b, err := os.ReadFile(path); err == nil && len(b) >= auth.MinSecretLen {
		return b, nil
	}
	s := []byte(auth.NewSessionSecret())
	if err := os.WriteFile(path, s, 0o600); err != nil {
		return nil, fmt.Errorf("write local jwt secret: %w", err)
	}
	return s, nil
}
