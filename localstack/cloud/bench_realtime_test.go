package cloud_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// Real-time benchmarks. Each run measures a fixed sample (the issue asks for
// 200 changes, and for one event to 1,000 sockets), whatever b.N is; ns/op is
// reported as the sample's mean latency.

// arrival is a frame and when it arrived.
type arrival struct {
	at    time.Time
	frame map[string]any
}

// stamped dials a socket whose frames are time-stamped on arrival.
func stamped(b *testing.B, w *world, token string) (<-chan arrival, *websocket.Conn) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, w.cloud.WSURL+"?token="+token, nil)
	if err != nil {
		b.Fatalf("dial: %v", err)
	}
	ch := make(chan arrival, 64)
	go func() {
		defer close(ch)
		for {
			_, data, err := c.Read(context.Background())
			if err != nil {
				return
			}
			at := time.Now()
			var f map[string]any
			_ = json.Unmarshal(data, &f)
			ch <- arrival{at, f}
		}
	}()
	b.Cleanup(func() { _ = c.CloseNow() })
	return ch, c
}

// percentiles reports p50, p99 and max of a sample in milliseconds, and its
// mean as ns/op.
func percentiles(b *testing.B, lat []time.Duration) {
	b.Helper()
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	at := func(q float64) time.Duration { return lat[int(q*float64(len(lat)-1)+0.5)] }
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	b.ReportMetric(ms(at(0.50)), "p50-ms")
	b.ReportMetric(ms(at(0.99)), "p99-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
	b.ReportMetric(float64(sum.Nanoseconds())/float64(len(lat)), "ns/op")
}

// BenchmarkChangeToFrame measures, over 200 changes, the time from a PUT of
// a ticket's status (by the department's head) to the notification frame on
// the ticket creator's socket: HTTP API, DynamoDB, the stream pump, the
// notifier and @connections.
func BenchmarkChangeToFrame(b *testing.B) {
	const changes = 200
	w := newWorld(b)
	id := w.ticket(w.empA, w.deptA)
	waitProjected(b, w)
	frames, _ := stamped(b, w, w.empA)
	head := w.call(b, w.headA)
	statuses := []string{"in_progress", "open"}
	lat := make([]time.Duration, 0, changes)
	b.ResetTimer()
	for i := range changes {
		status := statuses[i%2]
		start := time.Now()
		r := head.do("PUT", "/api/tickets/"+id, map[string]any{"status": status})
		if r.Status != 200 {
			b.Fatalf("change %d: status %d %s", i, r.Status, r.Body)
		}
		for {
			select {
			case a, ok := <-frames:
				if !ok {
					b.Fatal("the socket closed")
				}
				d, _ := a.frame["data"].(map[string]any)
				if a.frame["type"] != "notification" || d["type"] != "ticket_status_changed" || !strings.HasSuffix(fmt.Sprint(d["message"]), " to "+status) {
					continue
				}
				lat = append(lat, a.at.Sub(start))
			case <-time.After(10 * time.Second):
				b.Fatalf("change %d: no frame within 10 s", i)
			}
			break
		}
	}
	b.StopTimer()
	percentiles(b, lat)
}

// BenchmarkNotifyThousandConnections measures the time from one change to
// the last of 1,000 frames, with 1,000 sockets open for the one user who is
// notified (the worst case for one event: the notifier posts 1,000 times).
// It measures 10 events and reports the percentiles of the time to the last
// frame, and of the time to the first.
func BenchmarkNotifyThousandConnections(b *testing.B) {
	const (
		sockets = 1000
		events  = 10
	)
	w := newWorld(b)
	id := w.ticket(w.empA, w.deptA)
	waitProjected(b, w)

	// Open the sockets, 16 at a time.
	chans := make([]<-chan arrival, sockets)
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range sockets {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			ch, _ := stamped(b, w, w.empA)
			mu.Lock()
			chans[i] = ch
			mu.Unlock()
		}()
	}
	wg.Wait()
	if n := w.cloud.WS.Connections(); n < sockets {
		b.Fatalf("%d sockets open", n)
	}
	conns, err := w.store.Connections(context.Background(), w.empAID)
	if err != nil || len(conns) != sockets {
		b.Fatalf("%d connections stored (%v)", len(conns), err)
	}

	head := w.call(b, w.headA)
	statuses := []string{"in_progress", "open"}
	var last, first []time.Duration
	b.ResetTimer()
	for i := range events {
		status := statuses[i%2]
		start := time.Now()
		r := head.do("PUT", "/api/tickets/"+id, map[string]any{"status": status})
		if r.Status != 200 {
			b.Fatalf("change %d: status %d %s", i, r.Status, r.Body)
		}
		arrivals := make([]time.Time, sockets)
		var wg sync.WaitGroup
		for s, ch := range chans {
			wg.Add(1)
			go func() {
				defer wg.Done()
				timeout := time.After(30 * time.Second)
				for {
					select {
					case a, ok := <-ch:
						if !ok {
							return
						}
						d, _ := a.frame["data"].(map[string]any)
						if d != nil && d["type"] == "ticket_status_changed" && strings.HasSuffix(fmt.Sprint(d["message"]), " to "+status) {
							arrivals[s] = a.at
							return
						}
					case <-timeout:
						return
					}
				}
			}()
		}
		wg.Wait()
		lo, hi := arrivals[0], arrivals[0]
		for s, at := range arrivals {
			if at.IsZero() {
				b.Fatalf("event %d: socket %d got no frame within 30 s", i, s)
			}
			if at.Before(lo) {
				lo = at
			}
			if at.After(hi) {
				hi = at
			}
		}
		first, last = append(first, lo.Sub(start)), append(last, hi.Sub(start))
	}
	b.StopTimer()
	percentiles(b, last)
	slices.Sort(first)
	b.ReportMetric(float64(first[len(first)/2].Microseconds())/1000, "first-frame-p50-ms")
}
