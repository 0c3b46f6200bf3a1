// Package dynamo is the only package that talks to DynamoDB. It stores every
// entity in one table (see docs/data-model.md for the access patterns).
//
// Keys are strings: PK and SK, plus two global secondary indexes GSI1 and
// GSI2. Every item carries a type attribute. Every entity update is a
// conditional write on its version attribute, so a stale write is a conflict
// and never a lost update. Uniqueness (e-mail, username, department name and
// code) is enforced with guard items written in the same transaction as the
// entity. Items that expire carry expiresAt (epoch seconds, the TTL
// attribute) and are checked on read, because TTL deletion is late.
package dynamo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/deskline/deskline/shared/deskline"
)

// API is the part of the DynamoDB client the store uses.
type API interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// Index names.
const (
	GSI1 = "GSI1"
	GSI2 = "GSI2"
)

// Store reads and writes Deskline's items in one table.
type Store struct {
	db    API
	table string
	clock deskline.Clock
}

// New returns a Store over the given client and table. Transactions that
// DynamoDB cancels only for a conflict with another transaction are sent
// again (see retryConflicts).
func New(db API, table string, clock deskline.Clock) *Store {
	return &Store{db: retryConflicts{API: db, sleep: sleepCtx}, table: table, clock: clock}
}

// Table returns the table's name.
func (s *Store) Table() string { return s.table }

// key builds a primary key.
func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"PK": str(pk), "SK": str(sk)}
}

func str(s string) *types.AttributeValueMemberS { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// Page is one page of a list and the cursor of the next, empty at the end.
type Page[T any] struct {
	Items      []T
	NextCursor string
}

// Cursors are opaque to clients: base64url of the last evaluated key. Every
// key attribute in this table is a string, so a map of strings is enough.
func encodeCursor(lek map[string]types.AttributeValue) string {
	if len(lek) == 0 {
		return ""
	}
	m := make(map[string]string, len(lek))
	for k, v := range lek {
		if s, ok := v.(*types.AttributeValueMemberS); ok {
			m[k] = s.Value
		}
	}
	b, _ := json.Marshal(m)
	return base64.RawURLEncoding.EncodeToString(b)
}

// errBadCursor is returned for a cursor that was not made by this store for
// this list.
var errBadCursor = deskline.Invalid("cursor", "Invalid cursor")

// decodeCursor turns a cursor back into an ExclusiveStartKey. want lists the
// key attributes the list's index uses; pkName/pkValue pin the partition so a
// cursor cannot move a query to another partition.
func decodeCursor(cursor string, want []string, pkName, pkValue string) (map[string]types.AttributeValue, error) {
	if cursor == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(b) > 2048 {
		return nil, errBadCursor
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil || len(m) != len(want) || m[pkName] != pkValue {
		return nil, errBadCursor
	}
	out := make(map[string]types.AttributeValue, len(m))
	for _, k := range want {
		v, ok := m[k]
		if !ok {
			return nil, errBadCursor
		}
		out[k] = str(v)
	}
	return out, nil
}

// isConditionFailed reports whether err is a failed condition on a single write.
func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// txError maps a cancelled transaction to the domain error of the first item
// whose condition failed; byItem holds one error per transaction item (nil
// where a failure is not expected).
func txError(op string, err error, byItem []error) error {
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		for i, r := range tce.CancellationReasons {
			if aws.ToString(r.Code) == "ConditionalCheckFailed" && i < len(byItem) && byItem[i] != nil {
				return byItem[i]
			}
		}
		for _, r := range tce.CancellationReasons {
			if aws.ToString(r.Code) == "TransactionConflict" {
				return deskline.Errorf(deskline.ECONFLICT, "The resource was changed by another request; retry")
			}
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// errStale is the conflict a version mismatch produces.
func errStale(what string) error {
	return deskline.Errorf(deskline.ECONFLICT, "The %s was changed by another request; reload and retry", what)
}

// filterExpr builds a Query's FilterExpression together with the attribute
// names and values it uses.
type filterExpr struct {
	names  map[string]string
	values map[string]types.AttributeValue
	parts  []string
}

// in requires attribute attr to be one of vals; no values, no condition.
func (f *filterExpr) in(attr string, vals []string) {
	if len(vals) == 0 {
		return
	}
	f.names["#"+attr] = attr
	ph := make([]string, len(vals))
	for i, v := range vals {
		ph[i] = fmt.Sprintf(":%s%d", attr, i)
		f.values[ph[i]] = str(v)
	}
	f.parts = append(f.parts, fmt.Sprintf("#%s IN (%s)", attr, strings.Join(ph, ", ")))
}

// add adds a condition with the names and values it refers to.
func (f *filterExpr) add(cond string, names map[string]string, values map[string]types.AttributeValue) {
	maps.Copy(f.names, names)
	maps.Copy(f.values, values)
	f.parts = append(f.parts, cond)
}

// apply sets the query's filter, names and values.
func (f *filterExpr) apply(q *dynamodb.QueryInput) {
	q.ExpressionAttributeNames, q.ExpressionAttributeValues = f.names, f.values
	if len(f.parts) > 0 {
		q.FilterExpression = aws.String(strings.Join(f.parts, " AND "))
	}
}

// putVersioned writes item only if the stored one is still at version prev:
// a stale write is a conflict naming what, never a lost update.
func (s *Store) putVersioned(ctx context.Context, item map[string]types.AttributeValue, prev int64, what, id string) error {
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: item,
		ConditionExpression:       aws.String("version = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(prev)},
	})
	if isConditionFailed(err) {
		return errStale(what)
	} else if err != nil {
		return fmt.Errorf("update %s %s: %w", what, id, err)
	}
	return nil
}
