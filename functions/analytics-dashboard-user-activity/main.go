// Command analytics-dashboard-user-activity is the Lambda behind GET /api/analytics/dashboard/user-activity.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.HTTP("analytics-dashboard-user-activity")) }
