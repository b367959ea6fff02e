package main

import (
	"strings"
	"testing"
	"time"
)

func TestLineBuffer(t *testing.T) {
	var out syncBuffer
	b := newLineBuffer(&out)
	for _, l := range []string{"one\n", "two\n", "three\n"} {
		if n, err := b.Write([]byte(l)); n != len(l) || err != nil {
			t.Fatalf("Write: %d, %v", n, err)
		}
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

	// Without Flush the timer writes the rest.
	deadline := time.Now().Add(10 * time.Second)
	for out.String() != "one\ntwo\nthree\nfour\n"+big {
		if time.Now().After(deadline) {
			t.Fatalf("held lines not written by the timer: %d bytes out", len(out.String()))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
