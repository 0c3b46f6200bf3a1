package dynamo_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/deskline/deskline/shared/dynamo"
)

// Unit tests of the one conversion from Lambda's stream images to the SDK's
// attribute values; they need no DynamoDB.

func TestStreamImageEveryType(t *testing.T) {
	type tc struct {
		name string
		in   events.DynamoDBAttributeValue
		want types.AttributeValue
	}
	cases := []tc{
		{"S", events.NewStringAttribute("héllo"), &types.AttributeValueMemberS{Value: "héllo"}},
		{"S empty", events.NewStringAttribute(""), &types.AttributeValueMemberS{Value: ""}},
		{"N", events.NewNumberAttribute("-12.5e3"), &types.AttributeValueMemberN{Value: "-12.5e3"}},
		{"B", events.NewBinaryAttribute([]byte{0, 1, 0xff}), &types.AttributeValueMemberB{Value: []byte{0, 1, 0xff}}},
		{"BOOL true", events.NewBooleanAttribute(true), &types.AttributeValueMemberBOOL{Value: true}},
		{"BOOL false", events.NewBooleanAttribute(false), &types.AttributeValueMemberBOOL{Value: false}},
		{"NULL", events.NewNullAttribute(), &types.AttributeValueMemberNULL{Value: true}},
		{"SS", events.NewStringSetAttribute([]string{"a", "b"}), &types.AttributeValueMemberSS{Value: []string{"a", "b"}}},
		{"NS", events.NewNumberSetAttribute([]string{"1", "2.5"}), &types.AttributeValueMemberNS{Value: []string{"1", "2.5"}}},
		{"BS", events.NewBinarySetAttribute([][]byte{{1}, {2, 3}}), &types.AttributeValueMemberBS{Value: [][]byte{{1}, {2, 3}}}},
		{"L empty", events.NewListAttribute(nil), &types.AttributeValueMemberL{Value: []types.AttributeValue{}}},
		{"M empty", events.NewMapAttribute(nil), &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}}},
		{"L mixed", events.NewListAttribute([]events.DynamoDBAttributeValue{
			events.NewStringAttribute("x"), events.NewNumberAttribute("1"), events.NewNullAttribute(),
			events.NewBooleanAttribute(true), events.NewBinaryAttribute([]byte("b")),
		}), &types.AttributeValueMemberL{Value: []types.AttributeValue{
			&types.AttributeValueMemberS{Value: "x"}, &types.AttributeValueMemberN{Value: "1"},
			&types.AttributeValueMemberNULL{Value: true}, &types.AttributeValueMemberBOOL{Value: true},
			&types.AttributeValueMemberB{Value: []byte("b")},
		}}},
		{"nested M in L in M", events.NewMapAttribute(map[string]events.DynamoDBAttributeValue{
			"list": events.NewListAttribute([]events.DynamoDBAttributeValue{
				events.NewMapAttribute(map[string]events.DynamoDBAttributeValue{
					"ss":   events.NewStringSetAttribute([]string{"p", "q"}),
					"deep": events.NewListAttribute([]events.DynamoDBAttributeValue{events.NewNumberSetAttribute([]string{"7"})}),
				}),
			}),
			"bs": events.NewBinarySetAttribute([][]byte{{9}}),
		}), &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"list": &types.AttributeValueMemberL{Value: []types.AttributeValue{
				&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
					"ss":   &types.AttributeValueMemberSS{Value: []string{"p", "q"}},
					"deep": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberNS{Value: []string{"7"}}}},
				}},
			}},
			"bs": &types.AttributeValueMemberBS{Value: [][]byte{{9}}},
		}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := dynamo.StreamImage(map[string]events.DynamoDBAttributeValue{"a": c.in})
			if err != nil {
				t.Fatal(err)
			}
			if want := map[string]types.AttributeValue{"a": c.want}; !reflect.DeepEqual(got, want) {
				t.Errorf("got %#v\nwant %#v", got["a"], c.want)
			}
		})
	}
}

func TestStreamImageEmptyAndMalformed(t *testing.T) {
	for _, img := range []map[string]events.DynamoDBAttributeValue{nil, {}} {
		got, err := dynamo.StreamImage(img)
		if err != nil || got != nil {
			t.Errorf("StreamImage(%v) = %v, %v; want nil, nil", img, got, err)
		}
	}
	// A zero DynamoDBAttributeValue claims type B and holds nothing; its
	// accessor would panic. Deep inside a value it must be an error with a path.
	img := map[string]events.DynamoDBAttributeValue{
		"m": events.NewMapAttribute(map[string]events.DynamoDBAttributeValue{
			"l": events.NewListAttribute([]events.DynamoDBAttributeValue{events.NewStringAttribute("ok"), {}}),
		}),
	}
	_, err := dynamo.StreamImage(img)
	if err == nil || !strings.Contains(err.Error(), "m.l[1]") {
		t.Errorf("err = %v, want one naming m.l[1]", err)
	}
	var out map[string]any
	if err := dynamo.UnmarshalStreamImage(img, &out); err == nil {
		t.Error("UnmarshalStreamImage of a malformed image: no error")
	}
}

// streamRecordJSON is a stream record as Lambda hands it to a function: the
// handler's events.DynamoDBEvent is decoded from exactly this JSON.
const streamRecordJSON = `{
  "eventID": "c4ca4238a0b923820dcc509a6f75849b",
  "eventName": "MODIFY",
  "eventVersion": "1.1",
  "eventSource": "aws:dynamodb",
  "awsRegion": "us-east-1",
  "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/deskline/stream/2025-03-01T12:00:00.000",
  "dynamodb": {
    "ApproximateCreationDateTime": 1740830400,
    "Keys": {"PK": {"S": "TKT#1"}, "SK": {"S": "TKT#1"}},
    "NewImage": {
      "PK": {"S": "TKT#1"}, "SK": {"S": "TKT#1"}, "type": {"S": "ticket"},
      "version": {"N": "3"}, "score": {"N": "0.25"}, "open": {"BOOL": false},
      "assignee": {"NULL": true}, "tags": {"SS": ["a", "b"]}, "sizes": {"NS": ["1", "2"]},
      "blob": {"B": "AAH/"}, "blobs": {"BS": ["AQ==", "AgM="]},
      "watchers": {"L": [{"S": "USR-1"}, {"S": "USR-2"}]},
      "meta": {"M": {"source": {"S": "web"}, "counts": {"M": {"views": {"N": "42"}}},
                     "history": {"L": [{"M": {"at": {"N": "1"}, "by": {"S": "USR-1"}}}]}}}
    },
    "OldImage": {"PK": {"S": "TKT#1"}, "SK": {"S": "TKT#1"}, "type": {"S": "ticket"}, "version": {"N": "2"}},
    "SequenceNumber": "000000000000000000042",
    "SizeBytes": 321,
    "StreamViewType": "NEW_AND_OLD_IMAGES"
  }
}`

type ticketImage struct {
	PK       string         `dynamodbav:"PK"`
	Type     string         `dynamodbav:"type"`
	Version  int            `dynamodbav:"version"`
	Score    float64        `dynamodbav:"score"`
	Open     bool           `dynamodbav:"open"`
	Assignee *string        `dynamodbav:"assignee"`
	Tags     []string       `dynamodbav:"tags,stringset"`
	Sizes    []int          `dynamodbav:"sizes,numberset"`
	Blob     []byte         `dynamodbav:"blob"`
	Blobs    [][]byte       `dynamodbav:"blobs,binaryset"`
	Watchers []string       `dynamodbav:"watchers"`
	Meta     map[string]any `dynamodbav:"meta"`
}

func TestUnmarshalStreamImageFromLambdaJSON(t *testing.T) {
	var rec events.DynamoDBEventRecord
	if err := json.Unmarshal([]byte(streamRecordJSON), &rec); err != nil {
		t.Fatal(err)
	}
	var got ticketImage
	if err := dynamo.UnmarshalStreamImage(rec.Change.NewImage, &got); err != nil {
		t.Fatal(err)
	}
	want := ticketImage{
		PK: "TKT#1", Type: "ticket", Version: 3, Score: 0.25, Open: false, Assignee: nil,
		Tags: []string{"a", "b"}, Sizes: []int{1, 2}, Blob: []byte{0, 1, 0xff},
		Blobs: [][]byte{{1}, {2, 3}}, Watchers: []string{"USR-1", "USR-2"},
		Meta: map[string]any{
			"source":  "web",
			"counts":  map[string]any{"views": float64(42)},
			"history": []any{map[string]any{"at": float64(1), "by": "USR-1"}},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("new image:\n got %#v\nwant %#v", got, want)
	}
	var old struct {
		Version int `dynamodbav:"version"`
	}
	if err := dynamo.UnmarshalStreamImage(rec.Change.OldImage, &old); err != nil || old.Version != 2 {
		t.Errorf("old image: %+v, %v", old, err)
	}
	// A REMOVE has no new image: decoding nothing leaves out untouched.
	var none ticketImage
	if err := dynamo.UnmarshalStreamImage(nil, &none); err != nil || !reflect.DeepEqual(none, ticketImage{}) {
		t.Errorf("nil image: %+v, %v", none, err)
	}
}
