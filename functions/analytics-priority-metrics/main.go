// Command analytics-priority-metrics is the Lambda behind GET /api/analytics/dashboard/priority-metrics.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.HTTP("analytics-priority-metrics")) }
