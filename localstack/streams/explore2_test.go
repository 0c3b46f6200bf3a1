package streams

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dt "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	st "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/deskline/deskline/shared/dynamo/dynamotest"
)

func TestExplore2(t *testing.T) {
	db, table := dynamotest.Table(t)
	ctx := context.Background()
	sc := dynamodbstreams.New(dynamodbstreams.Options{Region: "us-east-1", BaseEndpoint: aws.String(dynamotest.Endpoint(t)), Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
	dto, _ := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	arn := aws.ToString(dto.Table.LatestStreamArn)
	t0 := time.Now()
	for i := 0; i < 3000; i += 25 {
		var reqs []dt.WriteRequest
		for j := i; j < i+25; j++ {
			reqs = append(reqs, dt.WriteRequest{PutRequest: &dt.PutRequest{Item: map[string]dt.AttributeValue{"PK": &dt.AttributeValueMemberS{Value: "p"}, "SK": &dt.AttributeValueMemberS{Value: fmt.Sprint(j)}, "type": &dt.AttributeValueMemberS{Value: "x"}}}})
		}
		if _, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]dt.WriteRequest{table: reqs}}); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("writes %v", time.Since(t0))
	// update, no-op update, delete, delete missing
	key := map[string]dt.AttributeValue{"PK": &dt.AttributeValueMemberS{Value: "p"}, "SK": &dt.AttributeValueMemberS{Value: "1"}}
	_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &table, Key: key, UpdateExpression: aws.String("SET a = :a"), ExpressionAttributeValues: map[string]dt.AttributeValue{":a": &dt.AttributeValueMemberN{Value: "1"}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: map[string]dt.AttributeValue{"PK": &dt.AttributeValueMemberS{Value: "p"}, "SK": &dt.AttributeValueMemberS{Value: "2"}, "type": &dt.AttributeValueMemberS{Value: "x"}}})
	_, err = db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &table, Key: key})
	_, err = db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &table, Key: map[string]dt.AttributeValue{"PK": &dt.AttributeValueMemberS{Value: "zz"}, "SK": &dt.AttributeValueMemberS{Value: "1"}}})
	ds, err := sc.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: &arn})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("shards %d", len(ds.StreamDescription.Shards))
	for _, s := range ds.StreamDescription.Shards {
		t.Logf("shard %s parent %v range %v-%v", *s.ShardId, aws.ToString(s.ParentShardId), aws.ToString(s.SequenceNumberRange.StartingSequenceNumber), aws.ToString(s.SequenceNumberRange.EndingSequenceNumber))
	}
	it, _ := sc.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: &arn, ShardId: ds.StreamDescription.Shards[0].ShardId, ShardIteratorType: st.ShardIteratorTypeTrimHorizon})
	iter := it.ShardIterator
	total := 0
	for iter != nil {
		t1 := time.Now()
		gr, err := sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("n=%d took %v", len(gr.Records), time.Since(t1))
		for _, r := range gr.Records[max(0, len(gr.Records)-3):] {
			t.Logf("  %s %s old=%d new=%d seq=%s", r.EventName, *r.EventID, len(r.Dynamodb.OldImage), len(r.Dynamodb.NewImage), *r.Dynamodb.SequenceNumber)
		}
		total += len(gr.Records)
		if len(gr.Records) == 0 {
			break
		}
		iter = gr.NextShardIterator
	}
	t.Logf("total %d", total)
	// expired: after seq of last
	it3, err := sc.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: &arn, ShardId: ds.StreamDescription.Shards[0].ShardId, ShardIteratorType: st.ShardIteratorTypeAfterSequenceNumber, SequenceNumber: aws.String("000000000000000003003")})
	if err != nil {
		t.Fatal(err)
	}
	gr, err := sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it3.ShardIterator})
	t.Logf("after last n=%d err=%v", len(gr.Records), err)
	it3, err = sc.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: &arn, ShardId: ds.StreamDescription.Shards[0].ShardId, ShardIteratorType: st.ShardIteratorTypeAfterSequenceNumber, SequenceNumber: aws.String("000000000000000003004")})
	t.Logf("after last+1 err=%v", err)
	it3, err = sc.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: &arn, ShardId: ds.StreamDescription.Shards[0].ShardId, ShardIteratorType: st.ShardIteratorTypeAfterSequenceNumber, SequenceNumber: aws.String("3001")})
	t.Logf("unpadded err=%v", err)
	if err == nil {
		gr, err := sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it3.ShardIterator})
		t.Logf("unpadded n=%d err=%v", len(gr.Records), err)
	}
	// delete table: what happens to stream
	db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: &table})
	ds, err = sc.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: &arn})
	if err == nil {
		t.Logf("after delete status %s shards %d end %v", ds.StreamDescription.StreamStatus, len(ds.StreamDescription.Shards), aws.ToString(ds.StreamDescription.Shards[0].SequenceNumberRange.EndingSequenceNumber))
	} else {
		t.Logf("after delete err %v", err)
	}
	it4, err := sc.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: &arn, ShardId: ds.StreamDescription.Shards[0].ShardId, ShardIteratorType: st.ShardIteratorTypeAfterSequenceNumber, SequenceNumber: aws.String("000000000000000003003")})
	t.Logf("iter after delete err %v", err)
	if it4 == nil { return }
	gr, err = sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it4.ShardIterator})
	if err == nil {
		t.Logf("after delete getrecords n=%d next=%v", len(gr.Records), gr.NextShardIterator != nil)
		if gr.NextShardIterator != nil {
			gr, err = sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: gr.NextShardIterator})
			t.Logf("again err %v", err)
			if err == nil { t.Logf("again n=%d next=%v", len(gr.Records), gr.NextShardIterator != nil) }
		}
	}
	if err == nil {
		t.Logf("after delete getrecords n=%d next=%v", len(gr.Records), gr.NextShardIterator != nil)
	} else {
		t.Logf("after delete getrecords err %v", err)
	}
}
