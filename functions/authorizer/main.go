// Command authorizer is the Lambda authorizer of the HTTP and WebSocket APIs.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.Authorizer()) }
