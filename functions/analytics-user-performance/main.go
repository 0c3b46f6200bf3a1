// Command analytics-user-performance is the Lambda behind GET /api/analytics/user/{id}/performance.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.HTTP("analytics-user-performance")) }
