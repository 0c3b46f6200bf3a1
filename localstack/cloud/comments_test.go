package cloud_test

// End-to-end tests of comments on tickets and tasks through the local cloud
// (issue 3).

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"slices"
	"strings"
	"testing"
)

// commentIDs lists a comment list's ids in the order given.
func commentIDs(t testing.TB, c *client, path string) []string {
	t.Helper()
	r := c.do("GET", path, nil)
	want(t, r, 200, "GET "+path)
	var ids []string
	for _, cm := range decode[[]map[string]any](t, r) {
		ids = append(ids, cm["id"].(string))
	}
	return ids
}

// checkOrder checks a parent's comment list in both orders against the ids
// in creation order.
func checkOrder(t *testing.T, c *client, path string, created []string) {
	t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	newest := slices.Clone(created)
	slices.Reverse(newest)
	for _, o := range []struct {
		query string
		want  []string
	}{{"", newest}, {"order=desc", newest}, {"order=asc", created}} {
		got := commentIDs(t, c, path+sep+o.query)
		if !slices.Equal(got, o.want) {
			t.Errorf("%s%s%s = %v, want %v", path, sep, o.query, got, o.want)
		}
	}
	wantErr(t, c.do("GET", path+sep+"order=sideways", nil), 400, "order", "bad order")
}

func TestCommentsOnTickets(t *testing.T) {
	w := newWorld(t)
	emp, head := w.call(t, w.empA), w.call(t, w.headA)
	key := head.do("GET", "/api/tickets/"+w.ticketA, nil).obj(t)["key"].(string)
	path := "/api/tickets/" + w.ticketA + "/comments"

	first := mustCreate(t, emp, path, map[string]any{"content": "  First  "})
	for k, v := range map[string]any{"content": "First", "ticketId": w.ticketA, "authorId": w.empAID, "version": 1.0} {
		if first[k] != v {
			t.Errorf("comment %s = %v, want %v", k, first[k], v)
		}
	}
	if _, ok := first["taskId"]; ok {
		t.Errorf("ticket comment has taskId %v", first["taskId"])
	}
	if a, _ := first["author"].(map[string]any); a == nil || a["id"] != w.empAID || a["username"] == "" {
		t.Errorf("author = %v", first["author"])
	}
	second := mustCreate(t, head, "/api/tickets/"+key+"/comments", map[string]any{"content": "By key"})
	if second["ticketId"] != w.ticketA {
		t.Errorf("comment by key has ticketId %v, want %s", second["ticketId"], w.ticketA)
	}
	third := mustCreate(t, w.call(t, w.admin), "/api/comments", map[string]any{"ticketId": w.ticketA, "content": "Through /api/comments"})
	created := idsOf([]map[string]any{first, second, third})
	checkOrder(t, emp, path, created)
	checkOrder(t, head, "/api/tickets/"+key+"/comments", created)

	got := emp.do("GET", "/api/tickets/"+w.ticketA, nil).obj(t)
	var onTicket []string
	for _, c := range got["Comments"].([]any) {
		onTicket = append(onTicket, c.(map[string]any)["id"].(string))
	}
	if !slices.Equal(onTicket, created) {
		t.Errorf("GET ticket Comments = %v, want oldest first %v", onTicket, created)
	}
	if a, ok := got["attachments"].([]any); !ok || len(a) != 0 {
		t.Errorf("GET ticket attachments = %v, want []", got["attachments"])
	}

	r := emp.do("GET", path+"?limit=2", nil)
	want(t, r, 200, "page")
	if n := len(decode[[]map[string]any](t, r)); n != 2 || r.Header.Get("X-Next-Cursor") == "" {
		t.Fatalf("limit=2: %d comments, cursor %q", n, r.Header.Get("X-Next-Cursor"))
	}
	if rest := commentIDs(t, emp, path+"?limit=2&cursor="+r.Header.Get("X-Next-Cursor")); !slices.Equal(rest, created[:1]) {
		t.Errorf("second page = %v, want %v", rest, created[:1])
	}

	t.Run("other department", func(t *testing.T) {
		for _, caller := range []string{"headB", "empB"} {
			c := w.call(t, w.token(caller))
			want(t, c.do("GET", path, nil), 404, caller+" lists")
			want(t, c.do("POST", path, map[string]any{"content": "Hi"}), 404, caller+" comments")
			want(t, c.do("POST", "/api/comments", map[string]any{"ticketId": w.ticketA, "content": "Hi"}), 404, caller+" comments by /api/comments")
			want(t, c.do("PUT", "/api/comments/"+first["id"].(string), map[string]any{"content": "Hi"}), 404, caller+" edits")
			want(t, c.do("DELETE", "/api/comments/"+first["id"].(string), nil), 404, caller+" deletes")
		}
		if ids := commentIDs(t, emp, path); len(ids) != 3 {
			t.Errorf("refused requests changed the comments: %v", ids)
		}
	})
	t.Run("validation", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			body  any
			field string
		}{
			{"empty", map[string]any{"content": ""}, "content"},
			{"blank", map[string]any{"content": " \t\n "}, "content"},
			{"missing", map[string]any{}, "content"},
			{"too long", map[string]any{"content": strings.Repeat("x", 5001)}, "content"},
			{"wrong type", map[string]any{"content": 42}, "content"},
			{"unknown field", map[string]any{"content": "x", "mood": "happy"}, "mood"},
			{"ticketId on the ticket route", map[string]any{"content": "x", "ticketId": w.ticketA}, "ticketId"},
			{"taskId on the ticket route", map[string]any{"content": "x", "taskId": w.taskA}, "ticketId"},
		} {
			t.Run(tc.name, func(t *testing.T) { wantErr(t, emp.do("POST", path, tc.body), 400, tc.field, tc.name) })
		}
		if got := mustCreate(t, emp, path, map[string]any{"content": strings.Repeat("é", 5000)})["content"]; len([]rune(got.(string))) != 5000 {
			t.Errorf("5000 characters were not kept")
		}
		want(t, emp.do("GET", "/api/tickets/TKT-0000000000000000000000000/comments", nil), 404, "unknown ticket")
		want(t, emp.do("POST", "/api/tickets/TKT-0000000000000000000000000/comments", map[string]any{"content": "x"}), 404, "comment on unknown ticket")
	})
}

func TestCommentsOnTasks(t *testing.T) {
	w := newWorld(t)
	emp, head := w.call(t, w.empA), w.call(t, w.headA)
	path := "/api/comments/task/" + w.taskA
	second := mustCreate(t, head, "/api/comments", map[string]any{"taskId": w.taskA, "content": "Second"})
	if second["taskId"] != w.taskA || second["authorId"] != w.headAID {
		t.Errorf("task comment = %v", second)
	}
	third := mustCreate(t, w.call(t, w.admin), "/api/comments", map[string]any{"taskId": w.taskA, "content": "Third"})
	checkOrder(t, emp, path, []string{w.commentA, second["id"].(string), third["id"].(string)})

	// Whoever may read the task may read and write its comments; nobody else.
	_, stranger := w.user("employee", w.deptA)
	for name, token := range map[string]string{"uninvolved employee": stranger, "other head": w.headB, "other employee": w.empB} {
		c := w.call(t, token)
		want(t, c.do("GET", path, nil), 404, name+" lists")
		want(t, c.do("POST", "/api/comments", map[string]any{"taskId": w.taskA, "content": "Hi"}), 404, name+" comments")
		want(t, c.do("PUT", "/api/comments/"+w.commentA, map[string]any{"content": "Hi"}), 404, name+" edits")
		want(t, c.do("DELETE", "/api/comments/"+w.commentA, nil), 404, name+" deletes")
	}
	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"no parent", map[string]any{"content": "x"}, "taskId"},
		{"both parents", map[string]any{"content": "x", "taskId": w.taskA, "ticketId": w.ticketA}, "taskId"},
		{"empty content", map[string]any{"content": "", "taskId": w.taskA}, "content"},
		{"too long", map[string]any{"content": strings.Repeat("x", 5001), "taskId": w.taskA}, "content"},
	} {
		wantErr(t, emp.do("POST", "/api/comments", tc.body), 400, tc.field, tc.name)
	}
	want(t, emp.do("POST", "/api/comments", map[string]any{"content": "x", "taskId": "TSK-0000000000000000000000000"}), 404, "unknown task")
	want(t, emp.do("POST", "/api/comments", map[string]any{"content": "x", "taskId": "junk"}), 404, "junk task id")
	want(t, emp.do("GET", "/api/comments/task/TSK-0000000000000000000000000", nil), 404, "list unknown task")
	if ids := commentIDs(t, emp, path); len(ids) != 3 {
		t.Errorf("refused requests changed the comments: %v", ids)
	}
}

func TestCommentEditAndDelete(t *testing.T) {
	w := newWorld(t)
	emp, head, admin := w.call(t, w.empA), w.call(t, w.headA), w.call(t, w.admin)
	path := "/api/comments/" + w.commentA // by empA on taskA

	got := mustPut(t, emp, path, map[string]any{"content": "  Edited  "})
	if got["content"] != "Edited" || got["version"] != 2.0 || got["taskId"] != w.taskA {
		t.Errorf("edited comment = %v", got)
	}
	want(t, head.do("PUT", path, map[string]any{"content": "Head's words"}), 403, "head edits another's comment")
	want(t, admin.do("PUT", path, map[string]any{"content": "Admin's words"}), 403, "admin edits another's comment")
	wantErr(t, emp.do("PUT", path, map[string]any{"content": ""}), 400, "content", "empty edit")
	wantErr(t, emp.do("PUT", path, map[string]any{}), 400, "content", "edit without content")
	wantErr(t, emp.do("PUT", path, map[string]any{"content": "Moved", "taskId": w.task(w.headA, w.deptA, w.empAID)}), 400, "taskId", "move to another task")
	want(t, emp.do("PUT", path, map[string]any{"content": "Stale", "version": 1}), 409, "stale version")
	want(t, emp.do("PUT", "/api/comments/CMT-0000000000000000000000000", map[string]any{"content": "x"}), 404, "unknown comment")
	list := decode[[]map[string]any](t, emp.do("GET", "/api/comments/task/"+w.taskA, nil))
	if len(list) != 1 || list[0]["content"] != "Edited" {
		t.Errorf("after refused edits the comments are %v", list)
	}

	// Delete: the author or an admin; nobody else.
	byHead := mustCreate(t, head, "/api/comments", map[string]any{"taskId": w.taskA, "content": "Head's comment"})["id"].(string)
	want(t, emp.do("DELETE", "/api/comments/"+byHead, nil), 403, "employee deletes head's comment")
	want(t, head.do("DELETE", path, nil), 403, "head deletes employee's comment")
	want(t, head.do("DELETE", "/api/comments/"+byHead, nil), 200, "author deletes")
	want(t, admin.do("DELETE", path, nil), 200, "admin deletes")
	want(t, emp.do("DELETE", path, nil), 404, "delete twice")
	want(t, emp.do("PUT", path, map[string]any{"content": "ghost"}), 404, "edit deleted")
	if ids := commentIDs(t, emp, "/api/comments/task/"+w.taskA); len(ids) != 0 {
		t.Errorf("after deletes the comments are %v", ids)
	}
	// Each alias stays a while as the note of who deleted the comment
	// (the history's actor), with the TTL attribute set.
	for pk, by := range map[string]string{"CMT#" + w.commentA: userIDOf(t, w, w.admin), "CMT#" + byHead: w.headAID} {
		items := partition(t, w, pk)
		if len(items) != 1 {
			t.Fatalf("alias %s: %d items after delete, want the deletion note", pk, len(items))
		}
		got, _ := items[0]["deletedBy"].(*types.AttributeValueMemberS)
		_, ttl := items[0]["expiresAt"].(*types.AttributeValueMemberN)
		if got == nil || got.Value != by || !ttl {
			t.Errorf("alias %s after delete: %v", pk, items[0])
		}
	}
}
