package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mmcloughlin/geohash"

	"pingan/internal/store"
)

// TestGeohashFill: the cases stored before migration 16 get the geohash of
// their location when it runs (filled in Go right after it), in batches
// past the first; a case without a location keeps none.
func TestGeohashFill(t *testing.T) {
	eachSchema(t, 15, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		const n = 1203 // past a batch on either engine
		want := map[string]*string{}
		insert := func(table, id string, lat, lng *float64) {
			t.Helper()
			extra, extraVals := "severity", "'low'"
			if table == "disputes" {
				extra, extraVals = "city_code, risk_level, level, level_code, entered_level_at, outcome",
					"'370500', 'low', 'community', 'c', ?, ''"
			}
			args := []any{id, "N-" + id, lat, lng}
			if table == "disputes" {
				args = append(args, at)
			}
			args = append(args, at, at, at, at)
			_, err := db.SQL().ExecContext(ctx, "INSERT INTO "+table+" (id, case_no, category, status, description, lat, lng, "+
				"region_code, community_code, township_code, county_code, reporter_id, photo_ids, version, "+extra+
				", occurred_at, reported_at, created_at, updated_at) VALUES (?, ?, 'other', 'reported', '', ?, ?, "+
				"'g', 'c', 't', 'x', 'u', '', 1, "+extraVals+", ?, ?, ?, ?)", args...)
			if err != nil {
				t.Fatal(err)
			}
		}
		for i := range n {
			lat, lng := 37.0+float64(i)*0.0007, 118.0+float64(i)*0.0011
			id := fmt.Sprintf("0193f1b2-0000-7000-8000-%012d", i)
			g := geohash.EncodeWithPrecision(lat, lng, 8)
			insert("incidents", id, &lat, &lng)
			want["incidents/"+id] = &g
			if i%100 == 0 {
				insert("disputes", id, &lat, &lng)
				want["disputes/"+id] = &g
			}
		}
		insert("incidents", "0193f1b2-0000-7000-8000-999999999999", nil, nil)
		want["incidents/0193f1b2-0000-7000-8000-999999999999"] = nil
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		got := 0
		for _, table := range []string{"incidents", "disputes"} {
			rows, err := db.SQL().QueryContext(ctx, "SELECT id, geohash FROM "+table)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var id string
				var g *string
				if err := rows.Scan(&id, &g); err != nil {
					t.Fatal(err)
				}
				w, ok := want[table+"/"+id]
				if !ok || (w == nil) != (g == nil) || (w != nil && *w != *g) {
					t.Fatalf("%s %s: geohash %v, want %v", table, id, g, w)
				}
				got++
			}
			rows.Close()
		}
		if got != len(want) {
			t.Fatalf("%d cases, want %d", got, len(want))
		}
	})
}
