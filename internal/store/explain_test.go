package store

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"pingan/internal/access"
	"pingan/internal/demo"
	"pingan/internal/dispute"
	"pingan/internal/incident"
	"pingan/internal/pii"
	"pingan/internal/region"
	"pingan/internal/testenv"
)

// TestListQueriesUseIndexes checks on MariaDB, with EXPLAIN, that every
// list query the API runs reads through an index and, for the paged lists,
// in index order (no filesort): a page costs the rows it returns, not the
// size of the table (SPEC §13.1).
func TestListQueriesUseIndexes(t *testing.T) {
	ctx := context.Background()
	db := migratedMySQL(t)
	// Enough rows across the city for the optimiser to prefer indexes.
	var grids []region.Region
	for _, r := range demo.Regions() {
		if r.Level == region.Grid {
			grids = append(grids, r)
		}
	}
	rows := make([]incidentRow, 0, 6000)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 6000; i++ {
		g := grids[i%len(grids)]
		parts := strings.Split(strings.Trim(g.Path, "/"), "/")
		at := base.Add(time.Duration(i) * 37 * time.Minute)
		rows = append(rows, incidentRow{ID: fmt.Sprintf("0193f1b2-0000-7000-8000-%012d", i), CaseNo: fmt.Sprintf("SJ-T-%d", i),
			Category: "public_order", Severity: "low", Status: []string{"reported", "accepted", "resolved"}[i%3], Description: "x",
			RegionCode: g.Code, CommunityCode: parts[3], TownshipCode: parts[2], CountyCode: parts[1],
			OccurredAt: at, ReportedAt: at, ReporterID: fmt.Sprintf("user-%d", i%50), Version: 1, CreatedAt: at, UpdatedAt: at})
	}
	if err := db.gorm.CreateInBatches(rows, 500).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.gorm.Exec("ANALYZE TABLE incidents").Error; err != nil {
		t.Fatal(err)
	}
	// The check can fail: a query on an unindexed column scans the table.
	if plan := explain(t, db, db.gorm.Model(&incidentRow{}).Where("description = ?", "x")); plan[0]["type"] != "ALL" {
		t.Fatalf("control query should scan: %v", plan)
	}
	cursorAt := base.Add(1000 * time.Hour)
	for _, c := range []struct {
		name    string
		q       *gorm.DB
		ordered bool
	}{
		{"city", db.incidentsQuery(ctx, incident.Filter{Limit: 21}), true},
		{"county", db.incidentsQuery(ctx, incident.Filter{Scope: access.Scope{Code: demo.DongyingDistrict, Depth: access.CountyDepth}, Limit: 21}), true},
		{"township", db.incidentsQuery(ctx, incident.Filter{Scope: access.Scope{Code: demo.DongchengStreet, Depth: access.TownshipDepth}, Limit: 21}), true},
		{"community", db.incidentsQuery(ctx, incident.Filter{Scope: access.Scope{Code: demo.FuqianCommunity, Depth: access.CommunityDepth}, Limit: 21}), true},
		{"grid", db.incidentsQuery(ctx, incident.Filter{Scope: access.Scope{Code: demo.FuqianGrid1, Depth: access.GridDepth}, Limit: 21}), true},
		{"reporter", db.incidentsQuery(ctx, incident.Filter{ReporterID: "user-7", Limit: 21}), true},
		{"township next page", db.incidentsQuery(ctx, incident.Filter{Scope: access.Scope{Code: demo.DongchengStreet, Depth: access.TownshipDepth}, BeforeAt: cursorAt,
			BeforeID: "0193f1b2-0000-7000-8000-000000001000", Limit: 21}), true},
		{"township by status and time", db.incidentsQuery(ctx, incident.Filter{Scope: access.Scope{Code: demo.DongchengStreet, Depth: access.TownshipDepth}, Status: "accepted",
			From: base, To: cursorAt, Limit: 21}), true},
		{"grid worker view", db.incidentsQuery(ctx, incident.Filter{Scope: access.Scope{Grid: demo.FuqianGrid1, Reporter: "user-7"}, Limit: 21}), false},
		{"changes", db.changesQuery(ctx, incident.ChangeFilter{Filter: incident.Filter{Scope: access.Scope{Code: demo.DongyingDistrict, Depth: access.CountyDepth}, Limit: 101},
			AfterAt: cursorAt, AfterID: "0193f1b2-0000-7000-8000-000000001000"}), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			plan := explain(t, db, c.q)
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
}

// explain runs EXPLAIN on the SELECT that q would run.
func explain(t *testing.T, db *DB, q *gorm.DB) []map[string]string {
	t.Helper()
	var dst []map[string]any // the columns of q's own model
	stmt := q.Session(&gorm.Session{DryRun: true}).Find(&dst).Statement
	rows, err := db.sql.Query("EXPLAIN "+stmt.SQL.String(), stmt.Vars...)
	if err != nil {
		t.Fatalf("explain %s: %v", stmt.SQL.String(), err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []map[string]string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for i, c := range cols {
			if b, ok := vals[i].([]byte); ok {
				m[c] = string(b)
			} else if vals[i] != nil {
				m[c] = fmt.Sprint(vals[i])
			}
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("explain %s: %v", stmt.SQL.String(), err)
	}
	if len(out) == 0 {
		t.Fatalf("explain %s: no plan", stmt.SQL.String())
	}
	return out
}

// TestDisputeListQueriesUseIndexes is TestListQueriesUseIndexes for the
// dispute lists, the phone search and the deadline scan.
func TestDisputeListQueriesUseIndexes(t *testing.T) {
	ctx := context.Background()
	db := migratedMySQL(t)
	var grids []region.Region
	for _, r := range demo.Regions() {
		if r.Level == region.Grid {
			grids = append(grids, r)
		}
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var ds []dispute.Dispute
	for i := 0; i < 4000; i++ {
		g := grids[i%len(grids)]
		parts := strings.Split(strings.Trim(g.Path, "/"), "/")
		at := base.Add(time.Duration(i) * 53 * time.Minute)
		due := at.Add(24 * time.Hour)
		ds = append(ds, dispute.Dispute{ID: fmt.Sprintf("0193f1b2-0000-7000-9000-%012d", i), CaseNo: fmt.Sprintf("JF-T-%d", i),
			Category: "neighbourhood", Description: "x", RegionCode: g.Code, CommunityCode: parts[3], TownshipCode: parts[2],
			CountyCode: parts[1], CityCode: parts[0], OccurredAt: at, ReportedAt: at, ReporterID: fmt.Sprintf("user-%d", i%50),
			PhotoIDs: []string{}, Parties: []dispute.Party{{Role: dispute.Applicant, Name: "x", Phone: fmt.Sprintf("139%08d", i)}},
			Risk: dispute.RiskLow, Status: []dispute.Status{dispute.Registered, dispute.Mediating, dispute.Resolved, dispute.Closed}[i%4],
			Level: region.Community, LevelCode: parts[3], EnteredLevelAt: at, DueAt: &due, AssigneeID: fmt.Sprintf("med-%d", i%40),
			Version: 1, CreatedAt: at, UpdatedAt: at})
	}
	if err := db.BulkInsertDisputes(ctx, ds, nil, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	for _, tbl := range []string{"disputes", "dispute_parties"} {
		if err := db.gorm.Exec("ANALYZE TABLE " + tbl).Error; err != nil {
			t.Fatal(err)
		}
	}
	yes := true
	for _, c := range []struct {
		name    string
		q       *gorm.DB
		ordered bool
	}{
		{"city", db.disputesQuery(ctx, dispute.Filter{Limit: 21}), true},
		{"county", db.disputesQuery(ctx, dispute.Filter{Scope: access.Scope{Code: demo.DongyingDistrict, Depth: access.CountyDepth}, Limit: 21}), true},
		{"township queue", db.disputesQuery(ctx, dispute.Filter{Scope: access.Scope{Code: demo.DongchengStreet, Depth: access.TownshipDepth}, Level: region.Township,
			Status: dispute.Registered, Limit: 21}), true},
		{"community", db.disputesQuery(ctx, dispute.Filter{Scope: access.Scope{Code: demo.FuqianCommunity, Depth: access.CommunityDepth}, Limit: 21}), true},
		{"grid", db.disputesQuery(ctx, dispute.Filter{Scope: access.Scope{Code: demo.FuqianGrid1, Depth: access.GridDepth}, Limit: 21}), true},
		{"assignee me", db.disputesQuery(ctx, dispute.Filter{Scope: access.Scope{Code: demo.FuqianCommunity, Depth: access.CommunityDepth}, AssigneeID: "med-7", Limit: 21}), false},
		{"overdue in a county", db.disputesQuery(ctx, dispute.Filter{Scope: access.Scope{Code: demo.DongyingDistrict, Depth: access.CountyDepth}, Overdue: &yes,
			OverdueAt: base.Add(2000 * time.Hour), Limit: 21}), true},
		{"phone", db.disputesQuery(ctx, dispute.Filter{Scope: access.Scope{Code: demo.DongyingDistrict, Depth: access.CountyDepth}, PhoneHash: db.sealer.Hash("13900000007"), Limit: 21}), false},
		{"due scan", db.dueQuery(ctx, dispute.Registered, base.Add(100*time.Hour), 500), false},
		{"changes in a county", db.disputeChangesQuery(ctx, dispute.ChangeFilter{Scope: access.Scope{Code: demo.DongyingDistrict, Depth: access.CountyDepth},
			AfterAt: base.Add(1000 * time.Hour), AfterID: "0193f1b2-0000-7000-9000-000000001000", Limit: 101}), false},
		{"changes city-wide", db.disputeChangesQuery(ctx, dispute.ChangeFilter{AfterAt: base.Add(1000 * time.Hour),
			AfterID: "0193f1b2-0000-7000-9000-000000001000", Limit: 101}), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			plan := explain(t, db, c.q)
			for _, row := range plan {
				if strings.HasPrefix(row["table"], "<subquery") {
					continue // the phone search's materialised subquery: its own row below reads the phone_hash index
				}
				if row["key"] == "" || row["type"] == "ALL" {
					t.Fatalf("no index: %v", plan)
				}
				if c.ordered && strings.Contains(row["Extra"], "filesort") {
					t.Fatalf("sorts instead of reading in index order: %v", plan)
				}
			}
		})
	}
}

// migratedMySQL opens a throw-away MariaDB schema (testenv), migrated,
// closed when the test ends: the database the EXPLAIN checks read.
func migratedMySQL(t *testing.T) *DB {
	t.Helper()
	ctx := context.Background()
	sealer, _ := pii.NewSealer(bytes.Repeat([]byte{1}, 32))
	db, err := Open(ctx, testenv.MySQLDSN(t), sealer)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}
