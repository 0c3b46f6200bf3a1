// Command analytics-live-user-activity is the Lambda behind GET /api/analytics/dashboard/live/user-activity.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.HTTP("analytics-live-user-activity")) }
