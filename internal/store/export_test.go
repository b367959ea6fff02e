package store

import (
	"context"
	"time"

	"gorm.io/gorm"

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

// MigrateTo applies the migrations up to and including version, so that a
// test can write rows as an older schema held them and then migrate on.
func (db *DB) MigrateTo(ctx context.Context, version int64) error {
	p, err := db.migrations()
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, version)
	return err
}

// FillFacts runs the code of migration 11 (factfill.go) again in a
// transaction, as of now: a test erases facts and compares what it fills
// with what the live actions wrote.
func (db *DB) FillFacts(ctx context.Context, now time.Time) error {
	return db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return db.fillFacts(tx, now) })
}
