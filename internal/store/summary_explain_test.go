package store

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"pingan/internal/access"
	"pingan/internal/demo"
	"pingan/internal/report"
)

// TestSummaryQueriesUseIndexes checks on MariaDB, with EXPLAIN, that every
// query of the period summary (SPEC §11.1) reads a range of the index made
// for it and nothing but that index (SPEC §13.1: a month of the city at
// city scale in 300 ms): for the city, a county, by child, one kind.
func TestSummaryQueriesUseIndexes(t *testing.T) {
	ctx := context.Background()
	db := migratedMySQL(t)
	grid := demo.FuqianGrid1
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var inc, dis []string
	var facts, deadlines []string
	for i := range 3000 {
		at := base.Add(time.Duration(i) * 37 * time.Minute).Format("2006-01-02 15:04:05")
		places := fmt.Sprintf("'%s', '%s', '%s', '%s'", demo.DongyingDistrict, demo.DongchengStreet, demo.FuqianCommunity, grid)
		inc = append(inc, fmt.Sprintf("('i%d', 'SJ-%d', 'public_order', 'low', 'resolved', '', '', %s, '%s', '%s', 'u', '', 1, '%s', '%s')",
			i, i, places, at, at, at, at))
		dis = append(dis, fmt.Sprintf("('d%d', 'JF-%d', 'neighbourhood', '', '', %s, '370500', '%s', '%s', 'u', '', 'low', 'registered', "+
			"'community', '%s', '%s', '', '%s', '{}', 1, '%s', '%s')", i, i, places, at, at, demo.FuqianCommunity, at, at, at, at))
		facts = append(facts, fmt.Sprintf("('f%d', 'd%d', 'dispute', 'resolved', '%s', 'community', NULL, 'neighbourhood', '%s', '%s', '%s', '%s', 'u', '%s')",
			i, i, at, demo.DongyingDistrict, demo.DongchengStreet, demo.FuqianCommunity, grid, at),
			fmt.Sprintf("('a%d', 'd%d', 'dispute', 'accepted', '%s', 'community', NULL, 'neighbourhood', '%s', '%s', '%s', '%s', 'u', '%s')",
				i, i, at, demo.DongyingDistrict, demo.DongchengStreet, demo.FuqianCommunity, grid, at))
		deadlines = append(deadlines, fmt.Sprintf("('l%d', 'd%d', 'dispute', 'accept', 'community', 'neighbourhood', '%s', '%s', '%s', '%s', 'u', '%s', '%s', NULL, NULL, NULL)",
			i, i, demo.DongyingDistrict, demo.DongchengStreet, demo.FuqianCommunity, grid, at, at))
	}
	for _, st := range []string{
		"INSERT INTO incidents (id, case_no, category, severity, status, description, address, county_code, township_code, " +
			"community_code, region_code, occurred_at, reported_at, reporter_id, photo_ids, version, created_at, updated_at) VALUES " + strings.Join(inc, ","),
		"INSERT INTO disputes (id, case_no, category, description, address, county_code, township_code, community_code, " +
			"region_code, city_code, occurred_at, reported_at, reporter_id, photo_ids, risk_level, status, level, level_code, " +
			"entered_level_at, assignee_id, due_at, outcome, version, created_at, updated_at) VALUES " + strings.Join(dis, ","),
		"INSERT INTO case_facts (id, case_id, case_kind, fact, at, level, satisfaction, category, county_code, township_code, " +
			"community_code, region_code, reporter_id, reported_at) VALUES " + strings.Join(facts, ","),
		"INSERT INTO case_deadlines (id, case_id, case_kind, kind, level, category, county_code, township_code, community_code, " +
			"region_code, reporter_id, started_at, due_at, met_at, breached_at, ended_at) VALUES " + strings.Join(deadlines, ","),
		"ANALYZE TABLE incidents, disputes, case_facts, case_deadlines",
	} {
		if err := db.gorm.Exec(st).Error; err != nil {
			t.Fatal(err)
		}
	}
	month := report.CountQuery{Kinds: []string{"incident", "dispute"}, Start: base.AddDate(0, 1, 0), End: base.AddDate(0, 2, 0),
		AsOf: base.AddDate(0, 2, 0), Now: base.AddDate(0, 3, 0), OpenIncident: []string{"reported", "accepted", "in_progress"}}
	county := month
	county.Scope = access.Scope{Path: "/370500/370502/", Code: demo.DongyingDistrict, Depth: access.CountyDepth}
	byChild := county
	byChild.Child = "township_code"
	disputes := month
	disputes.Kinds = []string{"dispute"}
	day := month // the scheduler's count of a day, by community (report.CountDays)
	day.End, day.AsOf, day.Child, day.Parts = day.Start.AddDate(0, 0, 1), day.Start.AddDate(0, 0, 1), report.ChildPlaces,
		report.PartReported|report.PartFacts
	for name, q := range map[string]report.CountQuery{"city": month, "county": county, "by child": byChild, "disputes": disputes,
		"a day by community": day} {
		qs := db.summaryQueries(ctx, q)
		names := make([]string, 0, len(qs))
		for n := range qs {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			t.Run(name+"/"+n, func(t *testing.T) {
				plan := explain(t, db, qs[n])
				for _, row := range plan {
					if row["table"] == "a" { // the first acceptance, by case
						if row["key"] != "case_facts_case_fact" {
							t.Fatalf("the first acceptance is not looked up by case: %v", plan)
						}
						continue
					}
					if row["key"] == "" || row["type"] == "ALL" || row["type"] == "index" {
						t.Fatalf("no index range: %v", plan)
					}
					if !strings.Contains(row["Extra"], "Using index") {
						t.Fatalf("reads the table, not the index alone: %v", plan)
					}
				}
			})
		}
	}
}

// TestSummaryDaysUseIndexes: reading the kept days of a period, and the
// cases changed since the watermark, are ranges of their indexes.
func TestSummaryDaysUseIndexes(t *testing.T) {
	db := migratedMySQL(t)
	since := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for name, q := range map[string]*gorm.DB{
		"kept days": db.gorm.Model(&summaryDayRow{}).Select("region_code, case_kind, day, counts").
			Where("depth = ? AND region_code IN ? AND case_kind IN ? AND day >= ? AND day <= ?", 2, []string{"370502", "370523"},
				[]string{"incident", "dispute"}, "2026-01-01", "2026-12-31"),
		"incidents changed": db.gorm.Table("incidents").Select("created_at, updated_at").Where("updated_at >= ?", since),
		"disputes changed":  db.gorm.Table("disputes").Select("created_at, updated_at").Where("updated_at >= ?", since),
	} {
		t.Run(name, func(t *testing.T) {
			plan := explain(t, db, q)
			for _, row := range plan {
				if row["key"] == "" || row["type"] == "ALL" || row["type"] == "index" {
					t.Fatalf("no index range: %v", plan)
				}
			}
		})
	}
}
