// Command tickets-create is the Lambda behind POST /api/tickets.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.HTTP("tickets-create")) }
