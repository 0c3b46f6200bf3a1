// Command stream-projector consumes the table's stream: history and cascade deletes.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.Stream("stream-projector")) }
