// Package benchtest gives the bench programs' tests a fresh, migrated
// MariaDB database (through internal/testenv, so scripts/test.sh's services
// are used and a missing server fails rather than skips there).
package benchtest

import (
	"context"
	"testing"

	"pingan/internal/store"
	"pingan/internal/testenv"
)

// MigratedDSN creates a database with the product's schema and returns its
// URL in the PINGAN_DB form (mysql://DSN). The database is dropped when the
// test ends.
func MigratedDSN(tb testing.TB) string {
	tb.Helper()
	dsn := testenv.MySQLDSN(tb)
	ctx := context.Background()
	db, err := store.Open(ctx, dsn, nil)
	if err != nil {
		tb.Fatalf("open %s: %v", dsn, err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	return dsn
}
