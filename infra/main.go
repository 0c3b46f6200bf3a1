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
	if _, err := stack.Build(app, stack.FromRoutes()); err != nil {
		fmt.Fprintln(os.Stderr, "infra:", err)
		return 1
	}
	app.Synth(nil)
	return 0
}
