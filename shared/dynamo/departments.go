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

const departmentsPK = "DEPTS"

func deptPK(id string) string       { return "DEPT#" + id }
func deptNamePK(name string) string { return "DEPTNAME#" + strings.ToLower(strings.TrimSpace(name)) }
func deptCodePK(code string) string { return "DEPTCODE#" + code }

type departmentItem struct {
	PK          string `dynamodbav:"PK"`
	SK          string `dynamodbav:"SK"`
	Type        string `dynamodbav:"type"`
	GSI2PK      string `dynamodbav:"GSI2PK"`
	GSI2SK      string `dynamodbav:"GSI2SK"`
	ID          string `dynamodbav:"id"`
	Name        string `dynamodbav:"name"`
	Code        string `dynamodbav:"code"`
	Description string `dynamodbav:"description"`
	IsActive    bool   `dynamodbav:"isActive"`
	MemberCount int    `dynamodbav:"memberCount"`
	CreatedAt   string `dynamodbav:"createdAt"`
	UpdatedAt   string `dynamodbav:"updatedAt"`
	Version     int64  `dynamodbav:"version"`
}

// departmentSortKey orders the department list by name, case-insensitively,
// then by id. The separator sorts below every character a name may hold
// (names have no control characters), so "IT" comes before "IT Support".
func departmentSortKey(d *deskline.Department) string {
	return strings.ToLower(d.Name) + "\x01" + d.ID
}

func toDepartmentItem(d *deskline.Department) departmentItem {
	return departmentItem{
		PK: deptPK(d.ID), SK: skProfile, Type: TypeDepartment,
		GSI2PK: departmentsPK, GSI2SK: departmentSortKey(d),
		ID: d.ID, Name: d.Name, Code: d.Code, Description: d.Description, IsActive: d.IsActive,
		MemberCount: d.MemberCount,
		CreatedAt:   d.CreatedAt.UTC().Format(time.RFC3339Nano), UpdatedAt: d.UpdatedAt.UTC().Format(time.RFC3339Nano),
		Version: d.Version,
	}
}

func (it *departmentItem) department() *deskline.Department {
	created, _ := time.Parse(time.RFC3339Nano, it.CreatedAt)
	updated, _ := time.Parse(time.RFC3339Nano, it.UpdatedAt)
	return &deskline.Department{
		ID: it.ID, Name: it.Name, Code: it.Code, Description: it.Description, IsActive: it.IsActive,
		MemberCount: it.MemberCount, CreatedAt: created, UpdatedAt: updated, Version: it.Version,
	}
}

var (
	errDeptNameTaken  = deskline.Errorf(deskline.ECONFLICT, "Department name already exists")
	errDeptCodeTaken  = &deskline.Error{Code: deskline.ECONFLICT, Field: "code", Message: "Department code already in use; choose another code"}
	errDeptNotFound   = deskline.Errorf(deskline.ENOTFOUND, "Department not found")
	errDeptHasMembers = deskline.Errorf(deskline.ECONFLICT, "Cannot delete department with assigned users")
)

// CreateDepartment stores a new department with its name and code guards.
func (s *Store) CreateDepartment(ctx context.Context, d *deskline.Department) error {
	d.Version = 1
	item, err := attributevalue.MarshalMap(toDepartmentItem(d))
	if err != nil {
		return fmt.Errorf("marshal department %s: %w", d.ID, err)
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		putNew(s.table, item),
		putNew(s.table, guardItem(deptNamePK(d.Name), d.ID)),
		putNew(s.table, guardItem(deptCodePK(d.Code), d.ID)),
	}})
	if err != nil {
		return txError("create department "+d.ID, err, []error{errStale("department"), errDeptNameTaken, errDeptCodeTaken})
	}
	return nil
}

// GetDepartment returns one department.
func (s *Store) GetDepartment(ctx context.Context, id string) (*deskline.Department, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: key(deptPK(id), skProfile), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("get department %s: %w", id, err)
	}
	if out.Item == nil {
		return nil, errDeptNotFound
	}
	var it departmentItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return nil, fmt.Errorf("unmarshal department %s: %w", id, err)
	}
	return it.department(), nil
}

// ListDepartments lists departments by name (GSI2).
func (s *Store) ListDepartments(ctx context.Context, limit int, cursor string) (Page[*deskline.Department], error) {
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String(GSI2),
		KeyConditionExpression:    aws.String("GSI2PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(departmentsPK)},
	}
	return queryPage(ctx, s, in, limit, cursor, []string{"PK", "SK", "GSI2PK", "GSI2SK"}, "GSI2PK", departmentsPK,
		func(raw map[string]types.AttributeValue) (*deskline.Department, error) {
			var it departmentItem
			err := attributevalue.UnmarshalMap(raw, &it)
			return it.department(), err
		})
}

// UpdateDepartment writes next over prev, conditional on prev's version and,
// so a concurrent membership change is never overwritten, prev's member count.
func (s *Store) UpdateDepartment(ctx context.Context, prev, next *deskline.Department) error {
	next.Version = prev.Version + 1
	next.MemberCount = prev.MemberCount
	item, err := attributevalue.MarshalMap(toDepartmentItem(next))
	if err != nil {
		return fmt.Errorf("marshal department %s: %w", next.ID, err)
	}
	items := []types.TransactWriteItem{{Put: &types.Put{
		TableName: aws.String(s.table), Item: item,
		ConditionExpression: aws.String("version = :v AND memberCount = :m"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":v": num(prev.Version), ":m": num(int64(prev.MemberCount)),
		},
	}}}
	reasons := []error{errStale("department")}
	if deptNamePK(next.Name) != deptNamePK(prev.Name) {
		items = append(items, putNew(s.table, guardItem(deptNamePK(next.Name), next.ID)), deleteGuard(s.table, deptNamePK(prev.Name), prev.ID))
		reasons = append(reasons, errDeptNameTaken, nil)
	}
	if next.Code != prev.Code {
		items = append(items, putNew(s.table, guardItem(deptCodePK(next.Code), next.ID)), deleteGuard(s.table, deptCodePK(prev.Code), prev.ID))
		reasons = append(reasons, errDeptCodeTaken, nil)
	}
	if _, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items}); err != nil {
		next.Version = prev.Version
		return txError("update department "+next.ID, err, reasons)
	}
	return nil
}

// DeleteDepartment removes a department that has no members, with its guards.
func (s *Store) DeleteDepartment(ctx context.Context, d *deskline.Department) error {
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Delete: &types.Delete{
			TableName: aws.String(s.table), Key: key(deptPK(d.ID), skProfile),
			ConditionExpression:       aws.String("attribute_exists(PK) AND (attribute_not_exists(memberCount) OR memberCount = :zero)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":zero": num(0)},
		}},
		deleteGuard(s.table, deptNamePK(d.Name), d.ID),
		deleteGuard(s.table, deptCodePK(d.Code), d.ID),
	}})
	if err != nil {
		// A missing department was deleted concurrently; a failed guard
		// delete means d is stale (renamed since it was read).
		if _, gerr := s.GetDepartment(ctx, d.ID); deskline.ErrorCode(gerr) == deskline.ENOTFOUND {
			return errDeptNotFound
		}
		return txError("delete department "+d.ID, err, []error{errDeptHasMembers, errStale("department"), errStale("department")})
	}
	return nil
}

// GetDepartments returns the departments with the given ids, by id, in one
// BatchGetItem (ids beyond 100 are read in further batches). Missing ids are
// left out.
func (s *Store) GetDepartments(ctx context.Context, ids []string) (map[string]*deskline.Department, error) {
	out := make(map[string]*deskline.Department, len(ids))
	seen := map[string]bool{}
	var keys []map[string]types.AttributeValue
	for _, id := range ids {
		if id != "" && !seen[id] {
			seen[id] = true
			keys = append(keys, key(deptPK(id), skProfile))
		}
	}
	for len(keys) > 0 {
		n := min(100, len(keys))
		req := map[string]types.KeysAndAttributes{s.table: {Keys: keys[:n]}}
		keys = keys[n:]
		for attempt := 0; len(req) > 0; attempt++ {
			if attempt == 8 {
				return nil, fmt.Errorf("batch get departments: keys still unprocessed")
			}
			if attempt > 0 {
				time.Sleep(time.Duration(attempt*attempt) * 20 * time.Millisecond)
			}
			res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return nil, fmt.Errorf("batch get departments: %w", err)
			}
			for _, raw := range res.Responses[s.table] {
				var it departmentItem
				if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
					return nil, fmt.Errorf("unmarshal department: %w", err)
				}
				out[it.ID] = it.department()
			}
			req = res.UnprocessedKeys
		}
	}
	return out, nil
}
