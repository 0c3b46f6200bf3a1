package streams_test

// A fake DynamoDB Streams API for what DynamoDB Local never does on its own:
// shard lineage, expired iterators, trimmed records, old records.

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

const fakeARN = "arn:aws:dynamodb:us-east-1:000000000000:table/fake/stream/2025-03-01T12:00:00.000"

type fakeShard struct {
	id, parent string
	recs       []types.Record
	closed     bool
	trimmed    int // records before this index are gone
}

type fakeStreams struct {
	mu         sync.Mutex
	shards     []*fakeShard
	seq        int
	expireNext map[string]int // shard -> GetRecords calls to answer ExpiredIteratorException
	iterators  []string       // every GetShardIterator: "shard type [seq]"
	describes  int
}

func newFakeStreams() *fakeStreams { return &fakeStreams{expireNext: map[string]int{}} }

func (f *fakeStreams) addShard(id, parent string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.shards = append(f.shards, &fakeShard{id: id, parent: parent})
}

func (f *fakeStreams) shard(id string) *fakeShard {
	for _, s := range f.shards {
		if s.id == id {
			return s
		}
	}
	return nil
}

// add appends a record to a shard and returns its sequence number.
func (f *fakeStreams) add(shard, typ, sk string, created time.Time) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	seq := fmt.Sprintf("%021d", f.seq)
	img := map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: "P"}, "SK": &types.AttributeValueMemberS{Value: sk},
		"type": &types.AttributeValueMemberS{Value: typ},
	}
	s := f.shard(shard)
	s.recs = append(s.recs, types.Record{
		AwsRegion: aws.String("us-east-1"), EventID: aws.String("ev-" + seq), EventName: types.OperationTypeInsert,
		EventSource: aws.String("aws:dynamodb"), EventVersion: aws.String("1.1"),
		Dynamodb: &types.StreamRecord{
			ApproximateCreationDateTime: aws.Time(created),
			Keys:                        map[string]types.AttributeValue{"PK": img["PK"], "SK": img["SK"]},
			NewImage:                    img, SequenceNumber: aws.String(seq), SizeBytes: aws.Int64(30),
			StreamViewType: types.StreamViewTypeNewAndOldImages,
		},
	})
	return seq
}

func (f *fakeStreams) close(shard string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.shard(shard).closed = true
}

func (f *fakeStreams) DescribeStream(_ context.Context, in *dynamodbstreams.DescribeStreamInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.describes++
	// One shard per page, to exercise pagination.
	i := 0
	if in.ExclusiveStartShardId != nil {
		for i < len(f.shards) && f.shards[i].id != *in.ExclusiveStartShardId {
			i++
		}
		i++
	}
	d := &types.StreamDescription{StreamArn: aws.String(fakeARN), StreamStatus: types.StreamStatusEnabled}
	if i < len(f.shards) {
		s := f.shards[i]
		d.Shards = []types.Shard{{ShardId: aws.String(s.id), ParentShardId: optional(s.parent)}}
		if i+1 < len(f.shards) {
			d.LastEvaluatedShardId = aws.String(s.id)
		}
	}
	return &dynamodbstreams.DescribeStreamOutput{StreamDescription: d}, nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

func (f *fakeStreams) GetShardIterator(_ context.Context, in *dynamodbstreams.GetShardIteratorInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.shard(aws.ToString(in.ShardId))
	f.iterators = append(f.iterators, strings.TrimSpace(fmt.Sprintf("%s %s %s", aws.ToString(in.ShardId), in.ShardIteratorType, aws.ToString(in.SequenceNumber))))
	if s == nil {
		return nil, &types.ResourceNotFoundException{Message: aws.String("Shard does not exist")}
	}
	idx := s.trimmed
	if in.ShardIteratorType == types.ShardIteratorTypeAfterSequenceNumber {
		idx = -1
		for i, r := range s.recs {
			if *r.Dynamodb.SequenceNumber == aws.ToString(in.SequenceNumber) {
				idx = i + 1
			}
		}
		if idx < 0 {
			return nil, validationError{}
		}
		if idx-1 < s.trimmed {
			return nil, &types.TrimmedDataAccessException{Message: aws.String("trimmed")}
		}
	}
	return &dynamodbstreams.GetShardIteratorOutput{ShardIterator: aws.String(fmt.Sprintf("%s|%d", s.id, idx))}, nil
}

func (f *fakeStreams) GetRecords(_ context.Context, in *dynamodbstreams.GetRecordsInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, n, _ := strings.Cut(aws.ToString(in.ShardIterator), "|")
	idx, _ := strconv.Atoi(n)
	s := f.shard(id)
	if f.expireNext[id] > 0 {
		f.expireNext[id]--
		return nil, &types.ExpiredIteratorException{Message: aws.String("Iterator expired")}
	}
	if idx < s.trimmed {
		return nil, &types.TrimmedDataAccessException{Message: aws.String("trimmed")}
	}
	end := min(len(s.recs), idx+int(aws.ToInt32(in.Limit)))
	out := &dynamodbstreams.GetRecordsOutput{Records: append([]types.Record(nil), s.recs[idx:end]...)}
	if !(s.closed && end == len(s.recs)) {
		out.NextShardIterator = aws.String(fmt.Sprintf("%s|%d", id, end))
	}
	return out, nil
}

// fakeTable answers DescribeTable with the fake stream.
type fakeTable struct{}

func (fakeTable) DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	return &dynamodb.DescribeTableOutput{Table: &ddbtypes.TableDescription{LatestStreamArn: aws.String(fakeARN)}}, nil
}

// validationError is how the SDK reports DynamoDB Streams' ValidationException.
type validationError struct{}

func (validationError) Error() string {
	return "api error ValidationException: Invalid SequenceNumber for the shard"
}
func (validationError) ErrorCode() string { return "ValidationException" }
