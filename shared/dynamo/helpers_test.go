package dynamo_test

// Integration tests of the store against DynamoDB Local. Each test gets a
// fresh table from dynamotest.Table; run them through
//
//	go run ./localstack/cmd/withservices -- go test ./shared/dynamo/...
//
// This file holds the helpers: a fake clock, a DynamoDB client that counts
// calls, a fixture and small assertions.

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/deskline/deskline/localstack/dynamotest"
	"github.com/deskline/deskline/shared/deskline"
	"github.com/deskline/deskline/shared/dynamo"
)

// fakeClock is a deskline.Clock whose time only moves when a test moves it.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

// t0 is where every fake clock starts: a whole second, in UTC.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// countingAPI is a dynamo.API that counts the calls of each operation and
// passes them on.
type countingAPI struct {
	next dynamo.API
	mu   sync.Mutex
	n    map[string]int
}

func (c *countingAPI) count(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[op]++
}

// reset forgets every count so far.
func (c *countingAPI) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n = map[string]int{}
}

// counts returns a copy of the counts since the last reset.
func (c *countingAPI) counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.n))
	for k, v := range c.n {
		out[k] = v
	}
	return out
}

func (c *countingAPI) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.count("GetItem")
	return c.next.GetItem(ctx, in, o...)
}

func (c *countingAPI) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.count("PutItem")
	return c.next.PutItem(ctx, in, o...)
}

func (c *countingAPI) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.count("UpdateItem")
	return c.next.UpdateItem(ctx, in, o...)
}

func (c *countingAPI) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	c.count("DeleteItem")
	return c.next.DeleteItem(ctx, in, o...)
}

func (c *countingAPI) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.count("Query")
	return c.next.Query(ctx, in, o...)
}

func (c *countingAPI) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	c.count("BatchGetItem")
	return c.next.BatchGetItem(ctx, in, o...)
}

func (c *countingAPI) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	c.count("BatchWriteItem")
	return c.next.BatchWriteItem(ctx, in, o...)
}

func (c *countingAPI) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.count("TransactWriteItems")
	return c.next.TransactWriteItems(ctx, in, o...)
}

var _ dynamo.API = (*countingAPI)(nil)

// fixture is one test's store over a fresh table.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	db    *dynamodb.Client // the raw client, for looking behind the store
	table string
	clock *fakeClock
	calls *countingAPI
	store *dynamo.Store
	seq   int
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, table := dynamotest.Table(t)
	clock := &fakeClock{now: t0}
	calls := &countingAPI{next: db}
	return &fixture{
		t: t, ctx: context.Background(), db: db, table: table, clock: clock, calls: calls,
		store: dynamo.New(calls, table, clock),
	}
}

// id returns a new id with the given prefix, unique within the fixture.
func (f *fixture) id(prefix string) string {
	f.seq++
	return fmt.Sprintf("%s-T%05d", prefix, f.seq)
}

// newDept returns an unsaved active department.
func (f *fixture) newDept(name, code string) *deskline.Department {
	now := f.clock.Now()
	return &deskline.Department{
		ID: f.id(deskline.PrefixDepartment), Name: name, Code: code, Description: "about " + name,
		IsActive: true, CreatedAt: now, UpdatedAt: now,
	}
}

// dept creates an active department.
func (f *fixture) dept(name, code string) *deskline.Department {
	f.t.Helper()
	d := f.newDept(name, code)
	if err := f.store.CreateDepartment(f.ctx, d); err != nil {
		f.t.Fatalf("CreateDepartment(%s): %v", name, err)
	}
	return d
}

// newUser returns an unsaved approved employee (an admin when deptID is "").
// The e-mail is derived from the username.
func (f *fixture) newUser(username, deptID string) *deskline.User {
	now := f.clock.Now()
	role := deskline.RoleEmployee
	if deptID == "" {
		role = deskline.RoleAdmin
	}
	return &deskline.User{
		ID: f.id(deskline.PrefixUser), Username: username, Email: strings.ToLower(username) + "@example.com",
		Role: role, DepartmentID: deptID, Status: deskline.StatusApproved,
		PasswordHash: "hash-of-" + username, CreatedAt: now, UpdatedAt: now,
	}
}

// user creates a user as newUser describes it.
func (f *fixture) user(username, deptID string) *deskline.User {
	f.t.Helper()
	u := f.newUser(username, deptID)
	if err := f.store.CreateUser(f.ctx, u); err != nil {
		f.t.Fatalf("CreateUser(%s): %v", username, err)
	}
	return u
}

// getUser reads a user that must exist.
func (f *fixture) getUser(id string) *deskline.User {
	f.t.Helper()
	u, err := f.store.GetUser(f.ctx, id)
	if err != nil {
		f.t.Fatalf("GetUser(%s): %v", id, err)
	}
	return u
}

// getDept reads a department that must exist.
func (f *fixture) getDept(id string) *deskline.Department {
	f.t.Helper()
	d, err := f.store.GetDepartment(f.ctx, id)
	if err != nil {
		f.t.Fatalf("GetDepartment(%s): %v", id, err)
	}
	return d
}

// wantMembers checks a department's stored member count.
func (f *fixture) wantMembers(d *deskline.Department, want int) {
	f.t.Helper()
	if got := f.getDept(d.ID).MemberCount; got != want {
		f.t.Errorf("memberCount of %s = %d, want %d", d.Name, got, want)
	}
}

// wantNoUser checks that no user with the given id is stored.
func (f *fixture) wantNoUser(id string) {
	f.t.Helper()
	u, err := f.store.GetUser(f.ctx, id)
	if deskline.ErrorCode(err) != deskline.ENOTFOUND {
		f.t.Errorf("GetUser(%s) = %+v, %v; want not_found", id, u, err)
	}
}

// partition returns the sort keys stored under one partition key, read
// behind the store's back (strongly consistent).
func (f *fixture) partition(pk string) []string {
	f.t.Helper()
	out, err := f.db.Query(f.ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(f.table),
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		f.t.Fatalf("query partition %s: %v", pk, err)
	}
	var sks []string
	for _, it := range out.Items {
		sks = append(sks, it["SK"].(*types.AttributeValueMemberS).Value)
	}
	sort.Strings(sks)
	return sks
}

// copyUser returns a copy of u to change into an update's next.
func copyUser(u *deskline.User) *deskline.User { c := *u; return &c }

// copyDept returns a copy of d to change into an update's next.
func copyDept(d *deskline.Department) *deskline.Department { c := *d; return &c }

// wantErr checks that err is a *deskline.Error with the given code and, when
// message or field are not empty, that message and field.
func wantErr(t *testing.T, err error, code, message, field string) {
	t.Helper()
	var e *deskline.Error
	if !errors.As(err, &e) {
		t.Errorf("err = %v, want a deskline error with code %s", err, code)
		return
	}
	if e.Code != code {
		t.Errorf("error code = %q (%v), want %q", e.Code, err, code)
	}
	if message != "" && e.Message != message {
		t.Errorf("error message = %q, want %q", e.Message, message)
	}
	if field != "" && e.Field != field {
		t.Errorf("error field = %q, want %q", e.Field, field)
	}
}

// wantSameUser compares the stored fields of two users.
func wantSameUser(t *testing.T, got, want *deskline.User) {
	t.Helper()
	if got.ID != want.ID || got.Username != want.Username || got.Email != want.Email ||
		got.Role != want.Role || got.DepartmentID != want.DepartmentID || got.Status != want.Status ||
		got.PasswordHash != want.PasswordHash || got.Version != want.Version ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("user = %+v\nwant   %+v", *got, *want)
	}
}
