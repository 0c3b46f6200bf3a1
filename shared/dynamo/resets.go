package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/deskline/deskline/shared/deskline"
)

const skReset = "RESET"

func resetPK(hash string) string { return "RESET#" + hash }

// ErrResetInvalid is the one answer for an unknown, used or expired reset token.
var ErrResetInvalid = deskline.Errorf(deskline.EINVALID, "Invalid or expired reset token")

type resetItem struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	Type      string `dynamodbav:"type"`
	UserID    string `dynamodbav:"userId"`
	ExpiresAt int64  `dynamodbav:"expiresAt"`
}

// CreateResetToken stores a reset token's hash for a user until expiresAt.
func (s *Store) CreateResetToken(ctx context.Context, hash, userID string, expiresAt time.Time) error {
	item, err := attributevalue.MarshalMap(resetItem{PK: resetPK(hash), SK: skReset, Type: TypeReset, UserID: userID, ExpiresAt: expiresAt.Unix()})
	if err != nil {
		return fmt.Errorf("marshal reset token: %w", err)
	}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		return fmt.Errorf("put reset token for %s: %w", userID, err)
	}
	return nil
}

// ResetTokenUser returns the user id a live reset token belongs to. Expiry is
// checked here: TTL deletion is late.
func (s *Store) ResetTokenUser(ctx context.Context, hash string) (string, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(resetPK(hash), skReset), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return "", fmt.Errorf("get reset token: %w", err)
	}
	var it resetItem
	if out.Item == nil {
		return "", ErrResetInvalid
	}
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return "", fmt.Errorf("unmarshal reset token: %w", err)
	}
	if it.ExpiresAt <= s.clock.Now().Unix() {
		return "", ErrResetInvalid
	}
	return it.UserID, nil
}

// ResetPassword consumes a reset token and sets the user's password hash in
// one transaction: the token works once, and only while it is live.
func (s *Store) ResetPassword(ctx context.Context, hash string, u *deskline.User, passwordHash string, now time.Time) error {
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Delete: &types.Delete{
			TableName: aws.String(s.table), Key: key(resetPK(hash), skReset),
			ConditionExpression:       aws.String("attribute_exists(PK) AND expiresAt > :now AND userId = :u"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":now": num(now.Unix()), ":u": str(u.ID)},
		}},
		{Update: &types.Update{
			TableName: aws.String(s.table), Key: key(userPK(u.ID), skProfile),
			UpdateExpression:          aws.String("SET passwordHash = :h, updatedAt = :t, version = version + :one"),
			ConditionExpression:       aws.String("attribute_exists(PK)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":h": str(passwordHash), ":t": str(now.UTC().Format(time.RFC3339Nano)), ":one": num(1)},
		}},
	}})
	if err != nil {
		return txError("reset password of "+u.ID, err, []error{ErrResetInvalid, ErrResetInvalid})
	}
	return nil
}
