// Command reports-mailer mails scheduled analytics reports whose cron
// expression fired: EventBridge invokes it every five minutes (the local
// cloud does the same).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.Task("reports-mailer")) }
