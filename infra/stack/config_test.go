package stack

import (
	"fmt"
	"strings"
	"testing"
)

func TestRoleDescription(t *testing.T) {
	many := make([]string, 120)
	for i := range many {
		many[i] = fmt.Sprintf("analytics-function-%03d", i)
	}
	tests := []struct {
		name  string
		names []string
		want  string // prefix
		tail  string // suffix
	}{
		{"one", []string{"health"}, "Deskline dev: health", "health"},
		{"few", []string{"a", "b", "c"}, "Deskline dev: a, b, c", "a, b, c"},
		{"too many for IAM", many, "Deskline dev: analytics-function-000, analytics-function-001", " more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := roleDescription("dev", tt.names)
			if len(got) > 1000 || !strings.HasPrefix(got, tt.want) || !strings.HasSuffix(got, tt.tail) {
				t.Errorf("roleDescription = %q (%d chars), want ≤ 1000 chars starting %q, ending %q", got, len(got), tt.want, tt.tail)
			}
			// Every name is either listed or counted.
			listed := strings.Count(got, ", ") + 1
			if i := strings.LastIndex(got, " and "); i >= 0 {
				var more int
				fmt.Sscanf(got[i:], " and %d more", &more)
				if listed+more != len(tt.names) {
					t.Errorf("%d listed + %d more != %d names", listed, more, len(tt.names))
				}
			} else if listed != len(tt.names) {
				t.Errorf("%d listed, want %d", listed, len(tt.names))
			}
		})
	}
}
