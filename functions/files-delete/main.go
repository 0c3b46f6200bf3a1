// Command files-delete is the Lambda behind DELETE /api/files/{id}.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.HTTP("files-delete")) }
