package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"pingan/internal/access"
	"pingan/internal/demo"
	"pingan/internal/region"
	"pingan/internal/warning"
)

// TestWarningQueriesUseIndexes checks on MariaDB, with EXPLAIN, that the
// warnings list (the whole city, a county's subtree, a page after a cursor)
// and the detector's episode lookup read through an index (SPEC §13.1),
// and that the city's list reads in index order.
func TestWarningQueriesUseIndexes(t *testing.T) {
	ctx := context.Background()
	db := migratedMySQL(t)
	var places []region.Region
	for _, r := range demo.Regions() {
		if r.Level == region.Township || r.Level == region.Community {
			places = append(places, r)
		}
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rows := make([]warningRow, 0, 4000)
	for i := range 4000 {
		r := places[i%len(places)]
		at := base.Add(time.Duration(i) * 53 * time.Minute)
		day := at.Format(time.DateOnly)
		w := warning.Warning{ID: fmt.Sprintf("0193f1b2-0000-7000-8000-%012d", i), Kind: warning.Kinds[i%len(warning.Kinds)],
			RegionCode: r.Code, RegionPath: r.Path, Level: string(r.Level), CaseKind: "incident", Category: "traffic",
			PeriodKind: "day", FirstDay: day, LastDay: day, Severity: warning.Yellow, Status: warning.Statuses[i%3],
			Summary: "x", Version: 1, CreatedAt: at, UpdatedAt: at}
		w.Key = fmt.Sprintf("%s/%s/%d", w.Kind, w.RegionCode, i)
		rows = append(rows, warningToRow(w))
	}
	if err := db.gorm.CreateInBatches(rows, 500).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.gorm.Exec("ANALYZE TABLE warnings").Error; err != nil {
		t.Fatal(err)
	}
	county := access.Scope{Path: "/" + demo.CityCode + "/" + demo.DongyingDistrict + "/", Code: demo.DongyingDistrict, Depth: access.CountyDepth}
	cursor := base.Add(2000 * time.Hour)
	for _, c := range []struct {
		name    string
		f       warning.Filter
		ordered bool
	}{
		{"city", warning.Filter{Limit: 21}, true},
		{"city next page", warning.Filter{BeforeAt: &cursor, BeforeID: "0193f1b2-0000-7000-8000-000000002000", Limit: 21}, true},
		{"county", warning.Filter{Scope: county, Limit: 21}, false},
		{"county open surges", warning.Filter{Scope: county, Status: warning.Open, Kind: warning.KindSurge, Limit: 21}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			plan := explain(t, db, db.warningsQuery(ctx, c.f))
			for _, row := range plan {
				if row["key"] == "" || row["type"] == "ALL" {
					t.Fatalf("no index: %v", plan)
				}
				if c.ordered && strings.Contains(row["Extra"], "filesort") {
					t.Fatalf("sorts instead of reading in index order: %v", plan)
				}
			}
		})
	}
	plan := explain(t, db, db.gorm.Model(&warningRow{}).Where(
		"kind = ? AND region_code = ? AND case_kind = ? AND category = ? AND last_day >= ? AND first_day <= ?",
		warning.KindSurge, demo.DongchengStreet, "incident", "traffic", "2026-02-01", "2026-02-03"))
	if plan[0]["key"] != "warnings_episode" {
		t.Fatalf("the episode lookup does not use warnings_episode: %v", plan)
	}
}
