// Command upload-validator is invoked by S3 on every ObjectCreated in the
// attachments bucket: it checks the new object's real size and type and
// marks its attachment available, or rejects it and deletes the object.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.S3("upload-validator")) }
