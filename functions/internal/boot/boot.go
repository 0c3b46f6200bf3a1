// Package boot is what every Lambda main shares: it reads the environment
// once, builds the AWS clients and the app once per cold start, and returns
// the handler that main passes to lambda.Start. A configuration error stops
// the cold start loudly, before any request is taken.
package boot

import (
	"context"
	"encoding/json"
	"log"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/deskline/deskline/shared/app"
	"github.com/deskline/deskline/shared/httpapi"
	"github.com/deskline/deskline/shared/routes"
	"github.com/deskline/deskline/shared/wsapi"
)

// build assembles the app from the environment. The named function fails
// its cold start when it needs the JWT secret and has none.
func build(name string) *app.App {
	ctx := context.Background()
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	cfg, err := app.ConfigFromEnv(os.Getenv)
	if err != nil {
		log.Fatalf("config: %v", err)
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatalf("aws config: %v", err)
	}
	if arn := os.Getenv(app.EnvJWTSecretARN); arn != "" && len(cfg.JWTSecret) == 0 {
		out, err := secretsmanager.NewFromConfig(awsCfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
		if err != nil {
			log.Fatalf("read jwt secret: %v", err)
		}
		cfg.JWTSecret = []byte(aws.ToString(out.SecretString))
	}
	if len(cfg.JWTSecret) == 0 && routes.NeedsTokens(name) {
		log.Fatalf("%s needs the JWT secret: set %s or %s", name, app.EnvJWTSecret, app.EnvJWTSecretARN)
	}
	deps := app.Deps{
		DynamoDB: dynamodb.NewFromConfig(awsCfg),
		SES:      sesv2.NewFromConfig(awsCfg),
		Log:      logger,
	}
	if u := os.Getenv(app.EnvConnectionsURL); u != "" {
		deps.Connections = apigatewaymanagementapi.NewFromConfig(awsCfg, func(o *apigatewaymanagementapi.Options) { o.BaseEndpoint = aws.String(u) })
	}
	if cfg.Bucket != "" {
		deps.S3 = s3Client(awsCfg)
	}
	a, err := app.New(cfg, deps)
	if err != nil {
		log.Fatalf("build app: %v", err)
	}
	return a
}

// HTTP returns the Lambda handler of the named HTTP route.
func HTTP(name string) httpapi.LambdaHandler {
	h, err := build(name).HTTPHandler(name)
	if err != nil {
		log.Fatal(err)
	}
	return h
}

// Authorizer returns the HTTP API's Lambda authorizer.
func Authorizer() func(context.Context, json.RawMessage) (any, error) {
	return build("authorizer").Authorizer.Handle
}

// Stream returns the handler of the named stream consumer.
func Stream(name string) app.StreamHandler {
	h, err := build(name).StreamHandler(name)
	if err != nil {
		log.Fatal(err)
	}
	return h
}

// WebSocket returns the handler of the named WebSocket route function.
func WebSocket(name string) wsapi.Handler {
	h, err := build(name).WebSocketHandler(name)
	if err != nil {
		log.Fatal(err)
	}
	return h
}

// Task returns the handler of the named task function (see routes.KindTask).
func Task(name string) app.TaskHandler {
	h, err := build(name).TaskHandler(name)
	if err != nil {
		log.Fatal(err)
	}
	return h
}

// S3 returns the handler of the named function S3 notifications invoke.
func S3(name string) app.S3Handler {
	h, err := build(name).S3Handler(name)
	if err != nil {
		log.Fatal(err)
	}
	return h
}

// s3Client builds the attachments bucket's client. With an endpoint
// override (AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL: versitygw, LocalStack)
// it addresses buckets path-style, as local stand-ins need; real S3 gets
// virtual-hosted style.
func s3Client(cfg aws.Config) *s3.Client {
	pathStyle := os.Getenv("AWS_ENDPOINT_URL_S3") != "" || os.Getenv("AWS_ENDPOINT_URL") != ""
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = pathStyle })
}
