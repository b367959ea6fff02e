package main

import (
	"strings"
	"testing"
	"time"
)

func TestLineBuffer(t *testing.T) {
	var out syncBuffer
	b := newLineBuffer(&out, time.Hour) // no timer flush in this part
	for _, l := range []string{"one\n", "two\n", "three\n"} {
		if n, err := b.Write([]byte(l)); n != len(l) || err != nil {
			t.Fatalf("Write: %d, %v", n, err)
		}
	}
	if got := out.String(); got != "" {
		t.Fatalf("written before Flush: %q", got)
	}
	b.Flush()
	if got := out.String(); got != "one\ntwo\nthree\n" {
		t.Fatalf("after Flush: %q", got)
	}

	// More than logMaxHeld: what was held goes out at once, in order.
	big := strings.Repeat("x", logMaxHeld-1) + "\n"
	b.Write([]byte("four\n"))
	b.Write([]byte(big))
	if got := out.String(); got != "one\ntwo\nthree\nfour\n" {
		t.Fatalf("after a line that does not fit: %q", got)
	}

	// Close writes the rest, and later lines go straight out.
	b.Close()
	b.Write([]byte("five\n"))
	if got := out.String(); got != "one\ntwo\nthree\nfour\n"+big+"five\n" {
		t.Fatalf("after Close: %d bytes, ending %q", len(got), got[max(0, len(got)-10):])
	}
}

func TestLineBufferTimer(t *testing.T) {
	var out syncBuffer
	b := newLineBuffer(&out, 10*time.Millisecond)
	b.Write([]byte("held\n"))
	// Without Flush the timer writes it; the wait is a bound, not a measure.
	deadline := time.Now().Add(10 * time.Second)
	for out.String() != "held\n" {
		if time.Now().After(deadline) {
			t.Fatalf("held line not written by the timer: %q", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
