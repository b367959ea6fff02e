package main

import (
	"io"
	"sync"
	"time"
)

// lineBuffer holds the server's log lines for up to a moment (every) and
// writes them out together: under load one write system call carries a
// hundred access lines instead of one each (docs/performance.md). A crash
// loses at most the lines of that last moment — log lines, never data (a
// report is acknowledged only after its COMMIT). serve closes it on its way
// out; what is logged after that is written at once.
type lineBuffer struct {
	mu      sync.Mutex
	w       io.Writer
	every   time.Duration
	buf     []byte
	pending bool // a flush is scheduled
	closed  bool // write through
}

const (
	logFlushEvery = 100 * time.Millisecond
	logMaxHeld    = 64 << 10 // written at once when this much is held
)

func newLineBuffer(w io.Writer, every time.Duration) *lineBuffer {
	return &lineBuffer{w: w, every: every}
}

// Write holds p; it never fails, since a log line that cannot be written
// must not fail the request that logged it.
func (b *lineBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		_, _ = b.w.Write(p)
		return len(p), nil
	}
	if len(b.buf)+len(p) > logMaxHeld {
		b.writeHeld()
	}
	b.buf = append(b.buf, p...)
	if !b.pending {
		b.pending = true
		time.AfterFunc(b.every, b.Flush)
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

// Close writes what is held and makes later lines go straight out.
func (b *lineBuffer) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.writeHeld()
	b.closed = true
}

func (b *lineBuffer) writeHeld() {
	if len(b.buf) > 0 {
		_, _ = b.w.Write(b.buf)
		b.buf = b.buf[:0]
	}
}
