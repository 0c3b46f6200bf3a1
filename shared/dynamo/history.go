package dynamo

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/deskline/deskline/shared/deskline"
)

// HistoryRecord is one history entry to write. Its key is derived from the
// change itself (time, version, field or comment), so writing the same
// change twice (a replayed stream record) leaves one item.
type HistoryRecord struct {
	Entry   deskline.HistoryEntry
	Discrim string // distinguishes entries of the same instant: "v000003#status"
	EventID string // the stream record that produced it
}

type historyItem struct {
	keys
	EventID string `json:"eventId"`
	*deskline.HistoryEntry
}

// EntityPK returns the partition of a ticket or task.
func EntityPK(entityType, id string) (pk, sk string) {
	if entityType == TypeTicket {
		return ticketPK(id), skTicket
	}
	return taskPK(id), skTask
}

// WriteHistory writes history records into their entity's partition, only
// while the entity exists: a late or replayed record of a deleted entity
// writes nothing, so no orphans appear after a cascade.
func (s *Store) WriteHistory(ctx context.Context, entityType, entityID string, recs []HistoryRecord) error {
	pk, sk := EntityPK(entityType, entityID)
	for len(recs) > 0 {
		n := min(99, len(recs))
		items := []types.TransactWriteItem{{ConditionCheck: &types.ConditionCheck{
			TableName: aws.String(s.table), Key: key(pk, sk), ConditionExpression: aws.String("attribute_exists(PK)"),
		}}}
		for _, r := range recs[:n] {
			e := r.Entry
			item, err := marshalItem(historyItem{
				keys:    keys{PK: pk, SK: historyPrefix + sortTime(e.At) + "#" + r.Discrim, Type: TypeHistory},
				EventID: r.EventID, HistoryEntry: &e,
			})
			if err != nil {
				return fmt.Errorf("marshal history: %w", err)
			}
			items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table), Item: item}})
		}
		recs = recs[n:]
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		var tce *types.TransactionCanceledException
		if errors.As(err, &tce) && len(tce.CancellationReasons) > 0 && aws.ToString(tce.CancellationReasons[0].Code) == "ConditionalCheckFailed" {
			return nil // the entity is gone
		}
		if err != nil {
			return fmt.Errorf("write history of %s %s: %w", entityType, entityID, err)
		}
	}
	return nil
}

// ListHistory lists an entity's history, oldest first.
func (s *Store) ListHistory(ctx context.Context, entityType, entityID string, limit int, cursor string) (Page[*deskline.HistoryEntry], error) {
	pk, _ := EntityPK(entityType, entityID)
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :h)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk), ":h": str(historyPrefix)},
		ConsistentRead:            aws.Bool(true),
	}
	return queryPage(ctx, s, in, limit, cursor, []string{"PK", "SK"}, "PK", pk, func(raw map[string]types.AttributeValue) (*deskline.HistoryEntry, error) {
		e := &deskline.HistoryEntry{}
		err := unmarshalItem(raw, e)
		return e, err
	})
}

// CascadeDelete deletes everything a deleted ticket or task leaves behind:
// every item of its partition (comments, history, attachments) and the
// comments' and attachments' aliases. Safe to repeat.
func (s *Store) CascadeDelete(ctx context.Context, entityType, entityID string) error {
	pk, _ := EntityPK(entityType, entityID)
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
		ProjectionExpression:      aws.String("PK, SK, #t, id"),
		ExpressionAttributeNames:  map[string]string{"#t": "type"},
		ConsistentRead:            aws.Bool(true),
	}
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return fmt.Errorf("query %s for cascade: %w", pk, err)
		}
		var ks []map[string]types.AttributeValue
		for _, it := range out.Items {
			ks = append(ks, map[string]types.AttributeValue{"PK": it["PK"], "SK": it["SK"]})
			if t, _ := it["type"].(*types.AttributeValueMemberS); t != nil && t.Value == TypeComment {
				if id, _ := it["id"].(*types.AttributeValueMemberS); id != nil {
					ks = append(ks, key(commentAliasPK(id.Value), "REF"))
				}
			}
			if t, _ := it["type"].(*types.AttributeValueMemberS); t != nil && t.Value == TypeFile {
				// The file's object goes when the projector sees its item go.
				if id, _ := it["id"].(*types.AttributeValueMemberS); id != nil {
					ks = append(ks, key(fileAliasPK(id.Value), "REF"))
				}
			}
		}
		if err := s.batchDelete(ctx, ks); err != nil {
			return fmt.Errorf("cascade %s: %w", pk, err)
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}
