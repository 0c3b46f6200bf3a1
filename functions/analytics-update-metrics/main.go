// Command analytics-update-metrics is the Lambda behind POST /api/analytics/update-metrics.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.HTTP("analytics-update-metrics")) }
