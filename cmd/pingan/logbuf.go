package main

import (
	"io"
	"sync"
	"time"
)

// lineBuffer holds the server's log lines for up to logFlushEvery and
// writes them out together: under load one write system call carries a
// hundred access lines instead of one each (docs/performance.md). A crash
// loses at most the lines of that last moment — log lines, never data (a
// report is acknowledged only after its COMMIT). serve flushes on its way
// out.
type lineBuffer struct {
	mu      sync.Mutex
	w       io.Writer
	buf     []byte
	pending bool // a flush is scheduled
}

const (
	logFlushEvery = 100 * time.Millisecond
	logMaxHeld    = 64 << 10 // written at once when this much is held
)

func newLineBuffer(w io.Writer) *lineBuffer { return &lineBuffer{w: w} }

// Write holds p; it never fails, since a log line that cannot be written
// must not fail the request that logged it.
func (b *lineBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.buf)+len(p) > logMaxHeld {
		b.writeHeld()
	}
	b.buf = append(b.buf, p...)
	if !b.pending {
		b.pending = true
		time.AfterFunc(logFlushEvery, b.Flush)
	}
	return len(p), nil
}

// Flush writes what is held.
func (b *lineBuffer) Flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.writeHeld()
	b.pending = false
}

func (b *lineBuffer) writeHeld() {
	if len(b.buf) > 0 {
		_, _ = b.w.Write(b.buf)
		b.buf = b.buf[:0]
	}
}
