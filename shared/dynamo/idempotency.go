package dynamo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/deskline/deskline/shared/deskline"
)

// TypeIdempotency is the type of stored idempotent responses.
const TypeIdempotency = "idempotency"

// Idem is the stored outcome of a create made with an Idempotency-Key: the
// same key and request within its lifetime get this response again.
type Idem struct {
	Scope       string    `json:"-"` // caller and key, hashed into the item key
	RequestHash string    `json:"requestHash"`
	Status      int       `json:"status"`
	Body        string    `json:"body"`
	ExpiresAt   int64     `json:"expiresAt"`
	CreatedAt   time.Time `json:"createdAt"`
}

func idemPK(scope string) string {
	sum := sha256.Sum256([]byte(scope))
	return "IDEM#" + hex.EncodeToString(sum[:])
}

// ErrIdemRace is returned by a create whose idempotency record was written
// by a concurrent request with the same key.
var ErrIdemRace = deskline.Errorf(deskline.ECONFLICT, "A request with this Idempotency-Key is being processed; retry")

// GetIdem returns the live idempotency record of a scope, or nil.
func (s *Store) GetIdem(ctx context.Context, scope string) (*Idem, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(idemPK(scope), "IDEM"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("get idempotency record: %w", err)
	}
	if out.Item == nil {
		return nil, nil
	}
	var rec Idem
	if err := unmarshalItem(out.Item, &rec); err != nil {
		return nil, fmt.Errorf("unmarshal idempotency record: %w", err)
	}
	if rec.ExpiresAt <= s.clock.Now().Unix() {
		return nil, nil
	}
	rec.Scope = scope
	return &rec, nil
}

// idemPut is the transaction item that stores rec unless a live record
// holds its key.
func (s *Store) idemPut(rec *Idem) (types.TransactWriteItem, error) {
	item, err := marshalItem(struct {
		keys
		*Idem
	}{keys{PK: idemPK(rec.Scope), SK: "IDEM", Type: TypeIdempotency}, rec})
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("marshal idempotency record: %w", err)
	}
	return types.TransactWriteItem{Put: &types.Put{
		TableName: aws.String(s.table), Item: item,
		ConditionExpression:       aws.String("attribute_not_exists(PK) OR expiresAt <= :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": num(s.clock.Now().Unix())},
	}}, nil
}

// withIdem appends rec's Put to a transaction when rec is set.
func (s *Store) withIdem(items []types.TransactWriteItem, reasons []error, rec *Idem) ([]types.TransactWriteItem, []error, error) {
	if rec == nil {
		return items, reasons, nil
	}
	put, err := s.idemPut(rec)
	if err != nil {
		return nil, nil, err
	}
	return append(items, put), append(reasons, ErrIdemRace), nil
}
