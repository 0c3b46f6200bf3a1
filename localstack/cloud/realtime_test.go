package cloud_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// socket is a real WebSocket client of the local cloud's WebSocket API.
type socket struct {
	t *testing.T
	c *websocket.Conn
}

// dial opens a socket with a token; it fails the test unless it connects.
func (w *world) dial(t *testing.T, token string) *socket {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, w.cloud.WSURL+"?token="+token, nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial websocket: %v (status %d)", err, status)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	return &socket{t: t, c: c}
}

// frame reads the next frame within d.
func (s *socket) frame(d time.Duration) (map[string]any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	_, data, err := s.c.Read(ctx)
	if err != nil {
		return nil, err
	}
	var f map[string]any
	if err := json.Unmarshal(data, &f); err != nil {
		s.t.Fatalf("frame %s: %v", data, err)
	}
	return f, nil
}

func (s *socket) send(v any) {
	s.t.Helper()
	b, _ := json.Marshal(v)
	if err := s.c.Write(context.Background(), websocket.MessageText, b); err != nil {
		s.t.Fatalf("write: %v", err)
	}
}

// await reads frames until one of the given type (and, for notifications,
// notification type) arrives, skipping others; it fails after 10 s.
func (s *socket) await(typ, notificationType string) map[string]any {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		f, err := s.frame(time.Until(deadline))
		if err != nil {
			break
		}
		if f["type"] != typ {
			continue
		}
		if typ != "notification" {
			return f
		}
		if d := f["data"].(map[string]any); d["type"] == notificationType {
			return d
		}
	}
	s.t.Fatalf("no %s %s frame arrived", typ, notificationType)
	return nil
}

// notification waits for a notification frame of the given type.
func (s *socket) notification(typ string) map[string]any {
	s.t.Helper()
	return s.await("notification", typ)
}

func TestWebSocketConnectNeedsAnApprovedUser(t *testing.T) {
	w := newWorld(t)
	for _, tc := range []struct {
		name, token string
		status      int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"garbage token", "x.y.z", http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, resp, err := websocket.Dial(ctx, w.cloud.WSURL+"?token="+tc.token, nil)
			if err == nil || resp == nil || resp.StatusCode != tc.status {
				t.Fatalf("dial: err %v, response %v; want status %d", err, resp, tc.status)
			}
		})
	}
	t.Run("logged out token", func(t *testing.T) {
		tok := w.c.login(adminEmail, adminPassword)
		want(t, w.c.as(tok).do("POST", "/api/auth/logout", nil), 200, "logout")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, resp, err := websocket.Dial(ctx, w.cloud.WSURL+"?token="+tok, nil)
		if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("dial with a revoked token: err %v, response %v", err, resp)
		}
	})
}

func TestLiveTicketStatusNotification(t *testing.T) {
	w := newWorld(t)
	// empA opens a ticket; headA changes its status; empA hears of it live.
	id := w.ticket(w.empA, w.deptA)
	s := w.dial(t, w.empA)
	want(t, w.c.as(w.headA).do("PUT", "/api/tickets/"+id, map[string]any{"status": "in_progress"}), 200, "update")
	n := s.notification("ticket_status_changed")
	if n["ticketId"] != id || n["actorId"] != w.headAID || n["isRead"] != false || !strings.Contains(n["message"].(string), "in_progress") {
		t.Errorf("notification = %v", n)
	}
	count := decode[map[string]any](t, w.c.as(w.empA).do("GET", "/api/notifications/unread/count", nil))
	if count["count"].(float64) < 1 {
		t.Errorf("unread count = %v", count)
	}
}

func TestWebSocketActions(t *testing.T) {
	w := newWorld(t)
	a, b := w.dial(t, w.empA), w.dial(t, w.headA)
	a.send(map[string]any{"action": "ping", "requestId": "r1"})
	if f := a.await("pong", ""); f["requestId"] != "r1" {
		t.Fatalf("ping: %v", f)
	}
	a.send(map[string]any{"action": "dance"})
	if f := a.await("error", ""); !strings.Contains(f["error"].(string), "dance") {
		t.Fatalf("unknown action: %v", f)
	}
	a.send(map[string]any{"action": "sendMessage", "to": w.headAID, "body": "Hello boss"})
	a.await("messageSent", "")
	n := b.notification("message_received")
	if n["actorId"] != w.empAID || n["messageId"] == nil {
		t.Errorf("message notification = %v", n)
	}
	// An employee cannot message another department's employee.
	a.send(map[string]any{"action": "sendMessage", "to": w.empBID, "body": "Hi"})
	if f := a.await("error", ""); f["code"] != "invalid" {
		t.Fatalf("sendMessage out of reach: %v", f)
	}
}
