// Command tasks-history is the Lambda behind GET /api/tasks/{id}/history.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.HTTP("tasks-history")) }
