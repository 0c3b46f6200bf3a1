// Command auth-verify-reset-token is the Lambda behind GET /api/auth/verify-reset-token/{token}.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.HTTP("auth-verify-reset-token")) }
