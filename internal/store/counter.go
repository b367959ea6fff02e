package store

import (
	"context"
	"fmt"
	"sync"
	"time"

	"gorm.io/gorm"
)

// caseBlockSize is how many case numbers one reservation takes. A restart
// or the end of the day leaves the rest of a block unused: case numbers
// may have gaps, and across instances they interleave out of time order.
const caseBlockSize = 50

// caseBlocks holds, per sequence, the numbers this instance has reserved
// and not yet handed out: the block being used and, once that is half
// gone, the next one, reserved ahead in the background so that no report
// waits for a reservation's COMMIT (docs/performance.md).
type caseBlocks struct {
	mu    sync.Mutex
	cur   map[string]caseBlock // numbers being handed out
	spare map[string]caseBlock // the block after it
	ahead map[string]bool      // a reservation ahead is running
	// reserving is held by whoever is reserving a block, so that the
	// requests that find the numbers used up at the same moment wait for it
	// instead of each reserving (and wasting) one.
	reserving sync.Mutex
}

// caseBlock is the numbers next…end.
type caseBlock struct{ next, end int64 }

func newCaseBlocks() *caseBlocks {
	return &caseBlocks{cur: map[string]caseBlock{}, spare: map[string]caseBlock{}, ahead: map[string]bool{}}
}

// take returns the next reserved number of prefix, or false when none is
// left. refill asks the caller to reserve the next block ahead: the
// current one is half used and nobody is reserving for prefix yet.
func (b *caseBlocks) take(prefix string) (n int64, ok, refill bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, has := b.cur[prefix]
	if !has || c.next > c.end {
		s, hasSpare := b.spare[prefix]
		if !hasSpare {
			return 0, false, false
		}
		delete(b.spare, prefix)
		c = s
	}
	n = c.next
	c.next++
	b.cur[prefix] = c
	if _, hasSpare := b.spare[prefix]; !hasSpare && !b.ahead[prefix] && c.end-c.next < caseBlockSize/2 {
		b.ahead[prefix] = true
		refill = true
	}
	return n, true, refill
}

// give adds a reserved block: as the current one when that is used up,
// else as the spare.
func (b *caseBlocks) give(prefix string, first, last int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.cur) > 10_000 {
		// Yesterday's sequences: drop them all rather than track days.
		clear(b.cur)
		clear(b.spare)
	}
	if c, ok := b.cur[prefix]; ok && c.next <= c.end {
		b.spare[prefix] = caseBlock{first, last}
		return
	}
	b.cur[prefix] = caseBlock{first, last}
}

// hasSpare reports whether the block after the current one is reserved.
func (b *caseBlocks) hasSpare(prefix string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.spare[prefix]
	return ok
}

func (b *caseBlocks) aheadDone(prefix string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.ahead, prefix)
}

// NextCaseNumber returns the next number of the sequence named prefix.
//
// On MySQL an instance reserves numbers a block at a time, with one
// autocommit statement on a small pool of its own: most reports then cost
// no counter round trip at all, the counter's row lock is held for
// microseconds rather than a whole case transaction, and a request holding
// a transaction never waits on its own pool for a second connection. The
// next block is reserved in the background while half of the current one
// is left, so a report waits for a reservation only when numbers are taken
// faster than one is made.
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
	if n, ok := db.takeCaseNumber(prefix); ok {
		return n, nil
	}
	db.blocks.reserving.Lock()
	defer db.blocks.reserving.Unlock()
	for {
		if n, ok := db.takeCaseNumber(prefix); ok {
			return n, nil
		}
		first, last, err := db.reserveCaseBlock(ctx, prefix)
		if err != nil {
			return 0, err
		}
		db.blocks.give(prefix, first, last)
	}
}

// takeCaseNumber takes a reserved number and starts the reservation ahead
// when it is time.
func (db *DB) takeCaseNumber(prefix string) (int64, bool) {
	n, ok, refill := db.blocks.take(prefix)
	if refill {
		go db.reserveAhead(prefix)
	}
	return n, ok
}

// reserveAhead reserves the block after the current one. A failure is
// left to the request that finds the numbers used up: it reserves itself
// and gets the error if the database is still unwell.
func (db *DB) reserveAhead(prefix string) {
	defer db.blocks.aheadDone(prefix)
	db.blocks.reserving.Lock()
	defer db.blocks.reserving.Unlock()
	if db.blocks.hasSpare(prefix) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if first, last, err := db.reserveCaseBlock(ctx, prefix); err == nil {
		db.blocks.give(prefix, first, last)
	}
}

// reserveCaseBlock takes caseBlockSize numbers of prefix in the database.
func (db *DB) reserveCaseBlock(ctx context.Context, prefix string) (first, last int64, err error) {
	// LAST_INSERT_ID(expr) hands the new value back on this connection.
	err = db.seq.WithContext(ctx).Connection(func(c *gorm.DB) error {
		if err := c.Exec("INSERT INTO case_counters (prefix, n) VALUES (?, LAST_INSERT_ID(?)) "+
			"ON DUPLICATE KEY UPDATE n = LAST_INSERT_ID(n + ?)", prefix, caseBlockSize, caseBlockSize).Error; err != nil {
			return err
		}
		return c.Raw("SELECT LAST_INSERT_ID()").Scan(&last).Error
	})
	if err != nil {
		return 0, 0, fmt.Errorf("next case number: %w", translate(err))
	}
	return last - caseBlockSize + 1, last, nil
}
