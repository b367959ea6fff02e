package store

import (
	"context"

	"pingan/internal/incident"
)

// WriteTogether writes the reports as the committers write one batch, so
// that a test can choose what meets in a batch instead of hoping that
// concurrent requests do.
func (db *DB) WriteTogether(rs ...incident.Report) error {
	gs := make([]*group, len(rs))
	for i, r := range rs {
		gs[i] = reportRows(r)
	}
	return db.writeTogether(context.Background(), gs)
}
