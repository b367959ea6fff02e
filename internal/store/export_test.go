package store

import (
	"context"

	"github.com/pressly/goose/v3"

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
	dialect := goose.DialectSQLite3
	if db.dialect == "mysql" {
		dialect = goose.DialectMySQL
	}
	sub, err := migrationFS(db.dialect)
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(dialect, db.sql, sub)
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, version)
	return err
}
