// Command analytics-live-task-status is the Lambda behind GET /api/analytics/dashboard/live/task-status.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.HTTP("analytics-live-task-status")) }
