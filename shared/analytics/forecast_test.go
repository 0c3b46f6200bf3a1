package analytics_test

import (
	"math"
	"reflect"
	"testing"

	"github.com/deskline/deskline/shared/analytics"
)

func TestFitLine(t *testing.T) {
	tests := []struct {
		name   string
		pts    []analytics.Point
		a, b   float64
		wantOK bool
	}{
		{"none", nil, 0, 0, false},
		{"one point", []analytics.Point{{0, 5}}, 0, 0, false},
		{"same x", []analytics.Point{{2, 1}, {2, 3}}, 0, 0, false},
		{"exact line", []analytics.Point{{0, 1}, {1, 3}, {2, 5}}, 1, 2, true},
		{"flat", []analytics.Point{{0, 4}, {3, 4}, {7, 4}}, 4, 0, true},
		// Residuals +1, −2, +1 around y = 1 + x: the line through the noise.
		{"noisy", []analytics.Point{{0, 2}, {1, 0}, {2, 4}}, 1, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b, ok := analytics.FitLine(tt.pts)
			if ok != tt.wantOK || math.Abs(a-tt.a) > 1e-9 || math.Abs(b-tt.b) > 1e-9 {
				t.Errorf("FitLine(%v) = %v, %v, %v; want %v, %v, %v", tt.pts, a, b, ok, tt.a, tt.b, tt.wantOK)
			}
		})
	}
}

func TestForecast(t *testing.T) {
	week := analytics.Range{Start: day("2025-10-01"), End: day("2025-10-03")}
	tests := []struct {
		name   string
		pts    []analytics.Point
		lo, hi float64
		want   []float64
	}{
		{"too little data", []analytics.Point{{0, 3}}, 0, math.Inf(1), nil},
		{"rising", []analytics.Point{{0, 1}, {1, 2}, {2, 3}}, 0, math.Inf(1), []float64{4, 5, 6, 7, 8, 9, 10}},
		{"falling, never negative", []analytics.Point{{0, 6}, {1, 4}, {2, 2}}, 0, math.Inf(1), []float64{0, 0, 0, 0, 0, 0, 0}},
		{"falling through zero", []analytics.Point{{0, 12}, {1, 9}, {2, 6}}, 0, math.Inf(1), []float64{3, 0, 0, 0, 0, 0, 0}},
		{"a score stays under 100", []analytics.Point{{0, 80}, {1, 90}, {2, 100}}, 0, 100, []float64{100, 100, 100, 100, 100, 100, 100}},
		{"rounded to two decimals", []analytics.Point{{0, 0}, {2, 1}}, 0, math.Inf(1), []float64{1.5, 2, 2.5, 3, 3.5, 4, 4.5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := analytics.Forecast(week, tt.pts, tt.lo, tt.hi)
			if tt.want == nil {
				if got == nil || len(got) != 0 {
					t.Errorf("Forecast = %#v, want an empty, non-nil slice", got)
				}
				return
			}
			if len(got) != analytics.ForecastDays {
				t.Fatalf("Forecast has %d days, want %d", len(got), analytics.ForecastDays)
			}
			var vals []float64
			for i, p := range got {
				vals = append(vals, p.Value)
				if wantDay := analytics.DayOf(day("2025-10-04").AddDate(0, 0, i)); p.Date != wantDay {
					t.Errorf("day %d = %s, want %s", i, p.Date, wantDay)
				}
			}
			if !reflect.DeepEqual(vals, tt.want) {
				t.Errorf("Forecast values = %v, want %v", vals, tt.want)
			}
		})
	}
}

func TestForecastPoints(t *testing.T) {
	r := analytics.Range{Start: day("2025-10-01"), End: day("2025-10-06")}
	series := analytics.Series{
		{Day: "2025-10-01", Counters: analytics.Counters{"kDone": 2, "tRes": 1}},
		{Day: "2025-10-03", Counters: analytics.Counters{"kDone": 4, "kLate": 1, "kDue": 1}},
		{Day: "2025-10-05", Counters: analytics.Counters{"kDone": 9}}, // today: still filling, left out
	}
	t.Run("counts: every whole day, 0 without a bucket", func(t *testing.T) {
		got := series.CountPoints(r, "2025-10-05", "kDone")
		want := []analytics.Point{{0, 2}, {1, 0}, {2, 4}, {3, 0}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("CountPoints = %v, want %v", got, want)
		}
	})
	t.Run("counts: fewer than two days with data", func(t *testing.T) {
		if got := series.CountPoints(r, "2025-10-02", "kDone"); got != nil {
			t.Errorf("CountPoints = %v, want nil", got)
		}
	})
	t.Run("productivity: days with scored work only", func(t *testing.T) {
		got := series.ProductivityPoints(r, "2025-10-05")
		// 10-01: (2 + 1) / 3 = 100; 10-03: (4 − 1) / (4 + 1 overdue) = 60.
		want := []analytics.Point{{0, 100}, {2, 60}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("ProductivityPoints = %v, want %v", got, want)
		}
	})
}
