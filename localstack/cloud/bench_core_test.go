package cloud_test

// Latency of the core routes through the local cloud (HTTP API, authorizer,
// handler, DynamoDB Local): make bench reports p50 and p99.

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// benchCoreLatency is benchLatency for a route that answers status (create
// routes answer 201; benchLatency wants 200).
func benchCoreLatency(b *testing.B, status int, newReq func(i int) *http.Request) {
	b.Helper()
	client := &http.Client{}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		req := newReq(i)
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		lat = append(lat, time.Since(start))
		if resp.StatusCode != status {
			b.Fatalf("%s %s: status %d, want %d", req.Method, req.URL.Path, resp.StatusCode, status)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	ms := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(ms(0.50), "p50-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
}

// drain waits until the stream consumers are idle, so the request measured
// next does not share the machine with their backlog (on AWS they run in
// their own Lambdas). The wait is not measured.
func drain(b *testing.B, w *world) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := w.cloud.Pump.WaitIdle(ctx); err != nil {
		b.Fatal(err)
	}
}

func authed(method, url, token, body string) *http.Request {
	var req *http.Request
	if body == "" {
		req, _ = http.NewRequest(method, url, nil)
	} else {
		req, _ = http.NewRequest(method, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return req
}

// BenchmarkTicketCreate measures POST /api/tickets (a department's counter,
// the ticket, its key alias and the department check in one transaction).
func BenchmarkTicketCreate(b *testing.B) {
	w := newWorld(b)
	benchCoreLatency(b, http.StatusCreated, func(i int) *http.Request {
		drain(b, w)
		body := fmt.Sprintf(`{"title":"Bench ticket %d","description":"Measured.","priority":"high","category":"support"}`, i)
		return authed("POST", w.c.base+"/api/tickets", w.headA, body)
	})
}

// BenchmarkTicketGet measures GET /api/tickets/{id} with its comments.
func BenchmarkTicketGet(b *testing.B) {
	w := newWorld(b)
	for range 3 {
		w.call(b, w.empA).do("POST", "/api/tickets/"+w.ticketA+"/comments", map[string]any{"content": "A comment"})
	}
	drain(b, w)
	benchLatency(b, func() *http.Request { return authed("GET", w.c.base+"/api/tickets/"+w.ticketA, w.empA, "") })
}

// BenchmarkTicketListFiltered measures GET /api/tickets?status=open&priority=high
// in a department of 200 tickets (a quarter of them high).
func BenchmarkTicketListFiltered(b *testing.B) {
	w := newWorld(b)
	priorities := []string{"low", "medium", "high", "urgent"}
	createMany(b, w, w.headB, "/api/tickets", 200, func(i int) any {
		return ticketBody("", map[string]any{"title": fmt.Sprintf("Seeded ticket %d", i), "priority": priorities[i%4]})
	})
	drain(b, w)
	benchLatency(b, func() *http.Request {
		return authed("GET", w.c.base+"/api/tickets?status=open&priority=high", w.headB, "")
	})
}

// BenchmarkTicketUpdate measures PUT /api/tickets/{id}, alternating the
// priority; requests are sequential, so none races another.
func BenchmarkTicketUpdate(b *testing.B) {
	w := newWorld(b)
	priorities := []string{"low", "urgent"}
	i := 0
	benchLatency(b, func() *http.Request {
		drain(b, w)
		i++
		return authed("PUT", w.c.base+"/api/tickets/"+w.ticketA, w.headA, `{"priority":"`+priorities[i%2]+`"}`)
	})
}
