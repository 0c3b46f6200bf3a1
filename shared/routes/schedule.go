package routes

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var rateExpr = regexp.MustCompile(`^rate\(([1-9][0-9]*) (minute|hour|day)(s?)\)$`)

// ScheduleRate reads an EventBridge rate expression ("rate(5 minutes)"),
// the only kind of Function.Schedule: the local cloud invokes the task at
// that rate, as EventBridge does in AWS.
func ScheduleRate(expr string) (time.Duration, error) {
	m := rateExpr.FindStringSubmatch(expr)
	if m == nil {
		return 0, fmt.Errorf("schedule %q is not a rate expression like rate(5 minutes)", expr)
	}
	n, _ := strconv.Atoi(m[1])
	if (n == 1) != (m[3] == "") { // EventBridge: "1 minute", "5 minutes"
		return 0, fmt.Errorf("schedule %q: write rate(1 %s) or rate(%d %ss)", expr, m[2], max(n, 2), m[2])
	}
	unit := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}[strings.TrimSuffix(m[2], "s")]
	return time.Duration(n) * unit, nil
}
