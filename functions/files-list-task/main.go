// Command files-list-task is the Lambda behind GET /api/files/task/{taskId}.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.HTTP("files-list-task")) }
