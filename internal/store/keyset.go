package store

import (
	"time"

	"gorm.io/gorm"
)

// The keyset conditions of the paged lists: the rows past a cursor (at, id)
// in the order (col, id), newest first (before) or oldest first (after).
//
// They are written col <= at AND (col < at OR id < id) rather than the
// textbook col < at OR (col = at AND id < id): the same rows, but SQLite's
// planner reads only the first form as a range of the (…, col, id) index.
// With the second it walks the index from its start and filters every row,
// so each page costs all the pages before it (an export of 100 000
// incidents took 12 s, of which most was rescanning). MariaDB reads both as
// a range; a row value (col, id) < (at, id) would do on SQLite but is no
// range for MariaDB's optimiser.

// before keeps the rows after (at, id) in the order col DESC, id DESC.
func before(q *gorm.DB, col string, at time.Time, id string) *gorm.DB {
	at = utc(at)
	return q.Where(col+" <= ? AND ("+col+" < ? OR id < ?)", at, at, id)
}

// after keeps the rows after (at, id) in the order col, id.
func after(q *gorm.DB, col string, at time.Time, id string) *gorm.DB {
	at = utc(at)
	return q.Where(col+" >= ? AND ("+col+" > ? OR id > ?)", at, at, id)
}
