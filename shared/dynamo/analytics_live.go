package dynamo

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/deskline/deskline/shared/analytics"
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
