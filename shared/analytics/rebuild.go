package analytics

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"time"

	"github.com/deskline/deskline/shared/deskline"
)

// Source is one ticket or task as the rebuild reads it: the item and every
// history item of its partition.
type Source struct {
	Ticket  *deskline.Ticket // exactly one of Ticket and Task
	Task    *deskline.Task
	History []HistoryRow
}

// version is one recorded change of an entity: its history items (one per
// changed field) and the snapshots before and after it.
type version struct {
	n      int64
	at     time.Time
	actor  string
	rows   []HistoryRow
	before any // TicketSnap or TaskSnap
	after  any
}

// Derive recomputes from its base items what the stream counts for one
// ticket or task: its contribution to the buckets, its first response and its
// activity entries. The entity's versions are replayed backwards from its
// current state, undoing each version's recorded field changes, so that
// every version change can be counted as the stream counted it.
func Derive(src Source) (*EntityState, []Activity) {
	st := &EntityState{Contrib: map[string]int64{}, Version: 1}
	byVersion := map[int64]*version{}
	for _, r := range src.History {
		if r.Entry.Action != "updated" {
			continue
		}
		v := byVersion[r.Entry.Version]
		if v == nil {
			v = &version{n: r.Entry.Version, at: r.Entry.At, actor: r.Entry.ActorID}
			byVersion[r.Entry.Version] = v
		}
		v.rows = append(v.rows, r)
	}
	versions := make([]*version, 0, len(byVersion))
	for _, v := range byVersion {
		versions = append(versions, v)
	}
	sort.Slice(versions, func(i, j int) bool { return versions[i].n < versions[j].n })

	d := Deltas{}
	var initialDept string
	if t := src.Ticket; t != nil {
		st.Type, st.ID, st.Dept, st.CreatedBy, st.CreatedAt = EntityTicket, t.ID, t.DepartmentID, t.CreatedBy, t.CreatedAt
		cur := SnapTicket(t)
		for i := len(versions) - 1; i >= 0; i-- {
			versions[i].after = cur
			for _, r := range versions[i].rows {
				undoTicket(&cur, r.Entry.Field, r.Entry.OldValue)
			}
			versions[i].before = cur
		}
		initialDept = cur.Dept
		TicketCreated(d, cur)
		for _, v := range versions {
			TicketChanged(d, v.before.(TicketSnap), v.after.(TicketSnap), v.at, v.actor)
		}
	} else {
		t := src.Task
		st.Type, st.ID, st.Dept, st.CreatedBy, st.CreatedAt = EntityTask, t.ID, t.DepartmentID, t.CreatedBy, t.CreatedAt
		cur := SnapTask(t)
		for i := len(versions) - 1; i >= 0; i-- {
			versions[i].after = cur
			for _, r := range versions[i].rows {
				undoTask(&cur, r.Entry.Field, r.Entry.OldValue)
			}
			versions[i].before = cur
		}
		initialDept = cur.Dept
		TaskCreated(d, cur)
		for _, v := range versions {
			TaskChanged(d, v.before.(TaskSnap), v.after.(TaskSnap), v.at, v.actor)
		}
	}
	// The department an entity belonged to at time t: that of the last
	// version change made at or before t.
	deptAt := func(t time.Time) string {
		dept := initialDept
		for _, v := range versions {
			if v.at.After(t) {
				break
			}
			switch s := v.after.(type) {
			case TicketSnap:
				dept = s.Dept
			case TaskSnap:
				dept = s.Dept
			}
		}
		return dept
	}

	var acts []Activity
	rows := slices.Clone(src.History)
	sort.Slice(rows, func(i, j int) bool { return rows[i].SK < rows[j].SK })
	for _, r := range rows {
		e := r.Entry
		switch e.Action {
		case "comment_added":
			CommentAdded(d, deptAt(e.At), e.ActorID, e.At)
			if st.Type == EntityTicket && e.ActorID != "" && e.ActorID != st.CreatedBy {
				fr := &FirstResponse{At: e.At, CommentID: e.CommentID, Actor: e.ActorID, Seconds: Seconds(st.CreatedAt, e.At)}
				if fr.Before(st.FirstResponse) {
					st.FirstResponse = fr
				}
			}
		case "comment_edited":
			CommentEdited(d, deptAt(e.At), e.ActorID, e.At)
		}
		if act, ok := ActivityOf(r, deptAt(e.At)); ok {
			acts = append(acts, act)
			Action(d, act.UserID, act.At)
			st.Activity = append(st.Activity, act.Key())
		}
	}
	if fr := st.FirstResponse; fr != nil {
		fr.Dept = deptAt(fr.At)
		fr.Count(d, 1)
	}
	st.count(d.NonZero())
	return st, acts
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func undoTicket(s *TicketSnap, field string, old any) {
	switch field {
	case "status":
		s.Status = deskline.TicketStatus(str(old))
	case "priority":
		s.Priority = deskline.Priority(str(old))
	case "category":
		s.Category = deskline.Category(str(old))
	case "department_id":
		s.Dept = str(old)
	case "assigned_to":
		s.AssignedTo = str(old)
	}
}

func undoTask(s *TaskSnap, field string, old any) {
	switch field {
	case "status":
		s.Status = deskline.TaskStatus(str(old))
	case "priority":
		s.Priority = deskline.Priority(str(old))
	case "departmentId":
		s.Dept = str(old)
	case "assignedToId":
		s.AssignedTo = str(old)
	case "dueDate":
		s.Due = nil
		if t, err := time.Parse(time.RFC3339Nano, str(old)); err == nil {
			s.Due = &t
		}
	}
}

// RebuildStore is what the rebuild reads and writes through (package dynamo).
type RebuildStore interface {
	// EachSource calls fn for every ticket and task, with its history.
	EachSource(ctx context.Context, fn func(Source) error) error
	// DepartmentIDs and UserIDs list every department and user, so that
	// their stale buckets and activity entries are cleared too.
	DepartmentIDs(ctx context.Context) ([]string, error)
	UserIDs(ctx context.Context) ([]string, error)
	// ReplaceBuckets makes a scope's buckets exactly days (deleting others).
	ReplaceBuckets(ctx context.Context, scope Scope, days map[string]Counters) error
	// ReplaceActivity makes a user's activity log exactly acts.
	ReplaceActivity(ctx context.Context, userID string, acts []Activity) error
	// PutEntityStates writes entity states, replacing any.
	PutEntityStates(ctx context.Context, states []*EntityState) error
}

// RebuildReport says what a rebuild wrote.
type RebuildReport struct {
	Tickets    int `json:"tickets"`
	Tasks      int `json:"tasks"`
	Scopes     int `json:"scopes"`
	Buckets    int `json:"buckets"`
	Activities int `json:"activities"`
}

// Rebuild recomputes every aggregate, every activity log and every entity
// state from the base items, and replaces what is stored. Run it with the
// help desk quiet (or run it twice): a change the stream applies while the
// rebuild runs may be counted twice or not at all.
func Rebuild(ctx context.Context, store RebuildStore, log *slog.Logger) (RebuildReport, error) {
	if log == nil {
		log = slog.Default()
	}
	var rep RebuildReport
	all := Deltas{}
	acts := map[string][]Activity{}
	var states []*EntityState
	err := store.EachSource(ctx, func(src Source) error {
		st, a := Derive(src)
		if src.Ticket != nil {
			rep.Tickets++
		} else {
			rep.Tasks++
		}
		all.Merge(st.Contribution())
		for _, act := range a {
			acts[act.UserID] = append(acts[act.UserID], act)
		}
		states = append(states, st)
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("rebuild: read base items: %w", err)
	}
	buckets := all.NonZero().Buckets()
	scopes := map[Scope]bool{All: true}
	depts, err := store.DepartmentIDs(ctx)
	if err != nil {
		return rep, fmt.Errorf("rebuild: %w", err)
	}
	for _, id := range depts {
		scopes[Dept(id)] = true
	}
	users, err := store.UserIDs(ctx)
	if err != nil {
		return rep, fmt.Errorf("rebuild: %w", err)
	}
	for _, id := range users {
		scopes[User(id)] = true
	}
	for s := range buckets {
		scopes[s] = true
	}
	for s := range scopes {
		days := map[string]Counters{}
		for day, c := range buckets[s] {
			if c = c.NonZero(); len(c) > 0 {
				days[day] = c
			}
		}
		if err := store.ReplaceBuckets(ctx, s, days); err != nil {
			return rep, fmt.Errorf("rebuild: %w", err)
		}
		rep.Scopes++
		rep.Buckets += len(days)
	}
	logUsers := map[string]bool{}
	for _, id := range users {
		logUsers[id] = true
	}
	for id := range acts {
		logUsers[id] = true
	}
	for id := range logUsers {
		if err := store.ReplaceActivity(ctx, id, acts[id]); err != nil {
			return rep, fmt.Errorf("rebuild: %w", err)
		}
		rep.Activities += len(acts[id])
	}
	if err := store.PutEntityStates(ctx, states); err != nil {
		return rep, fmt.Errorf("rebuild: %w", err)
	}
	log.InfoContext(ctx, "analytics rebuilt", slog.Int("tickets", rep.Tickets), slog.Int("tasks", rep.Tasks),
		slog.Int("scopes", rep.Scopes), slog.Int("buckets", rep.Buckets), slog.Int("activities", rep.Activities))
	return rep, nil
}
