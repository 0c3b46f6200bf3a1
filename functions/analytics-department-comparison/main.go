// Command analytics-department-comparison is the Lambda behind GET /api/analytics/dashboard/department-comparison.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.HTTP("analytics-department-comparison")) }
