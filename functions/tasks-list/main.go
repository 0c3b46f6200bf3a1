// Command tasks-list is the Lambda behind GET /api/tasks.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.HTTP("tasks-list")) }
