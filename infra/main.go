// Command infra is Deskline's CDK app: `make synth`, `make deploy` and
// `make destroy` run it through the CDK CLI (see cdk.json and docs/deploy.md).
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/deskline/deskline/infra/stack"
)

func main() {
	os.Exit(run())
}

func run() int {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	cfg, err := stack.ConfigFromContext(app.Node())
	if err != nil {
		fmt.Fprintln(os.Stderr, "infra:", err)
		return 1
	}
	spec := stack.FromRoutes()
	if err := spec.CheckAssets(cfg.AssetDir); err != nil {
		fmt.Fprintln(os.Stderr, "infra:", err)
		return 1
	}
	stack.New(app, "Deskline-"+cfg.Stage, &awscdk.StackProps{
		Description: jsii.String("Deskline help desk (" + cfg.Stage + "): HTTP and WebSocket APIs, Lambda functions, DynamoDB table, attachments bucket"),
	}, cfg, spec)
	app.Synth(nil)
	return 0
}
