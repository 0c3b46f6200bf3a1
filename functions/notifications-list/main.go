// Command notifications-list is the Lambda behind GET /api/notifications.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.HTTP("notifications-list")) }
