package streams

import (
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// TypeAttribute is the attribute every Deskline item carries and that
// Consumer.ItemTypes filters on.
const TypeAttribute = "type"

// rec is one stream record as a worker holds it between GetRecords and the
// handler: the Lambda-shaped event record plus what filtering and ageing need.
type rec struct {
	seq     string
	created time.Time
	newType string // NewImage.type.S, "" when absent
	oldType string // OldImage.type.S, "" when absent
	ev      events.DynamoDBEventRecord
	bad     error // the record could not be converted; it goes to the destination
}

func newRec(r types.Record, streamARN string) *rec {
	out := &rec{}
	if d := r.Dynamodb; d != nil {
		out.seq = aws.ToString(d.SequenceNumber)
		out.created = aws.ToTime(d.ApproximateCreationDateTime)
		out.newType = stringAttr(d.NewImage, TypeAttribute)
		out.oldType = stringAttr(d.OldImage, TypeAttribute)
	}
	out.ev, out.bad = eventRecord(r, streamARN)
	return out
}

func stringAttr(img map[string]types.AttributeValue, name string) string {
	if s, ok := img[name].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// eventRecord builds the record Lambda's DynamoDB event source mapping hands
// a function, from a record of GetRecords.
func eventRecord(r types.Record, streamARN string) (events.DynamoDBEventRecord, error) {
	ev := events.DynamoDBEventRecord{
		AWSRegion:      aws.ToString(r.AwsRegion),
		EventID:        aws.ToString(r.EventID),
		EventName:      string(r.EventName),
		EventSource:    aws.ToString(r.EventSource),
		EventVersion:   aws.ToString(r.EventVersion),
		EventSourceArn: streamARN,
	}
	if ev.EventSource == "" {
		ev.EventSource = "aws:dynamodb"
	}
	if ev.EventVersion == "" {
		ev.EventVersion = "1.1"
	}
	if u := r.UserIdentity; u != nil { // TTL deletions: Service / dynamodb.amazonaws.com
		ev.UserIdentity = &events.DynamoDBUserIdentity{Type: aws.ToString(u.Type), PrincipalID: aws.ToString(u.PrincipalId)}
	}
	d := r.Dynamodb
	if d == nil {
		return ev, fmt.Errorf("record %s has no dynamodb section", ev.EventID)
	}
	ev.Change = events.DynamoDBStreamRecord{
		SequenceNumber: aws.ToString(d.SequenceNumber),
		SizeBytes:      aws.ToInt64(d.SizeBytes),
		StreamViewType: string(d.StreamViewType),
	}
	if t := d.ApproximateCreationDateTime; t != nil {
		ev.Change.ApproximateCreationDateTime = events.SecondsEpochTime{Time: *t}
	}
	var err error
	if ev.Change.Keys, err = eventImage(d.Keys); err != nil {
		return ev, fmt.Errorf("record %s keys: %w", ev.EventID, err)
	}
	if ev.Change.NewImage, err = eventImage(d.NewImage); err != nil {
		return ev, fmt.Errorf("record %s new image: %w", ev.EventID, err)
	}
	if ev.Change.OldImage, err = eventImage(d.OldImage); err != nil {
		return ev, fmt.Errorf("record %s old image: %w", ev.EventID, err)
	}
	return ev, nil
}

// eventImage converts an image; an absent or empty one stays nil, as in the
// JSON Lambda sends (an INSERT has no OldImage, a REMOVE no NewImage).
func eventImage(img map[string]types.AttributeValue) (map[string]events.DynamoDBAttributeValue, error) {
	if len(img) == 0 {
		return nil, nil
	}
	out := make(map[string]events.DynamoDBAttributeValue, len(img))
	for k, v := range img {
		ev, err := EventAttribute(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", k, err)
		}
		out[k] = ev
	}
	return out, nil
}

// EventAttribute converts a DynamoDB Streams attribute value into the
// aws-lambda-go form Lambda delivers: the one place that conversion happens.
// (The reverse, for handlers, is dynamo.StreamImage.)
func EventAttribute(av types.AttributeValue) (events.DynamoDBAttributeValue, error) {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return events.NewStringAttribute(v.Value), nil
	case *types.AttributeValueMemberN:
		return events.NewNumberAttribute(v.Value), nil
	case *types.AttributeValueMemberB:
		return events.NewBinaryAttribute(v.Value), nil
	case *types.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(v.Value), nil
	case *types.AttributeValueMemberNULL:
		return events.NewNullAttribute(), nil
	case *types.AttributeValueMemberSS:
		return events.NewStringSetAttribute(v.Value), nil
	case *types.AttributeValueMemberNS:
		return events.NewNumberSetAttribute(v.Value), nil
	case *types.AttributeValueMemberBS:
		return events.NewBinarySetAttribute(v.Value), nil
	case *types.AttributeValueMemberL:
		l := make([]events.DynamoDBAttributeValue, len(v.Value))
		for i, e := range v.Value {
			c, err := EventAttribute(e)
			if err != nil {
				return events.DynamoDBAttributeValue{}, fmt.Errorf("[%d]: %w", i, err)
			}
			l[i] = c
		}
		return events.NewListAttribute(l), nil
	case *types.AttributeValueMemberM:
		m := make(map[string]events.DynamoDBAttributeValue, len(v.Value))
		for k, e := range v.Value {
			c, err := EventAttribute(e)
			if err != nil {
				return events.DynamoDBAttributeValue{}, fmt.Errorf(".%s: %w", k, err)
			}
			m[k] = c
		}
		return events.NewMapAttribute(m), nil
	case *types.UnknownUnionMember:
		return events.DynamoDBAttributeValue{}, fmt.Errorf("unknown attribute type %q", v.Tag)
	default:
		return events.DynamoDBAttributeValue{}, fmt.Errorf("unsupported attribute value %T", av)
	}
}
