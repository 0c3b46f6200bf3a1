// Command analytics-rebuild recomputes every analytics aggregate from the
// base items (tickets, tasks and their history), for upgrades and repair.
// Invoke it by hand; `make analytics-rebuild` runs the same locally.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.Task("analytics-rebuild")) }
