package export

import (
	"runtime/debug"
	"testing"
)

// gcPercent reads the collector's target without changing it.
func gcPercent() int {
	p := debug.SetGCPercent(0)
	debug.SetGCPercent(p)
	return p
}

// TestCollectEagerly: exports lower the target to 100 while any streams and
// restore the process's own after the last; a lower target or an
// collector turned off is left alone.
func TestCollectEagerly(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(300))
	first := CollectEagerly()
	if got := gcPercent(); got != 100 {
		t.Fatalf("during an export the target is %d, want 100", got)
	}
	second := CollectEagerly()
	first()
	first() // a second call changes nothing
	if got := gcPercent(); got != 100 {
		t.Fatalf("with one export still streaming the target is %d, want 100", got)
	}
	second()
	if got := gcPercent(); got != 300 {
		t.Fatalf("after the last export the target is %d, want the process's 300", got)
	}
	for _, own := range []int{50, -1} {
		debug.SetGCPercent(own)
		done := CollectEagerly()
		if got := gcPercent(); got != own {
			t.Fatalf("a process at %d: %d during an export", own, got)
		}
		done()
		if got := gcPercent(); got != own {
			t.Fatalf("a process at %d: %d after an export", own, got)
		}
	}
}
