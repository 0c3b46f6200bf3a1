// Command analytics-rebuild recomputes every analytics aggregate, activity
// log and aggregator state from the base items (tickets, tasks and their
// history), for upgrades and repair. Locally it works on the running local
// cloud's DynamoDB (make dev, http://127.0.0.1:8000, or
// DESKLINE_DYNAMODB_ENDPOINT); with DESKLINE_DYNAMODB_ENDPOINT empty it uses
// the standard AWS configuration and the table DESKLINE_TABLE (in AWS the
// analytics-rebuild Lambda does the same).
//
//	make analytics-rebuild
//	DESKLINE_DYNAMODB_ENDPOINT= DESKLINE_TABLE=<table> make analytics-rebuild
//
// Run it while the help desk is quiet: a change the stream applies during
// the rebuild may be counted twice or not at all (running it again fixes it).
package main

import (
	"context"
	"encoding/json"
	"log"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/deskline/deskline/shared/analytics"
	"github.com/deskline/deskline/shared/app"
	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/dynamo"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	cfg, err := app.ConfigFromEnv(os.Getenv)
	if err != nil {
		log.Fatalf("analytics-rebuild: %v", err)
	}
	var db dynamo.API
	if ep := os.Getenv("DESKLINE_DYNAMODB_ENDPOINT"); ep != "" {
		db = dynamo.LocalClient(ep)
	} else {
		awsCfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			log.Fatalf("analytics-rebuild: aws config: %v", err)
		}
		db = dynamodb.NewFromConfig(awsCfg)
	}
	store := dynamo.New(db, cfg.Table, deskline.SystemClock{})
	rep, err := analytics.Rebuild(ctx, store, nil)
	if err != nil {
		log.Fatalf("analytics-rebuild: %v (is the local cloud running? start it with make dev)", err)
	}
	out, _ := json.Marshal(rep)
	log.Printf("analytics-rebuild: table %s: %s", cfg.Table, out)
}
