package streams

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

const (
	maxRetryWait = 3 * time.Second // cap of RetryBackoff × attempt
	maxErrorWait = 5 * time.Second // cap of the backoff after API errors
)

// worker reads one shard for one consumer: one poller of one event source
// mapping. Only its goroutine touches its fields.
type worker struct {
	p     *Pump
	c     *consumer
	shard string
	arn   string
	log   *slog.Logger

	pos       string  // checkpoint: the last record handled, "" for none
	iter      *string // the next GetRecords iterator, nil to acquire one
	horizon   bool    // acquire the next iterator at TRIM_HORIZON whatever pos says
	closed    bool    // the shard has no more records (closed, or gone)
	buf       []*rec  // fetched and not yet handled, in order
	failSeq   string  // the record the failing attempts start at
	failCount int     // failed attempts starting at failSeq
	errs      int     // consecutive API errors
}

func (w *worker) key() workKey { return workKey{w.c.Name, w.shard} }

func (w *worker) run(ctx context.Context) {
	defer func() {
		if r := recover(); r != nil {
			// A bug here must not take the local cloud down: the schedule
			// restarts this shard from its checkpoint at the next description.
			w.log.Error("stream worker panicked; restarting it from the checkpoint",
				slog.Any("panic", r), slog.String("stack", string(debug.Stack())))
		}
		w.p.update(w.key(), func(s *status) { s.running = false })
	}()
	w.log.Debug("reading shard", slog.String("after", w.pos))
	for ctx.Err() == nil {
		switch {
		case len(w.buf) > 0:
			w.process(ctx)
		case w.closed:
			w.finish()
			return
		default:
			w.fetch(ctx)
		}
	}
}

// fetch gets the next records of the shard into the buffer, waiting
// PollInterval after an empty poll.
func (w *worker) fetch(ctx context.Context) {
	if w.iter == nil && !w.acquire(ctx) {
		return
	}
	ticket := w.p.ticket.Add(1)
	out, err := w.p.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{
		ShardIterator: w.iter, Limit: aws.Int32(maxGetRecords),
	})
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		w.iter = nil // every path below starts again from the checkpoint
		var expired *types.ExpiredIteratorException
		var trimmed *types.TrimmedDataAccessException
		switch {
		case errors.As(err, &expired):
			w.log.Debug("shard iterator expired; getting a new one at the checkpoint")
		case errors.As(err, &trimmed):
			w.log.Warn("records were trimmed; getting a new iterator", slog.String("error", err.Error()))
		default:
			w.apiError(ctx, "get records", err)
		}
		return
	}
	w.errs = 0
	w.iter = out.NextShardIterator
	if aws.ToString(w.iter) == "" {
		w.iter, w.closed = nil, true
	}
	w.buf = make([]*rec, 0, len(out.Records))
	for _, r := range out.Records {
		w.buf = append(w.buf, newRec(r, w.arn))
	}
	n := len(w.buf)
	w.p.update(w.key(), func(s *status) {
		s.busy = n > 0
		s.empty = 0
		if n == 0 {
			s.empty = ticket
		}
	})
	if n == 0 && !w.closed {
		sleep(ctx, w.p.opts.PollInterval)
	}
}

// acquire gets an iterator after the checkpoint, or at the trim horizon
// without one. It reports whether w.iter is set.
func (w *worker) acquire(ctx context.Context) bool {
	in := &dynamodbstreams.GetShardIteratorInput{
		StreamArn: aws.String(w.arn), ShardId: aws.String(w.shard),
		ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
	}
	if w.pos != "" && !w.horizon {
		in.ShardIteratorType = types.ShardIteratorTypeAfterSequenceNumber
		in.SequenceNumber = aws.String(w.pos)
	}
	out, err := w.p.streams.GetShardIterator(ctx, in)
	if err == nil && aws.ToString(out.ShardIterator) == "" {
		err = errors.New("no shard iterator in the answer")
	}
	if err != nil {
		if ctx.Err() != nil {
			return false
		}
		var notFound *types.ResourceNotFoundException
		var trimmed *types.TrimmedDataAccessException
		var api interface{ ErrorCode() string }
		switch {
		case errors.As(err, &notFound):
			w.log.Warn("the shard is gone; treating it as finished", slog.String("error", err.Error()))
			w.closed = true
		case in.SequenceNumber != nil && errors.As(err, &trimmed):
			w.log.Warn("the records after the checkpoint were trimmed; starting at the trim horizon",
				slog.String("after", w.pos))
			w.horizon = true
		case in.SequenceNumber != nil && errors.As(err, &api) && api.ErrorCode() == "ValidationException":
			w.log.Error("the checkpoint is not a sequence number of this shard; starting at the trim horizon",
				slog.String("after", w.pos), slog.String("error", err.Error()))
			w.horizon = true
		default:
			w.apiError(ctx, "get shard iterator", err)
		}
		return false
	}
	w.horizon = false
	w.iter = out.ShardIterator
	return true
}

// apiError logs a failed call and backs off, more after each error in a row.
func (w *worker) apiError(ctx context.Context, op string, err error) {
	w.errs++
	wait := min(DefaultRetryBackoff<<min(w.errs-1, 10), maxErrorWait)
	w.log.Warn(op+" failed; retrying", slog.String("error", err.Error()),
		slog.Int("inARow", w.errs), slog.Duration("wait", wait))
	sleep(ctx, wait)
}

// process hands the next batch of the buffer to the handler and settles the
// outcome: checkpoint, retry, or the on-failure destination.
func (w *worker) process(ctx context.Context) {
	c := w.c
	// The batch: up to BatchSize matching records. end is how far into the
	// buffer it reaches, including filtered-out records it passed over (and
	// those after it, when the buffer ends first).
	var sel []int
	end := len(w.buf)
	for i, r := range w.buf {
		if !c.matches(r) {
			continue
		}
		if r.bad != nil {
			if len(sel) > 0 {
				end = i
				break
			}
			w.giveUp([]*rec{r}, "cannot convert the record: "+r.bad.Error())
			w.commit(i + 1)
			return
		}
		sel = append(sel, i)
		if len(sel) == c.BatchSize {
			end = i + 1
			break
		}
	}
	if len(sel) == 0 {
		w.commit(end)
		return
	}

	if c.MaxRecordAge > 0 {
		now := time.Now()
		n := 0
		for n < len(sel) && recordAge(w.buf[sel[n]].created, now) > c.MaxRecordAge {
			n++
		}
		if n > 0 {
			w.giveUp(pick(w.buf, sel[:n]), fmt.Sprintf("older than MaxRecordAge (%s)", c.MaxRecordAge))
			w.commit(sel[n-1] + 1)
			w.resetFailures()
			return
		}
	}

	ev := events.DynamoDBEvent{Records: make([]events.DynamoDBEventRecord, len(sel))}
	index := make(map[string]int, len(sel))
	for j, i := range sel {
		ev.Records[j] = w.buf[i].ev
		index[w.buf[i].seq] = j
	}
	resp, err := w.invoke(ctx, ev)
	if ctx.Err() != nil {
		return // stopping: the batch is neither done nor failed
	}
	failedAt := -1 // the earliest record named in BatchItemFailures
	if err == nil {
		for _, f := range resp.BatchItemFailures {
			j, ok := index[f.ItemIdentifier]
			if !ok { // as Lambda: an identifier that is no record fails the batch
				err = fmt.Errorf("BatchItemFailures names %q, which is no sequence number of the batch", f.ItemIdentifier)
				break
			}
			if failedAt < 0 || j < failedAt {
				failedAt = j
			}
		}
		if err == nil && failedAt < 0 {
			w.commit(end)
			w.resetFailures()
			return
		}
	}

	// Failed. Everything before the first record to retry is done; what is
	// given up on after MaxRetries is the failing record for an item
	// failure, the whole batch for a failed invocation.
	skip, giveEnd, give, reason := sel[0], end, pick(w.buf, sel), ""
	if err != nil {
		reason = "handler failed: " + err.Error()
	} else {
		skip = sel[failedAt]
		giveEnd, give, reason = skip+1, pick(w.buf, sel[failedAt:failedAt+1]), "reported as a batch item failure"
	}
	w.commit(skip)
	giveEnd -= skip
	start := w.buf[0].seq
	if start == w.failSeq {
		w.failCount++
	} else {
		w.failSeq, w.failCount = start, 1
	}
	if c.MaxRetries > 0 && w.failCount >= c.MaxRetries {
		w.giveUp(give, fmt.Sprintf("%d failed attempts; last: %s", w.failCount, reason))
		w.commit(giveEnd)
		w.resetFailures()
		return
	}
	wait := min(time.Duration(w.failCount)*w.p.opts.RetryBackoff, maxRetryWait)
	w.log.Warn("batch failed; retrying", slog.Int("attempt", w.failCount), slog.String("from", start),
		slog.String("reason", reason), slog.Duration("wait", wait))
	sleep(ctx, wait)
}

// invoke calls the handler, turning a panic into an error.
func (w *worker) invoke(ctx context.Context, ev events.DynamoDBEvent) (resp events.DynamoDBEventResponse, err error) {
	defer func() {
		if r := recover(); r != nil {
			w.log.Error("stream handler panicked", slog.Any("panic", r), slog.String("stack", string(debug.Stack())))
			resp, err = events.DynamoDBEventResponse{}, fmt.Errorf("handler panicked: %v", r)
		}
	}()
	return w.c.Handler(ctx, ev)
}

// commit marks the first n buffered records handled and checkpoints.
func (w *worker) commit(n int) {
	if n <= 0 {
		return
	}
	if seq := w.buf[n-1].seq; seq != "" {
		w.pos = seq
	}
	w.buf = w.buf[n:]
	if err := w.p.cp.set(w.c.Name, w.shard, position{SequenceNumber: w.pos}); err != nil {
		w.log.Error("checkpoint", slog.String("error", err.Error()))
	}
	if len(w.buf) == 0 {
		w.p.update(w.key(), func(s *status) { s.busy = false })
	}
}

func (w *worker) resetFailures() { w.failSeq, w.failCount = "", 0 }

// finish records that the shard is closed and fully handled, so its
// children can start.
func (w *worker) finish() {
	if err := w.p.cp.set(w.c.Name, w.shard, position{SequenceNumber: w.pos, Finished: true}); err != nil {
		w.log.Error("checkpoint", slog.String("error", err.Error()))
	}
	w.p.update(w.key(), func(s *status) { s.finished, s.running, s.busy = true, false, false })
	w.log.Debug("shard finished", slog.String("last", w.pos))
	w.p.kickSchedule()
}

func (w *worker) giveUp(recs []*rec, reason string) {
	w.p.fail(FailedBatch{
		Consumer: w.c.Name, StreamARN: w.arn, ShardID: w.shard,
		FirstSequence: recs[0].seq, LastSequence: recs[len(recs)-1].seq, Records: len(recs),
		Reason: reason, At: time.Now().UTC(),
	})
}

func pick(buf []*rec, idx []int) []*rec {
	out := make([]*rec, len(idx))
	for j, i := range idx {
		out[j] = buf[i]
	}
	return out
}

// recordAge is how old a record is at least. ApproximateCreationDateTime is
// truncated (to the second by DynamoDB, to the minute by DynamoDB Local), so
// a time on a whole minute or second is taken as the end of that minute or
// second: a record is never given up on as too old before it is.
func recordAge(created, now time.Time) time.Duration {
	if created.IsZero() {
		return 0
	}
	switch {
	case created.Equal(created.Truncate(time.Minute)):
		created = created.Add(time.Minute)
	case created.Equal(created.Truncate(time.Second)):
		created = created.Add(time.Second)
	}
	return now.Sub(created)
}
