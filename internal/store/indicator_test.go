package store_test

import (
	"context"
	"testing"

	"pingan/internal/indicator"
	"pingan/internal/store"
)

// TestIndexFloorToleranceMigration: migration 00010 gives the indicators
// written before it the defaults of SPEC §9.4 as revised, F = 60 and
// τ = 0.05, and drops the results scored without them (the backfill
// computes them again), keeping the values each period stored.
func TestIndexFloorToleranceMigration(t *testing.T) {
	eachSchema(t, 8, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		exec(t, db, "INSERT INTO indicators (code, name_zh, direction, weight, periods, levels, source, method, filter, "+
			"per_capita, window_size, alpha, mapping, step, active, version, updated_at) "+
			"VALUES ('petitions', '信访量', 'negative', 0.1, 'month', 'county', 'manual', '', '{\"case\":\"\"}', TRUE, 6, 0.5, "+
			"'step', 10, TRUE, 3, ?)", columnsNow)
		exec(t, db, "INSERT INTO index_results (level, period_kind, period, region_code, parent_code, score, rank_city, band, "+
			"complete, detail, computed_at) VALUES ('county', 'month', '2026-02', '370502', '370500', 12.5, 1, 'red', TRUE, '{}', ?)",
			columnsNow)
		exec(t, db, "INSERT INTO index_values (period_kind, period, indicator, level, region_code, value) "+
			"VALUES ('month', '2026-02', 'petitions', 'county', '370502', 7)")
		if err := db.MigrateTo(ctx, 10); err != nil {
			t.Fatal(err)
		}
		got, err := db.FindIndicator(ctx, "petitions")
		if err != nil {
			t.Fatal(err)
		}
		if got.Floor != 60 || got.Tolerance != 0.05 || got.Mapping != "step" || got.Step != 10 || got.Version != 3 {
			t.Fatalf("after the migration: %+v", got)
		}
		if n := column(t, db, "SELECT COUNT(*) FROM index_results"); n != "0" {
			t.Fatalf("%s results left from before F and τ", n)
		}
		if n := column(t, db, "SELECT COUNT(*) FROM index_values"); n != "1" {
			t.Fatalf("%s stored values, want the one kept", n)
		}
		// Migration 11 fills the case facts and drops the values counted
		// before facts existed: the backfill computes them again.
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if n := column(t, db, "SELECT COUNT(*) FROM index_values"); n != "0" {
			t.Fatalf("%s stored values counted before facts existed", n)
		}

		// The new columns round-trip.
		got.Floor, got.Tolerance, got.Version = 0, 0.125, 4
		if err := db.UpdateIndicator(ctx, got, 3); err != nil {
			t.Fatal(err)
		}
		if again, err := db.FindIndicator(ctx, "petitions"); err != nil || again.Floor != 0 || again.Tolerance != 0.125 {
			t.Fatalf("round trip: %+v %v", again, err)
		}
		d := indicator.Defaults()[0]
		d.Code, d.Floor, d.Tolerance = "fresh", 72.5, 0.2
		if err := db.CreateIndicator(ctx, d); err != nil {
			t.Fatal(err)
		}
		if f := column(t, db, "SELECT floor FROM indicators WHERE code = 'fresh'"); f != "72.5" {
			t.Fatalf("stored floor %s", f)
		}
	})
}
