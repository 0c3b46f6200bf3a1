// Command analytics-anomalies-department is the Lambda behind GET /api/analytics/dashboard/department/{id}/anomalies.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.HTTP("analytics-anomalies-department")) }
