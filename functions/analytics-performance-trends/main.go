// Command analytics-performance-trends is the Lambda behind GET /api/analytics/dashboard/performance-trends.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.HTTP("analytics-performance-trends")) }
