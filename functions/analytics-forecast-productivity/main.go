// Command analytics-forecast-productivity is the Lambda behind GET /api/analytics/dashboard/user/{id}/forecast/productivity.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.HTTP("analytics-forecast-productivity")) }
