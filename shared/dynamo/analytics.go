package dynamo

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/deskline/deskline/shared/analytics"
	"github.com/deskline/deskline/shared/deskline"
)

// Item types of analytics (see docs/analytics.md).
const (
	TypeAggregate = "aggregate" // one scope's counters of one UTC day
	TypeAggEntity = "aggentity" // what the aggregator counted for one ticket or task
	TypeAggDedupe = "aggdedupe" // a stream record already applied (expires after AggDedupeTTL)
	TypeActivity  = "activity"  // one entry of a user's activity log
	TypeReport    = "report"    // a saved report
)

// AggDedupeTTL is how long an applied stream record's marker is kept: longer
// than a stream keeps records (24 h), so a replay always finds it.
const AggDedupeTTL = 48 * time.Hour

// Analytics keys:
//
//	AGG#ALL | AGG#DEPT#<d> | AGG#USER#<u>   DAY#YYYY-MM-DD   counters
//	AGGENT#<ticket|task>#<id>              STATE            entity state
//	AGGEVT#<eventID>#<chunk>               DEDUPE           applied marker
//	ACT#<u>                                <time>#<discrim>#<type>#<id>  activity
//	                                       (GSI2 ACTS / its SK; GSI1 ACTDEPT#<d> / its SK when it has a department)
//	REPORT#<r>                             #REPORT          report (GSI1 REPORTS / <createdAt>#<r>)
const (
	skAggState  = "STATE"
	skAggDedupe = "DEDUPE"
	skReport    = "#REPORT"
	reportsPK   = "REPORTS"
	// activitiesPK lists every activity entry (GSI2), newest last by time.
	activitiesPK = "ACTS"
	dayPrefix    = "DAY#"
)

func aggPK(s analytics.Scope) string         { return "AGG#" + string(s) }
func aggEntityPK(typ, id string) string      { return "AGGENT#" + typ + "#" + id }
func aggDedupePK(event string, i int) string { return "AGGEVT#" + event + "#" + strconv.Itoa(i) }
func activityPK(user string) string          { return "ACT#" + user }
func activityDeptPK(dept string) string      { return "ACTDEPT#" + dept }
func reportPK(id string) string              { return "REPORT#" + id }
func aggMeta(name string) bool {
	return name == "PK" || name == "SK" || name == "type" || name == "scope" || name == "day"
}
func daySK(day string) string { return dayPrefix + day }
func stateKey(typ, id string) map[string]types.AttributeValue {
	return key(aggEntityPK(typ, id), skAggState)
}

// DecodeStreamImage decodes a stream record's image into an entity struct by
// JSON field names (the aggregator's decoder).
func (s *Store) DecodeStreamImage(img map[string]events.DynamoDBAttributeValue, out any) error {
	m, err := StreamImage(img)
	if err != nil {
		return err
	}
	return unmarshalItem(m, out)
}

type aggStateItem struct {
	keys
	*analytics.EntityState
}

// EntityState returns what the aggregator counted for a ticket or task, or nil.
func (s *Store) EntityState(ctx context.Context, typ, id string) (*analytics.EntityState, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: stateKey(typ, id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("get analytics state of %s %s: %w", typ, id, err)
	}
	if out.Item == nil {
		return nil, nil
	}
	st := &analytics.EntityState{}
	if err := unmarshalItem(out.Item, &aggStateItem{EntityState: st}); err != nil {
		return nil, fmt.Errorf("unmarshal analytics state of %s %s: %w", typ, id, err)
	}
	return st, nil
}

func decodeHistoryRow(raw map[string]types.AttributeValue) (analytics.HistoryRow, error) {
	var r analytics.HistoryRow
	if sk, ok := raw["SK"].(*types.AttributeValueMemberS); ok {
		r.SK = sk.Value
	}
	err := unmarshalItem(raw, &r.Entry)
	return r, err
}

// EventHistory returns the history items written for one stream record: those
// of the entity at time at carrying the record's eventID.
func (s *Store) EventHistory(ctx context.Context, typ, id, eventID string, at time.Time) ([]analytics.HistoryRow, error) {
	pk, _ := EntityPK(typ, id)
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :h)"),
		FilterExpression:          aws.String("eventId = :e"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk), ":h": str(historyPrefix + sortTime(at) + "#"), ":e": str(eventID)},
		ConsistentRead:            aws.Bool(true),
	}
	var rows []analytics.HistoryRow
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("query history of %s: %w", pk, err)
		}
		for _, raw := range out.Items {
			r, err := decodeHistoryRow(raw)
			if err != nil {
				return nil, fmt.Errorf("unmarshal history: %w", err)
			}
			rows = append(rows, r)
		}
		if len(out.LastEvaluatedKey) == 0 {
			return rows, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// bucketUpdate adds counters to one bucket, creating it if need be.
func (s *Store) bucketUpdate(scope analytics.Scope, day string, c analytics.Counters) types.TransactWriteItem {
	names := map[string]string{"#ty": "type", "#sc": "scope", "#dy": "day"}
	values := map[string]types.AttributeValue{":ty": str(TypeAggregate), ":sc": str(string(scope)), ":dy": str(day)}
	fields := make([]string, 0, len(c))
	for f := range c {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	adds := make([]string, len(fields))
	for i, f := range fields {
		n, v := "#f"+strconv.Itoa(i), ":v"+strconv.Itoa(i)
		names[n], values[v] = f, num(c[f])
		adds[i] = n + " " + v
	}
	return types.TransactWriteItem{Update: &types.Update{
		TableName: aws.String(s.table), Key: key(aggPK(scope), daySK(day)),
		UpdateExpression:          aws.String("SET #ty = :ty, #sc = :sc, #dy = :dy ADD " + strings.Join(adds, ", ")),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}}
}

type activityItem struct {
	keys
	*analytics.Activity
}

// activityPut is an activity entry as stored, by the stream and the
// rebuild alike: in its user's log, on the help desk's list (GSI2) and, if
// it has one, on its department's (GSI1), each sorted by time.
func (s *Store) activityPut(a *analytics.Activity) (map[string]types.AttributeValue, error) {
	k := keys{PK: activityPK(a.UserID), SK: a.ID, Type: TypeActivity, GSI2PK: activitiesPK, GSI2SK: a.ID}
	if a.DepartmentID != "" {
		k.GSI1PK, k.GSI1SK = activityDeptPK(a.DepartmentID), a.ID
	}
	item, err := marshalItem(activityItem{keys: k, Activity: a})
	if err != nil {
		return nil, fmt.Errorf("marshal activity: %w", err)
	}
	return item, nil
}

func (s *Store) stateItem(st *analytics.EntityState) (map[string]types.AttributeValue, error) {
	item, err := marshalItem(aggStateItem{keys: keys{PK: aggEntityPK(st.Type, st.ID), SK: skAggState, Type: TypeAggEntity}, EntityState: st})
	if err != nil {
		return nil, fmt.Errorf("marshal analytics state: %w", err)
	}
	return item, nil
}

// aggChunk is how many writes go with one dedupe marker (a transaction holds
// at most 100 items: the marker, the writes and, in the last, the state).
const aggChunk = 98

// WriteAggregates applies one stream record's aggregate changes exactly
// once. Each transaction carries a marker keyed by the record's eventID (and
// the chunk number, when the changes need more than one transaction), put
// only if absent: a replayed record finds its markers and changes nothing.
// The entity state goes in the last transaction, conditional on the version
// read, so a chunk that did not commit is recomputed identically on retry.
func (s *Store) WriteAggregates(ctx context.Context, eventID string, w *analytics.Write) error {
	var ops []types.TransactWriteItem
	buckets := w.Deltas.NonZero().Buckets()
	scopes := make([]string, 0, len(buckets))
	for sc := range buckets {
		scopes = append(scopes, string(sc))
	}
	sort.Strings(scopes)
	for _, sc := range scopes {
		days := buckets[analytics.Scope(sc)]
		ds := make([]string, 0, len(days))
		for d := range days {
			ds = append(ds, d)
		}
		sort.Strings(ds)
		for _, d := range ds {
			ops = append(ops, s.bucketUpdate(analytics.Scope(sc), d, days[d]))
		}
	}
	for i := range w.PutActivity {
		item, err := s.activityPut(&w.PutActivity[i])
		if err != nil {
			return err
		}
		ops = append(ops, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table), Item: item}})
	}
	for _, k := range w.DeleteActivity {
		ops = append(ops, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(s.table), Key: key(activityPK(k.UserID), k.SK)}})
	}
	var state types.TransactWriteItem
	cond := aws.String("attribute_not_exists(PK)")
	var condValues map[string]types.AttributeValue
	if w.PrevVersion > 0 {
		cond = aws.String("version = :pv")
		condValues = map[string]types.AttributeValue{":pv": num(w.PrevVersion)}
	}
	if w.DeleteState {
		state = types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(s.table), Key: stateKey(w.State.Type, w.State.ID),
			ConditionExpression: cond, ExpressionAttributeValues: condValues}}
	} else {
		item, err := s.stateItem(w.State)
		if err != nil {
			return err
		}
		state = types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table), Item: item, ConditionExpression: cond, ExpressionAttributeValues: condValues}}
	}
	expires := s.clock.Now().Add(AggDedupeTTL).Unix()
	for i := 0; i == 0 || len(ops) > 0; i++ {
		n := min(aggChunk, len(ops))
		items := []types.TransactWriteItem{{Put: &types.Put{
			TableName: aws.String(s.table),
			Item: map[string]types.AttributeValue{"PK": str(aggDedupePK(eventID, i)), "SK": str(skAggDedupe), "type": str(TypeAggDedupe),
				TTLAttribute: num(expires)},
			ConditionExpression: aws.String("attribute_not_exists(PK)"),
		}}}
		items = append(items, ops[:n]...)
		ops = ops[n:]
		if len(ops) == 0 {
			items = append(items, state)
		}
		if err := s.aggTransact(ctx, items); err != nil {
			return fmt.Errorf("write aggregates of %s %s (event %s): %w", w.State.Type, w.State.ID, eventID, err)
		}
	}
	return nil
}

// aggTransact runs one aggregate transaction, retrying conflicts with other
// writers of the same buckets. A chunk whose marker exists counts as done.
func (s *Store) aggTransact(ctx context.Context, items []types.TransactWriteItem) error {
	var err error
	for attempt := 0; attempt < 8; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt*attempt) * 25 * time.Millisecond):
			}
		}
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		var tce *types.TransactionCanceledException
		if err == nil || !errors.As(err, &tce) {
			return err
		}
		conflict := false
		for i, r := range tce.CancellationReasons {
			switch aws.ToString(r.Code) {
			case "ConditionalCheckFailed":
				if i == 0 {
					return nil // the chunk's marker exists: a replay, applied before
				}
				return errStale("analytics state")
			case "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded":
				conflict = true
			}
		}
		if !conflict {
			return err
		}
	}
	return err
}

// Aggregates reads a scope's buckets of a range: one Query (a further page
// only past 1 MB, which a year of full buckets stays under).
func (s *Store) Aggregates(ctx context.Context, scope analytics.Scope, r analytics.Range) (analytics.Series, error) {
	in := &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("PK = :pk AND SK BETWEEN :a AND :b"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(aggPK(scope)), ":a": str(daySK(r.FirstDay())), ":b": str(daySK(r.LastDay())),
		},
	}
	var out analytics.Series
	for {
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("query aggregates of %s: %w", scope, err)
		}
		for _, it := range res.Items {
			out = append(out, decodeBucket(it))
		}
		if len(res.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

func decodeBucket(it map[string]types.AttributeValue) analytics.Day {
	d := analytics.Day{Counters: analytics.Counters{}}
	if sk, ok := it["SK"].(*types.AttributeValueMemberS); ok {
		d.Day = strings.TrimPrefix(sk.Value, dayPrefix)
	}
	for k, v := range it {
		if n, ok := v.(*types.AttributeValueMemberN); ok && !aggMeta(k) {
			if x, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
				d.Counters[k] = x
			}
		}
	}
	return d
}

// ActivityFilter selects a page of a user's activity log.
type ActivityFilter struct {
	UserID string
	Range  analytics.Range
	Action string // only this action, if set
	Limit  int
	Cursor string
}

// ListActivity returns one page of a user's activity log in a range,
// newest first, with exactly one Query (a page thinned by the action filter
// may hold fewer than Limit entries and still have a next cursor).
func (s *Store) ListActivity(ctx context.Context, f ActivityFilter) (Page[analytics.Activity], error) {
	pk := activityPK(f.UserID)
	start, err := decodeCursor(f.Cursor, []string{"PK", "SK"}, "PK", pk)
	if err != nil {
		return Page[analytics.Activity]{}, err
	}
	in := &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("PK = :pk AND SK BETWEEN :a AND :b"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(pk), ":a": str(f.Range.FirstDay()), ":b": str(f.Range.LastDay() + "~"),
		},
		ScanIndexForward:  aws.Bool(false),
		Limit:             aws.Int32(int32(f.Limit)),
		ExclusiveStartKey: start,
	}
	if f.Action != "" {
		in.FilterExpression = aws.String("#a = :act")
		in.ExpressionAttributeNames = map[string]string{"#a": "action"}
		in.ExpressionAttributeValues[":act"] = str(f.Action)
	}
	return s.activityPage(ctx, in, f.UserID)
}

// activityPage runs one Query of activity entries (of whom: for errors)
// and decodes its page.
func (s *Store) activityPage(ctx context.Context, in *dynamodb.QueryInput, of string) (Page[analytics.Activity], error) {
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return Page[analytics.Activity]{}, fmt.Errorf("query activity of %s: %w", of, err)
	}
	page := Page[analytics.Activity]{Items: make([]analytics.Activity, 0, len(out.Items)), NextCursor: encodeCursor(out.LastEvaluatedKey)}
	for _, raw := range out.Items {
		var a analytics.Activity
		if err := unmarshalItem(raw, &a); err != nil {
			return Page[analytics.Activity]{}, fmt.Errorf("unmarshal activity: %w", err)
		}
		page.Items = append(page.Items, a)
	}
	return page, nil
}

// EachSource calls fn for every ticket and every task with its history:
// the ticket and task lists (GSI2), then one Query per entity's history.
// It is the rebuild's read; no request path uses it.
func (s *Store) EachSource(ctx context.Context, fn func(analytics.Source) error) error {
	for _, pk := range []string{ticketsPK, tasksPK} {
		in := &dynamodb.QueryInput{
			TableName: aws.String(s.table), IndexName: aws.String(GSI2),
			KeyConditionExpression:    aws.String("GSI2PK = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
		}
		for {
			out, err := s.db.Query(ctx, in)
			if err != nil {
				return fmt.Errorf("query %s: %w", pk, err)
			}
			for _, raw := range out.Items {
				var src analytics.Source
				var entityPK string
				if pk == ticketsPK {
					src.Ticket = &deskline.Ticket{}
					if err := unmarshalItem(raw, &ticketItem{Ticket: src.Ticket}); err != nil {
						return fmt.Errorf("unmarshal ticket: %w", err)
					}
					entityPK = ticketPK(src.Ticket.ID)
				} else {
					src.Task = &deskline.Task{}
					if err := unmarshalItem(raw, &taskItem{Task: src.Task}); err != nil {
						return fmt.Errorf("unmarshal task: %w", err)
					}
					entityPK = taskPK(src.Task.ID)
				}
				if src.History, err = s.allHistory(ctx, entityPK); err != nil {
					return err
				}
				if err := fn(src); err != nil {
					return err
				}
			}
			if len(out.LastEvaluatedKey) == 0 {
				break
			}
			in.ExclusiveStartKey = out.LastEvaluatedKey
		}
	}
	return nil
}

func (s *Store) allHistory(ctx context.Context, pk string) ([]analytics.HistoryRow, error) {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :h)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk), ":h": str(historyPrefix)},
		ConsistentRead:            aws.Bool(true),
	}
	var rows []analytics.HistoryRow
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("query history of %s: %w", pk, err)
		}
		for _, raw := range out.Items {
			r, err := decodeHistoryRow(raw)
			if err != nil {
				return nil, fmt.Errorf("unmarshal history of %s: %w", pk, err)
			}
			rows = append(rows, r)
		}
		if len(out.LastEvaluatedKey) == 0 {
			return rows, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// DepartmentIDs lists every department's id.
func (s *Store) DepartmentIDs(ctx context.Context) ([]string, error) {
	var ids []string
	cursor := ""
	for {
		p, err := s.ListDepartments(ctx, 100, cursor)
		if err != nil {
			return nil, err
		}
		for _, d := range p.Items {
			ids = append(ids, d.ID)
		}
		if cursor = p.NextCursor; cursor == "" {
			return ids, nil
		}
	}
}

// UserIDs lists every user's id.
func (s *Store) UserIDs(ctx context.Context) ([]string, error) {
	var ids []string
	cursor := ""
	for {
		p, err := s.ListUsers(ctx, UserFilter{Limit: 100, Cursor: cursor})
		if err != nil {
			return nil, err
		}
		for _, u := range p.Items {
			ids = append(ids, u.ID)
		}
		if cursor = p.NextCursor; cursor == "" {
			return ids, nil
		}
	}
}

// partitionKeys lists the sort keys of one partition.
func (s *Store) partitionKeys(ctx context.Context, pk string) ([]string, error) {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
		ProjectionExpression:      aws.String("SK"),
		ConsistentRead:            aws.Bool(true),
	}
	var sks []string
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("query partition %s: %w", pk, err)
		}
		for _, it := range out.Items {
			if sk, ok := it["SK"].(*types.AttributeValueMemberS); ok {
				sks = append(sks, sk.Value)
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return sks, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// replacePartition makes partition pk hold exactly items (by SK).
func (s *Store) replacePartition(ctx context.Context, pk string, items map[string]map[string]types.AttributeValue) error {
	old, err := s.partitionKeys(ctx, pk)
	if err != nil {
		return err
	}
	var stale []map[string]types.AttributeValue
	for _, sk := range old {
		if _, keep := items[sk]; !keep {
			stale = append(stale, key(pk, sk))
		}
	}
	if err := s.batchDelete(ctx, stale); err != nil {
		return fmt.Errorf("clear %s: %w", pk, err)
	}
	puts := make([]map[string]types.AttributeValue, 0, len(items))
	for _, it := range items {
		puts = append(puts, it)
	}
	return s.batchPut(ctx, puts)
}

// BucketItem is a bucket as stored (the rebuild's and the benchmarks' writer).
func (s *Store) bucketItem(scope analytics.Scope, day string, c analytics.Counters) map[string]types.AttributeValue {
	it := map[string]types.AttributeValue{
		"PK": str(aggPK(scope)), "SK": str(daySK(day)), "type": str(TypeAggregate), "scope": str(string(scope)), "day": str(day),
	}
	for f, n := range c {
		it[f] = num(n)
	}
	return it
}

// ReplaceBuckets makes a scope's buckets exactly days.
func (s *Store) ReplaceBuckets(ctx context.Context, scope analytics.Scope, days map[string]analytics.Counters) error {
	items := make(map[string]map[string]types.AttributeValue, len(days))
	for day, c := range days {
		items[daySK(day)] = s.bucketItem(scope, day, c)
	}
	return s.replacePartition(ctx, aggPK(scope), items)
}

// ReplaceActivity makes a user's activity log exactly acts.
func (s *Store) ReplaceActivity(ctx context.Context, userID string, acts []analytics.Activity) error {
	items := make(map[string]map[string]types.AttributeValue, len(acts))
	for i := range acts {
		it, err := s.activityPut(&acts[i])
		if err != nil {
			return err
		}
		items[acts[i].ID] = it
	}
	return s.replacePartition(ctx, activityPK(userID), items)
}

// PutEntityStates writes entity states, replacing any.
func (s *Store) PutEntityStates(ctx context.Context, states []*analytics.EntityState) error {
	items := make([]map[string]types.AttributeValue, 0, len(states))
	for _, st := range states {
		it, err := s.stateItem(st)
		if err != nil {
			return err
		}
		items = append(items, it)
	}
	return s.batchPut(ctx, items)
}

// batchPut writes items 25 at a time, retrying unprocessed ones.
func (s *Store) batchPut(ctx context.Context, items []map[string]types.AttributeValue) error {
	for len(items) > 0 {
		n := min(25, len(items))
		reqs := make([]types.WriteRequest, n)
		for i, it := range items[:n] {
			reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: it}}
		}
		items = items[n:]
		pending := map[string][]types.WriteRequest{s.table: reqs}
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt == 8 {
				return fmt.Errorf("batch put: %d requests still unprocessed", len(pending[s.table]))
			}
			if attempt > 0 {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(time.Duration(attempt*attempt) * 20 * time.Millisecond):
				}
			}
			out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				return fmt.Errorf("batch put: %w", err)
			}
			pending = out.UnprocessedItems
		}
	}
	return nil
}

// PutBuckets writes whole buckets, replacing those of the same days (for
// seeding benchmarks and tests; the stream adds with WriteAggregates).
func (s *Store) PutBuckets(ctx context.Context, scope analytics.Scope, days map[string]analytics.Counters) error {
	items := make([]map[string]types.AttributeValue, 0, len(days))
	for day, c := range days {
		items = append(items, s.bucketItem(scope, day, c))
	}
	return s.batchPut(ctx, items)
}

// Saved reports.

// reportItem is a report as stored. The report's type is stored as
// reportType: "type" is the item type, as on every item.
type reportItem struct {
	keys
	ID          string                 `json:"id"`
	Name        string                 `json:"name"`
	Description string                 `json:"description"`
	ReportType  string                 `json:"reportType"`
	Parameters  analytics.ReportParams `json:"parameters"`
	Schedule    *analytics.Schedule    `json:"schedule"`
	IsActive    bool                   `json:"isActive"`
	CreatedBy   string                 `json:"createdBy"`
	CreatedAt   time.Time              `json:"createdAt"`
	UpdatedAt   time.Time              `json:"updatedAt"`
	Version     int64                  `json:"version"`
}

func (it *reportItem) report() *analytics.Report {
	return &analytics.Report{ID: it.ID, Name: it.Name, Description: it.Description, Type: it.ReportType, Parameters: it.Parameters,
		Schedule: it.Schedule, IsActive: it.IsActive, CreatedBy: it.CreatedBy, CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt, Version: it.Version}
}

var errReportNotFound = deskline.Errorf(deskline.ENOTFOUND, "Report not found")

func (s *Store) reportItem(r *analytics.Report) (map[string]types.AttributeValue, error) {
	item, err := marshalItem(reportItem{
		keys: keys{PK: reportPK(r.ID), SK: skReport, Type: TypeReport, GSI1PK: reportsPK, GSI1SK: createdSK(r.CreatedAt, r.ID)},
		ID:   r.ID, Name: r.Name, Description: r.Description, ReportType: r.Type, Parameters: r.Parameters, Schedule: r.Schedule,
		IsActive: r.IsActive, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Version: r.Version,
	})
	if err != nil {
		return nil, fmt.Errorf("marshal report %s: %w", r.ID, err)
	}
	return item, nil
}

func decodeReport(raw map[string]types.AttributeValue) (*analytics.Report, error) {
	var it reportItem
	if err := unmarshalItem(raw, &it); err != nil {
		return nil, fmt.Errorf("unmarshal report: %w", err)
	}
	return it.report(), nil
}

// CreateReport stores a new report.
func (s *Store) CreateReport(ctx context.Context, r *analytics.Report) error {
	r.Version = 1
	item, err := s.reportItem(r)
	if err != nil {
		return err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)")})
	if isConditionFailed(err) {
		return errStale("report")
	} else if err != nil {
		return fmt.Errorf("create report %s: %w", r.ID, err)
	}
	return nil
}

// GetReport returns one report.
func (s *Store) GetReport(ctx context.Context, id string) (*analytics.Report, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(reportPK(id), skReport), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("get report %s: %w", id, err)
	}
	if out.Item == nil {
		return nil, errReportNotFound
	}
	return decodeReport(out.Item)
}

// UpdateReport writes next over prev, conditional on prev's version.
func (s *Store) UpdateReport(ctx context.Context, prev, next *analytics.Report) error {
	next.Version = prev.Version + 1
	item, err := s.reportItem(next)
	if err != nil {
		return err
	}
	if err := s.putVersioned(ctx, item, prev.Version, "report", next.ID); err != nil {
		next.Version = prev.Version
		return err
	}
	return nil
}

// DeleteReport deletes a report at version r.Version.
func (s *Store) DeleteReport(ctx context.Context, r *analytics.Report) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(s.table), Key: key(reportPK(r.ID), skReport),
		ConditionExpression:       aws.String("version = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(r.Version)},
	})
	if isConditionFailed(err) {
		return errStale("report")
	} else if err != nil {
		return fmt.Errorf("delete report %s: %w", r.ID, err)
	}
	return nil
}

// ReportFilter narrows the report list.
type ReportFilter struct {
	Type     string
	IsActive *bool
	Limit    int
	Cursor   string
}

// ListReports lists reports newest first (GSI1 REPORTS).
func (s *Store) ListReports(ctx context.Context, f ReportFilter) (Page[*analytics.Report], error) {
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String(GSI1),
		KeyConditionExpression:    aws.String("GSI1PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(reportsPK)},
		ScanIndexForward:          aws.Bool(false),
	}
	var filters []string
	names := map[string]string{}
	if f.Type != "" {
		names["#rt"] = "reportType"
		filters = append(filters, "#rt = :rt")
		in.ExpressionAttributeValues[":rt"] = str(f.Type)
	}
	if f.IsActive != nil {
		names["#act"] = "isActive"
		filters = append(filters, "#act = :act")
		in.ExpressionAttributeValues[":act"] = &types.AttributeValueMemberBOOL{Value: *f.IsActive}
	}
	if len(filters) > 0 {
		in.FilterExpression = aws.String(strings.Join(filters, " AND "))
		in.ExpressionAttributeNames = names
	}
	return queryPage(ctx, s, in, f.Limit, f.Cursor, []string{"PK", "SK", "GSI1PK", "GSI1SK"}, "GSI1PK", reportsPK, decodeReport)
}
