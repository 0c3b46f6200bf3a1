// Command auth-logout is the Lambda behind POST /api/auth/logout.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.HTTP("auth-logout")) }
