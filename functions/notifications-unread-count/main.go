// Command notifications-unread-count is the Lambda behind GET /api/notifications/unread/count.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.HTTP("notifications-unread-count")) }
