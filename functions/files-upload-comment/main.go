// Command files-upload-comment is the Lambda behind POST /api/files/comment/{commentId}.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.HTTP("files-upload-comment")) }
