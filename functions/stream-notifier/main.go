// Command stream-notifier consumes the table's stream: notifications and live pushes.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.Stream("stream-notifier")) }
