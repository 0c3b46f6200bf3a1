// Command tickets-comments-list is the Lambda behind GET /api/tickets/{id}/comments.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.HTTP("tickets-comments-list")) }
