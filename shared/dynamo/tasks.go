package dynamo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/deskline/deskline/shared/deskline"
)

// A task's partition holds the task (SK "#TASK"), its comments and history,
// like a ticket's. Each department has one dependency graph item, so a cycle
// check is one read and the graph changes atomically with the task.
const (
	skTask      = "#TASK"
	tasksPK     = "TASKS"
	skTaskGraph = "TASKGRAPH"
)

func taskPK(id string) string     { return "TASK#" + id }
func taskDeptPK(id string) string { return "KDEPT#" + id }

var errTaskNotFound = deskline.Errorf(deskline.ENOTFOUND, "Task not found")

type taskItem struct {
	keys
	*deskline.Task
}

func (s *Store) taskItem(t *deskline.Task) (map[string]types.AttributeValue, error) {
	item, err := marshalItem(taskItem{
		keys: keys{
			PK: taskPK(t.ID), SK: skTask, Type: TypeTask,
			GSI1PK: taskDeptPK(t.DepartmentID), GSI1SK: createdSK(t.CreatedAt, t.ID),
			GSI2PK: tasksPK, GSI2SK: createdSK(t.CreatedAt, t.ID),
		},
		Task: t,
	})
	if err != nil {
		return nil, fmt.Errorf("marshal task %s: %w", t.ID, err)
	}
	return item, nil
}

// CreateTask stores a new task if its department is active and its ticket,
// when it names one, exists.
func (s *Store) CreateTask(ctx context.Context, t *deskline.Task, rec *Idem) error {
	t.Version = 1
	item, err := s.taskItem(t)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{
		putNew(s.table, item),
		{ConditionCheck: &types.ConditionCheck{
			TableName: aws.String(s.table), Key: key(deptPK(t.DepartmentID), skProfile),
			ConditionExpression:       aws.String("attribute_exists(PK) AND isActive = :t"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}},
		}},
	}
	reasons := []error{errStale("task"), errNoDepartment}
	if t.TicketID != "" {
		items = append(items, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
			TableName: aws.String(s.table), Key: key(ticketPK(t.TicketID), skTicket), ConditionExpression: aws.String("attribute_exists(PK)"),
		}})
		reasons = append(reasons, &deskline.Error{Code: deskline.EINVALID, Field: "ticketId", Message: "Ticket not found"})
	}
	if items, reasons, err = s.withIdem(items, reasons, rec); err != nil {
		return err
	}
	if _, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items}); err != nil {
		return txError("create task "+t.ID, err, reasons)
	}
	return nil
}

// GetTask returns one task.
func (s *Store) GetTask(ctx context.Context, id string) (*deskline.Task, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(taskPK(id), skTask), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("get task %s: %w", id, err)
	}
	if out.Item == nil {
		return nil, errTaskNotFound
	}
	t := &deskline.Task{}
	if err := unmarshalItem(out.Item, &taskItem{Task: t}); err != nil {
		return nil, fmt.Errorf("unmarshal task %s: %w", id, err)
	}
	return t, nil
}

// TaskGraph is a department's dependency graph: task → tasks it depends on.
type TaskGraph struct {
	DepartmentID string              `json:"departmentId"`
	Edges        map[string][]string `json:"edges"`
	Version      int64               `json:"version"`
}

// UpdateTask writes next over prev, conditional on prev's version. When
// graph is set, the department's dependency graph is written with it, in
// one transaction, conditional on the graph's version.
func (s *Store) UpdateTask(ctx context.Context, prev, next *deskline.Task, graph *TaskGraph) error {
	next.Version = prev.Version + 1
	item, err := s.taskItem(next)
	if err != nil {
		return err
	}
	put := &types.Put{
		TableName: aws.String(s.table), Item: item,
		ConditionExpression:       aws.String("version = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(prev.Version)},
	}
	if graph == nil {
		_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: put.TableName, Item: put.Item, ConditionExpression: put.ConditionExpression, ExpressionAttributeValues: put.ExpressionAttributeValues})
		if isConditionFailed(err) {
			err = errStale("task")
		}
	} else {
		var gput types.TransactWriteItem
		if gput, err = s.graphPut(graph); err == nil {
			_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{Put: put}, gput}})
			if err != nil {
				err = txError("update task "+next.ID, err, []error{errStale("task"), deskline.Errorf(deskline.ECONFLICT, "Dependencies changed concurrently; retry")})
			}
		}
	}
	if err != nil {
		next.Version = prev.Version
		if deskline.ErrorCode(err) == deskline.EINTERNAL {
			return fmt.Errorf("update task %s: %w", next.ID, err)
		}
		return err
	}
	return nil
}

// graphPut writes a graph at version+1, conditional on its version.
func (s *Store) graphPut(g *TaskGraph) (types.TransactWriteItem, error) {
	prev := g.Version
	g.Version++
	item, err := marshalItem(struct {
		keys
		*TaskGraph
	}{keys{PK: deptPK(g.DepartmentID), SK: skTaskGraph, Type: TypeGraph}, g})
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("marshal task graph: %w", err)
	}
	p := &types.Put{TableName: aws.String(s.table), Item: item}
	if prev == 0 {
		p.ConditionExpression = aws.String("attribute_not_exists(PK)")
	} else {
		p.ConditionExpression = aws.String("version = :gv")
		p.ExpressionAttributeValues = map[string]types.AttributeValue{":gv": num(prev)}
	}
	return types.TransactWriteItem{Put: p}, nil
}

// DeleteTask deletes a task at version t.Version. Its comments, history,
// dependency links and attachments are removed by the stream projector.
func (s *Store) DeleteTask(ctx context.Context, t *deskline.Task) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(s.table), Key: key(taskPK(t.ID), skTask),
		ConditionExpression:       aws.String("version = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(t.Version)},
	})
	if isConditionFailed(err) {
		return errStale("task")
	} else if err != nil {
		return fmt.Errorf("delete task %s: %w", t.ID, err)
	}
	return nil
}

// TaskFilter selects tasks.
type TaskFilter struct {
	DepartmentID string // empty: every department (admins)
	Statuses     []deskline.TaskStatus
	Priorities   []deskline.Priority
	AssignedToID string
	CreatedBy    string
	InvolvingID  string // assigned to or created by this user (employees' scope)
	TicketID     string
	OverdueAt    *time.Time // only tasks overdue at this time
	Limit        int
	Cursor       string
}

// ListTasks lists tasks newest first, one page at a time.
func (s *Store) ListTasks(ctx context.Context, f TaskFilter) (Page[*deskline.Task], error) {
	idx, pkName, skName, pk := GSI2, "GSI2PK", "GSI2SK", tasksPK
	if f.DepartmentID != "" {
		idx, pkName, skName, pk = GSI1, "GSI1PK", "GSI1SK", taskDeptPK(f.DepartmentID)
	}
	fe := &filterExpr{names: map[string]string{"#pk": pkName}, values: map[string]types.AttributeValue{":pk": str(pk)}}
	fe.in("status", toStrings(f.Statuses))
	fe.in("priority", toStrings(f.Priorities))
	for attr, v := range map[string]string{"assignedToId": f.AssignedToID, "createdBy": f.CreatedBy, "ticketId": f.TicketID} {
		if v != "" {
			fe.in(attr, []string{v})
		}
	}
	if f.InvolvingID != "" {
		fe.add("(#a = :me OR #c = :me)", map[string]string{"#a": "assignedToId", "#c": "createdBy"},
			map[string]types.AttributeValue{":me": str(f.InvolvingID)})
	}
	if f.OverdueAt != nil {
		fe.add("attribute_type(#due, :S) AND #due < :now AND NOT (#st IN (:done, :cancelled))",
			map[string]string{"#due": "dueDate", "#st": "status"},
			map[string]types.AttributeValue{
				":now": str(f.OverdueAt.UTC().Format(time.RFC3339Nano)), ":S": str("S"),
				":done": str(string(deskline.TaskCompleted)), ":cancelled": str(string(deskline.TaskCancelled)),
			})
	}
	q := &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String(idx),
		KeyConditionExpression: aws.String("#pk = :pk"),
		ScanIndexForward:       aws.Bool(false),
	}
	fe.apply(q)
	return queryPage(ctx, s, q, f.Limit, f.Cursor, []string{"PK", "SK", pkName, skName}, pkName, pk, func(raw map[string]types.AttributeValue) (*deskline.Task, error) {
		t := &deskline.Task{}
		err := unmarshalItem(raw, &taskItem{Task: t})
		return t, err
	})
}

// RemoveFromGraph deletes a task's node and every edge to it from its
// department's graph, and drops it from the dependsOn of the tasks that
// depended on it. Used by the projector when a task is deleted; safe to repeat.
func (s *Store) RemoveFromGraph(ctx context.Context, deptID, taskID string) error {
	for attempt := 0; attempt < 5; attempt++ {
		refs, err := s.GetRefs(ctx, RefIDs{GraphDepartment: deptID})
		if err != nil {
			return err
		}
		g := refs.Graph()
		var dependents []string
		for n, deps := range g.Edges {
			if slices.Contains(deps, taskID) {
				dependents = append(dependents, n)
				g.Edges[n] = slices.DeleteFunc(slices.Clone(deps), func(d string) bool { return d == taskID })
				if len(g.Edges[n]) == 0 {
					delete(g.Edges, n)
				}
			}
		}
		_, had := g.Edges[taskID]
		if !had && len(dependents) == 0 {
			return nil
		}
		delete(g.Edges, taskID)
		put, err := s.graphPut(g)
		if err != nil {
			return err
		}
		items := []types.TransactWriteItem{put}
		now := str(s.clock.Now().UTC().Format(time.RFC3339Nano))
		for _, d := range dependents {
			// A change like any other: a new version (writers holding the
			// old one conflict) and time (so its history entry is new).
			items = append(items, types.TransactWriteItem{Update: &types.Update{
				TableName: aws.String(s.table), Key: key(taskPK(d), skTask),
				UpdateExpression:          aws.String("SET dependsOn = :deps, version = version + :one, updatedAt = :now"),
				ConditionExpression:       aws.String("attribute_exists(PK)"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":deps": stringList(g.Edges[d]), ":one": num(1), ":now": now},
			}})
		}
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		var tce *types.TransactionCanceledException
		switch {
		case err == nil:
			return nil
		case errors.As(err, &tce):
			continue // the graph or a dependent changed: read again
		default:
			return fmt.Errorf("remove task %s from graph: %w", taskID, err)
		}
	}
	return fmt.Errorf("remove task %s from graph: too much contention", taskID)
}

func stringList(vs []string) types.AttributeValue {
	l := make([]types.AttributeValue, len(vs))
	for i, v := range vs {
		l[i] = str(v)
	}
	return &types.AttributeValueMemberL{Value: l}
}
