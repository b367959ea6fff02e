package export

import (
	"runtime/debug"
	"sync"
)

// ExportGCPercent is the collector's target while an export streams: Go's
// default, 100 (the live heap may double before a collection).
const ExportGCPercent = 100

// gc counts the exports streaming and keeps the target to restore after the
// last.
var gc struct {
	sync.Mutex
	running int
	saved   int
}

// CollectEagerly runs the collector at ExportGCPercent until the returned
// func is called (once), unless the process's target is lower already or
// the collector is off. The server runs at 300 for ingest (cmd/pingan's
// tuneGC); an export makes a page's worth of garbage per page, and at 300
// the heap grew 30–40 MB over a long export, at 100 16–17 MB (SPEC §13.1
// allows 20; docs/performance.md, "Exports"). Several exports at once share
// the lower target; the process's own comes back after the last.
func CollectEagerly() (restore func()) {
	gc.Lock()
	if gc.running == 0 {
		gc.saved = debug.SetGCPercent(ExportGCPercent)
		if gc.saved < ExportGCPercent { // lower already, or off (-1): left as it was
			debug.SetGCPercent(gc.saved)
		}
	}
	gc.running++
	gc.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			gc.Lock()
			defer gc.Unlock()
			gc.running--
			if gc.running == 0 {
				debug.SetGCPercent(gc.saved)
			}
		})
	}
}
