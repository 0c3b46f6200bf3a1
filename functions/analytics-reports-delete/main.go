// Command analytics-reports-delete is the Lambda behind DELETE /api/analytics/reports/{id}.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.HTTP("analytics-reports-delete")) }
