// Command tickets-stats is the Lambda behind GET /api/tickets/stats.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.HTTP("tickets-stats")) }
