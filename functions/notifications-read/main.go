// Command notifications-read is the Lambda behind PUT /api/notifications/{id}/read.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.HTTP("notifications-read")) }
