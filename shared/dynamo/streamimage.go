package dynamo

import (
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// StreamImage converts an item image of a DynamoDB stream record, as Lambda
// delivers it (aws-lambda-go's events.DynamoDBAttributeValue), into the SDK's
// attribute values, so that attributevalue and the store's own decoders can
// read it. It is the one place that conversion happens. Every attribute type
// is handled (S, N, B, BOOL, NULL, L, M, SS, NS, BS), nested to any depth; a
// nil or empty image gives a nil map. It never panics: a malformed value (for
// example a zero DynamoDBAttributeValue) is an error naming its path.
func StreamImage(img map[string]events.DynamoDBAttributeValue) (map[string]types.AttributeValue, error) {
	if len(img) == 0 {
		return nil, nil
	}
	out := make(map[string]types.AttributeValue, len(img))
	for k, v := range img {
		av, err := streamValue(v, k)
		if err != nil {
			return nil, err
		}
		out[k] = av
	}
	return out, nil
}

// UnmarshalStreamImage decodes a stream record's image into out (a pointer to
// a struct or map, as attributevalue.UnmarshalMap takes it).
func UnmarshalStreamImage(img map[string]events.DynamoDBAttributeValue, out any) error {
	m, err := StreamImage(img)
	if err != nil {
		return err
	}
	if err := attributevalue.UnmarshalMap(m, out); err != nil {
		return fmt.Errorf("unmarshal stream image: %w", err)
	}
	return nil
}

// streamValue converts one value; path names it in errors. The accessors of
// events.DynamoDBAttributeValue panic on a value whose type and content
// disagree (a zero value claims to be B but holds nothing), so the panic is
// turned into an error.
func streamValue(v events.DynamoDBAttributeValue, path string) (av types.AttributeValue, err error) {
	defer func() {
		if r := recover(); r != nil {
			av, err = nil, fmt.Errorf("stream image attribute %s: malformed value: %v", path, r)
		}
	}()
	switch v.DataType() {
	case events.DataTypeString:
		return &types.AttributeValueMemberS{Value: v.String()}, nil
	case events.DataTypeNumber:
		return &types.AttributeValueMemberN{Value: v.Number()}, nil
	case events.DataTypeBinary:
		if v.IsNull() { // the zero DynamoDBAttributeValue: type B, no value
			return nil, fmt.Errorf("stream image attribute %s: empty value (zero DynamoDBAttributeValue)", path)
		}
		return &types.AttributeValueMemberB{Value: v.Binary()}, nil
	case events.DataTypeBoolean:
		return &types.AttributeValueMemberBOOL{Value: v.Boolean()}, nil
	case events.DataTypeNull:
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case events.DataTypeList:
		l := v.List()
		out := make([]types.AttributeValue, len(l))
		for i, e := range l {
			if out[i], err = streamValue(e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return nil, err
			}
		}
		return &types.AttributeValueMemberL{Value: out}, nil
	case events.DataTypeMap:
		m := v.Map()
		out := make(map[string]types.AttributeValue, len(m))
		for k, e := range m {
			if out[k], err = streamValue(e, path+"."+k); err != nil {
				return nil, err
			}
		}
		return &types.AttributeValueMemberM{Value: out}, nil
	case events.DataTypeStringSet:
		return &types.AttributeValueMemberSS{Value: v.StringSet()}, nil
	case events.DataTypeNumberSet:
		return &types.AttributeValueMemberNS{Value: v.NumberSet()}, nil
	case events.DataTypeBinarySet:
		return &types.AttributeValueMemberBS{Value: v.BinarySet()}, nil
	default:
		return nil, fmt.Errorf("stream image attribute %s: unknown data type %d", path, v.DataType())
	}
}
