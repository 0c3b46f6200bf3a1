package dynamo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Mail is a message held in the local outbox instead of being sent.
type Mail struct {
	ID      string    `json:"id"`
	To      string    `json:"to"`
	Subject string    `json:"subject"`
	Body    string    `json:"body"`
	SentAt  time.Time `json:"sentAt"`
}

type mailItem struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	Type      string `dynamodbav:"type"`
	ID        string `dynamodbav:"id"`
	To        string `dynamodbav:"to"`
	Subject   string `dynamodbav:"subject"`
	Body      string `dynamodbav:"body"`
	SentAt    string `dynamodbav:"sentAt"`
	ExpiresAt int64  `dynamodbav:"expiresAt"`
}

func outboxPK(to string) string { return "OUTBOX#" + strings.ToLower(to) }

// sortKeyTime formats times in sort keys: fixed width, so the keys sort in
// time order (RFC3339Nano drops trailing zeros: "05Z" would sort after "05.1Z").
const sortKeyTime = "2006-01-02T15:04:05.000000000Z07:00"

// outboxRetention is how long local mail is kept.
const outboxRetention = 7 * 24 * time.Hour

// PutMail stores a message in the outbox of its recipient. It is the local
// and test stages' stand-in for sending mail.
func (s *Store) PutMail(ctx context.Context, m Mail) error {
	item, err := attributevalue.MarshalMap(mailItem{
		PK: outboxPK(m.To), SK: "MAIL#" + m.SentAt.UTC().Format(sortKeyTime) + "#" + m.ID, Type: TypeMail,
		ID: m.ID, To: m.To, Subject: m.Subject, Body: m.Body, SentAt: m.SentAt.UTC().Format(time.RFC3339Nano),
		ExpiresAt: m.SentAt.Add(outboxRetention).Unix(),
	})
	if err != nil {
		return fmt.Errorf("marshal mail: %w", err)
	}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		return fmt.Errorf("put mail to outbox: %w", err)
	}
	return nil
}

// Outbox returns the newest messages to one address, newest first.
func (s *Store) Outbox(ctx context.Context, to string, limit int) ([]Mail, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(outboxPK(to))},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(limit)),
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("query outbox: %w", err)
	}
	mails := make([]Mail, 0, len(out.Items))
	now := s.clock.Now().Unix()
	for _, raw := range out.Items {
		var it mailItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return nil, fmt.Errorf("unmarshal mail: %w", err)
		}
		if it.ExpiresAt <= now {
			continue
		}
		sent, _ := time.Parse(time.RFC3339Nano, it.SentAt)
		mails = append(mails, Mail{ID: it.ID, To: it.To, Subject: it.Subject, Body: it.Body, SentAt: sent})
	}
	return mails, nil
}
