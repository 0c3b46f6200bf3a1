// Command analytics-live-department-metrics is the Lambda behind GET /api/analytics/dashboard/live/department-metrics.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.HTTP("analytics-live-department-metrics")) }
