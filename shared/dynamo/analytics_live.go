package dynamo

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/deskline/deskline/shared/analytics"
	"github.com/deskline/deskline/shared/deskline"
)

// TaskCohorts sums the task cohort fields (tasks by current status and
// priority, counted on their creation day) of a scope's buckets: of every
// bucket the scope has when r is nil, else of r's days. One Query, reading
// only the cohort fields back; a further page only past 1 MB of buckets (a
// year of the densest buckets, years of typical ones).
func (s *Store) TaskCohorts(ctx context.Context, scope analytics.Scope, r *analytics.Range) (analytics.Counters, error) {
	fields := analytics.TaskCubeFields()
	names := make(map[string]string, len(fields))
	proj := ""
	for i, f := range fields {
		n := "#f" + strconv.Itoa(i)
		names[n] = f
		if i > 0 {
			proj += ", "
		}
		proj += n
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :day)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(aggPK(scope)), ":day": str(dayPrefix)},
		ExpressionAttributeNames:  names,
		ProjectionExpression:      aws.String(proj),
	}
	if r != nil {
		in.KeyConditionExpression = aws.String("PK = :pk AND SK BETWEEN :a AND :b")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{
			":pk": str(aggPK(scope)), ":a": str(daySK(r.FirstDay())), ":b": str(daySK(r.LastDay())),
		}
	}
	out := analytics.Counters{}
	for {
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("query task cohorts of %s: %w", scope, err)
		}
		for _, it := range res.Items {
			out.Add(decodeBucket(it).Counters)
		}
		if len(res.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// liveTaskFields are the task attributes the live task board shows.
var liveTaskFields = []string{"id", "title", "status", "priority", "progress", "dueDate", "assignedToId", "createdBy",
	"updatedBy", "departmentId", "ticketId", "createdAt", "updatedAt", "version"}

// RecentlyChangedTasks returns up to n tasks, most recently changed
// (updatedAt, then id) first, among the tasks of one Query page of the
// all-tasks list, newest created first (GSI2 TASKS): the newest 1 MB of
// task items, which is every task while the help desk is small. complete
// reports whether that page held every task (then the answer is exact).
// Only the board's fields come back (no descriptions, no dependencies).
func (s *Store) RecentlyChangedTasks(ctx context.Context, n int) (tasks []*deskline.Task, complete bool, err error) {
	names := map[string]string{"#pk": "GSI2PK"}
	proj := make([]string, len(liveTaskFields))
	for i, f := range liveTaskFields {
		k := "#t" + strconv.Itoa(i)
		names[k] = f
		proj[i] = k
	}
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(GSI2),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(tasksPK)},
		ProjectionExpression:      aws.String(strings.Join(proj, ", ")),
		ScanIndexForward:          aws.Bool(false),
	})
	if err != nil {
		return nil, false, fmt.Errorf("query recent tasks: %w", err)
	}
	tasks = make([]*deskline.Task, 0, len(res.Items))
	for _, raw := range res.Items {
		t := &deskline.Task{}
		if err := unmarshalItem(raw, t); err != nil {
			return nil, false, fmt.Errorf("unmarshal task: %w", err)
		}
		tasks = append(tasks, t)
	}
	sort.Slice(tasks, func(i, j int) bool {
		if !tasks[i].UpdatedAt.Equal(tasks[j].UpdatedAt) {
			return tasks[i].UpdatedAt.After(tasks[j].UpdatedAt)
		}
		return tasks[i].ID > tasks[j].ID
	})
	if len(tasks) > n {
		tasks = tasks[:n]
	}
	return tasks, len(res.LastEvaluatedKey) == 0, nil
}

// ActivityFeedFilter selects a page of a department's or everyone's
// activity.
type ActivityFeedFilter struct {
	DepartmentID string           // empty: everyone's
	Range        *analytics.Range // nil: any time
	Action       string           // only this action, if set
	Limit        int
	Cursor       string
}

// ListActivityFeed returns one page of a department's activity (GSI1
// ACTDEPT#<dept>) or of everyone's (GSI2 ACTS), newest first, with exactly
// one Query (a page thinned by the action filter may hold fewer than Limit
// entries and still have a next cursor).
func (s *Store) ListActivityFeed(ctx context.Context, f ActivityFeedFilter) (Page[analytics.Activity], error) {
	idx, pkName, skName, pk := GSI2, "GSI2PK", "GSI2SK", activitiesPK
	if f.DepartmentID != "" {
		idx, pkName, skName, pk = GSI1, "GSI1PK", "GSI1SK", activityDeptPK(f.DepartmentID)
	}
	keyNames := []string{"PK", "SK", pkName, skName}
	start, err := decodeCursor(f.Cursor, keyNames, pkName, pk)
	if err != nil {
		return Page[analytics.Activity]{}, err
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(idx),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": pkName},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(f.Limit)),
		ExclusiveStartKey:         start,
	}
	if f.Range != nil {
		in.KeyConditionExpression = aws.String("#pk = :pk AND #sk BETWEEN :a AND :b")
		in.ExpressionAttributeNames["#sk"] = skName
		in.ExpressionAttributeValues[":a"] = str(f.Range.FirstDay())
		in.ExpressionAttributeValues[":b"] = str(f.Range.LastDay() + "~")
	}
	if f.Action != "" {
		in.FilterExpression = aws.String("#a = :act")
		in.ExpressionAttributeNames["#a"] = "action"
		in.ExpressionAttributeValues[":act"] = str(f.Action)
	}
	return s.activityPage(ctx, in, pk)
}
