package analytics_test

import (
	"testing"
	"time"

	"github.com/deskline/deskline/shared/analytics"
)

func TestCronMatches(t *testing.T) {
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// 2026-11-23 is a Monday.
	tests := []struct {
		expr, at string
		want     bool
	}{
		{"* * * * *", "2026-11-23 09:17", true},
		{"0 9 * * *", "2026-11-23 09:00", true},
		{"0 9 * * *", "2026-11-23 09:01", false},
		{"*/15 * * * *", "2026-11-23 10:45", true},
		{"*/15 * * * *", "2026-11-23 10:50", false},
		{"5/20 * * * *", "2026-11-23 10:45", true},
		{"5/20 * * * *", "2026-11-23 10:55", false},
		{"0 8-18/2 * * *", "2026-11-23 16:00", true},
		{"0 8-18/2 * * *", "2026-11-23 17:00", false},
		{"30 7 * * MON-FRI", "2026-11-23 07:30", true},
		{"30 7 * * MON-FRI", "2026-11-22 07:30", false}, // Sunday
		{"0 0 * * 7", "2026-11-22 00:00", true},         // 7 is Sunday
		{"0 0 * * 0", "2026-11-22 00:00", true},
		{"0 6 1 * *", "2026-12-01 06:00", true},
		{"0 6 1 * *", "2026-12-02 06:00", false},
		{"0 6 1,15 jan,jul *", "2026-07-15 06:00", true},
		{"0 6 1,15 jan,jul *", "2026-08-15 06:00", false},
		// Both day fields restricted: either fires.
		{"0 12 1 * MON", "2026-11-23 12:00", true},
		{"0 12 1 * MON", "2026-12-01 12:00", true},
		{"0 12 1 * MON", "2026-11-24 12:00", false},
	}
	for _, tt := range tests {
		t.Run(tt.expr+" at "+tt.at, func(t *testing.T) {
			c, err := analytics.ParseCron(tt.expr)
			if err != nil {
				t.Fatalf("ParseCron(%q): %v", tt.expr, err)
			}
			if got := c.Matches(at(tt.at)); got != tt.want {
				t.Errorf("Matches = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseCronRefuses(t *testing.T) {
	for _, expr := range []string{
		"", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * 32 * *", "* * * 13 *",
		"* * * * 8", "*/0 * * * *", "5-1 * * * *", "? * * * *", "* * L * *", "* * * * MON#2", "1W * * * *", "a * * * *",
	} {
		t.Run(expr, func(t *testing.T) {
			if _, err := analytics.ParseCron(expr); err == nil {
				t.Errorf("ParseCron(%q) succeeded, want an error", expr)
			}
		})
	}
}

func TestCronLastFire(t *testing.T) {
	c, err := analytics.ParseCron("0 9 * * *")
	if err != nil {
		t.Fatal(err)
	}
	nine := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		after, upTo time.Time
		want        time.Time
		ok          bool
	}{
		{"the fire itself", nine.Add(-time.Hour), nine, nine, true},
		{"seconds into the minute", nine.Add(-time.Hour), nine.Add(59 * time.Second), nine, true},
		{"minutes later", nine.Add(-time.Hour), nine.Add(5 * time.Minute), nine, true},
		{"after excludes it", nine, nine.Add(5 * time.Minute), time.Time{}, false},
		{"before it", nine.Add(-time.Hour), nine.Add(-time.Second), time.Time{}, false},
		{"a day back at most", nine.Add(-48 * time.Hour), nine.Add(-time.Minute), nine.Add(-24 * time.Hour), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := c.LastFire(tt.after, tt.upTo)
			if ok != tt.ok || !got.Equal(tt.want) {
				t.Errorf("LastFire = %v, %v; want %v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}
