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

const skLoginFail = "LOGINFAIL"

func sessionSK(id string) string { return "SESSION#" + id }

// Session is one login. Its token is valid while the item exists and has not expired.
type Session struct {
	ID        string
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
}

type sessionItem struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	Type      string `dynamodbav:"type"`
	ID        string `dynamodbav:"id"`
	UserID    string `dynamodbav:"userId"`
	CreatedAt string `dynamodbav:"createdAt"`
	ExpiresAt int64  `dynamodbav:"expiresAt"`
}

// CreateSession stores a session and clears the user's failed-login count.
func (s *Store) CreateSession(ctx context.Context, sess Session) error {
	item, err := attributevalue.MarshalMap(sessionItem{
		PK: userPK(sess.UserID), SK: sessionSK(sess.ID), Type: TypeSession, ID: sess.ID, UserID: sess.UserID,
		CreatedAt: sess.CreatedAt.UTC().Format(time.RFC3339Nano), ExpiresAt: sess.ExpiresAt.Unix(),
	})
	if err != nil {
		return fmt.Errorf("marshal session: %w", err)
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		putNew(s.table, item),
		{Delete: &types.Delete{TableName: aws.String(s.table), Key: key(userPK(sess.UserID), skLoginFail)}},
	}})
	if err != nil {
		return txError("create session for "+sess.UserID, err, []error{deskline.Errorf(deskline.ECONFLICT, "Session already exists")})
	}
	return nil
}

// DeleteSession revokes one session. Deleting a missing session is not an error.
func (s *Store) DeleteSession(ctx context.Context, userID, sessionID string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: key(userPK(userID), sessionSK(sessionID))})
	if err != nil {
		return fmt.Errorf("delete session %s: %w", sessionID, err)
	}
	return nil
}

// DeleteUserSessions revokes every session of a user but keep (which may be "").
func (s *Store) DeleteUserSessions(ctx context.Context, userID, keep string) error {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :s)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(userPK(userID)), ":s": str("SESSION#")},
		ProjectionExpression:      aws.String("PK, SK"),
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return fmt.Errorf("list sessions of %s: %w", userID, err)
	}
	keys := make([]map[string]types.AttributeValue, 0, len(out.Items))
	for _, it := range out.Items {
		if sk, _ := it["SK"].(*types.AttributeValueMemberS); sk != nil && sk.Value == sessionSK(keep) {
			continue
		}
		keys = append(keys, map[string]types.AttributeValue{"PK": it["PK"], "SK": it["SK"]})
	}
	if err := s.batchDelete(ctx, keys); err != nil {
		return fmt.Errorf("delete sessions of %s: %w", userID, err)
	}
	if len(out.LastEvaluatedKey) > 0 {
		// More than 1 MB of sessions: unlikely, but finish the job.
		return s.DeleteUserSessions(ctx, userID, keep)
	}
	return nil
}

// Errors of session lookup, with the contract's messages.
var (
	ErrSessionInvalid = deskline.Errorf(deskline.EUNAUTHORIZED, "Invalid or expired session")
	ErrUserGone       = deskline.Errorf(deskline.EUNAUTHORIZED, "User not found")
)

// GetSessionUser returns the user behind an active session, reading the
// session and the user in one BatchGetItem (strongly consistent, so a logout
// or a status change takes effect at once).
func (s *Store) GetSessionUser(ctx context.Context, userID, sessionID string) (*deskline.User, error) {
	out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
		s.table: {Keys: []map[string]types.AttributeValue{key(userPK(userID), skProfile), key(userPK(userID), sessionSK(sessionID))}, ConsistentRead: aws.Bool(true)},
	}})
	if err != nil {
		return nil, fmt.Errorf("get session %s: %w", sessionID, err)
	}
	if len(out.UnprocessedKeys) > 0 {
		return nil, fmt.Errorf("get session %s: throttled", sessionID)
	}
	var user *deskline.User
	var sess *sessionItem
	for _, raw := range out.Responses[s.table] {
		switch raw["SK"].(*types.AttributeValueMemberS).Value {
		case skProfile:
			var it userItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return nil, fmt.Errorf("unmarshal user %s: %w", userID, err)
			}
			user = it.user()
		default:
			sess = &sessionItem{}
			if err := attributevalue.UnmarshalMap(raw, sess); err != nil {
				return nil, fmt.Errorf("unmarshal session %s: %w", sessionID, err)
			}
		}
	}
	switch {
	case sess == nil || sess.ExpiresAt <= s.clock.Now().Unix():
		return nil, ErrSessionInvalid
	case user == nil:
		return nil, ErrUserGone
	}
	return user, nil
}

// LoginFailures is the failed-login window of one account.
type LoginFailures struct {
	Count       int
	WindowStart time.Time
}

type loginFailItem struct {
	Count       int   `dynamodbav:"count"`
	WindowStart int64 `dynamodbav:"windowStart"`
}

// RecordLoginFailure counts one failed login in the account's window, which
// starts afresh once window has passed since its first failure. Concurrent
// failures are all counted: each step is a conditional write.
func (s *Store) RecordLoginFailure(ctx context.Context, userID string, window time.Duration) (LoginFailures, error) {
	now := s.clock.Now()
	cutoff := now.Add(-window).UnixMilli()
	k := key(userPK(userID), skLoginFail)
	for attempt := 0; attempt < 5; attempt++ {
		// Within the window: add one.
		out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(s.table), Key: k,
			UpdateExpression:          aws.String("ADD #c :one"),
			ConditionExpression:       aws.String("windowStart > :cutoff"),
			ExpressionAttributeNames:  map[string]string{"#c": "count"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1), ":cutoff": num(cutoff)},
			ReturnValues:              types.ReturnValueAllNew,
		})
		if err == nil {
			var it loginFailItem
			if err := attributevalue.UnmarshalMap(out.Attributes, &it); err != nil {
				return LoginFailures{}, fmt.Errorf("unmarshal login failures of %s: %w", userID, err)
			}
			return LoginFailures{Count: it.Count, WindowStart: time.UnixMilli(it.WindowStart).UTC()}, nil
		}
		if !isConditionFailed(err) {
			return LoginFailures{}, fmt.Errorf("count login failure of %s: %w", userID, err)
		}
		// No window, or an old one: start a new window, unless another
		// request just did.
		_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(s.table),
			Item: map[string]types.AttributeValue{
				"PK": k["PK"], "SK": k["SK"], "type": str(TypeLoginFail), "count": num(1),
				"windowStart": num(now.UnixMilli()), TTLAttribute: num(now.Add(window).Unix() + 60),
			},
			ConditionExpression:       aws.String("attribute_not_exists(PK) OR windowStart <= :cutoff"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":cutoff": num(cutoff)},
		})
		if err == nil {
			return LoginFailures{Count: 1, WindowStart: now}, nil
		}
		if !isConditionFailed(err) {
			return LoginFailures{}, fmt.Errorf("start login failure window of %s: %w", userID, err)
		}
	}
	return LoginFailures{}, fmt.Errorf("count login failure of %s: too much contention", userID)
}

// GetLoginState returns a user and their failed-login window in one
// BatchGetItem, for the login path.
func (s *Store) GetLoginState(ctx context.Context, userID string) (*deskline.User, LoginFailures, error) {
	out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
		s.table: {Keys: []map[string]types.AttributeValue{key(userPK(userID), skProfile), key(userPK(userID), skLoginFail)}, ConsistentRead: aws.Bool(true)},
	}})
	if err != nil {
		return nil, LoginFailures{}, fmt.Errorf("get login state of %s: %w", userID, err)
	}
	if len(out.UnprocessedKeys) > 0 {
		return nil, LoginFailures{}, fmt.Errorf("get login state of %s: throttled", userID)
	}
	var user *deskline.User
	var lf LoginFailures
	for _, raw := range out.Responses[s.table] {
		if raw["SK"].(*types.AttributeValueMemberS).Value == skProfile {
			var it userItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return nil, lf, fmt.Errorf("unmarshal user %s: %w", userID, err)
			}
			user = it.user()
			continue
		}
		var it loginFailItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return nil, lf, fmt.Errorf("unmarshal login failures of %s: %w", userID, err)
		}
		lf = LoginFailures{Count: it.Count, WindowStart: time.UnixMilli(it.WindowStart).UTC()}
	}
	if user == nil {
		return nil, lf, errUserNotFound
	}
	return user, lf, nil
}
