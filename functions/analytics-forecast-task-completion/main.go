// Command analytics-forecast-task-completion is the Lambda behind GET /api/analytics/dashboard/department/{id}/forecast/task-completion.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.HTTP("analytics-forecast-task-completion")) }
