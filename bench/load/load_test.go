package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"pingan/bench/internal/benchdb"
	"pingan/bench/internal/benchtest"
)

func TestGeneratorRows(t *testing.T) {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	const n = 20_000
	gen := newGenerator(n, 365, now, loc, benchdb.Grids(), map[string]string{"370502003001001": "reporter-1"}, 7)

	seen := map[string]bool{}
	townships := map[string]int{}
	lastDay := ""
	var r benchdb.Incident
	for i := range n {
		gen.row(i, &r)
		if seen[r.CaseNo] || seen[r.ID] {
			t.Fatalf("row %d repeats a case_no or id: %s %s", i, r.CaseNo, r.ID)
		}
		seen[r.CaseNo], seen[r.ID] = true, true
		if len(r.CaseNo) > 40 || !strings.HasPrefix(r.CaseNo, "SJ-"+r.CountyCode+"-") {
			t.Fatalf("case_no %q", r.CaseNo)
		}
		id := uuid.MustParse(r.ID)
		sec, nsec := id.Time().UnixTime()
		if id.Version() != 7 || time.Unix(sec, nsec).UnixMilli() != r.CreatedAt.UnixMilli() {
			t.Fatalf("id %s is not a UUIDv7 of created_at %s", r.ID, r.CreatedAt)
		}
		if r.CreatedAt.After(now) || r.CreatedAt.Before(now.AddDate(0, 0, -366)) {
			t.Fatalf("created_at %s outside the last 365 days", r.CreatedAt)
		}
		// Rows come out day by day: the loader relies on it for speed.
		day := r.CreatedAt.In(loc).Format("2006-01-02")
		if day < lastDay {
			t.Fatalf("row %d on %s after a row on %s", i, day, lastDay)
		}
		lastDay = day
		if r.UpdatedAt.Before(r.CreatedAt) || r.OccurredAt.After(r.CreatedAt) || versions[r.Status] != r.Version {
			t.Fatalf("inconsistent row %+v", r)
		}
		if !strings.HasPrefix(r.RegionCode, r.CommunityCode) || !strings.HasPrefix(r.CommunityCode, r.TownshipCode) ||
			!strings.HasPrefix(r.TownshipCode, r.CountyCode) {
			t.Fatalf("grid %s not under %s/%s/%s", r.RegionCode, r.CommunityCode, r.TownshipCode, r.CountyCode)
		}
		if r.RegionCode == "370502003001001" && r.ReporterID != "reporter-1" {
			t.Fatalf("the demo grid worker's grid has reporter %s", r.ReporterID)
		}
		townships[r.TownshipCode]++
	}
	if len(townships) != 30 {
		t.Errorf("rows in %d townships, want all 30", len(townships))
	}
	var again benchdb.Incident
	gen.row(n-1, &again)
	if again.ID != r.ID || again.CaseNo != r.CaseNo {
		t.Error("the same seed and index made a different row")
	}
}

func TestLoadIntoMariaDB(t *testing.T) {
	ctx := context.Background()
	// The same seed through both methods must store the same rows.
	var tables [2][]benchdb.Incident
	now := time.Now()
	for i, method := range []string{"insert", "infile"} {
		dsn := benchtest.MigratedDSN(t)
		c := config{dsn: dsn, n: 2_500, batch: 1000, workers: 2, tx: 2, days: 365, seed: 1, tz: "Asia/Shanghai",
			analyze: true, method: method, now: now}
		if err := run(ctx, c); err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		db, err := benchdb.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var townships int
		if err := db.QueryRow("SELECT COUNT(DISTINCT township_code) FROM incidents").Scan(&townships); err != nil {
			t.Fatal(err)
		}
		if townships != 30 {
			t.Errorf("%s: rows in %d townships, want 30", method, townships)
		}
		rows, err := db.Query("SELECT " + benchdb.Columns + " FROM incidents ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var r benchdb.Incident
			if err := r.Scan(rows); err != nil {
				t.Fatal(err)
			}
			tables[i] = append(tables[i], r)
		}
		rows.Close()
		// A second run adds rows rather than colliding with the first's.
		c.seed, c.n = 2, 10
		if err := run(ctx, c); err != nil {
			t.Fatalf("%s: second load: %v", method, err)
		}
	}
	if len(tables[0]) != 2_500 || len(tables[1]) != 2_500 {
		t.Fatalf("%d and %d rows, want 2500", len(tables[0]), len(tables[1]))
	}
	for i := range tables[0] {
		if a, b := fmt.Sprintf("%+v", deref(tables[0][i])), fmt.Sprintf("%+v", deref(tables[1][i])); a != b {
			t.Fatalf("insert and infile stored different rows:\n%s\n%s", a, b)
		}
	}
}

// deref replaces the pointers of r by their values, for comparing.
func deref(r benchdb.Incident) []any {
	var client any
	if r.ClientCreatedAt != nil {
		client = r.ClientCreatedAt.UTC()
	}
	return []any{r.ID, r.CaseNo, r.Category, r.Severity, r.Status, r.Description, *r.Lat, *r.Lng, r.Address,
		r.RegionCode, r.CommunityCode, r.TownshipCode, r.CountyCode, r.OccurredAt.UTC(), r.ReportedAt.UTC(),
		client, r.ReporterID, r.Version, r.CreatedAt.UTC(), r.UpdatedAt.UTC()}
}
