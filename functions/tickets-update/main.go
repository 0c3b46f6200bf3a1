// Command tickets-update is the Lambda behind PUT /api/tickets/{id}.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.HTTP("tickets-update")) }
