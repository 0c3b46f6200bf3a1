// Package dynamotest gives tests a fresh table in the DynamoDB Local that
// `make test` starts. Without it, tests skip locally with a hint, and fail in
// CI (CI or DESKLINE_REQUIRE_SERVICES set), so they can never silently pass
// without their service.
package dynamotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/deskline/deskline/shared/dynamo"
)

// EnvEndpoint names the variable that holds DynamoDB Local's endpoint.
const EnvEndpoint = "DESKLINE_TEST_DYNAMODB_ENDPOINT"

// Endpoint returns DynamoDB Local's endpoint, or skips or fails the test
// when there is none.
func Endpoint(t testing.TB) string {
	t.Helper()
	ep := os.Getenv(EnvEndpoint)
	if ep == "" {
		if os.Getenv("CI") != "" || os.Getenv("DESKLINE_REQUIRE_SERVICES") != "" {
			t.Fatalf("%s is not set: this test needs DynamoDB Local; run it through `make test`", EnvEndpoint)
		}
		t.Skipf("%s is not set: run `make test` to start DynamoDB Local for this test", EnvEndpoint)
	}
	return ep
}

// Table creates a fresh, uniquely named table and returns a client and its
// name. The table is deleted when the test ends.
func Table(t testing.TB) (*dynamodb.Client, string) {
	t.Helper()
	db := dynamo.LocalClient(Endpoint(t))
	var b [6]byte
	_, _ = rand.Read(b[:])
	table := "test-" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := dynamo.EnsureTable(ctx, db, table); err != nil {
		t.Fatalf("create table: %v", err)
	}
	t.Cleanup(func() {
		_, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	})
	return db, table
}
