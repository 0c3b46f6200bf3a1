// Package streams is the local stand-in for Lambda's DynamoDB event source
// mappings: a pump that polls the table's DynamoDB stream (DynamoDB Local's,
// or LocalStack's) and hands events.DynamoDBEvent batches to in-process
// stream consumers the way Lambda would.
//
// Each Consumer is its own event source mapping: it has its own position in
// every shard, its own retries and its own filter, so one consumer failing
// never holds back another. Per consumer the pump
//
//   - reads every shard of the stream, a child shard only once its parent is
//     finished, and finds new shards by describing the stream every second;
//   - starts at the checkpoint (AFTER_SEQUENCE_NUMBER) or, without one, at
//     TRIM_HORIZON, and polls each open shard at most PollInterval (≤ 100 ms)
//     after an empty poll, at once after a full one;
//   - delivers only records whose NewImage or OldImage "type" is one of
//     ItemTypes (like filter criteria on dynamodb.NewImage.type.S and
//     dynamodb.OldImage.type.S); filtered-out records still advance the
//     checkpoint;
//   - builds records exactly as Lambda does (eventID, eventName, eventVersion,
//     eventSource, awsRegion, eventSourceARN = the stream ARN, and the
//     dynamodb section with images converted by EventAttribute);
//   - honours partial batch responses (ReportBatchItemFailures): when the
//     handler names a record in BatchItemFailures, everything before the
//     earliest named record is checkpointed and the next batch starts at it;
//     an identifier that names no record of the batch, a returned error or a
//     panic fails the whole batch;
//   - retries with a small backoff (RetryBackoff × attempt). After MaxRetries
//     failed attempts starting at the same record, the failure goes to the
//     on-failure destination (Failures, and DestinationFile) and is skipped:
//     only the failing record when the handler reported it as a batch item
//     failure (as bisecting would isolate it, so the records after it are
//     still delivered), the whole batch when the handler failed as a whole;
//   - sends records older than MaxRecordAge to the destination unprocessed;
//   - re-acquires an iterator from its checkpoint when one expires, and
//     starts at TRIM_HORIZON when the checkpoint's records were trimmed.
//
// Handlers of different shards run concurrently, as Lambda invokes one batch
// per shard at a time; DynamoDB Local has a single shard per stream. A
// handler is never invoked concurrently for the same shard.
package streams

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
)

// Handler is a stream consumer's Lambda handler, reporting partial batch
// failures.
type Handler func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error)

// Consumer is one event source mapping.
type Consumer struct {
	Name string
	// ItemTypes keeps only records whose NewImage or OldImage "type" (S) is
	// one of these; empty delivers every record.
	ItemTypes []string
	Handler   Handler
	// BatchSize caps the records of one invocation; 0 means 100.
	BatchSize int
	// MaxRetries is how many failed attempts of a batch (starting at the same
	// record) send it to the on-failure destination; 0 means 5, a negative
	// value retries for ever.
	MaxRetries int
	// MaxRecordAge sends older records to the destination unprocessed; 0
	// means one hour, a negative value never does.
	MaxRecordAge time.Duration
}

// Defaults.
const (
	DefaultBatchSize        = 100
	DefaultMaxRetries       = 5
	DefaultMaxRecordAge     = time.Hour
	DefaultPollInterval     = 50 * time.Millisecond
	MaxPollInterval         = 100 * time.Millisecond
	DefaultDescribeInterval = time.Second
	DefaultRetryBackoff     = 100 * time.Millisecond
)

// maxGetRecords is GetRecords' own limit per call.
const maxGetRecords = 1000

// FailedBatch is what the on-failure destination receives: records the pump
// gave up on.
type FailedBatch struct {
	Consumer      string    `json:"consumer"`
	StreamARN     string    `json:"streamArn"`
	ShardID       string    `json:"shardId"`
	FirstSequence string    `json:"firstSequenceNumber"`
	LastSequence  string    `json:"lastSequenceNumber"`
	Records       int       `json:"records"`
	Reason        string    `json:"reason"`
	At            time.Time `json:"at"`
}

// Options configure a Pump.
type Options struct {
	// CheckpointFile keeps every consumer's positions as JSON, written
	// atomically after each batch and read when Run starts; "" keeps them
	// in memory only (a later Run of the same Pump resumes from them).
	CheckpointFile string
	// PollInterval is the wait after a poll of a shard that returned no
	// records; 0 means 50 ms, and more than 100 ms is cut to 100 ms.
	PollInterval time.Duration
	// DescribeInterval is how often the stream is described to find new
	// shards; 0 means one second.
	DescribeInterval time.Duration
	// RetryBackoff is the wait before the n-th retry of a failed batch,
	// multiplied by n; 0 means 100 ms.
	RetryBackoff time.Duration
	// DestinationFile, when set, gets every FailedBatch appended as a JSON
	// line; they are kept in memory (Failures) either way.
	DestinationFile string
	Log             *slog.Logger
}

// StreamsAPI is the part of the DynamoDB Streams client the pump uses
// (*dynamodbstreams.Client).
type StreamsAPI interface {
	DescribeStream(context.Context, *dynamodbstreams.DescribeStreamInput, ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error)
	GetShardIterator(context.Context, *dynamodbstreams.GetShardIteratorInput, ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error)
	GetRecords(context.Context, *dynamodbstreams.GetRecordsInput, ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error)
}

// DescribeTabler finds the table's stream (*dynamodb.Client).
type DescribeTabler interface {
	DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// consumer is a Consumer with its defaults filled in.
type consumer struct {
	Consumer
	types map[string]bool
}

func (c *consumer) matches(r *rec) bool {
	if len(c.types) == 0 {
		return true
	}
	return (r.newType != "" && c.types[r.newType]) || (r.oldType != "" && c.types[r.oldType])
}

// shardInfo is a shard as the last description showed it.
type shardInfo struct {
	id, parent string
}

type workKey struct{ consumer, shard string }

// status is what Idle needs to know of one consumer in one shard.
type status struct {
	running  bool   // a worker goroutine owns this shard
	finished bool   // closed and fully handled
	busy     bool   // records fetched and not yet handled
	empty    uint64 // ticket of the last poll if it returned nothing, else 0
}

// Pump polls one table's stream for its consumers. Create it with New and
// start it with Run.
type Pump struct {
	streams   StreamsAPI
	ddb       DescribeTabler
	table     string
	consumers []*consumer
	opts      Options
	log       *slog.Logger
	configErr error

	running     atomic.Bool
	ticket      atomic.Uint64 // orders polls and describes against WaitIdle calls
	describeNow chan struct{}
	kick        chan struct{} // a worker finished a shard: start its children
	cp          *checkpoints

	mu        sync.Mutex
	changed   chan struct{} // closed and replaced on every status change
	live      bool          // Run is running and knows its stream
	streamARN string
	shards    []shardInfo
	described uint64 // ticket of the last successful description
	work      map[workKey]*status
	failures  []FailedBatch
}

// New returns a pump for the stream of table, delivering to consumers. Its
// configuration is checked by Run.
func New(streams StreamsAPI, ddb DescribeTabler, table string, consumers []Consumer, opts Options) *Pump {
	p := &Pump{
		streams: streams, ddb: ddb, table: table, opts: opts,
		describeNow: make(chan struct{}, 1),
		kick:        make(chan struct{}, 1),
		changed:     make(chan struct{}),
		work:        map[workKey]*status{},
		cp:          newCheckpoints(opts.CheckpointFile),
	}
	if p.opts.PollInterval <= 0 {
		p.opts.PollInterval = DefaultPollInterval
	}
	p.opts.PollInterval = min(p.opts.PollInterval, MaxPollInterval)
	if p.opts.DescribeInterval <= 0 {
		p.opts.DescribeInterval = DefaultDescribeInterval
	}
	if p.opts.RetryBackoff <= 0 {
		p.opts.RetryBackoff = DefaultRetryBackoff
	}
	p.log = opts.Log
	if p.log == nil {
		p.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	p.log = p.log.With(slog.String("component", "stream-pump"), slog.String("table", table))
	var errs []error
	if streams == nil || ddb == nil {
		errs = append(errs, errors.New("stream pump: nil client"))
	}
	if len(consumers) == 0 {
		errs = append(errs, errors.New("stream pump: no consumers"))
	}
	seen := map[string]bool{}
	for _, c := range consumers {
		switch {
		case c.Name == "":
			errs = append(errs, errors.New("stream pump: a consumer has no name"))
		case seen[c.Name]:
			errs = append(errs, fmt.Errorf("stream pump: two consumers are named %q", c.Name))
		case c.Handler == nil:
			errs = append(errs, fmt.Errorf("stream pump: consumer %q has no handler", c.Name))
		}
		seen[c.Name] = true
		cc := &consumer{Consumer: c, types: map[string]bool{}}
		for _, t := range c.ItemTypes {
			cc.types[t] = true
		}
		if cc.BatchSize <= 0 {
			cc.BatchSize = DefaultBatchSize
		}
		if cc.MaxRetries == 0 {
			cc.MaxRetries = DefaultMaxRetries
		}
		if cc.MaxRecordAge == 0 {
			cc.MaxRecordAge = DefaultMaxRecordAge
		}
		p.consumers = append(p.consumers, cc)
	}
	p.configErr = errors.Join(errs...)
	return p
}

// LocalClient returns a DynamoDB Streams client for a local endpoint
// (DynamoDB Local or LocalStack): static credentials, us-east-1.
func LocalClient(endpoint string) *dynamodbstreams.Client {
	return dynamodbstreams.New(dynamodbstreams.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
}

// Run polls the stream and invokes the consumers until ctx is done, then
// waits for the handlers in flight and returns nil. Consumer failures, API
// errors and a missing table are logged and retried, never returned; Run
// returns an error only for a bad configuration or when it is already
// running.
func (p *Pump) Run(ctx context.Context) error {
	if p.configErr != nil {
		return p.configErr
	}
	if !p.running.CompareAndSwap(false, true) {
		return errors.New("stream pump: already running")
	}
	defer p.running.Store(false)
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
		p.mu.Lock()
		p.live = false
		p.work = map[workKey]*status{}
		p.broadcastLocked()
		p.mu.Unlock()
	}()

	if err := p.cp.load(); err != nil {
		p.log.Error("ignoring the checkpoint file; consumers start at the trim horizon", slog.String("error", err.Error()))
	}
	arn, ok := p.resolveStream(ctx)
	if !ok {
		return nil
	}
	if p.cp.bind(arn) {
		p.log.Warn("the checkpoint belongs to another stream of the table; starting at the trim horizon", slog.String("stream", arn))
	}
	p.mu.Lock()
	p.streamARN, p.live, p.shards, p.described = arn, true, nil, 0
	p.work = map[workKey]*status{}
	p.mu.Unlock()
	p.log.Info("stream pump started", slog.String("stream", arn), slog.Int("consumers", len(p.consumers)))

	ticker := time.NewTicker(p.opts.DescribeInterval)
	defer ticker.Stop()
	describe := true
	for {
		if describe {
			p.describe(ctx, arn)
		}
		p.schedule(ctx, &wg)
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
			describe = true
		case <-p.describeNow:
			describe = true
		case <-p.kick:
			describe = false
		}
	}
}

// resolveStream finds the table's latest stream, retrying until it exists.
func (p *Pump) resolveStream(ctx context.Context) (string, bool) {
	var last string
	for {
		out, err := p.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(p.table)})
		var msg string
		switch {
		case err != nil:
			msg = "describe table: " + err.Error()
		case out.Table == nil || aws.ToString(out.Table.LatestStreamArn) == "":
			msg = "the table has no stream"
		default:
			return aws.ToString(out.Table.LatestStreamArn), true
		}
		if ctx.Err() != nil {
			return "", false
		}
		if msg != last {
			p.log.Warn("waiting for the table's stream", slog.String("error", msg))
			last = msg
		}
		if !sleep(ctx, p.opts.DescribeInterval) {
			return "", false
		}
	}
}

// describe lists every shard of the stream (paginated) and forgets the
// checkpoints of shards that are gone.
func (p *Pump) describe(ctx context.Context, arn string) {
	ticket := p.ticket.Add(1)
	var shards []shardInfo
	in := &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn)}
	for {
		out, err := p.streams.DescribeStream(ctx, in)
		if err != nil {
			if ctx.Err() == nil {
				p.log.Warn("describe stream", slog.String("error", err.Error()))
			}
			return
		}
		if out.StreamDescription == nil {
			p.log.Warn("describe stream: no description")
			return
		}
		for _, s := range out.StreamDescription.Shards {
			shards = append(shards, shardInfo{id: aws.ToString(s.ShardId), parent: aws.ToString(s.ParentShardId)})
		}
		next := out.StreamDescription.LastEvaluatedShardId
		if aws.ToString(next) == "" {
			break
		}
		in.ExclusiveStartShardId = next
	}
	live := map[string]bool{}
	for _, s := range shards {
		live[s.id] = true
	}
	if err := p.cp.prune(live); err != nil {
		p.log.Error("checkpoint", slog.String("error", err.Error()))
	}
	p.mu.Lock()
	p.shards = shards
	p.described = ticket
	p.broadcastLocked()
	p.mu.Unlock()
}

// schedule starts a worker for every consumer and shard that has none, is
// not finished, and whose parent (if the stream still has it) is finished
// for that consumer.
func (p *Pump) schedule(ctx context.Context, wg *sync.WaitGroup) {
	if ctx.Err() != nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	known := map[string]bool{}
	for _, s := range p.shards {
		known[s.id] = true
	}
	for _, c := range p.consumers {
		for _, s := range p.shards {
			k := workKey{c.Name, s.id}
			st := p.work[k]
			if st == nil {
				st = &status{}
				p.work[k] = st
				if p.cp.get(c.Name, s.id).Finished {
					st.finished = true
					p.broadcastLocked()
				}
			}
			if st.running || st.finished {
				continue
			}
			if s.parent != "" && known[s.parent] {
				if ps := p.work[workKey{c.Name, s.parent}]; ps == nil || !ps.finished {
					continue
				}
			}
			st.running, st.busy, st.empty = true, false, 0
			w := &worker{p: p, c: c, shard: s.id, arn: p.streamARN, pos: p.cp.get(c.Name, s.id).SequenceNumber}
			w.log = p.log.With(slog.String("consumer", c.Name), slog.String("shard", s.id))
			wg.Add(1)
			go func() {
				defer wg.Done()
				w.run(ctx)
			}()
		}
	}
}

// update changes one status under the lock and wakes WaitIdle.
func (p *Pump) update(k workKey, f func(*status)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.work[k]
	if st == nil {
		st = &status{}
		p.work[k] = st
	}
	f(st)
	p.broadcastLocked()
}

func (p *Pump) broadcastLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

func (p *Pump) kickSchedule() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// Failures returns the batches sent to the on-failure destination so far.
func (p *Pump) Failures() []FailedBatch {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]FailedBatch(nil), p.failures...)
}

// StreamARN returns the stream being read, once Run has found it.
func (p *Pump) StreamARN() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.streamARN
}

func (p *Pump) fail(fb FailedBatch) {
	p.log.Error("batch sent to the on-failure destination",
		slog.String("consumer", fb.Consumer), slog.String("shard", fb.ShardID),
		slog.String("first", fb.FirstSequence), slog.String("last", fb.LastSequence),
		slog.Int("records", fb.Records), slog.String("reason", fb.Reason))
	p.mu.Lock()
	p.failures = append(p.failures, fb)
	p.mu.Unlock()
	if p.opts.DestinationFile == "" {
		return
	}
	if err := appendJSONLine(p.opts.DestinationFile, fb); err != nil {
		p.log.Error("write the on-failure destination", slog.String("error", err.Error()))
	}
}

var destMu sync.Mutex

func appendJSONLine(file string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	destMu.Lock()
	defer destMu.Unlock()
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(append(b, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Idle reports whether the pump is caught up: it is running, has described
// the stream, and for every consumer every shard is either finished or has
// had every record GetRecords returned handled, with its last poll
// returning none.
func (p *Pump) Idle() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.idleLocked(0)
}

// WaitIdle waits until the pump has caught up with every change made before
// the call: the stream was described, and every consumer has polled every
// open shard after the call with nothing new, and has handled (delivered,
// filtered out or given up on) everything before. It returns ctx's error if
// that does not happen in time, for instance while a consumer keeps
// failing.
func (p *Pump) WaitIdle(ctx context.Context) error {
	after := p.ticket.Add(1)
	select {
	case p.describeNow <- struct{}{}:
	default:
	}
	for {
		p.mu.Lock()
		ok, ch := p.idleLocked(after), p.changed
		p.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for the stream pump to catch up: %w (%s)", ctx.Err(), p.Pending())
		case <-ch:
		}
	}
}

func (p *Pump) idleLocked(after uint64) bool {
	if !p.live || p.described == 0 || p.described <= after {
		return false
	}
	for _, c := range p.consumers {
		for _, s := range p.shards {
			st := p.work[workKey{c.Name, s.id}]
			switch {
			case st == nil:
				return false
			case st.finished:
			case !st.running || st.busy || st.empty == 0 || st.empty <= after:
				return false
			}
		}
	}
	return true
}

// Pending describes what keeps the pump from being idle, for messages.
func (p *Pump) Pending() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.live {
		return "not running"
	}
	if p.described == 0 {
		return "stream not described yet"
	}
	var out []string
	for _, c := range p.consumers {
		for _, s := range p.shards {
			st := p.work[workKey{c.Name, s.id}]
			switch {
			case st == nil || (!st.running && !st.finished):
				out = append(out, c.Name+"/"+s.id+": waiting for its parent")
			case st.finished:
			case st.busy:
				out = append(out, c.Name+"/"+s.id+": handling records")
			}
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return "polling"
	}
	return fmt.Sprint(out)
}

// sleep waits for d or until ctx is done; it reports whether ctx is alive.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
