// Command analytics-reports-list is the Lambda behind GET /api/analytics/reports.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.HTTP("analytics-reports-list")) }
