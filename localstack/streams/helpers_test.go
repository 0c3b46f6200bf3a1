package streams_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/deskline/deskline/localstack/streams"
)

// recorder is a consumer that remembers every invocation, safe for
// concurrent use. decide, when set, says how an invocation ends (it may
// panic); otherwise every batch succeeds.
type recorder struct {
	decide func(call int, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error)

	mu      sync.Mutex
	batches [][]events.DynamoDBEventRecord // every invocation's records
	acked   []events.DynamoDBEventRecord   // records an invocation reported done
	changed chan struct{}
}

func newRecorder(decide func(int, events.DynamoDBEvent) (events.DynamoDBEventResponse, error)) *recorder {
	return &recorder{decide: decide, changed: make(chan struct{})}
}

func (r *recorder) handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	r.mu.Lock()
	call := len(r.batches)
	r.batches = append(r.batches, ev.Records)
	r.broadcastLocked()
	r.mu.Unlock()
	var resp events.DynamoDBEventResponse
	var err error
	if r.decide != nil {
		resp, err = r.decide(call, ev)
	}
	if err != nil {
		return resp, err
	}
	// Done are the records before the earliest one reported failed.
	done := len(ev.Records)
	for _, f := range resp.BatchItemFailures {
		for i, rec := range ev.Records {
			if rec.Change.SequenceNumber == f.ItemIdentifier && i < done {
				done = i
			}
		}
	}
	r.mu.Lock()
	r.acked = append(r.acked, ev.Records[:done]...)
	r.broadcastLocked()
	r.mu.Unlock()
	return resp, nil
}

func (r *recorder) broadcastLocked() {
	close(r.changed)
	r.changed = make(chan struct{})
}

func (r *recorder) Batches() [][]events.DynamoDBEventRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]events.DynamoDBEventRecord(nil), r.batches...)
}

func (r *recorder) Acked() []events.DynamoDBEventRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]events.DynamoDBEventRecord(nil), r.acked...)
}

// waitAcked waits until at least n records were acknowledged.
func (r *recorder) waitAcked(ctx context.Context, n int) ([]events.DynamoDBEventRecord, error) {
	for {
		r.mu.Lock()
		got, ch := append([]events.DynamoDBEventRecord(nil), r.acked...), r.changed
		r.mu.Unlock()
		if len(got) >= n {
			return got, nil
		}
		select {
		case <-ctx.Done():
			return got, fmt.Errorf("%d of %d records acknowledged: %w", len(got), n, ctx.Err())
		case <-ch:
		}
	}
}

// fail returns a response that reports the given records as failed.
func fail(recs ...events.DynamoDBEventRecord) events.DynamoDBEventResponse {
	var resp events.DynamoDBEventResponse
	for _, r := range recs {
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: r.Change.SequenceNumber})
	}
	return resp
}

// sks lists the SK key of each record, which the tests use as its name.
func sks(recs []events.DynamoDBEventRecord) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Change.Keys["SK"].String()
	}
	return out
}

// running is a pump started by startPump.
type running struct {
	*streams.Pump
	stop func() // cancels Run and waits for it to return
}

// startPump runs a pump until the test ends (or stop is called).
func startPump(t testing.TB, api streams.StreamsAPI, ddb streams.DescribeTabler, table string, cs []streams.Consumer, o streams.Options) *running {
	t.Helper()
	if o.Log == nil && testing.Verbose() {
		o.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	p := streams.New(api, ddb, table, cs, o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Errorf("Run did not return within 10s of its context ending")
			}
		})
	}
	t.Cleanup(stop)
	return &running{Pump: p, stop: stop}
}

// waitIdle waits for the pump to catch up, failing the test after a while.
func waitIdle(t testing.TB, p *running) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
}

func within(t testing.TB, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
