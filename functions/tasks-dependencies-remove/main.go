// Command tasks-dependencies-remove is the Lambda behind DELETE /api/tasks/{id}/dependencies/{dependsOnId}.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.HTTP("tasks-dependencies-remove")) }
