package cloud_test

import (
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// send POSTs a message and returns it.
func (w *world) send(t testing.TB, token, to, body string) map[string]any {
	t.Helper()
	return mustCreate(t, w.call(t, token), "/api/messages", map[string]any{"to": to, "body": body})
}

func conversations(t testing.TB, w *world, token string) []map[string]any {
	t.Helper()
	got, _ := page(t, w.call(t, token), "/api/messages?limit=100")
	return got
}

// conversationWith finds the caller's conversation with peer.
func conversationWith(t testing.TB, w *world, token, peer string) map[string]any {
	t.Helper()
	for _, c := range conversations(t, w, token) {
		if c["peerId"] == peer {
			return c
		}
	}
	return nil
}

func TestSendMessage(t *testing.T) {
	w := newWorld(t)
	adminID := userIDOf(t, w, w.admin)
	headBID := userIDOf(t, w, w.headB)
	pendingID, _ := w.pending(w.deptA)
	rejectedID, _ := w.pending(w.deptA)
	want(t, w.c.as(w.admin).do("PATCH", "/api/users/"+rejectedID+"/reject", nil), 200, "reject")

	m := w.send(t, w.empA, w.headAID, "  Printer is on fire again  ")
	at, err := time.Parse(time.RFC3339Nano, m["createdAt"].(string))
	if !strings.HasPrefix(m["id"].(string), "MSG-") || m["fromUserId"] != w.empAID || m["toUserId"] != w.headAID ||
		m["body"] != "Printer is on fire again" || err != nil || time.Since(at) > time.Minute {
		t.Errorf("sent %v", m)
	}

	// Who may message whom: employees their own department and admins;
	// heads and admins anyone approved; nobody themselves or an
	// unapproved account.
	for _, tc := range []struct {
		name, from, to string
		status         int
	}{
		{"employee to own department's employee", w.empA, userIDOf(t, w, w.empA), 400}, // self
		{"employee to own head", w.empA, w.headAID, 201},
		{"employee to an admin", w.empA, adminID, 201},
		{"employee to another department's employee", w.empA, w.empBID, 400},
		{"employee to another department's head", w.empA, headBID, 400},
		{"head to another department's employee", w.headA, w.empBID, 201},
		{"head to another department's head", w.headA, headBID, 201},
		{"admin to anyone", w.admin, w.empBID, 201},
		{"employee to a pending colleague", w.empA, pendingID, 400},
		{"head to a pending member", w.headA, pendingID, 400},
		{"admin to a pending user", w.admin, pendingID, 400},
		{"admin to a rejected user", w.admin, rejectedID, 400},
		{"head to a rejected member", w.headA, rejectedID, 400},
		{"to an unknown user", w.headA, "USR-0000000000000000000000000", 400},
		{"to no user id", w.headA, "bob", 400},
		{"to nobody", w.headA, "", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := w.call(t, tc.from).do("POST", "/api/messages", map[string]any{"to": tc.to, "body": "Hello"})
			if tc.status == 201 {
				want(t, r, 201, tc.name)
				return
			}
			wantErr(t, r, tc.status, "to", tc.name)
		})
	}
	t.Run("body", func(t *testing.T) {
		wantErr(t, w.call(t, w.empA).do("POST", "/api/messages", map[string]any{"to": w.headAID, "body": "   "}), 400, "body", "blank")
		wantErr(t, w.call(t, w.empA).do("POST", "/api/messages", map[string]any{"to": w.headAID}), 400, "body", "missing")
		wantErr(t, w.call(t, w.empA).do("POST", "/api/messages", map[string]any{"to": w.headAID, "body": strings.Repeat("é", 2001)}), 400, "body", "too long")
		want(t, w.call(t, w.empA).do("POST", "/api/messages", map[string]any{"to": w.headAID, "body": strings.Repeat("é", 2000)}), 201, "2000 characters")
		want(t, w.call(t, w.empA).do("POST", "/api/messages", `{"to":`), 400, "bad JSON")
		want(t, w.c.do("POST", "/api/messages", map[string]any{"to": w.headAID, "body": "Hi"}), 401, "anonymous")
	})
	t.Run("idempotency key", func(t *testing.T) {
		hdr := map[string]string{"Idempotency-Key": unique("k")}
		body := map[string]any{"to": w.empAID, "body": "Only once"}
		a := w.call(t, w.headA).doH("POST", "/api/messages", body, hdr)
		b := w.call(t, w.headA).doH("POST", "/api/messages", body, hdr)
		want(t, a, 201, "first")
		want(t, b, 201, "replay")
		if a.obj(t)["id"] != b.obj(t)["id"] || b.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("replay gave %s (replayed %q), first %s", b.Body, b.Header.Get("Idempotent-Replayed"), a.Body)
		}
		n := 0
		for _, m := range history(t, w, w.empA, w.headAID) {
			if m["body"] == "Only once" {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d copies stored", n)
		}
	})
}

func history(t testing.TB, w *world, token, peer string) []map[string]any {
	t.Helper()
	got, _ := walk(t, w.call(t, token), "/api/messages/"+peer+"?limit=100")
	return got
}

func TestConversationsAndHistory(t *testing.T) {
	w := newWorld(t)
	adminID := userIDOf(t, w, w.admin)
	var sent []string
	for i, b := range []string{"one", "two", "three", "four", "five"} {
		from, to := w.empA, w.headAID
		if i == 3 { // headA answers once
			from, to = w.headA, w.empAID
		}
		sent = append(sent, w.send(t, from, to, b)["id"].(string))
	}
	w.send(t, w.empA, adminID, "For the admin")

	t.Run("history", func(t *testing.T) {
		// The same conversation from both sides, newest first.
		a, b := history(t, w, w.empA, w.headAID), history(t, w, w.headA, w.empAID)
		if len(a) != 5 || !equalIDs(a, b) {
			t.Fatalf("empA sees %v, headA %v", ids(a), ids(b))
		}
		for i, m := range a {
			if m["id"] != sent[4-i] {
				t.Errorf("history[%d] = %v, want %s", i, m["id"], sent[4-i])
			}
		}
		// Pages of two: 2, 2, 1.
		got, pages := walk(t, w.call(t, w.empA), "/api/messages/"+w.headAID+"?limit=2")
		if !equalIDs(got, a) || pages != 3 {
			t.Errorf("paged: %v in %d pages", ids(got), pages)
		}
		// Nobody else's conversation shows up.
		if got := history(t, w, w.empB, w.headAID); len(got) != 0 {
			t.Errorf("empB sees %v", got)
		}
		want(t, w.call(t, w.empA).do("GET", "/api/messages/bob", nil), 404, "bad user id")
		want(t, w.call(t, w.empA).do("GET", "/api/messages/"+w.headAID+"?limit=1000", nil), 400, "limit too big")
	})

	t.Run("conversations", func(t *testing.T) {
		convs := conversations(t, w, w.empA)
		if len(convs) != 2 || convs[0]["peerId"] != adminID || convs[1]["peerId"] != w.headAID {
			t.Fatalf("empA's conversations, most recent first: %v", convs)
		}
		withHead := convs[1]
		last, _ := withHead["lastMessage"].(map[string]any)
		peer, _ := withHead["peer"].(map[string]any)
		if last["id"] != sent[4] || last["body"] != "five" || withHead["unreadCount"] != float64(1) || peer["id"] != w.headAID || peer["username"] == "" {
			t.Errorf("empA's conversation with headA: %v", withHead)
		}
		c := conversationWith(t, w, w.headA, w.empAID)
		if c == nil || c["unreadCount"] != float64(4) || c["lastMessage"].(map[string]any)["id"] != sent[4] {
			t.Errorf("headA's conversation with empA: %v", c)
		}
		if got := conversations(t, w, w.empB); len(got) != 0 {
			t.Errorf("empB has conversations %v", got)
		}
		first, cur := page(t, w.call(t, w.empA), "/api/messages?limit=1")
		if len(first) != 1 || cur == "" {
			t.Fatalf("page of one: %v, cursor %q", first, cur)
		}
		got, _ := walk(t, w.call(t, w.empA), "/api/messages?limit=1")
		if len(got) != 2 {
			t.Errorf("walked conversations: %v", got)
		}
	})

	t.Run("mark read", func(t *testing.T) {
		want(t, w.call(t, w.headA).do("PUT", "/api/messages/"+w.empAID+"/read", nil), 200, "mark read")
		if c := conversationWith(t, w, w.headA, w.empAID); c["unreadCount"] != float64(0) {
			t.Errorf("after mark read: %v", c)
		}
		// empA's side is untouched.
		if c := conversationWith(t, w, w.empA, w.headAID); c["unreadCount"] != float64(1) {
			t.Errorf("empA's side: %v", c)
		}
		want(t, w.call(t, w.empB).do("PUT", "/api/messages/"+w.empAID+"/read", nil), 404, "no conversation")
		want(t, w.call(t, w.empB).do("PUT", "/api/messages/bob/read", nil), 404, "bad id")
		// A new message counts again.
		w.send(t, w.empA, w.headAID, "six")
		if c := conversationWith(t, w, w.headA, w.empAID); c["unreadCount"] != float64(1) || c["lastMessage"].(map[string]any)["body"] != "six" {
			t.Errorf("after another message: %v", c)
		}
	})
}

func equalIDs(a, b []map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i]["id"] != b[i]["id"] {
			return false
		}
	}
	return true
}

// Messages sent over the socket are the same messages as over REST.
func TestSendMessageOverTheSocket(t *testing.T) {
	w := newWorld(t)
	waitProjected(t, w)
	a := w.listen(t, "empA", w.empA)
	b := w.listen(t, "headA", w.headA)
	mk, mkb := a.mark(), b.mark()
	a.send(t, map[string]any{"action": "sendMessage", "to": w.headAID, "body": " Over the socket ", "requestId": "q1"})
	f := a.wait(t, mk, 10*time.Second, "messageSent", func(f map[string]any) bool { return f["type"] == "messageSent" })
	m, _ := f["data"].(map[string]any)
	if f["requestId"] != "q1" || m["body"] != "Over the socket" || m["fromUserId"] != w.empAID || m["toUserId"] != w.headAID {
		t.Fatalf("messageSent = %v", f)
	}
	n := data(b.wait(t, mkb, 10*time.Second, "message_received", isNotification("message_received")))
	if n["messageId"] != m["id"] || n["actorId"] != w.empAID {
		t.Errorf("notification %v for message %v", n, m)
	}
	if h := history(t, w, w.headA, w.empAID); len(h) != 1 || h[0]["id"] != m["id"] {
		t.Errorf("history %v", h)
	}
	// Refusals come back as error frames with the REST error's code.
	for _, tc := range []struct {
		frame map[string]any
		code  string
	}{
		{map[string]any{"action": "sendMessage", "to": w.empBID, "body": "Hi", "requestId": "q2"}, "invalid"},
		{map[string]any{"action": "sendMessage", "to": w.headAID, "body": "", "requestId": "q3"}, "invalid"},
		{map[string]any{"action": "sendMessage", "to": w.headAID, "body": strings.Repeat("x", 2001), "requestId": "q4"}, "invalid"},
	} {
		mk := a.mark()
		a.send(t, tc.frame)
		f := a.wait(t, mk, 10*time.Second, "error", func(f map[string]any) bool { return f["type"] == "error" })
		if f["code"] != tc.code || f["requestId"] != tc.frame["requestId"] || f["error"] == "" {
			t.Errorf("%v: %v", tc.frame["requestId"], f)
		}
	}
	// A message over the size limit closes the socket (1009), as API Gateway does.
	a.send(t, map[string]any{"action": "ping", "pad": strings.Repeat("x", 128<<10)})
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		a.mu.Lock()
		err := a.err
		a.mu.Unlock()
		if err != nil {
			if websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
				t.Errorf("closed with %v, want 1009", err)
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("an oversized message did not close the socket")
}

// headAWritesToEveryone has headA message every other user of the world, so
// each has a conversation with headA.
func headAWritesToEveryone(w *world) {
	t := w.c.t
	t.Helper()
	for _, tok := range []string{w.admin, w.headB, w.empA, w.empB} {
		w.send(t, w.headA, userIDOf(t, w, tok), "Hello from headA")
	}
}
