// Command tasks-dependencies-add is the Lambda behind POST /api/tasks/{id}/dependencies.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.HTTP("tasks-dependencies-add")) }
