package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TypeReportRun is the item type that remembers a scheduled report's last
// mailing.
const TypeReportRun = "reportrun"

// reportRunKeep is how long a report's last-mailing item outlives the
// mailing: long after any fire the mailer still considers, short enough
// that a deleted report's item goes away.
const reportRunKeep = 30 * 24 * time.Hour

func reportRunKey(reportID string) map[string]types.AttributeValue {
	return key("RPTRUN#"+reportID, "LAST")
}

// runStamp formats a fire time so that later stamps sort after earlier ones.
func runStamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04Z") }

// ClaimReportRun records that the report's mailing for fire is being sent,
// unless this or a later fire was claimed already: only the first of
// several mailers (a retried invocation, two overlapping ones) gets true.
// prev is the claim it replaced ("" when none), for ReleaseReportRun.
func (s *Store) ClaimReportRun(ctx context.Context, reportID string, fire time.Time) (claimed bool, prev string, err error) {
	out, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table),
		Item: map[string]types.AttributeValue{
			"PK": str("RPTRUN#" + reportID), "SK": str("LAST"), "type": str(TypeReportRun),
			"reportId": str(reportID), "lastRun": str(runStamp(fire)), TTLAttribute: num(fire.Add(reportRunKeep).Unix()),
		},
		ConditionExpression:       aws.String("attribute_not_exists(PK) OR lastRun < :run"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":run": str(runStamp(fire))},
		ReturnValues:              types.ReturnValueAllOld,
	})
	if isConditionFailed(err) {
		return false, "", nil
	}
	if err != nil {
		return false, "", fmt.Errorf("claim run of report %s at %s: %w", reportID, runStamp(fire), err)
	}
	if v, ok := out.Attributes["lastRun"].(*types.AttributeValueMemberS); ok {
		prev = v.Value
	}
	return true, prev, nil
}

// ReleaseReportRun undoes a claim whose mail could not be sent, so that a
// retry sends it: the report's last run goes back to prev, if the claim for
// fire is still the latest.
func (s *Store) ReleaseReportRun(ctx context.Context, reportID string, fire time.Time, prev string) error {
	cond := map[string]types.AttributeValue{":run": str(runStamp(fire))}
	var err error
	if prev == "" {
		_, err = s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName: aws.String(s.table), Key: reportRunKey(reportID),
			ConditionExpression: aws.String("lastRun = :run"), ExpressionAttributeValues: cond,
		})
	} else {
		cond[":prev"] = str(prev)
		_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(s.table), Key: reportRunKey(reportID),
			UpdateExpression:    aws.String("SET lastRun = :prev"),
			ConditionExpression: aws.String("lastRun = :run"), ExpressionAttributeValues: cond,
		})
	}
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("release run of report %s at %s: %w", reportID, runStamp(fire), err)
	}
	return nil
}
