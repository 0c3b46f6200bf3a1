package dynamo

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// conflictRetries is how many times a transaction cancelled only by
// TransactionConflict is sent again.
const conflictRetries = 4

// retryConflicts sends a TransactWriteItems again when DynamoDB cancelled
// it only because another transaction held one of its items
// (TransactionConflict): two tickets created at once in one department
// both update the department's counter, and neither should fail for it.
// A cancelled transaction wrote nothing and its conditions are checked
// again, so the retry is safe. The SDK does not retry these itself.
// Cancellations with any failed condition are returned at once.
type retryConflicts struct {
	API
	sleep func(context.Context, time.Duration) error
}

// TransactWriteItems implements API.
func (r retryConflicts) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	for attempt := 0; ; attempt++ {
		out, err := r.API.TransactWriteItems(ctx, in, opts...)
		if err == nil || attempt == conflictRetries || !onlyConflicts(err) {
			return out, err
		}
		// Full jitter over 10, 20, 40, 80 ms: the writers that collided
		// should not collide again.
		if err := r.sleep(ctx, time.Duration(rand.Int64N(int64(10*time.Millisecond)<<attempt))); err != nil {
			return out, err
		}
	}
}

// onlyConflicts reports whether err is a cancelled transaction whose every
// reason is TransactionConflict or None.
func onlyConflicts(err error) bool {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return false
	}
	conflict := false
	for _, r := range tce.CancellationReasons {
		switch aws.ToString(r.Code) {
		case "TransactionConflict":
			conflict = true
		case "None", "":
		default:
			return false
		}
	}
	return conflict
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
