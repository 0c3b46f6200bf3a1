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

// Entities of the help desk (tickets, tasks, comments, history) are stored
// with their JSON field names, so an item reads like the API's JSON and the
// stream consumers decode images with the same structs.
func marshalItem(v any) (map[string]types.AttributeValue, error) {
	return attributevalue.MarshalMapWithOptions(v, func(o *attributevalue.EncoderOptions) { o.TagKey = "json" })
}

func unmarshalItem(m map[string]types.AttributeValue, v any) error {
	return attributevalue.UnmarshalMapWithOptions(m, v, func(o *attributevalue.DecoderOptions) { o.TagKey = "json" })
}

// UnmarshalEntity decodes an item (or a stream image converted with
// StreamImage) into an entity struct, by JSON field names.
func UnmarshalEntity(m map[string]types.AttributeValue, v any) error { return unmarshalItem(m, v) }

// keys are the key attributes every entity item carries.
type keys struct {
	PK     string `json:"PK"`
	SK     string `json:"SK"`
	Type   string `json:"type"`
	GSI1PK string `json:"GSI1PK,omitempty"`
	GSI1SK string `json:"GSI1SK,omitempty"`
	GSI2PK string `json:"GSI2PK,omitempty"`
	GSI2SK string `json:"GSI2SK,omitempty"`
}

// sortTime formats a time for a sort key (fixed width, so keys sort by time).
func sortTime(t time.Time) string { return t.UTC().Format(sortKeyTime) }

func keyID(pk, sk string) string { return pk + "\x00" + sk }

// batchGet reads up to 100 keys in one BatchGetItem (strongly consistent)
// and returns the items found by keyID(PK, SK). Unprocessed keys are retried.
func (s *Store) batchGet(ctx context.Context, ks []map[string]types.AttributeValue) (map[string]map[string]types.AttributeValue, error) {
	out := map[string]map[string]types.AttributeValue{}
	seen := map[string]bool{}
	var uniq []map[string]types.AttributeValue
	for _, k := range ks {
		id := keyID(k["PK"].(*types.AttributeValueMemberS).Value, k["SK"].(*types.AttributeValueMemberS).Value)
		if !seen[id] {
			seen[id] = true
			uniq = append(uniq, k)
		}
	}
	for len(uniq) > 0 {
		n := min(100, len(uniq))
		req := map[string]types.KeysAndAttributes{s.table: {Keys: uniq[:n], ConsistentRead: aws.Bool(true)}}
		uniq = uniq[n:]
		for attempt := 0; len(req) > 0; attempt++ {
			if attempt == 8 {
				return nil, fmt.Errorf("batch get: keys still unprocessed")
			}
			if attempt > 0 {
				time.Sleep(time.Duration(attempt*attempt) * 20 * time.Millisecond)
			}
			res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return nil, fmt.Errorf("batch get: %w", err)
			}
			for _, it := range res.Responses[s.table] {
				out[keyID(it["PK"].(*types.AttributeValueMemberS).Value, it["SK"].(*types.AttributeValueMemberS).Value)] = it
			}
			req = res.UnprocessedKeys
		}
	}
	return out, nil
}

// People are users, departments, tickets and tasks found by id: what a
// handler reads in one BatchGetItem to check references and to embed related
// entities in a response.
type People struct {
	users   map[string]*userItem
	depts   map[string]*departmentItem
	tickets map[string]*deskline.Ticket
	tasks   map[string]*deskline.Task
	graph   *TaskGraph
	seq     int64
}

// RefIDs names what to read with GetRefs. Empty ids are ignored.
type RefIDs struct {
	Users, Departments, Tickets, Tasks []string
	// GraphDepartment, when set, also reads that department's task graph.
	GraphDepartment string
	// SeqDepartment, when set, also reads that department's ticket sequence.
	SeqDepartment string
}

// GetPeople reads users and departments by id in one BatchGetItem.
func (s *Store) GetPeople(ctx context.Context, userIDs, deptIDs []string) (*People, error) {
	return s.GetRefs(ctx, RefIDs{Users: userIDs, Departments: deptIDs})
}

// GetRefs reads users, departments, tickets and tasks by id in one
// BatchGetItem (more than 100 keys take more). Unknown ids are left out.
func (s *Store) GetRefs(ctx context.Context, ids RefIDs) (*People, error) {
	var ks []map[string]types.AttributeValue
	add := func(list []string, k func(string) map[string]types.AttributeValue) {
		for _, id := range list {
			if id != "" {
				ks = append(ks, k(id))
			}
		}
	}
	add(ids.Users, func(id string) map[string]types.AttributeValue { return key(userPK(id), skProfile) })
	add(ids.Departments, func(id string) map[string]types.AttributeValue { return key(deptPK(id), skProfile) })
	add(ids.Tickets, func(id string) map[string]types.AttributeValue { return key(ticketPK(id), skTicket) })
	add(ids.Tasks, func(id string) map[string]types.AttributeValue { return key(taskPK(id), skTask) })
	p := &People{users: map[string]*userItem{}, depts: map[string]*departmentItem{}, tickets: map[string]*deskline.Ticket{}, tasks: map[string]*deskline.Task{}}
	if ids.GraphDepartment != "" {
		ks = append(ks, key(deptPK(ids.GraphDepartment), skTaskGraph))
		p.graph = &TaskGraph{DepartmentID: ids.GraphDepartment, Edges: map[string][]string{}}
	}
	if ids.SeqDepartment != "" {
		ks = append(ks, key(deptPK(ids.SeqDepartment), skTicketSeq))
	}
	if len(ks) == 0 {
		return p, nil
	}
	items, err := s.batchGet(ctx, ks)
	if err != nil {
		return nil, fmt.Errorf("get references: %w", err)
	}
	for _, it := range items {
		switch it["type"].(*types.AttributeValueMemberS).Value {
		case TypeUser:
			var u userItem
			if err := attributevalue.UnmarshalMap(it, &u); err != nil {
				return nil, fmt.Errorf("unmarshal user: %w", err)
			}
			p.users[u.ID] = &u
		case TypeDepartment:
			var d departmentItem
			if err := attributevalue.UnmarshalMap(it, &d); err != nil {
				return nil, fmt.Errorf("unmarshal department: %w", err)
			}
			p.depts[d.ID] = &d
		case TypeTicket:
			t := &deskline.Ticket{}
			if err := unmarshalItem(it, &ticketItem{Ticket: t}); err != nil {
				return nil, fmt.Errorf("unmarshal ticket: %w", err)
			}
			p.tickets[t.ID] = t
		case TypeTask:
			t := &deskline.Task{}
			if err := unmarshalItem(it, &taskItem{Task: t}); err != nil {
				return nil, fmt.Errorf("unmarshal task: %w", err)
			}
			p.tasks[t.ID] = t
		case TypeCounter:
			var c struct {
				Seq int64 `json:"seq"`
			}
			if err := unmarshalItem(it, &c); err != nil {
				return nil, fmt.Errorf("unmarshal ticket sequence: %w", err)
			}
			p.seq = c.Seq
		case TypeGraph:
			if err := unmarshalItem(it, p.graph); err != nil {
				return nil, fmt.Errorf("unmarshal task graph: %w", err)
			}
			if p.graph.Edges == nil {
				p.graph.Edges = map[string][]string{}
			}
		}
	}
	return p, nil
}

// Ticket returns the ticket with id, or nil.
func (p *People) Ticket(id string) *deskline.Ticket { return p.tickets[id] }

// Graph returns the task graph asked for with GraphDepartment (empty if
// the department has none yet).
func (p *People) Graph() *TaskGraph { return p.graph }

// TicketSeq returns the ticket sequence asked for with SeqDepartment.
func (p *People) TicketSeq() int64 { return p.seq }

// Task returns the task with id, or nil.
func (p *People) Task(id string) *deskline.Task { return p.tasks[id] }

// User returns the user with id, or nil.
func (p *People) User(id string) *deskline.User {
	if u := p.users[id]; u != nil {
		return u.user()
	}
	return nil
}

// Department returns the department with id, or nil.
func (p *People) Department(id string) *deskline.Department {
	if d := p.depts[id]; d != nil {
		return d.department()
	}
	return nil
}

// GetUsers reads users by id in one BatchGetItem (more than 100 ids take
// more); unknown ids are left out.
func (s *Store) GetUsers(ctx context.Context, ids []string) (map[string]*deskline.User, error) {
	p, err := s.GetRefs(ctx, RefIDs{Users: ids})
	if err != nil {
		return nil, err
	}
	out := make(map[string]*deskline.User, len(p.users))
	for id := range p.users {
		out[id] = p.User(id)
	}
	return out, nil
}
