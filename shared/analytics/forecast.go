package analytics

import "math"

// ForecastDays is how many days a forecast covers: the days right after
// the range's end.
const ForecastDays = 7

// Point is one observed day of a series: X is the day's offset from the
// range's first day, Y its value.
type Point struct{ X, Y float64 }

// FitLine returns the least-squares line y = a + b·x through pts. ok is
// false with fewer than two distinct x (no line is defined).
func FitLine(pts []Point) (a, b float64, ok bool) {
	n := float64(len(pts))
	if n < 2 {
		return 0, 0, false
	}
	var sx, sy float64
	for _, p := range pts {
		sx += p.X
		sy += p.Y
	}
	mx, my := sx/n, sy/n
	var sxx, sxy float64
	for _, p := range pts {
		sxx += (p.X - mx) * (p.X - mx)
		sxy += (p.X - mx) * (p.Y - my)
	}
	if sxx == 0 {
		return 0, 0, false
	}
	b = sxy / sxx
	return my - b*mx, b, true
}

// Prediction is one forecast day.
type Prediction struct {
	Date  string
	Value float64
}

// Forecast predicts the ForecastDays days after r's end from the
// least-squares line through pts (X counted from r's first day), each value
// clamped to [lo, hi] and rounded to two decimals. It is empty when no line
// fits (fewer than two points).
func Forecast(r Range, pts []Point, lo, hi float64) []Prediction {
	a, b, ok := FitLine(pts)
	if !ok {
		return []Prediction{}
	}
	out := make([]Prediction, 0, ForecastDays)
	n := r.Days()
	for k := range ForecastDays {
		x := float64(n + k)
		v := math.Round(math.Min(hi, math.Max(lo, a+b*x))*100) / 100
		out = append(out, Prediction{Date: DayOf(r.End.AddDate(0, 0, k+1)), Value: v})
	}
	return out
}

// observedDays are the days of r a forecast or anomaly rule learns from:
// whole days, those before today (today's bucket is still filling, later
// ones are empty), with their offsets from r's first day.
func observedDays(r Range, today string) (days []string, offsets []float64) {
	for i, d := range r.EachDay() {
		if d >= today {
			break
		}
		days = append(days, d)
		offsets = append(offsets, float64(i))
	}
	return days, offsets
}

// CountPoints are the observed days (before today) of r with the daily
// count of field, 0 on days without a bucket (nothing happened). It is nil
// when fewer than two observed days have a bucket: too little data for a
// forecast.
func (s Series) CountPoints(r Range, today, field string) []Point {
	byDay := s.ByDay()
	days, xs := observedDays(r, today)
	var pts []Point
	withData := 0
	for i, d := range days {
		c, ok := byDay[d]
		if ok {
			withData++
		}
		pts = append(pts, Point{X: xs[i], Y: float64(c[field])})
	}
	if withData < 2 {
		return nil
	}
	return pts
}

// ProductivityPoints are the observed days (before today) of r that have
// scored work (tasks completed, tickets resolved or tasks overdue), with
// that day's productivity score. A day without such work has no score and
// is left out, rather than counted as 0.
func (s Series) ProductivityPoints(r Range, today string) []Point {
	byDay := s.ByDay()
	days, xs := observedDays(r, today)
	var pts []Point
	for i, d := range days {
		c := byDay[d]
		done, resolved, overdue := c[FTasksCompleted], c[FTicketsResolved], c[FTaskDueOpen]
		if done+resolved+overdue <= 0 {
			continue
		}
		pts = append(pts, Point{X: xs[i], Y: ProductivityScore(done, c[FTasksLate], resolved, overdue)})
	}
	return pts
}
