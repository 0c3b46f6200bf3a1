// Command files-list-ticket is the Lambda behind GET /api/files/ticket/{ticketId}.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.HTTP("files-list-ticket")) }
