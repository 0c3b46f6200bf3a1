package dynamo_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/dynamo"
)

// conflicting cancels its next n transactions the way DynamoDB does when
// another transaction holds the first item (which DynamoDB Local, being
// serial, never does), and passes the rest on.
type conflicting struct {
	dynamo.API
	n int
}

func (c *conflicting) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	if c.n == 0 {
		return c.API.TransactWriteItems(ctx, in, o...)
	}
	c.n--
	reasons := make([]types.CancellationReason, len(in.TransactItems))
	for i := range reasons {
		reasons[i].Code = aws.String("None")
	}
	reasons[0].Code = aws.String("TransactionConflict")
	return nil, &types.TransactionCanceledException{Message: aws.String("Transaction cancelled"), CancellationReasons: reasons}
}

// TestTicketCreateSurvivesTransactionConflicts: two creates at once in one
// department both update its ticket counter; in AWS the loser's
// transaction is cancelled with TransactionConflict. The store sends it
// again instead of answering a conflict to someone who only created a
// ticket.
func TestTicketCreateSurvivesTransactionConflicts(t *testing.T) {
	f := newFixture(t)
	d := f.dept("Facilities", "FAC")
	inject := &conflicting{API: f.calls}
	store := dynamo.New(inject, f.table, f.clock)
	now := f.clock.Now()
	tk := &deskline.Ticket{
		ID: f.id(deskline.PrefixTicket), Key: deskline.TicketKey(d.Code, 1), Title: "Door sticks", Status: deskline.TicketOpen,
		Priority: deskline.PriorityLow, Category: deskline.CategorySupport, DepartmentID: d.ID,
		IsActive: true, CreatedAt: now, UpdatedAt: now,
	}
	inject.n = 3
	f.calls.reset()
	if err := store.CreateTicket(f.ctx, tk, 0, nil); err != nil {
		t.Fatalf("CreateTicket after 3 conflicts: %v", err)
	}
	if got := f.calls.counts()["TransactWriteItems"]; got != 1 {
		t.Errorf("transactions reaching DynamoDB = %d, want 1 (3 cancelled before)", got)
	}
	got, err := store.GetTicket(f.ctx, tk.ID)
	if err != nil {
		t.Fatalf("GetTicket: %v", err)
	}
	if got.Key != "FAC-1" || got.Version != 1 {
		t.Errorf("ticket key %s version %d, want FAC-1 version 1", got.Key, got.Version)
	}
	if seq, err := store.TicketSeq(f.ctx, d.ID); err != nil || seq != 1 {
		t.Errorf("TicketSeq = %d, %v; want 1", seq, err)
	}

	// Past the retries, the caller gets a conflict (409), never a 500.
	tk2 := *tk
	tk2.ID, tk2.Key = f.id(deskline.PrefixTicket), deskline.TicketKey(d.Code, 2)
	inject.n = 100
	err = store.CreateTicket(f.ctx, &tk2, 1, nil)
	if deskline.ErrorCode(err) != deskline.ECONFLICT {
		t.Errorf("CreateTicket under endless conflicts: %v (code %q), want a conflict", err, deskline.ErrorCode(err))
	}
	if _, err := store.GetTicket(f.ctx, tk2.ID); deskline.ErrorCode(err) != deskline.ENOTFOUND {
		t.Errorf("GetTicket of the failed create: %v, want not found", err)
	}
}
