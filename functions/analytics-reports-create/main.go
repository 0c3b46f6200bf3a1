// Command analytics-reports-create is the Lambda behind POST /api/analytics/reports.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.HTTP("analytics-reports-create")) }
