// Command analytics-dashboard-department-trends is the Lambda behind GET /api/analytics/dashboard/department/{id}/trends.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.HTTP("analytics-dashboard-department-trends")) }
