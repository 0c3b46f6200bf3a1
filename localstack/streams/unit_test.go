package streams_test

// Tests of the pump over the fake Streams API: what DynamoDB Local cannot be
// made to do (shard lineage, expired iterators, trimmed records, old
// records), handler panics and bad responses, and the record conversion.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/deskline/deskline/localstack/streams"
	"github.com/deskline/deskline/shared/dynamo"
)

// fast are options that keep the fake tests quick.
var fast = streams.Options{PollInterval: 5 * time.Millisecond, DescribeInterval: 20 * time.Millisecond, RetryBackoff: 5 * time.Millisecond}

func TestLineageChildAfterParentAndNewShards(t *testing.T) {
	f := newFakeStreams()
	now := time.Now()
	f.addShard("A", "")
	f.addShard("B", "A")
	f.addShard("C", "B")
	for _, sk := range []string{"a1", "a2", "a3"} {
		f.add("A", "x", sk, now)
	}
	f.close("A")
	f.add("B", "x", "b1", now)
	f.add("B", "x", "b2", now)
	f.close("B")
	f.add("C", "x", "c1", now)

	// Slow batches of one record: a child read too early would interleave.
	slow := newRecorder(func(int, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		time.Sleep(5 * time.Millisecond)
		return events.DynamoDBEventResponse{}, nil
	})
	// A consumer stuck on the root shard holds back only itself.
	stuck := newRecorder(func(int, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		return events.DynamoDBEventResponse{}, errors.New("always")
	})
	p := startPump(t, f, fakeTable{}, "fake", []streams.Consumer{
		{Name: "slow", Handler: slow.handle, BatchSize: 1},
		{Name: "stuck", Handler: stuck.handle, MaxRetries: -1},
	}, fast)

	ctx := within(t, 10*time.Second)
	got, err := slow.waitAcked(ctx, 6)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a1", "a2", "a3", "b1", "b2", "c1"}; !slices.Equal(sks(got), want) {
		t.Fatalf("delivered %v, want %v", sks(got), want)
	}

	// A shard that appears later is found by the next description; a child
	// of the open shard C waits until C is closed and read to its end.
	f.addShard("E", "")
	f.add("E", "x", "e1", time.Now())
	f.addShard("F", "C")
	f.add("F", "x", "f1", time.Now())
	if got, err = slow.waitAcked(ctx, 7); err != nil {
		t.Fatal(err)
	}
	if last := sks(got)[6]; last != "e1" {
		t.Fatalf("7th record %s, want e1 (F must wait for C)", last)
	}
	f.add("C", "x", "c2", time.Now())
	f.close("C")
	if got, err = slow.waitAcked(ctx, 9); err != nil {
		t.Fatal(err)
	}
	if tail := sks(got)[7:]; !slices.Equal(tail, []string{"c2", "f1"}) {
		t.Fatalf("after e1: %v, want [c2 f1]", tail)
	}
	for _, b := range stuck.Batches() {
		for _, sk := range sks(b) {
			if !strings.HasPrefix(sk, "a") && sk != "e1" {
				t.Fatalf("the stuck consumer got %s before finishing shard A", sk)
			}
		}
	}
	short, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := p.WaitIdle(short); err == nil {
		t.Fatal("WaitIdle: idle while a consumer keeps failing")
	}
}

func TestExpiredIteratorResumesAtCheckpoint(t *testing.T) {
	f := newFakeStreams()
	f.addShard("S", "")
	for _, sk := range []string{"r1", "r2", "r3"} {
		f.add("S", "x", sk, time.Now())
	}
	rec := newRecorder(nil)
	p := startPump(t, f, fakeTable{}, "fake", []streams.Consumer{{Name: "c", Handler: rec.handle}}, fast)
	waitIdle(t, p)
	f.mu.Lock()
	f.expireNext["S"] = 2
	f.mu.Unlock()
	r3 := rec.Acked()[2].Change.SequenceNumber
	f.add("S", "x", "r4", time.Now())
	f.add("S", "x", "r5", time.Now())
	waitIdle(t, p)
	if got, want := sks(rec.Acked()), []string{"r1", "r2", "r3", "r4", "r5"}; !slices.Equal(got, want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !slices.Contains(f.iterators, "S AFTER_SEQUENCE_NUMBER "+r3) {
		t.Errorf("no iterator re-acquired after %s: %v", r3, f.iterators)
	}
}

func TestTrimmedOrInvalidCheckpointStartsAtTrimHorizon(t *testing.T) {
	f := newFakeStreams()
	f.addShard("S", "")
	for _, sk := range []string{"r1", "r2", "r3"} {
		f.add("S", "x", sk, time.Now())
	}
	file := filepath.Join(t.TempDir(), "cp", "checkpoint.json")
	o := fast
	o.CheckpointFile = file
	rec := newRecorder(nil)
	p := startPump(t, f, fakeTable{}, "fake", []streams.Consumer{{Name: "c", Handler: rec.handle}}, o)
	waitIdle(t, p)
	p.stop()

	// While stopped, three more records come and four are trimmed: the
	// checkpoint (after r3) is gone, so the next run starts at r5.
	for _, sk := range []string{"r4", "r5", "r6"} {
		f.add("S", "x", sk, time.Now())
	}
	f.mu.Lock()
	f.shard("S").trimmed = 4
	f.mu.Unlock()
	rec2 := newRecorder(nil)
	p2 := startPump(t, f, fakeTable{}, "fake", []streams.Consumer{{Name: "c", Handler: rec2.handle}}, o)
	waitIdle(t, p2)
	if got := sks(rec2.Acked()); !slices.Equal(got, []string{"r5", "r6"}) {
		t.Fatalf("after trimming: %v, want [r5 r6]", got)
	}
	p2.stop()

	// A checkpoint that is no sequence number of the shard: trim horizon.
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var cp map[string]any
	if err := json.Unmarshal(b, &cp); err != nil {
		t.Fatalf("checkpoint file: %v\n%s", err, b)
	}
	bogus := strings.Replace(string(b), rec2.Acked()[1].Change.SequenceNumber, "999999999999999999999", 1)
	if err := os.WriteFile(file, []byte(bogus), 0o644); err != nil {
		t.Fatal(err)
	}
	rec3 := newRecorder(nil)
	p3 := startPump(t, f, fakeTable{}, "fake", []streams.Consumer{{Name: "c", Handler: rec3.handle}}, o)
	waitIdle(t, p3)
	if got := sks(rec3.Acked()); !slices.Equal(got, []string{"r5", "r6"}) {
		t.Fatalf("after a bad checkpoint: %v, want [r5 r6]", got)
	}
}

func TestMaxRecordAgeGoesToDestination(t *testing.T) {
	f := newFakeStreams()
	f.addShard("S", "")
	now := time.Now()
	old1 := f.add("S", "x", "old1", now.Add(-3*time.Hour))
	old2 := f.add("S", "x", "old2", now.Add(-90*time.Minute))
	f.add("S", "x", "fresh", now)
	dest := filepath.Join(t.TempDir(), "failed.jsonl")
	o := fast
	o.DestinationFile = dest
	rec := newRecorder(nil)
	p := startPump(t, f, fakeTable{}, "fake", []streams.Consumer{{Name: "c", Handler: rec.handle}}, o)
	waitIdle(t, p)
	if got := sks(rec.Acked()); !slices.Equal(got, []string{"fresh"}) {
		t.Fatalf("delivered %v, want [fresh]", got)
	}
	fails := p.Failures()
	if len(fails) != 1 {
		t.Fatalf("failures: %+v", fails)
	}
	fb := fails[0]
	if fb.Consumer != "c" || fb.ShardID != "S" || fb.FirstSequence != old1 || fb.LastSequence != old2 ||
		fb.Records != 2 || !strings.Contains(fb.Reason, "MaxRecordAge") || fb.StreamARN != fakeARN {
		t.Errorf("failed batch %+v", fb)
	}
	fromFile := readDestination(t, dest)
	if len(fromFile) != 1 || !reflect.DeepEqual(fromFile[0], fb) {
		t.Errorf("destination file %+v, want [%+v]", fromFile, fb)
	}
}

func readDestination(t *testing.T, file string) []streams.FailedBatch {
	t.Helper()
	fh, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var out []streams.FailedBatch
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		var fb streams.FailedBatch
		if err := json.Unmarshal(sc.Bytes(), &fb); err != nil {
			t.Fatalf("destination line %q: %v", sc.Text(), err)
		}
		out = append(out, fb)
	}
	return out
}

func TestPanicAndBadItemIdentifierFailTheWholeBatch(t *testing.T) {
	f := newFakeStreams()
	f.addShard("S", "")
	r1 := f.add("S", "x", "r1", time.Now())
	r2 := f.add("S", "x", "r2", time.Now())
	f.add("S", "x", "r3", time.Now())
	rec := newRecorder(func(call int, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		switch call {
		case 0:
			panic("boom")
		case 1:
			return events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{{ItemIdentifier: "not-a-sequence-number"}}}, nil
		}
		return events.DynamoDBEventResponse{}, nil
	})
	p := startPump(t, f, fakeTable{}, "fake", []streams.Consumer{{Name: "c", Handler: rec.handle, BatchSize: 2, MaxRetries: 2}}, fast)
	waitIdle(t, p)
	batches := rec.Batches()
	if len(batches) != 3 || !slices.Equal(sks(batches[0]), []string{"r1", "r2"}) ||
		!slices.Equal(sks(batches[1]), []string{"r1", "r2"}) || !slices.Equal(sks(batches[2]), []string{"r3"}) {
		t.Fatalf("invocations: %v", batches)
	}
	fails := p.Failures()
	if len(fails) != 1 || fails[0].FirstSequence != r1 || fails[0].LastSequence != r2 || fails[0].Records != 2 ||
		!strings.Contains(fails[0].Reason, "2 failed attempts") || !strings.Contains(fails[0].Reason, "not-a-sequence-number") {
		t.Fatalf("failures: %+v", fails)
	}
}

func TestConfigurationErrors(t *testing.T) {
	h := newRecorder(nil).handle
	for name, cs := range map[string][]streams.Consumer{
		"none":       nil,
		"no name":    {{Handler: h}},
		"no handler": {{Name: "a"}},
		"same name":  {{Name: "a", Handler: h}, {Name: "a", Handler: h}},
	} {
		err := streams.New(newFakeStreams(), fakeTable{}, "t", cs, streams.Options{}).Run(context.Background())
		if err == nil {
			t.Errorf("%s: Run accepted it", name)
		}
	}
	f := newFakeStreams()
	f.addShard("S", "")
	p := startPump(t, f, fakeTable{}, "fake", []streams.Consumer{{Name: "a", Handler: h}}, fast)
	waitIdle(t, p)
	if err := p.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Errorf("second Run: %v", err)
	}
}

func TestRecordsAreShapedAsLambdaSendsThem(t *testing.T) {
	f := newFakeStreams()
	f.addShard("S", "")
	created := time.Date(2025, 3, 1, 12, 34, 0, 0, time.UTC)
	seq := f.add("S", "ticket", "t1", created)
	rec := newRecorder(nil)
	p := startPump(t, f, fakeTable{}, "fake", []streams.Consumer{{Name: "c", Handler: rec.handle, MaxRecordAge: -1}}, fast)
	waitIdle(t, p)
	got := rec.Acked()
	if len(got) != 1 {
		t.Fatalf("records: %v", got)
	}
	b, err := json.Marshal(got[0])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	d := m["dynamodb"].(map[string]any)
	if m["eventID"] != "ev-"+seq || m["eventName"] != "INSERT" || m["eventVersion"] != "1.1" ||
		m["eventSource"] != "aws:dynamodb" || m["awsRegion"] != "us-east-1" || m["eventSourceARN"] != fakeARN ||
		d["SequenceNumber"] != seq || d["StreamViewType"] != "NEW_AND_OLD_IMAGES" || d["SizeBytes"] != 30.0 ||
		d["ApproximateCreationDateTime"] != float64(created.Unix()) || d["OldImage"] != nil {
		t.Errorf("record JSON: %s", b)
	}
	// What a handler decodes from that JSON is what was written.
	var back events.DynamoDBEventRecord
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	var item struct{ PK, SK, Type string }
	if err := dynamo.UnmarshalStreamImage(back.Change.NewImage, &item); err != nil || item.SK != "t1" {
		t.Errorf("decoded %+v, %v", item, err)
	}
}

// TestEventAttributeRoundTrip converts every attribute type from the
// Streams API to Lambda's form (EventAttribute) and back to the DynamoDB
// API's (dynamo.StreamImage).
func TestEventAttributeRoundTrip(t *testing.T) {
	in := map[string]types.AttributeValue{
		"s": &types.AttributeValueMemberS{Value: "x"}, "n": &types.AttributeValueMemberN{Value: "1.5"},
		"b": &types.AttributeValueMemberB{Value: []byte{0, 255}}, "bool": &types.AttributeValueMemberBOOL{Value: true},
		"null": &types.AttributeValueMemberNULL{Value: true}, "ss": &types.AttributeValueMemberSS{Value: []string{"a"}},
		"ns": &types.AttributeValueMemberNS{Value: []string{"1", "2"}}, "bs": &types.AttributeValueMemberBS{Value: [][]byte{{1}}},
		"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{
			&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"deep": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberN{Value: "7"}}}}},
		}},
		"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}},
	}
	want := map[string]ddbtypes.AttributeValue{
		"s": &ddbtypes.AttributeValueMemberS{Value: "x"}, "n": &ddbtypes.AttributeValueMemberN{Value: "1.5"},
		"b": &ddbtypes.AttributeValueMemberB{Value: []byte{0, 255}}, "bool": &ddbtypes.AttributeValueMemberBOOL{Value: true},
		"null": &ddbtypes.AttributeValueMemberNULL{Value: true}, "ss": &ddbtypes.AttributeValueMemberSS{Value: []string{"a"}},
		"ns": &ddbtypes.AttributeValueMemberNS{Value: []string{"1", "2"}}, "bs": &ddbtypes.AttributeValueMemberBS{Value: [][]byte{{1}}},
		"l": &ddbtypes.AttributeValueMemberL{Value: []ddbtypes.AttributeValue{
			&ddbtypes.AttributeValueMemberM{Value: map[string]ddbtypes.AttributeValue{"deep": &ddbtypes.AttributeValueMemberL{Value: []ddbtypes.AttributeValue{&ddbtypes.AttributeValueMemberN{Value: "7"}}}}},
		}},
		"m": &ddbtypes.AttributeValueMemberM{Value: map[string]ddbtypes.AttributeValue{}},
	}
	img := map[string]events.DynamoDBAttributeValue{}
	for k, v := range in {
		ev, err := streams.EventAttribute(v)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		img[k] = ev
	}
	got, err := dynamo.StreamImage(img)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\n got %#v\nwant %#v", got, want)
	}
	if _, err := streams.EventAttribute(&types.UnknownUnionMember{Tag: "X"}); err == nil {
		t.Error("unknown member converted")
	}
	if _, err := streams.EventAttribute(&types.AttributeValueMemberL{Value: []types.AttributeValue{nil}}); err == nil {
		t.Error("nil member converted")
	}
}
