package streams_test

// Integration tests of the pump against DynamoDB Local. Each test gets a
// fresh table (with its stream) from dynamotest.Table; run them through
//
//	go run ./localstack/cmd/withservices -- go test ./localstack/streams/

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/deskline/deskline/localstack/ddblocal"
	"github.com/deskline/deskline/localstack/dynamotest"
	"github.com/deskline/deskline/localstack/streams"
	"github.com/deskline/deskline/shared/dynamo"
)

// item is what the tests write: SK names it, type is filtered on, n changes.
type item struct {
	PK   string `dynamodbav:"PK"`
	SK   string `dynamodbav:"SK"`
	Type string `dynamodbav:"type"`
	N    int    `dynamodbav:"n"`
}

type local struct {
	db    *dynamodb.Client
	table string
	ep    string
}

func newLocal(t testing.TB) local {
	t.Helper()
	db, table := dynamotest.Table(t)
	return local{db: db, table: table, ep: dynamotest.Endpoint(t)}
}

func (l local) start(t testing.TB, cs []streams.Consumer, o streams.Options) *running {
	t.Helper()
	return startPump(t, streams.LocalClient(l.ep), l.db, l.table, cs, o)
}

func (l local) put(t testing.TB, sk, typ string, n int) {
	t.Helper()
	av, err := attributevalue.MarshalMap(item{PK: "P", SK: sk, Type: typ, N: n})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(l.table), Item: av}); err != nil {
		t.Fatal(err)
	}
}

func (l local) del(t testing.TB, sk string) {
	t.Helper()
	_, err := l.db.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: aws.String(l.table), Key: map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: "P"}, "SK": &types.AttributeValueMemberS{Value: sk},
	}})
	if err != nil {
		t.Fatal(err)
	}
}

// putAll writes r<from>..r<to-1> of type "x".
func (l local) putAll(t testing.TB, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		l.put(t, fmt.Sprintf("r%d", i), "x", i)
	}
}

func names(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("r%d", i))
	}
	return out
}

func decode(t *testing.T, img map[string]events.DynamoDBAttributeValue) *item {
	t.Helper()
	if img == nil {
		return nil
	}
	var it item
	if err := dynamo.UnmarshalStreamImage(img, &it); err != nil {
		t.Fatal(err)
	}
	return &it
}

func TestChangesArriveInOrderWithImagesAndFilters(t *testing.T) {
	l := newLocal(t)
	all, tickets, tasks := newRecorder(nil), newRecorder(nil), newRecorder(nil)
	begin := time.Now()
	p := l.start(t, []streams.Consumer{
		{Name: "all", Handler: all.handle},
		{Name: "tickets", Handler: tickets.handle, ItemTypes: []string{"ticket"}},
		{Name: "tasks", Handler: tasks.handle, ItemTypes: []string{"task", "comment"}},
	}, streams.Options{})
	waitIdle(t, p)

	l.put(t, "T1", "ticket", 1)
	l.put(t, "T1", "ticket", 2) // MODIFY
	l.put(t, "K1", "task", 1)
	l.del(t, "T1")      // REMOVE: only an OldImage carries the type
	l.del(t, "nothing") // deleting nothing writes no record
	l.put(t, "T2", "ticket", 1)
	l.put(t, "T2", "ticket", 1) // an unchanged item writes no record
	waitIdle(t, p)

	got := all.Acked()
	type want struct {
		name, sk string
		old, new *item
	}
	wants := []want{
		{"INSERT", "T1", nil, &item{"P", "T1", "ticket", 1}},
		{"MODIFY", "T1", &item{"P", "T1", "ticket", 1}, &item{"P", "T1", "ticket", 2}},
		{"INSERT", "K1", nil, &item{"P", "K1", "task", 1}},
		{"REMOVE", "T1", &item{"P", "T1", "ticket", 2}, nil},
		{"INSERT", "T2", nil, &item{"P", "T2", "ticket", 1}},
	}
	if len(got) != len(wants) {
		t.Fatalf("got %d records %v, want %d", len(got), sks(got), len(wants))
	}
	ids := map[string]bool{}
	for i, w := range wants {
		r := got[i]
		if r.EventName != w.name || r.Change.Keys["SK"].String() != w.sk {
			t.Errorf("record %d: %s %s, want %s %s", i, r.EventName, r.Change.Keys["SK"].String(), w.name, w.sk)
		}
		if o, n := decode(t, r.Change.OldImage), decode(t, r.Change.NewImage); !equalItem(o, w.old) || !equalItem(n, w.new) {
			t.Errorf("record %d (%s %s): old %+v new %+v, want old %+v new %+v", i, w.name, w.sk, o, n, w.old, w.new)
		}
		if len(r.Change.Keys) != 2 || r.Change.Keys["PK"].String() != "P" {
			t.Errorf("record %d keys %v", i, r.Change.Keys)
		}
		if r.EventVersion != "1.1" || r.EventSource != "aws:dynamodb" || r.EventSourceArn != p.StreamARN() ||
			r.AWSRegion == "" || r.EventID == "" || ids[r.EventID] ||
			r.Change.StreamViewType != "NEW_AND_OLD_IMAGES" || r.Change.SizeBytes <= 0 {
			t.Errorf("record %d envelope: %+v", i, r)
		}
		ids[r.EventID] = true
		// DynamoDB Local truncates the creation time to the minute.
		if ct := r.Change.ApproximateCreationDateTime.Time; ct.Before(begin.Add(-time.Minute)) || ct.After(time.Now()) {
			t.Errorf("record %d created %v, test began %v", i, ct, begin)
		}
		if i > 0 && !seqLess(got[i-1].Change.SequenceNumber, r.Change.SequenceNumber) {
			t.Errorf("sequence numbers out of order: %s then %s", got[i-1].Change.SequenceNumber, r.Change.SequenceNumber)
		}
	}
	if g := sks(tickets.Acked()); !slices.Equal(g, []string{"T1", "T1", "T1", "T2"}) {
		t.Errorf("tickets consumer got %v", g)
	}
	if g := tasks.Acked(); !slices.Equal(sks(g), []string{"K1"}) || g[0].EventName != "INSERT" {
		t.Errorf("tasks consumer got %v", sks(g))
	}
	if !p.Idle() {
		t.Errorf("not idle after WaitIdle: %s", p.Pending())
	}
	if f := p.Failures(); len(f) != 0 {
		t.Errorf("failures: %+v", f)
	}
}

func equalItem(a, b *item) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// seqLess compares sequence numbers, which are decimal strings.
func seqLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

func TestBatchItemFailureRetriesFromThatRecord(t *testing.T) {
	l := newLocal(t)
	l.putAll(t, 0, 10)
	rec := newRecorder(func(call int, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		if call == 0 {
			return fail(ev.Records[4], ev.Records[7]), nil // the earliest failure counts
		}
		return events.DynamoDBEventResponse{}, nil
	})
	p := l.start(t, []streams.Consumer{{Name: "c", Handler: rec.handle}}, streams.Options{RetryBackoff: 10 * time.Millisecond})
	waitIdle(t, p)
	b := rec.Batches()
	if len(b) != 2 || !slices.Equal(sks(b[0]), names(0, 10)) || !slices.Equal(sks(b[1]), names(4, 10)) {
		t.Fatalf("invocations %v, want [r0..r9] then [r4..r9]", b)
	}
	if got := sks(rec.Acked()); !slices.Equal(got, names(0, 10)) {
		t.Fatalf("acknowledged %v, want r0..r9 once each", got)
	}
	// Records written later continue after r9.
	l.putAll(t, 10, 12)
	waitIdle(t, p)
	if got := sks(rec.Acked()); !slices.Equal(got, names(0, 12)) {
		t.Fatalf("acknowledged %v", got)
	}
}

func TestPoisonRecordGoesToDestinationAndTheRestFlow(t *testing.T) {
	l := newLocal(t)
	l.putAll(t, 0, 6)
	poison := newRecorder(func(_ int, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		for _, r := range ev.Records {
			if r.Change.Keys["SK"].String() == "r2" {
				return fail(r), nil
			}
		}
		return events.DynamoDBEventResponse{}, nil
	})
	healthy := newRecorder(nil)
	dest := filepath.Join(t.TempDir(), "failed.jsonl")
	p := l.start(t, []streams.Consumer{
		{Name: "poison", Handler: poison.handle, BatchSize: 3, MaxRetries: 3},
		{Name: "healthy", Handler: healthy.handle},
	}, streams.Options{RetryBackoff: 10 * time.Millisecond, DestinationFile: dest})
	waitIdle(t, p)
	l.putAll(t, 6, 7)
	waitIdle(t, p)

	want := []string{"r0", "r1", "r3", "r4", "r5", "r6"}
	if got := sks(poison.Acked()); !slices.Equal(got, want) {
		t.Errorf("poison consumer acknowledged %v, want %v", got, want)
	}
	attempts := 0
	for _, b := range poison.Batches() {
		if slices.Contains(sks(b), "r2") {
			attempts++
			if sks(b)[0] != "r2" && attempts > 1 {
				t.Errorf("retry batch %v does not start at r2", sks(b))
			}
		}
	}
	if attempts != 3 {
		t.Errorf("r2 was tried %d times, want MaxRetries = 3", attempts)
	}
	if got := sks(healthy.Acked()); !slices.Equal(got, names(0, 7)) {
		t.Errorf("healthy consumer acknowledged %v", got)
	}
	fails := p.Failures()
	var r2 string
	for _, r := range healthy.Acked() {
		if r.Change.Keys["SK"].String() == "r2" {
			r2 = r.Change.SequenceNumber
		}
	}
	if len(fails) != 1 || fails[0].Consumer != "poison" || fails[0].FirstSequence != r2 || fails[0].LastSequence != r2 ||
		fails[0].Records != 1 || fails[0].ShardID == "" || fails[0].At.IsZero() || !strings.Contains(fails[0].Reason, "batch item failure") {
		t.Fatalf("failures %+v, want r2 (%s) of poison", fails, r2)
	}
	if got := readDestination(t, dest); len(got) != 1 || got[0] != fails[0] {
		t.Errorf("destination file %+v", got)
	}
}

func TestFailingConsumerDoesNotDelayTheOthers(t *testing.T) {
	l := newLocal(t)
	release := make(chan struct{})
	hung := func(ctx context.Context, _ events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		select { // a handler that hangs until released
		case <-release:
		case <-ctx.Done():
		}
		return events.DynamoDBEventResponse{}, nil
	}
	failing := newRecorder(func(int, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		return events.DynamoDBEventResponse{}, errors.New("down")
	})
	healthy := newRecorder(nil)
	p := l.start(t, []streams.Consumer{
		{Name: "hung", Handler: hung},
		{Name: "failing", Handler: failing.handle, MaxRetries: -1},
		{Name: "healthy", Handler: healthy.handle},
	}, streams.Options{})
	defer close(release)
	var worst time.Duration
	for i := range 5 {
		begin := time.Now()
		l.putAll(t, i, i+1)
		if _, err := healthy.waitAcked(within(t, 2*time.Second), i+1); err != nil {
			t.Fatalf("healthy consumer held back: %v", err)
		}
		worst = max(worst, time.Since(begin))
	}
	t.Logf("healthy consumer's slowest change-to-handler: %v", worst)
	if got := sks(healthy.Acked()); !slices.Equal(got, names(0, 5)) {
		t.Errorf("healthy consumer acknowledged %v", got)
	}
	if len(failing.Batches()) == 0 {
		t.Error("the failing consumer was never invoked")
	}
	short, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := p.WaitIdle(short); err == nil {
		t.Error("WaitIdle returned while consumers are stuck")
	} else {
		t.Logf("WaitIdle: %v", err)
	}
}

func TestRestartWithCheckpointFileDoesNotRedeliver(t *testing.T) {
	l := newLocal(t)
	file := filepath.Join(t.TempDir(), "streams", "checkpoint.json")
	o := streams.Options{CheckpointFile: file}
	first := newRecorder(nil)
	p := l.start(t, []streams.Consumer{{Name: "notifier", Handler: first.handle}}, o)
	l.putAll(t, 0, 5)
	waitIdle(t, p)
	p.stop()
	if got := sks(first.Acked()); !slices.Equal(got, names(0, 5)) {
		t.Fatalf("first run acknowledged %v", got)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var cp struct {
		StreamARN string                                                `json:"streamArn"`
		Consumers map[string]map[string]struct{ SequenceNumber string } `json:"consumers"`
	}
	if err := json.Unmarshal(b, &cp); err != nil || cp.StreamARN != p.StreamARN() || len(cp.Consumers["notifier"]) != 1 {
		t.Fatalf("checkpoint file (%v):\n%s", err, b)
	}
	for _, pos := range cp.Consumers["notifier"] {
		if last := first.Acked()[4].Change.SequenceNumber; pos.SequenceNumber != last {
			t.Errorf("checkpoint at %s, want the last record %s", pos.SequenceNumber, last)
		}
	}

	l.putAll(t, 5, 8) // while no pump runs
	again, late := newRecorder(nil), newRecorder(nil)
	p2 := l.start(t, []streams.Consumer{
		{Name: "notifier", Handler: again.handle},
		{Name: "projector", Handler: late.handle}, // new: no checkpoint, trim horizon
	}, o)
	waitIdle(t, p2)
	if got := sks(again.Acked()); !slices.Equal(got, names(5, 8)) {
		t.Errorf("after restart the notifier got %v, want r5..r7 only", got)
	}
	if got := sks(late.Acked()); !slices.Equal(got, names(0, 8)) {
		t.Errorf("a new consumer got %v, want r0..r7", got)
	}
}

func TestWaitIdleCatchesUpWithABurst(t *testing.T) {
	l := newLocal(t)
	rec := newRecorder(nil)
	p := l.start(t, []streams.Consumer{{Name: "c", Handler: rec.handle, BatchSize: 25}}, streams.Options{})
	const n = 300
	for i := 0; i < n; i += 25 {
		var reqs []types.WriteRequest
		for j := i; j < i+25; j++ {
			av, _ := attributevalue.MarshalMap(item{PK: "P", SK: fmt.Sprintf("b%03d", j), Type: "x", N: j})
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: av}})
		}
		out, err := l.db.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{l.table: reqs}})
		if err != nil || len(out.UnprocessedItems) > 0 {
			t.Fatalf("batch write: %v (%d unprocessed)", err, len(out.UnprocessedItems))
		}
	}
	waitIdle(t, p) // no polling for the count: WaitIdle alone must be enough
	got := rec.Acked()
	if len(got) != n {
		t.Fatalf("%d records after WaitIdle, want %d", len(got), n)
	}
	seen := map[string]bool{}
	for i, r := range got {
		if seen[r.Change.Keys["SK"].String()] {
			t.Fatalf("%s delivered twice", r.Change.Keys["SK"].String())
		}
		seen[r.Change.Keys["SK"].String()] = true
		if i > 0 && !seqLess(got[i-1].Change.SequenceNumber, r.Change.SequenceNumber) {
			t.Fatalf("out of order at %d", i)
		}
	}
	for _, b := range rec.Batches() {
		if len(b) > 25 {
			t.Fatalf("a batch of %d records, BatchSize is 25", len(b))
		}
	}
	if !p.Idle() {
		t.Errorf("Idle() false after WaitIdle: %s", p.Pending())
	}
}

// TestResumesAfterDynamoDBLocalRestart is `make dev` with kept data: DynamoDB
// Local stops and starts again on the same -dbPath, so does the pump with
// its checkpoint file, and only the changes made since are delivered.
func TestResumesAfterDynamoDBLocalRestart(t *testing.T) {
	dynamotest.Endpoint(t) // runs where the services are
	if testing.Short() {
		t.Skip("starts its own DynamoDB Local; skipped in -short mode")
	}
	ctx := within(t, 2*time.Minute)
	dir, err := ddblocal.Ensure(ctx, ddblocal.DefaultCacheDir(), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	data, file := t.TempDir(), filepath.Join(t.TempDir(), "checkpoint.json")
	var all []string
	for round := range 2 {
		srv, err := ddblocal.Start(ctx, ddblocal.Options{Dir: dir, DataDir: data})
		if err != nil {
			t.Fatal(err)
		}
		l := local{db: dynamo.LocalClient(srv.Endpoint()), table: "deskline-dev", ep: srv.Endpoint()}
		if err := dynamo.EnsureTable(ctx, l.db, l.table); err != nil {
			t.Fatal(err)
		}
		rec := newRecorder(nil)
		p := l.start(t, []streams.Consumer{{Name: "notifier", Handler: rec.handle}}, streams.Options{CheckpointFile: file})
		l.putAll(t, round*3, round*3+3)
		waitIdle(t, p)
		p.stop()
		if err := srv.Stop(); err != nil {
			t.Fatal(err)
		}
		if got := sks(rec.Acked()); !slices.Equal(got, names(round*3, round*3+3)) {
			t.Fatalf("round %d delivered %v", round, got)
		}
		all = append(all, sks(rec.Acked())...)
	}
	if !slices.Equal(all, names(0, 6)) {
		t.Errorf("over both runs: %v", all)
	}
}

// BenchmarkChangeToHandler measures the time from calling PutItem to the
// handler seeing the record (the PutItem itself included), one change at a
// time at random moments, with the default poll interval. Run it with -benchtime=200x for 200
// changes.
func BenchmarkChangeToHandler(b *testing.B) {
	l := newLocal(b)
	type seen struct {
		sk string
		at time.Time
	}
	ch := make(chan seen, 64)
	p := l.start(b, []streams.Consumer{{Name: "bench", Handler: func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		at := time.Now()
		for _, r := range ev.Records {
			ch <- seen{r.Change.Keys["SK"].String(), at}
		}
		return events.DynamoDBEventResponse{}, nil
	}}}, streams.Options{})
	waitIdle(b, p)
	change := func(sk string) time.Duration {
		begin := time.Now()
		l.put(b, sk, "x", 0)
		timeout := time.After(5 * time.Second)
		for {
			select {
			case s := <-ch:
				if s.sk == sk {
					return s.at.Sub(begin)
				}
			case <-timeout:
				b.Fatalf("%s not seen within 5s", sk)
			}
		}
	}
	for i := range 20 { // DynamoDB Local's JIT warms up
		change(fmt.Sprintf("warm-%d", i))
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Changes come at random moments, not in step with the polls: right
		// after a delivery the pump polls again at once, which would flatter
		// back-to-back changes.
		b.StopTimer()
		time.Sleep(time.Duration(rand.Int64N(int64(2 * streams.DefaultPollInterval))))
		b.StartTimer()
		lat = append(lat, change(fmt.Sprintf("bench-%d", i)))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(q float64) float64 {
		return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
