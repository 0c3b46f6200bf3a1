// Command notifications-related is the Lambda behind GET /api/notifications/related.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.HTTP("notifications-related")) }
