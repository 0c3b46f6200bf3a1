package proc

import (
	"fmt"
	"testing"
)

func TestTailLastLines(t *testing.T) {
	tl := NewTail(nil)
	for i := range 100 {
		fmt.Fprintf(tl, "line %d\n", i)
	}
	if got := tl.LastLines(2); got != "line 98\nline 99" {
		t.Fatalf("LastLines(2) = %q", got)
	}
	if got := NewTail(nil).LastLines(3); got != "(no output)" {
		t.Fatalf("empty LastLines = %q", got)
	}
}
