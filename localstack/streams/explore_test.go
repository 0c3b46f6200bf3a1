package streams

import (
	"context"
	"encoding/json"
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

func TestExplore(t *testing.T) {
	db, table := dynamotest.Table(t)
	ctx := context.Background()
	sc := dynamodbstreams.New(dynamodbstreams.Options{Region: "us-east-1", BaseEndpoint: aws.String(dynamotest.Endpoint(t)), Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
	dto, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(dto.Table.LatestStreamArn)
	t.Logf("arn %s label %s", arn, aws.ToString(dto.Table.LatestStreamLabel))
	ds, err := sc.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: &arn})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.MarshalIndent(ds.StreamDescription, "", " ")
	t.Logf("desc %s", b)
	sh := ds.StreamDescription.Shards[0]
	it, err := sc.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: &arn, ShardId: sh.ShardId, ShardIteratorType: st.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("iter %s", aws.ToString(it.ShardIterator))
	put := func(i int) {
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: map[string]dt.AttributeValue{"PK": &dt.AttributeValueMemberS{Value: "p"}, "SK": &dt.AttributeValueMemberS{Value: fmt.Sprint(i)}, "type": &dt.AttributeValueMemberS{Value: "x"}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	iter := it.ShardIterator
	for i := 0; i < 3; i++ {
		put(i)
		t0 := time.Now()
		gr, err := sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("getrecords %v n=%d next=%v", time.Since(t0), len(gr.Records), gr.NextShardIterator != nil)
		for _, r := range gr.Records {
			b, _ := json.Marshal(r)
			t.Logf("rec %s", b)
		}
		iter = gr.NextShardIterator
	}
	// empty poll
	gr, err := sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
	t.Logf("empty poll n=%d err=%v next=%v", len(gr.Records), err, gr.NextShardIterator != nil)
	// reuse old iterator
	gr, err = sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil {
		t.Logf("reuse err %T %v", err, err)
	} else {
		t.Logf("reuse ok n=%d", len(gr.Records))
	}
	// limit
	it2, _ := sc.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: &arn, ShardId: sh.ShardId, ShardIteratorType: st.ShardIteratorTypeTrimHorizon})
	gr, err = sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it2.ShardIterator, Limit: aws.Int32(2)})
	t.Logf("limit2 n=%d err=%v", len(gr.Records), err)
	// after seq bogus
	_, err = sc.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: &arn, ShardId: sh.ShardId, ShardIteratorType: st.ShardIteratorTypeAfterSequenceNumber, SequenceNumber: aws.String("999999999999999999999999")})
	t.Logf("after bogus seq err %T %v", err, err)
	_, err = sc.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: &arn, ShardId: aws.String("shardId-nope"), ShardIteratorType: st.ShardIteratorTypeTrimHorizon})
	t.Logf("bogus shard err %T %v", err, err)
	_, err = sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: aws.String("garbage")})
	t.Logf("bogus iter err %T %v", err, err)
	ls, err := sc.ListStreams(ctx, &dynamodbstreams.ListStreamsInput{TableName: &table})
	b, _ = json.Marshal(ls)
	t.Logf("list %s %v", b, err)
}
