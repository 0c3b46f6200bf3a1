package dynamo

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// scriptedTx answers TransactWriteItems with its errors in turn, then nil.
type scriptedTx struct {
	API
	errs  []error
	calls int
}

func (s *scriptedTx) TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	s.calls++
	if s.calls <= len(s.errs) {
		return nil, s.errs[s.calls-1]
	}
	return &dynamodb.TransactWriteItemsOutput{}, nil
}

func cancelled(codes ...string) error {
	tce := &types.TransactionCanceledException{Message: aws.String("Transaction cancelled")}
	for _, c := range codes {
		tce.CancellationReasons = append(tce.CancellationReasons, types.CancellationReason{Code: aws.String(c)})
	}
	return tce
}

func TestRetryConflicts(t *testing.T) {
	conflict := cancelled("None", "TransactionConflict", "None")
	tests := []struct {
		name      string
		errs      []error
		wantCalls int
		wantErr   bool
	}{
		{"success at once", nil, 1, false},
		{"conflicts then success", []error{conflict, conflict, conflict}, 4, false},
		{"conflict every time", []error{conflict, conflict, conflict, conflict, conflict, conflict}, 1 + conflictRetries, true},
		{"failed condition is not retried", []error{cancelled("ConditionalCheckFailed", "TransactionConflict")}, 1, true},
		{"no conflict reason is not retried", []error{cancelled("None", "None")}, 1, true},
		{"other errors are not retried", []error{errors.New("boom")}, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &scriptedTx{errs: tt.errs}
			var slept []time.Duration
			r := retryConflicts{API: fake, sleep: func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }}
			_, err := r.TransactWriteItems(context.Background(), &dynamodb.TransactWriteItemsInput{})
			if (err != nil) != tt.wantErr {
				t.Errorf("err = %v, want error %v", err, tt.wantErr)
			}
			if fake.calls != tt.wantCalls {
				t.Errorf("calls = %d, want %d", fake.calls, tt.wantCalls)
			}
			if len(slept) != tt.wantCalls-1 {
				t.Errorf("slept %d times, want %d", len(slept), tt.wantCalls-1)
			}
			for i, d := range slept {
				if max := 10 * time.Millisecond << i; d < 0 || d >= max {
					t.Errorf("sleep %d = %s, want in [0, %s)", i, d, max)
				}
			}
		})
	}
}

func TestRetryConflictsStopsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fake := &scriptedTx{errs: []error{cancelled("TransactionConflict"), cancelled("TransactionConflict")}}
	_, err := retryConflicts{API: fake, sleep: sleepCtx}.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if fake.calls != 1 {
		t.Errorf("calls = %d, want 1", fake.calls)
	}
}
