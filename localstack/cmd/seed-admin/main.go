// Command seed-admin creates an approved admin account, the only way an
// admin comes to be. Locally it writes to the running local cloud's DynamoDB
// (make dev); with DESKLINE_DYNAMODB_ENDPOINT empty it uses the standard AWS
// configuration (credentials, region) and the table DESKLINE_TABLE.
//
//	ADMIN_EMAIL=root@example.com ADMIN_PASSWORD='…' make seed-admin
//	DESKLINE_DYNAMODB_ENDPOINT= DESKLINE_TABLE=<table> ADMIN_EMAIL=… ADMIN_PASSWORD=… make seed-admin
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/deskline/deskline/shared/api"
	"github.com/deskline/deskline/shared/app"
	"github.com/deskline/deskline/shared/auth"
	"github.com/deskline/deskline/shared/dynamo"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	email, password := os.Getenv("ADMIN_EMAIL"), os.Getenv("ADMIN_PASSWORD")
	username := os.Getenv("ADMIN_USERNAME")
	if username == "" {
		username = "admin"
	}
	if email == "" || password == "" {
		log.Fatal("seed-admin: set ADMIN_EMAIL and ADMIN_PASSWORD (and optionally ADMIN_USERNAME)")
	}
	cfg, err := app.ConfigFromEnv(os.Getenv)
	if err != nil {
		log.Fatalf("seed-admin: %v", err)
	}
	var db dynamo.API
	if ep := os.Getenv("DESKLINE_DYNAMODB_ENDPOINT"); ep != "" {
		db = dynamo.LocalClient(ep)
	} else {
		awsCfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			log.Fatalf("seed-admin: aws config: %v", err)
		}
		db = dynamodb.NewFromConfig(awsCfg)
	}
	// Seeding needs no tokens; a throwaway secret satisfies the app's checks.
	cfg.Stage, cfg.JWTSecret = api.StageLocal, []byte(auth.NewSessionSecret())
	a, err := app.New(cfg, app.Deps{DynamoDB: db})
	if err != nil {
		log.Fatalf("seed-admin: %v", err)
	}
	created, err := a.Server.EnsureAdmin(ctx, username, email, password)
	if err != nil {
		log.Fatalf("seed-admin: %v (is the local cloud running? start it with make dev)", err)
	}
	if created {
		fmt.Printf("created admin %s in table %s\n", email, cfg.Table)
	} else {
		fmt.Printf("an account with e-mail %s already exists in table %s; nothing changed\n", email, cfg.Table)
	}
}
