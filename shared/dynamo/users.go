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
	"github.com/deskline/deskline/shared/deskline"
)

// Item types.
const (
	TypeUser       = "user"
	TypeDepartment = "department"
	TypeSession    = "session"
	TypeLoginFail  = "loginfail"
	TypeGuard      = "guard"
	TypeReset      = "reset"
	TypeMail       = "mail"
)

const (
	skProfile = "PROFILE"
	skGuard   = "GUARD"
	usersPK   = "USERS"
)

func userPK(id string) string        { return "USER#" + id }
func emailPK(email string) string    { return "EMAIL#" + email }
func usernamePK(name string) string  { return "USERNAME#" + strings.ToLower(name) }
func deptMembersPK(id string) string { return "DEPT#" + id }

// userItem is a user as stored.
type userItem struct {
	PK           string `dynamodbav:"PK"`
	SK           string `dynamodbav:"SK"`
	Type         string `dynamodbav:"type"`
	GSI1PK       string `dynamodbav:"GSI1PK,omitempty"`
	GSI1SK       string `dynamodbav:"GSI1SK,omitempty"`
	GSI2PK       string `dynamodbav:"GSI2PK"`
	GSI2SK       string `dynamodbav:"GSI2SK"`
	ID           string `dynamodbav:"id"`
	Username     string `dynamodbav:"username"`
	Email        string `dynamodbav:"email"`
	Role         string `dynamodbav:"role"`
	DepartmentID string `dynamodbav:"departmentId,omitempty"`
	Status       string `dynamodbav:"status"`
	PasswordHash string `dynamodbav:"passwordHash"`
	CreatedAt    string `dynamodbav:"createdAt"`
	UpdatedAt    string `dynamodbav:"updatedAt"`
	Version      int64  `dynamodbav:"version"`
	// EmailNotifications is a preference: mail each notification too.
	EmailNotifications bool `dynamodbav:"emailNotifications,omitempty"`
}

func toUserItem(u *deskline.User) userItem {
	it := userItem{
		PK: userPK(u.ID), SK: skProfile, Type: TypeUser,
		GSI2PK: usersPK, GSI2SK: strings.ToLower(u.Username) + "#" + u.ID,
		ID: u.ID, Username: u.Username, Email: u.Email, Role: string(u.Role),
		DepartmentID: u.DepartmentID, Status: string(u.Status), PasswordHash: u.PasswordHash,
		CreatedAt: u.CreatedAt.UTC().Format(time.RFC3339Nano), UpdatedAt: u.UpdatedAt.UTC().Format(time.RFC3339Nano),
		Version: u.Version, EmailNotifications: u.EmailNotifications,
	}
	if u.DepartmentID != "" {
		it.GSI1PK, it.GSI1SK = deptMembersPK(u.DepartmentID), "USER#"+strings.ToLower(u.Username)+"#"+u.ID
	}
	return it
}

func (it *userItem) user() *deskline.User {
	created, _ := time.Parse(time.RFC3339Nano, it.CreatedAt)
	updated, _ := time.Parse(time.RFC3339Nano, it.UpdatedAt)
	return &deskline.User{
		ID: it.ID, Username: it.Username, Email: it.Email, Role: deskline.Role(it.Role),
		DepartmentID: it.DepartmentID, Status: deskline.UserStatus(it.Status), PasswordHash: it.PasswordHash,
		CreatedAt: created, UpdatedAt: updated, Version: it.Version, EmailNotifications: it.EmailNotifications,
	}
}

func guardItem(pk, ref string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"PK": str(pk), "SK": str(skGuard), "type": str(TypeGuard), "ref": str(ref)}
}

func putNew(table string, item map[string]types.AttributeValue) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{
		TableName: aws.String(table), Item: item,
		ConditionExpression: aws.String("attribute_not_exists(PK)"),
	}}
}

func deleteGuard(table, pk, ref string) types.TransactWriteItem {
	return types.TransactWriteItem{Delete: &types.Delete{
		TableName: aws.String(table), Key: key(pk, skGuard),
		ConditionExpression:       aws.String("#ref = :ref"),
		ExpressionAttributeNames:  map[string]string{"#ref": "ref"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":ref": str(ref)},
	}}
}

// addMember moves a department's member count by delta, on an active
// department only when adding.
func addMember(table, deptID string, delta int64) types.TransactWriteItem {
	u := &types.Update{
		TableName:                 aws.String(table),
		Key:                       key(deptPK(deptID), skProfile),
		UpdateExpression:          aws.String("ADD memberCount :d"),
		ConditionExpression:       aws.String("attribute_exists(PK)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":d": num(delta)},
	}
	if delta > 0 {
		u.ConditionExpression = aws.String("attribute_exists(PK) AND isActive = :t")
		u.ExpressionAttributeValues[":t"] = &types.AttributeValueMemberBOOL{Value: true}
	}
	return types.TransactWriteItem{Update: u}
}

var (
	errEmailTaken    = deskline.Errorf(deskline.ECONFLICT, "Email already registered")
	errUsernameTaken = deskline.Errorf(deskline.ECONFLICT, "Username already taken")
	errNoDepartment  = &deskline.Error{Code: deskline.EINVALID, Field: "departmentId", Message: "Department not found or inactive"}
	errUserNotFound  = deskline.Errorf(deskline.ENOTFOUND, "User not found")
)

// CreateUser stores a new user with its e-mail and username guards, and
// counts it into its department, in one transaction.
func (s *Store) CreateUser(ctx context.Context, u *deskline.User) error {
	u.Version = 1
	item, err := attributevalue.MarshalMap(toUserItem(u))
	if err != nil {
		return fmt.Errorf("marshal user %s: %w", u.ID, err)
	}
	items := []types.TransactWriteItem{
		putNew(s.table, item),
		putNew(s.table, guardItem(emailPK(u.Email), u.ID)),
		putNew(s.table, guardItem(usernamePK(u.Username), u.ID)),
	}
	reasons := []error{errStale("user"), errEmailTaken, errUsernameTaken}
	if u.DepartmentID != "" {
		items = append(items, addMember(s.table, u.DepartmentID, 1))
		reasons = append(reasons, errNoDepartment)
	}
	if _, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items}); err != nil {
		return txError("create user "+u.ID, err, reasons)
	}
	return nil
}

// GetUser returns the user with the given id.
func (s *Store) GetUser(ctx context.Context, id string) (*deskline.User, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: key(userPK(id), skProfile), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("get user %s: %w", id, err)
	}
	if out.Item == nil {
		return nil, errUserNotFound
	}
	var it userItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return nil, fmt.Errorf("unmarshal user %s: %w", id, err)
	}
	return it.user(), nil
}

// UserIDByEmail returns the id of the user with the given normalized e-mail.
func (s *Store) UserIDByEmail(ctx context.Context, email string) (string, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: key(emailPK(email), skGuard), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return "", fmt.Errorf("get email guard: %w", err)
	}
	ref, ok := out.Item["ref"].(*types.AttributeValueMemberS)
	if !ok {
		return "", errUserNotFound
	}
	return ref.Value, nil
}

// UpdateUser writes next over prev, failing with a conflict when the stored
// user is no longer at prev's version. Guards and department counts follow
// changes of e-mail, username and department in the same transaction.
func (s *Store) UpdateUser(ctx context.Context, prev, next *deskline.User) error {
	next.Version = prev.Version + 1
	item, err := attributevalue.MarshalMap(toUserItem(next))
	if err != nil {
		return fmt.Errorf("marshal user %s: %w", next.ID, err)
	}
	items := []types.TransactWriteItem{{Put: &types.Put{
		TableName: aws.String(s.table), Item: item,
		ConditionExpression:       aws.String("version = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(prev.Version)},
	}}}
	reasons := []error{errStale("user")}
	if next.Email != prev.Email {
		items = append(items, putNew(s.table, guardItem(emailPK(next.Email), next.ID)), deleteGuard(s.table, emailPK(prev.Email), prev.ID))
		reasons = append(reasons, errEmailTaken, nil)
	}
	if !strings.EqualFold(next.Username, prev.Username) {
		items = append(items, putNew(s.table, guardItem(usernamePK(next.Username), next.ID)), deleteGuard(s.table, usernamePK(prev.Username), prev.ID))
		reasons = append(reasons, errUsernameTaken, nil)
	}
	if next.DepartmentID != prev.DepartmentID {
		if next.DepartmentID != "" {
			items = append(items, addMember(s.table, next.DepartmentID, 1))
			reasons = append(reasons, errNoDepartment)
		}
		if prev.DepartmentID != "" {
			items = append(items, addMember(s.table, prev.DepartmentID, -1))
			reasons = append(reasons, nil)
		}
	}
	if _, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items}); err != nil {
		next.Version = prev.Version
		return txError("update user "+next.ID, err, reasons)
	}
	return nil
}

// DeleteUser removes a user, their guards and their department membership,
// then every item in their partition (sessions, login failures).
func (s *Store) DeleteUser(ctx context.Context, u *deskline.User) error {
	items := []types.TransactWriteItem{
		{Delete: &types.Delete{
			TableName: aws.String(s.table), Key: key(userPK(u.ID), skProfile),
			ConditionExpression:       aws.String("version = :v"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(u.Version)},
		}},
		deleteGuard(s.table, emailPK(u.Email), u.ID),
		deleteGuard(s.table, usernamePK(u.Username), u.ID),
	}
	if u.DepartmentID != "" {
		items = append(items, addMember(s.table, u.DepartmentID, -1))
	}
	if _, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items}); err != nil {
		return txError("delete user "+u.ID, err, []error{errStale("user")})
	}
	return s.deletePartition(ctx, userPK(u.ID))
}

// UserFilter narrows a user list.
type UserFilter struct {
	DepartmentID string              // members of one department (GSI1)
	Status       deskline.UserStatus // only this status
	Role         deskline.Role       // only this role
	Limit        int
	Cursor       string
}

// ListUsers lists users by username, all of them (GSI2) or one department's
// (GSI1). Status and role filters are applied to each page read.
func (s *Store) ListUsers(ctx context.Context, f UserFilter) (Page[*deskline.User], error) {
	idx, pkName, skName, pk := GSI2, "GSI2PK", "GSI2SK", usersPK
	if f.DepartmentID != "" {
		idx, pkName, skName, pk = GSI1, "GSI1PK", "GSI1SK", deptMembersPK(f.DepartmentID)
	}
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String(idx),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": pkName},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
	}
	if idx == GSI1 {
		in.KeyConditionExpression = aws.String("#pk = :pk AND begins_with(#sk, :user)")
		in.ExpressionAttributeNames["#sk"] = skName
		in.ExpressionAttributeValues[":user"] = str("USER#")
	}
	var filters []string
	if f.Status != "" {
		filters = append(filters, "#status = :status")
		in.ExpressionAttributeNames["#status"] = "status"
		in.ExpressionAttributeValues[":status"] = str(string(f.Status))
	}
	if f.Role != "" {
		filters = append(filters, "#role = :role")
		in.ExpressionAttributeNames["#role"] = "role"
		in.ExpressionAttributeValues[":role"] = str(string(f.Role))
	}
	if len(filters) > 0 {
		in.FilterExpression = aws.String(strings.Join(filters, " AND "))
	}
	keys := []string{"PK", "SK", pkName, skName}
	return queryPage(ctx, s, in, f.Limit, f.Cursor, keys, pkName, pk, func(raw map[string]types.AttributeValue) (*deskline.User, error) {
		var it userItem
		err := attributevalue.UnmarshalMap(raw, &it)
		return it.user(), err
	})
}

// queryPage runs a query until it has limit items (filters may thin pages)
// or the list ends, and returns them with the cursor of the next page.
func queryPage[T any](ctx context.Context, s *Store, in *dynamodb.QueryInput, limit int, cursor string, keyNames []string, pkName, pk string, conv func(map[string]types.AttributeValue) (T, error)) (Page[T], error) {
	start, err := decodeCursor(cursor, keyNames, pkName, pk)
	if err != nil {
		return Page[T]{}, err
	}
	in.ExclusiveStartKey = start
	var page Page[T]
	for {
		// Limit counts the items read, not those that pass a filter: with a
		// filter, asking for just the items still needed costs a round trip
		// per few items. Filtered queries read whole pages (up to 1 MB) and
		// stop at the limit instead.
		in.Limit = nil
		if in.FilterExpression == nil {
			in.Limit = aws.Int32(int32(limit - len(page.Items)))
		}
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return Page[T]{}, fmt.Errorf("query %s: %w", pk, err)
		}
		for i, raw := range out.Items {
			if len(page.Items) == limit {
				// More matches may follow in this response: the next page
				// starts after the last item returned.
				page.NextCursor = encodeCursor(keyAttributes(out.Items[i-1], keyNames))
				return page, nil
			}
			v, err := conv(raw)
			if err != nil {
				return Page[T]{}, fmt.Errorf("decode %s item: %w", pk, err)
			}
			page.Items = append(page.Items, v)
		}
		if len(out.LastEvaluatedKey) == 0 {
			return page, nil
		}
		if len(page.Items) >= limit {
			page.NextCursor = encodeCursor(out.LastEvaluatedKey)
			return page, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// keyAttributes is the key of an item under the given key attribute names.
func keyAttributes(item map[string]types.AttributeValue, names []string) map[string]types.AttributeValue {
	k := make(map[string]types.AttributeValue, len(names))
	for _, n := range names {
		k[n] = item[n]
	}
	return k
}

// deletePartition deletes every item under one partition key.
func (s *Store) deletePartition(ctx context.Context, pk string) error {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
		ProjectionExpression:      aws.String("PK, SK"),
		ConsistentRead:            aws.Bool(true),
	}
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return fmt.Errorf("query partition %s: %w", pk, err)
		}
		keys := make([]map[string]types.AttributeValue, 0, len(out.Items))
		for _, it := range out.Items {
			keys = append(keys, map[string]types.AttributeValue{"PK": it["PK"], "SK": it["SK"]})
		}
		if err := s.batchDelete(ctx, keys); err != nil {
			return fmt.Errorf("delete partition %s: %w", pk, err)
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// batchDelete deletes keys 25 at a time, retrying unprocessed ones.
func (s *Store) batchDelete(ctx context.Context, keys []map[string]types.AttributeValue) error {
	for len(keys) > 0 {
		n := min(25, len(keys))
		reqs := make([]types.WriteRequest, n)
		for i, k := range keys[:n] {
			reqs[i] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}}
		}
		keys = keys[n:]
		pending := map[string][]types.WriteRequest{s.table: reqs}
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt > 0 {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(time.Duration(attempt*attempt) * 20 * time.Millisecond):
				}
			}
			if attempt == 8 {
				return fmt.Errorf("batch delete: %d requests still unprocessed", len(pending[s.table]))
			}
			out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				return fmt.Errorf("batch delete: %w", err)
			}
			pending = out.UnprocessedItems
		}
	}
	return nil
}
