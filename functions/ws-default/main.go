// Command ws-default serves the WebSocket API's route of the same name.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.WebSocket("ws-default")) }
