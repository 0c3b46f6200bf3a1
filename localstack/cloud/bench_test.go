package cloud_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deskline/deskline/shared/app"
)

// benchLatency calls one request b.N times through the local cloud's HTTP
// API and reports p50 and p99 in milliseconds.
func benchLatency(b *testing.B, newReq func() *http.Request) {
	b.Helper()
	client := &http.Client{}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		req := newReq()
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		lat = append(lat, time.Since(start))
		if resp.StatusCode != 200 {
			b.Fatalf("%s %s: status %d", req.Method, req.URL.Path, resp.StatusCode)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	ms := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(ms(0.50), "p50-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
}

// BenchmarkLogin measures POST /api/auth/login with the production bcrypt cost.
func BenchmarkLogin(b *testing.B) {
	c := newCloudCost(b, app.DefaultBcryptCost)
	body := `{"email":"` + adminEmail + `","password":"` + adminPassword + `"}`
	benchLatency(b, func() *http.Request {
		req, _ := http.NewRequest("POST", c.HTTPURL+"/api/auth/login", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		return req
	})
}

// BenchmarkMe measures GET /api/auth/me: authorizer plus handler.
func BenchmarkMe(b *testing.B) {
	c := newCloudCost(b, app.DefaultBcryptCost)
	token := newClient(b, c).login(adminEmail, adminPassword)
	benchLatency(b, func() *http.Request {
		req, _ := http.NewRequest("GET", c.HTTPURL+"/api/auth/me", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		return req
	})
}
