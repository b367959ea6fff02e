package store

import (
	"context"
	"fmt"
	"sync"

	"gorm.io/gorm"
)

// caseBlockSize is how many case numbers one reservation takes. A restart
// or the end of the day leaves the rest of a block unused: case numbers
// may have gaps, and across instances they interleave out of time order.
const caseBlockSize = 50

// caseBlocks holds, per sequence, the numbers this instance has reserved
// and not yet handed out.
type caseBlocks struct {
	mu   sync.Mutex
	next map[string]int64
	end  map[string]int64
	// reserving is held by the one request reserving a block, so that the
	// requests that find a block used up at the same moment wait for it
	// instead of each reserving (and wasting) one.
	reserving sync.Mutex
}

func newCaseBlocks() *caseBlocks {
	return &caseBlocks{next: map[string]int64{}, end: map[string]int64{}}
}

// take returns the next reserved number of prefix, or false when the block
// is used up.
func (b *caseBlocks) take(prefix string) (int64, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n, ok := b.next[prefix]; ok && n <= b.end[prefix] {
		b.next[prefix] = n + 1
		return n, true
	}
	return 0, false
}

func (b *caseBlocks) give(prefix string, first, last int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.next) > 10_000 {
		// Yesterday's sequences: drop them all rather than track days.
		clear(b.next)
		clear(b.end)
	}
	b.next[prefix], b.end[prefix] = first, last
}

// NextCaseNumber returns the next number of the sequence named prefix.
//
// On MySQL an instance reserves numbers a block at a time, with one
// autocommit statement on a small pool of its own: most reports then cost
// no counter round trip at all, the counter's row lock is held for
// microseconds rather than a whole case transaction, and a request holding
// a transaction never waits on its own pool for a second connection.
// SQLite has one writer and one connection, so there the counter is simply
// incremented inside the caller's transaction.
func (db *DB) NextCaseNumber(ctx context.Context, prefix string) (int64, error) {
	if db.dialect != "mysql" {
		var n int64
		err := db.conn(ctx).Raw("INSERT INTO case_counters (prefix, n) VALUES (?, 1) "+
			"ON CONFLICT (prefix) DO UPDATE SET n = n + 1 RETURNING n", prefix).Scan(&n).Error
		if err != nil {
			return 0, fmt.Errorf("next case number: %w", translate(err))
		}
		return n, nil
	}
	if n, ok := db.blocks.take(prefix); ok {
		return n, nil
	}
	db.blocks.reserving.Lock()
	defer db.blocks.reserving.Unlock()
	for {
		if n, ok := db.blocks.take(prefix); ok {
			return n, nil
		}
		var last int64
		// LAST_INSERT_ID(expr) hands the new value back on this connection.
		err := db.seq.WithContext(ctx).Connection(func(c *gorm.DB) error {
			if err := c.Exec("INSERT INTO case_counters (prefix, n) VALUES (?, LAST_INSERT_ID(?)) "+
				"ON DUPLICATE KEY UPDATE n = LAST_INSERT_ID(n + ?)", prefix, caseBlockSize, caseBlockSize).Error; err != nil {
				return err
			}
			return c.Raw("SELECT LAST_INSERT_ID()").Scan(&last).Error
		})
		if err != nil {
			return 0, fmt.Errorf("next case number: %w", translate(err))
		}
		db.blocks.give(prefix, last-caseBlockSize+1, last)
	}
}
