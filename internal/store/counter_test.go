package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"pingan/internal/store"
	"pingan/internal/testenv"
)

// On MySQL case numbers are reserved in blocks, the next block ahead in
// the background (SQLite counts inside the caller's transaction).
func TestCaseNumbersReservedAhead(t *testing.T) {
	url := testenv.MySQLDSN(t)
	ctx := context.Background()
	open := func() *store.DB { return openDB(t, url) }
	a, b := open(), open()

	// One instance, one number after another: 1, 2, 3, … without a gap,
	// across four blocks each reserved while the one before was in use.
	take := func(from, to int64) {
		t.Helper()
		for want := from; want <= to; want++ {
			n, err := a.NextCaseNumber(ctx, "SJ-T-SEQ")
			if err != nil || n != want {
				t.Fatalf("number %d: got %d, %v", want, n, err)
			}
		}
	}
	take(1, 30)
	// Past half of the first block, the second is reserved without waiting
	// for anyone to need it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var reserved int64
		if err := a.SQL().QueryRow("SELECT n FROM case_counters WHERE prefix = 'SJ-T-SEQ'").Scan(&reserved); err != nil {
			t.Fatal(err)
		}
		if reserved == 100 {
			break
		}
		if reserved != 50 || time.Now().After(deadline) {
			t.Fatalf("counter at %d after 30 numbers, want the next block (100) reserved ahead", reserved)
		}
		time.Sleep(5 * time.Millisecond)
	}
	take(31, 207)

	// Two instances, eight requests each, at once: no number twice.
	const each = 100
	var (
		mu   sync.Mutex
		seen = map[int64]int{}
		wg   sync.WaitGroup
	)
	for _, db := range []*store.DB{a, b, a, b, a, b, a, b, a, b, a, b, a, b, a, b} {
		wg.Go(func() {
			for range each {
				n, err := db.NextCaseNumber(ctx, "SJ-T-RACE")
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				seen[n]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != 16*each {
		t.Fatalf("%d distinct numbers for %d requests", len(seen), 16*each)
	}
	for n, times := range seen {
		if times != 1 || n < 1 {
			t.Fatalf("number %d handed out %d times", n, times)
		}
	}
}
