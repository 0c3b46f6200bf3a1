package dynamo

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/deskline/deskline/shared/deskline"
)

// Item types of the help desk's core.
const (
	TypeTicket  = "ticket"
	TypeTask    = "task"
	TypeComment = "comment"
	TypeHistory = "history"
	TypeAlias   = "alias"
	TypeCounter = "counter"
	TypeGraph   = "taskgraph"
)

// A ticket's partition holds the ticket (SK "#TICKET"), its comments
// ("C#<comment id>", ids sort by time) and its history ("H#…"). One Query
// (SK < "D") returns the ticket with its comments.
const (
	skTicket      = "#TICKET"
	ticketsPK     = "TICKETS"
	skTicketSeq   = "SEQ#TICKET"
	commentPrefix = "C#"
	historyPrefix = "H#"
)

func ticketPK(id string) string               { return "TICKET#" + id }
func ticketKeyPK(k string) string             { return "TKEY#" + k }
func ticketDeptPK(id string) string           { return "TDEPT#" + id }
func createdSK(t time.Time, id string) string { return sortTime(t) + "#" + id }

// ticketItem is a ticket as stored.
type ticketItem struct {
	keys
	SearchText string `json:"searchText"`
	*deskline.Ticket
}

func (s *Store) ticketItem(t *deskline.Ticket) (map[string]types.AttributeValue, error) {
	item, err := marshalItem(ticketItem{
		keys: keys{
			PK: ticketPK(t.ID), SK: skTicket, Type: TypeTicket,
			GSI1PK: ticketDeptPK(t.DepartmentID), GSI1SK: createdSK(t.CreatedAt, t.ID),
			GSI2PK: ticketsPK, GSI2SK: createdSK(t.CreatedAt, t.ID),
		},
		SearchText: deskline.SearchText(t.Title, t.Description, t.Key, strings.Join(t.Tags, " ")),
		Ticket:     t,
	})
	if err != nil {
		return nil, fmt.Errorf("marshal ticket %s: %w", t.ID, err)
	}
	return item, nil
}

var (
	errTicketNotFound = deskline.Errorf(deskline.ENOTFOUND, "Ticket not found")
	errSeqRace        = deskline.Errorf(deskline.ECONFLICT, "Another ticket took this number; retry")
)

// IsSeqRace reports whether err means a concurrent create took the ticket
// number; the create should be retried with a fresh sequence.
func IsSeqRace(err error) bool { return err == errSeqRace }

// TicketSeq returns a department's last ticket number.
func (s *Store) TicketSeq(ctx context.Context, deptID string) (int64, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(deptPK(deptID), skTicketSeq), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return 0, fmt.Errorf("get ticket sequence of %s: %w", deptID, err)
	}
	var c struct {
		Seq int64 `json:"seq"`
	}
	if out.Item != nil {
		if err := unmarshalItem(out.Item, &c); err != nil {
			return 0, fmt.Errorf("unmarshal ticket sequence: %w", err)
		}
	}
	return c.Seq, nil
}

// CreateTicket stores a new ticket numbered prevSeq+1 in its department, its
// key alias, and (if rec is set) the idempotent response, in one transaction.
// The department must exist and be active. A concurrent create that took the
// number makes it fail with an error IsSeqRace accepts.
func (s *Store) CreateTicket(ctx context.Context, t *deskline.Ticket, prevSeq int64, rec *Idem) error {
	seq := &types.Update{
		TableName: aws.String(s.table), Key: key(deptPK(t.DepartmentID), skTicketSeq),
		UpdateExpression:          aws.String("SET seq = :n, #t = :type"),
		ExpressionAttributeNames:  map[string]string{"#t": "type"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":n": num(prevSeq + 1), ":type": str(TypeCounter)},
		ConditionExpression:       aws.String("attribute_not_exists(seq)"),
	}
	if prevSeq > 0 {
		seq.ConditionExpression = aws.String("seq = :prev")
		seq.ExpressionAttributeValues[":prev"] = num(prevSeq)
	}
	return s.createTicket(ctx, t, seq, rec)
}

// ReserveTicketNumber takes the next number of a department's ticket
// sequence with one atomic increment, for a create whose CreateTicket lost
// the race for a number: it cannot lose again. A number whose create then
// fails is skipped.
func (s *Store) ReserveTicketNumber(ctx context.Context, deptID string) (int64, error) {
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(deptPK(deptID), skTicketSeq),
		UpdateExpression:          aws.String("ADD seq :one SET #t = :type"),
		ExpressionAttributeNames:  map[string]string{"#t": "type"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1), ":type": str(TypeCounter)},
		ReturnValues:              types.ReturnValueUpdatedNew,
	})
	if err != nil {
		return 0, fmt.Errorf("reserve ticket number of %s: %w", deptID, err)
	}
	var c struct {
		Seq int64 `json:"seq"`
	}
	if err := unmarshalItem(out.Attributes, &c); err != nil || c.Seq < 1 {
		return 0, fmt.Errorf("reserve ticket number of %s: bad sequence %v: %v", deptID, out.Attributes["seq"], err)
	}
	return c.Seq, nil
}

// CreateReservedTicket is CreateTicket for a ticket whose number (in its key)
// came from ReserveTicketNumber: it leaves the sequence alone.
func (s *Store) CreateReservedTicket(ctx context.Context, t *deskline.Ticket, rec *Idem) error {
	return s.createTicket(ctx, t, nil, rec)
}

// createTicket writes a ticket, its key alias, the department check, the
// sequence update seq (when set) and rec (when set) in one transaction.
func (s *Store) createTicket(ctx context.Context, t *deskline.Ticket, seq *types.Update, rec *Idem) error {
	t.Version = 1
	item, err := s.ticketItem(t)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{
		putNew(s.table, item),
		putNew(s.table, map[string]types.AttributeValue{"PK": str(ticketKeyPK(t.Key)), "SK": str("TKEY"), "type": str(TypeAlias), "ref": str(t.ID)}),
		{ConditionCheck: &types.ConditionCheck{
			TableName: aws.String(s.table), Key: key(deptPK(t.DepartmentID), skProfile),
			ConditionExpression:       aws.String("attribute_exists(PK) AND isActive = :t"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}},
		}},
	}
	reasons := []error{errStale("ticket"), errSeqRace, errNoDepartment}
	if seq != nil {
		items = append([]types.TransactWriteItem{{Update: seq}}, items...)
		reasons = append([]error{errSeqRace}, reasons...)
	}
	if items, reasons, err = s.withIdem(items, reasons, rec); err != nil {
		return err
	}
	if _, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items}); err != nil {
		return txError("create ticket "+t.ID, err, reasons)
	}
	return nil
}

// TicketIDByKey resolves a human key (IT-42) to a ticket id.
func (s *Store) TicketIDByKey(ctx context.Context, k string) (string, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(ticketKeyPK(k), "TKEY"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return "", fmt.Errorf("get ticket key %s: %w", k, err)
	}
	ref, ok := out.Item["ref"].(*types.AttributeValueMemberS)
	if !ok {
		return "", errTicketNotFound
	}
	return ref.Value, nil
}

// GetTicket returns one ticket.
func (s *Store) GetTicket(ctx context.Context, id string) (*deskline.Ticket, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(ticketPK(id), skTicket), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("get ticket %s: %w", id, err)
	}
	if out.Item == nil {
		return nil, errTicketNotFound
	}
	t := &deskline.Ticket{}
	if err := unmarshalItem(out.Item, &ticketItem{Ticket: t}); err != nil {
		return nil, fmt.Errorf("unmarshal ticket %s: %w", id, err)
	}
	return t, nil
}

// TicketDetail is a ticket with its comments (oldest first) and its
// attachments (its own and its comments', newest first; pending uploads
// that can no longer arrive left out).
type TicketDetail struct {
	Ticket   *deskline.Ticket
	Comments []*deskline.Comment
	Files    []*deskline.File
}

// GetTicketDetail reads a ticket, its comments and its attachments in one
// Query of the ticket's partition (history, which sorts after them, is not
// read).
func (s *Store) GetTicketDetail(ctx context.Context, id string) (*TicketDetail, error) {
	d := &TicketDetail{}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("PK = :pk AND SK < :end"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(ticketPK(id)), ":end": str("G")},
		ConsistentRead:            aws.Bool(true),
	}
	now := s.clock.Now()
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("query ticket %s: %w", id, err)
		}
		for _, it := range out.Items {
			switch it["type"].(*types.AttributeValueMemberS).Value {
			case TypeTicket:
				d.Ticket = &deskline.Ticket{}
				if err := unmarshalItem(it, &ticketItem{Ticket: d.Ticket}); err != nil {
					return nil, fmt.Errorf("unmarshal ticket %s: %w", id, err)
				}
			case TypeComment:
				c := &deskline.Comment{}
				if err := unmarshalItem(it, c); err != nil {
					return nil, fmt.Errorf("unmarshal comment: %w", err)
				}
				d.Comments = append(d.Comments, c)
			case TypeFile:
				fi := fileItem{File: &deskline.File{}}
				if err := unmarshalItem(it, &fi); err != nil {
					return nil, fmt.Errorf("unmarshal file: %w", err)
				}
				if !fi.expired(now) {
					d.Files = append(d.Files, fi.File)
				}
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	if d.Ticket == nil {
		return nil, errTicketNotFound
	}
	slices.SortFunc(d.Files, func(a, b *deskline.File) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return d, nil
}

// UpdateTicket writes next over prev if the stored ticket is still at prev's
// version; otherwise it fails with a conflict and writes nothing.
func (s *Store) UpdateTicket(ctx context.Context, prev, next *deskline.Ticket) error {
	next.Version = prev.Version + 1
	item, err := s.ticketItem(next)
	if err != nil {
		return err
	}
	if err := s.putVersioned(ctx, item, prev.Version, "ticket", next.ID); err != nil {
		next.Version = prev.Version
		return err
	}
	return nil
}

// DeleteTicket deletes a ticket at version t.Version and its key alias. Its
// comments, history and attachments are removed by the stream projector.
func (s *Store) DeleteTicket(ctx context.Context, t *deskline.Ticket) error {
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Delete: &types.Delete{
			TableName: aws.String(s.table), Key: key(ticketPK(t.ID), skTicket),
			ConditionExpression:       aws.String("version = :v"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(t.Version)},
		}},
		{Delete: &types.Delete{TableName: aws.String(s.table), Key: key(ticketKeyPK(t.Key), "TKEY")}},
	}})
	if err != nil {
		return txError("delete ticket "+t.ID, err, []error{errStale("ticket")})
	}
	return nil
}

// TicketFilter selects tickets. DepartmentID empty lists every department
// (admins only; the handler decides).
type TicketFilter struct {
	DepartmentID string
	Statuses     []deskline.TicketStatus
	Priorities   []deskline.Priority
	Categories   []deskline.Category
	AssignedTo   string // a user id, or "none" for unassigned
	CreatedBy    string
	CreatedFrom  *time.Time
	CreatedTo    *time.Time
	UpdatedFrom  *time.Time
	UpdatedTo    *time.Time
	Words        []string // every word must occur in title, description, key or tags
}

// TicketPage is one page of tickets.
type TicketPage struct {
	Tickets    []*deskline.Ticket
	NextCursor string
	Total      int // -1 when not counted (cursor pages)
}

// ticketQuery builds the Query of a filter: the department's or all tickets,
// newest first, created-date range in the key condition, the rest filters.
func (s *Store) ticketQuery(f TicketFilter) (*dynamodb.QueryInput, []string, string, string) {
	idx, pkName, skName, pk := GSI2, "GSI2PK", "GSI2SK", ticketsPK
	if f.DepartmentID != "" {
		idx, pkName, skName, pk = GSI1, "GSI1PK", "GSI1SK", ticketDeptPK(f.DepartmentID)
	}
	names := map[string]string{"#pk": pkName}
	values := map[string]types.AttributeValue{":pk": str(pk)}
	cond := "#pk = :pk"
	lo, hi := "0", "~"
	if f.CreatedFrom != nil {
		lo = sortTime(*f.CreatedFrom)
	}
	if f.CreatedTo != nil {
		hi = sortTime(*f.CreatedTo) + "~"
	}
	if f.CreatedFrom != nil || f.CreatedTo != nil {
		cond += " AND #sk BETWEEN :lo AND :hi"
		names["#sk"] = skName
		values[":lo"], values[":hi"] = str(lo), str(hi)
	}
	fe := &filterExpr{names: names, values: values}
	fe.in("status", toStrings(f.Statuses))
	fe.in("priority", toStrings(f.Priorities))
	fe.in("category", toStrings(f.Categories))
	switch f.AssignedTo {
	case "":
	case "none":
		fe.add("(attribute_not_exists(#assigned_to) OR #assigned_to = :none)",
			map[string]string{"#assigned_to": "assigned_to"}, map[string]types.AttributeValue{":none": str("")})
	default:
		fe.in("assigned_to", []string{f.AssignedTo})
	}
	if f.CreatedBy != "" {
		fe.in("created_by", []string{f.CreatedBy})
	}
	updated := map[string]string{"#updatedAt": "updatedAt"}
	if f.UpdatedFrom != nil {
		fe.add("#updatedAt >= :ufrom", updated, map[string]types.AttributeValue{":ufrom": str(f.UpdatedFrom.UTC().Format(time.RFC3339Nano))})
	}
	if f.UpdatedTo != nil {
		fe.add("#updatedAt <= :uto", updated, map[string]types.AttributeValue{":uto": str(f.UpdatedTo.UTC().Format(time.RFC3339Nano))})
	}
	for i, w := range f.Words {
		p := fmt.Sprintf(":w%d", i)
		fe.add(fmt.Sprintf("contains(#searchText, %s)", p), map[string]string{"#searchText": "searchText"}, map[string]types.AttributeValue{p: str(w)})
	}
	q := &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String(idx),
		KeyConditionExpression: aws.String(cond),
		ScanIndexForward:       aws.Bool(false),
	}
	fe.apply(q)
	return q, []string{"PK", "SK", pkName, skName}, pkName, pk
}

func toStrings[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// MaxCountedTickets bounds how many matches a counted (page-numbered) list
// reads; beyond it clients must walk by cursor.
const MaxCountedTickets = 10000

// ListTickets returns one page of tickets matching f, newest first.
//
// With a cursor it reads just that page (Total -1). Without one it reads
// every match (up to MaxCountedTickets) to count them and returns page `page`
// of size limit, with a cursor to the item after it.
func (s *Store) ListTickets(ctx context.Context, f TicketFilter, page, limit int, cursor string) (TicketPage, error) {
	q, keyNames, pkName, pk := s.ticketQuery(f)
	decode := func(it map[string]types.AttributeValue) (*deskline.Ticket, error) {
		t := &deskline.Ticket{}
		if err := unmarshalItem(it, &ticketItem{Ticket: t}); err != nil {
			return nil, fmt.Errorf("unmarshal ticket: %w", err)
		}
		return t, nil
	}
	if cursor != "" {
		p, err := queryPage(ctx, s, q, limit, cursor, keyNames, pkName, pk, decode)
		if err != nil {
			return TicketPage{}, err
		}
		return TicketPage{Tickets: p.Items, NextCursor: p.NextCursor, Total: -1}, nil
	}
	var matches []map[string]types.AttributeValue
	for {
		out, err := s.db.Query(ctx, q)
		if err != nil {
			return TicketPage{}, fmt.Errorf("query tickets: %w", err)
		}
		matches = append(matches, out.Items...)
		if len(out.LastEvaluatedKey) == 0 || len(matches) >= MaxCountedTickets {
			break
		}
		q.ExclusiveStartKey = out.LastEvaluatedKey
	}
	tp := TicketPage{Total: len(matches)}
	start := (page - 1) * limit
	end := min(start+limit, len(matches))
	for i := start; i < end; i++ {
		t, err := decode(matches[i])
		if err != nil {
			return TicketPage{}, err
		}
		tp.Tickets = append(tp.Tickets, t)
	}
	if end < len(matches) && end > 0 {
		last := matches[end-1]
		lek := map[string]types.AttributeValue{}
		for _, k := range keyNames {
			lek[k] = last[k]
		}
		tp.NextCursor = encodeCursor(lek)
	}
	return tp, nil
}

// TicketCount is the number of tickets with one status and priority.
type TicketCount struct {
	Status   deskline.TicketStatus `json:"status"`
	Priority deskline.Priority     `json:"priority"`
	Count    int                   `json:"count"`
}
