package store

import "context"

// WriteTogether writes the groups of ctxs as the committers write one batch,
// so that a test can choose what meets in a batch instead of hoping that
// concurrent requests do.
func (db *DB) WriteTogether(ctxs ...context.Context) error {
	gs := make([]*group, len(ctxs))
	for i, ctx := range ctxs {
		gs[i] = collecting(ctx)
	}
	return db.writeTogether(context.Background(), gs)
}
