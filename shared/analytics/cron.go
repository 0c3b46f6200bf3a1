package analytics

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Cron is a parsed five-field cron expression (minute, hour, day of month,
// month, day of week), evaluated in UTC. Fields take *, numbers, ranges
// (a-b), steps (*/n, a-b/n, a/n), lists (a,b) and, for months and days of
// the week, three-letter names (JAN, MON); 7 is Sunday too. As in Vixie
// cron, when both day fields are restricted a day matching either fires.
type Cron struct {
	minute, hour, dom, month, dow uint64 // bit i set: value i matches
	domAny, dowAny                bool
}

var (
	monthNames = []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}
	dayNames   = []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}
)

// ParseCron parses a five-field cron expression.
func ParseCron(expr string) (*Cron, error) {
	f := strings.Fields(expr)
	if len(f) != 5 {
		return nil, fmt.Errorf("want five fields (minute hour day-of-month month day-of-week), got %d", len(f))
	}
	var c Cron
	var err error
	if c.minute, err = cronField(f[0], "minute", 0, 59, nil, 0); err != nil {
		return nil, err
	}
	if c.hour, err = cronField(f[1], "hour", 0, 23, nil, 0); err != nil {
		return nil, err
	}
	if c.dom, err = cronField(f[2], "day of month", 1, 31, nil, 0); err != nil {
		return nil, err
	}
	if c.month, err = cronField(f[3], "month", 1, 12, monthNames, 1); err != nil {
		return nil, err
	}
	if c.dow, err = cronField(f[4], "day of week", 0, 7, dayNames, 0); err != nil {
		return nil, err
	}
	if c.dow&(1<<7) != 0 { // 7 is Sunday
		c.dow |= 1
	}
	c.domAny, c.dowAny = f[2] == "*", f[4] == "*"
	return &c, nil
}

// cronField parses one field into a bit set of the values in [lo, hi].
// names, when set, name the values from nameBase on.
func cronField(s, what string, lo, hi int, names []string, nameBase int) (uint64, error) {
	value := func(v string) (int, error) {
		for i, n := range names {
			if strings.EqualFold(v, n) {
				return i + nameBase, nil
			}
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return 0, fmt.Errorf("%s: %q is not a value from %d to %d", what, v, lo, hi)
		}
		return n, nil
	}
	var set uint64
	for _, part := range strings.Split(s, ",") {
		rng, step := part, 1
		if i := strings.IndexByte(part, '/'); i >= 0 {
			n, err := strconv.Atoi(part[i+1:])
			if err != nil || n < 1 || n > hi {
				return 0, fmt.Errorf("%s: bad step in %q", what, part)
			}
			rng, step = part[:i], n
		}
		from, to := lo, hi
		switch {
		case rng == "*":
		case strings.Contains(rng, "-"):
			a, b, _ := strings.Cut(rng, "-")
			var err error
			if from, err = value(a); err != nil {
				return 0, err
			}
			if to, err = value(b); err != nil {
				return 0, err
			}
			if from > to {
				return 0, fmt.Errorf("%s: range %q runs backwards", what, rng)
			}
		default:
			v, err := value(rng)
			if err != nil {
				return 0, err
			}
			from, to = v, v
			if step > 1 { // a/n: from a to the end, every n
				to = hi
			}
		}
		for v := from; v <= to; v += step {
			set |= 1 << v
		}
	}
	return set, nil
}

// Matches reports whether the expression fires in t's minute (UTC).
func (c *Cron) Matches(t time.Time) bool {
	t = t.UTC()
	if c.minute&(1<<t.Minute()) == 0 || c.hour&(1<<t.Hour()) == 0 || c.month&(1<<int(t.Month())) == 0 {
		return false
	}
	dom, dow := c.dom&(1<<t.Day()) != 0, c.dow&(1<<int(t.Weekday())) != 0
	switch {
	case c.domAny && c.dowAny:
		return true
	case c.domAny:
		return dow
	case c.dowAny:
		return dom
	}
	return dom || dow
}

// LastFire returns the latest minute in (after, upTo] in which the
// expression fires, and false when there is none. It looks back at most a
// day.
func (c *Cron) LastFire(after, upTo time.Time) (time.Time, bool) {
	t := upTo.UTC().Truncate(time.Minute)
	for i := 0; i <= 24*60 && t.After(after); i, t = i+1, t.Add(-time.Minute) {
		if c.Matches(t) {
			return t, true
		}
	}
	return time.Time{}, false
}
