// Command files-download is the Lambda behind GET /api/files/{id}/download.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.HTTP("files-download")) }
