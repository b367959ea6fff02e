package store

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"pingan/internal/access"
	"pingan/internal/audit"
	"pingan/internal/demo"
	"pingan/internal/dispute"
	"pingan/internal/incident"
	"pingan/internal/pii"
	"pingan/internal/region"
	"pingan/internal/testenv"
	"pingan/internal/warning"
)

// TestKeysetPagesReadARange checks, on SQLite with EXPLAIN QUERY PLAN and on
// MariaDB with EXPLAIN, that a page after a cursor reads a range of the
// list's (…, created_at, id) index that starts at the cursor, not the index
// from its top with every row before the cursor filtered out: deep pages
// (an export's thousandth) cost what the first one does. The first page of
// each list is the control: it has no range on the time column (SQLite), or
// a shorter one (MariaDB). MariaDB read the former condition, col < at OR
// (col = at AND id < id), as a range already; SQLite did not.
func TestKeysetPagesReadARange(t *testing.T) {
	for _, backend := range []string{"sqlite", "mysql"} {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			url := "sqlite://" + t.TempDir() + "/t.db"
			if backend == "mysql" {
				url = testenv.MySQLDSN(t)
			}
			sealer, _ := pii.NewSealer(bytes.Repeat([]byte{1}, 32))
			db, err := Open(ctx, url, sealer)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			keysetRows(t, db, base)
			cursor := base.Add(1000 * time.Hour)
			const id = "0193f1b2-0000-7000-8000-000000001000"
			county := access.Scope{Code: demo.DongyingDistrict, Depth: access.CountyDepth}
			grid := access.Scope{Code: demo.FuqianGrid1, Depth: access.GridDepth}
			for _, c := range []struct {
				name       string
				first, q   *gorm.DB
				index      string
				sqliteCond string // the search SQLite's plan must show on index
			}{
				{"incidents city", db.incidentsQuery(ctx, incident.Filter{Limit: 501}),
					db.incidentsQuery(ctx, incident.Filter{BeforeAt: cursor, BeforeID: id, Limit: 501}),
					"incidents_created", "created_at<?"},
				{"incidents county", db.incidentsQuery(ctx, incident.Filter{Scope: county, Limit: 501}),
					db.incidentsQuery(ctx, incident.Filter{Scope: county, BeforeAt: cursor, BeforeID: id, Limit: 501}),
					"incidents_county", "county_code=? AND created_at<?"},
				{"incidents grid", db.incidentsQuery(ctx, incident.Filter{Scope: grid, Limit: 501}),
					db.incidentsQuery(ctx, incident.Filter{Scope: grid, BeforeAt: cursor, BeforeID: id, Limit: 501}),
					"incidents_grid", "region_code=? AND created_at<?"},
				{"incident changes", db.changesQuery(ctx, incident.ChangeFilter{Filter: incident.Filter{Limit: 101}}),
					db.changesQuery(ctx, incident.ChangeFilter{Filter: incident.Filter{Limit: 101}, AfterAt: cursor, AfterID: id}),
					"incidents_updated", "updated_at>?"},
				{"disputes county", db.disputesQuery(ctx, dispute.Filter{Scope: county, Limit: 501}),
					db.disputesQuery(ctx, dispute.Filter{Scope: county, BeforeAt: cursor, BeforeID: id, Limit: 501}),
					"disputes_county", "county_code=? AND created_at<?"},
				{"dispute changes", db.disputeChangesQuery(ctx, dispute.ChangeFilter{Limit: 101}),
					db.disputeChangesQuery(ctx, dispute.ChangeFilter{AfterAt: cursor, AfterID: id, Limit: 101}),
					"disputes_updated", "updated_at>?"},
				{"warnings city", db.warningsQuery(ctx, warning.Filter{Limit: 501}),
					db.warningsQuery(ctx, warning.Filter{BeforeAt: &cursor, BeforeID: id, Limit: 501}),
					"warnings_created", "created_at<?"},
				{"audit city", db.auditQuery(ctx, audit.Filter{Limit: 501}),
					db.auditQuery(ctx, audit.Filter{BeforeAt: cursor, BeforeID: id, Limit: 501}),
					"audit_log_at", "at<?"},
				{"audit of an entity", db.auditQuery(ctx, audit.Filter{Entity: "incident", Limit: 501}),
					db.auditQuery(ctx, audit.Filter{Entity: "incident", BeforeAt: cursor, BeforeID: id, Limit: 501}),
					"audit_log_entity", "entity=? AND at<?"},
			} {
				t.Run(c.name, func(t *testing.T) {
					if backend == "sqlite" {
						want := "SEARCH " + tableOf(t, c.q) + " USING INDEX " + c.index + " (" + c.sqliteCond + ")"
						if plan := explainSQLite(t, db, c.q); plan != want {
							t.Fatalf("next page: %s, want %s", plan, want)
						}
						if plan := explainSQLite(t, db, c.first); strings.Contains(plan, c.sqliteCond) {
							t.Fatalf("first page: %s has a range on the time column", plan)
						}
						return
					}
					plan := explain(t, db, c.q)
					if len(plan) != 1 || plan[0]["key"] != c.index || plan[0]["type"] != "range" ||
						strings.Contains(plan[0]["Extra"], "filesort") {
						t.Fatalf("next page: %v, want a range of %s in index order", plan, c.index)
					}
					// MariaDB calls the first page's equality on the scope's
					// column a range too: the next page's must be longer.
					first := explain(t, db, c.first)
					if first[0]["key"] == c.index && first[0]["type"] != "index" && keyLen(t, plan[0]) <= keyLen(t, first[0]) {
						t.Fatalf("next page: %v reads no more of the index than the first page %v", plan, first)
					}
				})
			}
		})
	}
}

// TestPartiesQueryUsesPrimaryKey: the dispute export's second query per
// page, the parties of a page's disputes, reads the primary key (dispute_id,
// position) in order, on both engines.
func TestPartiesQueryUsesPrimaryKey(t *testing.T) {
	for _, backend := range []string{"sqlite", "mysql"} {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			url := "sqlite://" + t.TempDir() + "/t.db"
			if backend == "mysql" {
				url = testenv.MySQLDSN(t)
			}
			sealer, _ := pii.NewSealer(bytes.Repeat([]byte{1}, 32))
			db, err := Open(ctx, url, sealer)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			keysetRows(t, db, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			var ids []string
			for i := range 500 {
				ids = append(ids, fmt.Sprintf("0193f1b2-0000-7000-8000-%012d", i*7))
			}
			q := db.partiesQuery(ctx, ids)
			if backend == "sqlite" {
				if plan := explainSQLite(t, db, q); plan != "SEARCH dispute_parties USING INDEX sqlite_autoindex_dispute_parties_1 (dispute_id=?)" {
					t.Fatalf("plan: %s", plan)
				}
				return
			}
			plan := explain(t, db, q)
			if len(plan) != 1 || plan[0]["key"] != "PRIMARY" || plan[0]["type"] != "range" || strings.Contains(plan[0]["Extra"], "filesort") {
				t.Fatalf("plan: %v", plan)
			}
		})
	}
}

// keyLen is the bytes of the index an EXPLAIN row's range covers.
func keyLen(t *testing.T, row map[string]string) int {
	t.Helper()
	n, err := strconv.Atoi(row["key_len"])
	if err != nil {
		t.Fatalf("key_len of %v: %v", row, err)
	}
	return n
}

// tableOf is the table q reads.
func tableOf(t *testing.T, q *gorm.DB) string {
	t.Helper()
	var dst []map[string]any
	stmt := q.Session(&gorm.Session{DryRun: true}).Find(&dst).Statement
	if stmt.Table == "" {
		t.Fatalf("no table in %s", stmt.SQL.String())
	}
	return stmt.Table
}

// keysetRows writes a few thousand incidents, disputes, warnings and audit
// entries across the demo city, then has the engine analyse them.
func keysetRows(t *testing.T, db *DB, base time.Time) {
	t.Helper()
	ctx := context.Background()
	var grids []region.Region
	for _, r := range demo.Regions() {
		if r.Level == region.Grid {
			grids = append(grids, r)
		}
	}
	var incs []incidentRow
	var ds []dispute.Dispute
	var ws []warningRow
	var as []auditRow
	for i := range 4000 {
		g := grids[i%len(grids)]
		parts := strings.Split(strings.Trim(g.Path, "/"), "/")
		at := base.Add(time.Duration(i) * 37 * time.Minute)
		id := fmt.Sprintf("0193f1b2-0000-7000-8000-%012d", i)
		incs = append(incs, incidentRow{ID: id, CaseNo: fmt.Sprintf("SJ-T-%d", i), Category: "public_order", Severity: "low",
			Status: "reported", Description: "x", RegionCode: g.Code, CommunityCode: parts[3], TownshipCode: parts[2],
			CountyCode: parts[1], OccurredAt: at, ReportedAt: at, ReporterID: fmt.Sprintf("user-%d", i%50), Version: 1,
			CreatedAt: at, UpdatedAt: at})
		due := at.Add(24 * time.Hour)
		ds = append(ds, dispute.Dispute{ID: id, CaseNo: fmt.Sprintf("JF-T-%d", i), Category: "neighbourhood", Description: "x",
			RegionCode: g.Code, CommunityCode: parts[3], TownshipCode: parts[2], CountyCode: parts[1], CityCode: parts[0],
			OccurredAt: at, ReportedAt: at, ReporterID: fmt.Sprintf("user-%d", i%50), PhotoIDs: []string{},
			Parties: []dispute.Party{{Role: dispute.Applicant, Name: "x"}}, Risk: dispute.RiskLow, Status: dispute.Registered,
			Level: region.Community, LevelCode: parts[3], EnteredLevelAt: at, DueAt: &due, Version: 1, CreatedAt: at, UpdatedAt: at})
		day := at.Format(time.DateOnly)
		w := warning.Warning{ID: id, Kind: warning.Kinds[i%len(warning.Kinds)], RegionCode: g.Code, RegionPath: g.Path,
			Level: string(g.Level), CaseKind: "incident", Category: "traffic", PeriodKind: "day", FirstDay: day, LastDay: day,
			Severity: warning.Yellow, Status: warning.Open, Summary: "x", Version: 1, CreatedAt: at, UpdatedAt: at}
		w.Key = fmt.Sprintf("%s/%s/%d", w.Kind, w.RegionCode, i)
		ws = append(ws, warningToRow(w))
		as = append(as, auditToRow(audit.Entry{ID: id, At: at, ActorID: fmt.Sprintf("user-%d", i%50), ActorRole: access.GridWorker,
			Action: "incident.create", Entity: []string{"incident", "dispute", "user"}[i%3], EntityID: id, RegionPath: g.Path}))
	}
	for _, rows := range []any{incs, ws, as} {
		if err := db.gorm.CreateInBatches(rows, 200).Error; err != nil {
			t.Fatal(err)
		}
	}
	if err := db.BulkInsertDisputes(ctx, ds, nil, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	analyse := []string{"ANALYZE"}
	if db.gorm.Dialector.Name() == "mysql" {
		analyse = []string{"ANALYZE TABLE incidents", "ANALYZE TABLE disputes", "ANALYZE TABLE warnings", "ANALYZE TABLE audit_log"}
	}
	for _, a := range analyse {
		if err := db.gorm.Exec(a).Error; err != nil {
			t.Fatal(err)
		}
	}
}
