// Command users-reject is the Lambda behind PATCH /api/users/{id}/reject.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/deskline/deskline/functions/internal/boot"
)

func main() { lambda.Start(boot.HTTP("users-reject")) }
