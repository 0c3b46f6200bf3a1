// Command analytics-task-distribution is the Lambda behind GET /api/analytics/dashboard/task-distribution.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.HTTP("analytics-task-distribution")) }
