package analytics_test

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/deskline/deskline/shared/analytics"
)

// daily builds a series of field values, one a day from 2025-10-01.
func daily(field string, vals ...int64) analytics.Series {
	var s analytics.Series
	for i, v := range vals {
		s = append(s, analytics.Day{Day: fmt.Sprintf("2025-10-%02d", i+1), Counters: analytics.Counters{field: v}})
	}
	return s
}

func TestAnomalies(t *testing.T) {
	tenDays := analytics.Range{Start: day("2025-10-01"), End: day("2025-10-10")}
	after := "2025-11-01"
	watch := []analytics.AnomalyMetric{{Name: "ticketsCreated", Label: "tickets created", Field: "tNew"}}
	type hit struct {
		date, typ string
		value     float64
	}
	tests := []struct {
		name   string
		series analytics.Series
		r      analytics.Range
		today  string
		want   []hit
	}{
		{"a spike", daily("tNew", 2, 3, 2, 3, 2, 3, 2, 3, 2, 15), tenDays, after, []hit{{"2025-10-10", "spike", 15}}},
		{"a drop", daily("tNew", 10, 10, 11, 9, 10, 0, 10, 11, 9, 10), tenDays, after, []hit{{"2025-10-06", "drop", 0}}},
		{"steady", daily("tNew", 5, 5, 5, 5, 5, 5, 5, 5, 5, 5), tenDays, after, nil},
		{"noisy, nothing beyond 2σ", daily("tNew", 1, 9, 2, 8, 3, 7, 4, 6, 5, 5), tenDays, after, nil},
		// 2 among zeroes is 3σ off, but only 1.8 from the mean.
		{"small counts stay quiet", daily("tNew", 0, 0, 0, 0, 0, 0, 0, 0, 0, 2), tenDays, after, nil},
		{"days without a bucket count 0", daily("tNew", 4, 4, 4, 4, 4, 4, 4, 4, 4), tenDays, after, []hit{{"2025-10-10", "drop", 0}}},
		{"fewer than 7 whole days", daily("tNew", 2, 2, 2, 2, 2, 40), tenDays, "2025-10-07", nil},
		{"today is not a whole day", daily("tNew", 2, 3, 2, 3, 2, 3, 2, 3, 2, 15), tenDays, "2025-10-10", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []hit
			for _, a := range tt.series.Anomalies(tt.r, tt.today, watch) {
				got = append(got, hit{a.Date, a.Type, a.Value})
				if a.Metric != "ticketsCreated" || a.Message == "" {
					t.Errorf("anomaly %+v: want metric ticketsCreated and a message", a)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("anomalies = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAnomalyFields(t *testing.T) {
	r := analytics.Range{Start: day("2025-10-01"), End: day("2025-10-10")}
	got := daily("tNew", 2, 3, 2, 3, 2, 3, 2, 3, 2, 15).Anomalies(r, "2025-11-01", analytics.DepartmentAnomalyMetrics)
	// Mean 3.7; deviations −1.7 ×5, −0.7 ×4, 11.3: variance (5·2.89 + 4·0.49 + 127.69) / 10 = 14.41.
	want := []analytics.Anomaly{{Date: "2025-10-10", Type: "spike", Metric: "ticketsCreated", Value: 15, Mean: 3.7, StdDev: 3.8,
		Message: "15 tickets created on 2025-10-10, far above the daily mean of 3.70 (standard deviation 3.80) over 10 days"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Anomalies =\n%+v\nwant\n%+v", got, want)
	}
}
