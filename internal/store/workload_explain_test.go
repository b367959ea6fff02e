package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"pingan/internal/access"
	"pingan/internal/demo"
	"pingan/internal/region"
	"pingan/internal/workload"
)

// TestWorkloadQueriesUseIndexes checks on MariaDB, with EXPLAIN, that the
// workload report's reads — a page of people, and what the people of a
// page did in a week — go through indexes: the timeline by actor
// (case_events_actor, migration 00018) for every count, read from the
// index alone, and the case facts and deadlines by their keys, so a page
// costs its people's activity rather than the city's (SPEC §13.1). The
// reports filed read (reporter_id, created_at, id), which
// TestListQueriesUseIndexes checks for the "reporter" list.
func TestWorkloadQueriesUseIndexes(t *testing.T) {
	ctx := context.Background()
	db := migratedMySQL(t)
	if err := db.UpsertRegions(ctx, demo.Regions()); err != nil {
		t.Fatal(err)
	}
	var grids []region.Region
	for _, r := range demo.Regions() {
		if r.Level == region.Grid {
			grids = append(grids, r)
		}
	}
	// 3 000 people, and 40 000 timeline events of 400 of them over about
	// 80 days: each case accepted, started, a session, resolved (with its
	// fact and met deadline) and followed up (with its fact).
	users := make([]userRow, 3000)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range users {
		role := []string{"grid_worker", "grid_worker", "mediator", "supervisor"}[i%4]
		users[i] = userRow{ID: fmt.Sprintf("0193f1b2-0000-7000-b000-%012d", i), Username: fmt.Sprintf("u%d", i), Name: "x",
			Role: role, RegionCode: grids[i%len(grids)].Code, Active: true, CreatedAt: base, UpdatedAt: base}
	}
	if err := db.gorm.CreateInBatches(users, 500).Error; err != nil {
		t.Fatal(err)
	}
	actions := []string{"accept", "start", "record_session", "resolve", "follow_up"}
	var events []eventRow
	var facts []factRow
	var deadlines []deadlineRow
	for i := range 40000 {
		n, step := i/len(actions), i%len(actions)
		caseID := fmt.Sprintf("0193f1b2-0000-7000-c000-%012d", n)
		actor := users[4*(n%200)+2].ID // mediators: every 4th user from the 3rd
		at := base.Add(time.Duration(i) * 3 * time.Minute)
		id := fmt.Sprintf("0193f1b2-0000-7000-d000-%012d", i)
		events = append(events, eventRow{ID: id, CaseID: caseID, CaseKind: "dispute", ActorID: actor, Action: actions[step],
			ToStatus: "x", CreatedAt: at})
		fr := factRow{ID: id, CaseID: caseID, CaseKind: "dispute", At: at, Category: "neighbourhood", CountyCode: "c",
			TownshipCode: "t", CommunityCode: "m", RegionCode: "g", ReporterID: "r", ReportedAt: base.Add(time.Duration(n) * 15 * time.Minute)}
		switch actions[step] {
		case "resolve":
			fr.Fact = "resolved"
			facts = append(facts, fr)
			deadlines = append(deadlines, deadlineRow{ID: id, CaseID: caseID, CaseKind: "dispute", Kind: "resolve", Level: "community",
				Category: "neighbourhood", CountyCode: "c", TownshipCode: "t", CommunityCode: "m", RegionCode: "g", ReporterID: "r",
				StartedAt: at.Add(-time.Hour), DueAt: at.Add(time.Hour), MetAt: &at, EndedAt: &at})
		case "follow_up":
			s := 1 + n%5
			fr.Fact, fr.Satisfaction = "followed_up", &s
			facts = append(facts, fr)
		}
	}
	for _, batch := range []any{events, facts, deadlines} {
		if err := db.gorm.CreateInBatches(batch, 1000).Error; err != nil {
			t.Fatal(err)
		}
	}
	for _, tbl := range []string{"users", "regions", "case_events", "case_facts", "case_deadlines"} {
		if err := db.gorm.Exec("ANALYZE TABLE " + tbl).Error; err != nil {
			t.Fatal(err)
		}
	}
	var page []string // a page of 20 mediators
	for _, u := range users {
		if u.Role == "mediator" && len(page) < 20 {
			page = append(page, u.ID)
		}
	}
	start := base.Add(30 * 24 * time.Hour)
	end := start.Add(7 * 24 * time.Hour)
	county := access.Scope{Path: "/" + demo.CityCode + "/" + demo.DongyingDistrict + "/", Code: demo.DongyingDistrict, Depth: access.CountyDepth}
	both := []access.Role{access.GridWorker, access.Mediator}
	for _, c := range []struct {
		name string
		q    *gorm.DB
		// key: the index the first table of the plan reads, when it matters.
		key string
		// covering: that read needs no table row.
		covering bool
		// ordered: a page read in index order, with no sort.
		ordered bool
	}{
		{"people of the city", db.peopleQuery(ctx, workload.Filter{Roles: both, Limit: 21}), "users_role", false, true},
		{"people of the city, next page", db.peopleQuery(ctx, workload.Filter{Roles: both, Limit: 21,
			After: &workload.Position{Role: access.GridWorker, UserID: users[1000].ID}}), "users_role", false, true},
		// A county's people: its regions by path, their users by region.
		{"people of a county", db.peopleQuery(ctx, workload.Filter{Scope: county, Roles: both, Limit: 21}), "", false, false},
		{"mediator actions", db.actionsQuery(ctx, page, "dispute", workload.MediatorActions, start, end), "case_events_actor", true, false},
		{"confirmations", db.actionsQuery(ctx, page, "incident", []string{workload.Confirm}, start, end), "case_events_actor", true, false},
		{"resolutions", db.resolutionsQuery(ctx, page, start, end), "case_events_actor", false, false},
		{"follow-ups", db.followUpsQuery(ctx, page, start, end), "case_events_actor", false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			plan := explain(t, db, c.q)
			for _, row := range plan {
				// ALL reads the table, index the whole of an index.
				if row["key"] == "" || row["type"] == "ALL" || row["type"] == "index" {
					t.Fatalf("reads everything: %v", plan)
				}
			}
			if c.key != "" && plan[0]["key"] != c.key {
				t.Fatalf("reads %s, want %s: %v", plan[0]["key"], c.key, plan)
			}
			if c.covering && !strings.Contains(plan[0]["Extra"], "Using index") {
				t.Fatalf("reads table rows: %v", plan)
			}
			if c.ordered && strings.Contains(plan[0]["Extra"], "filesort") {
				t.Fatalf("sorts instead of reading in index order: %v", plan)
			}
		})
	}
	// The check can fail: the same count without the actor reads every
	// event (of the table, or of an index).
	plan := explain(t, db, db.conn(ctx).Table("case_events").Select("action, COUNT(*) AS n").
		Where("created_at >= ? AND created_at < ?", start, end).Group("action"))
	if plan[0]["type"] != "ALL" && plan[0]["type"] != "index" {
		t.Fatalf("control query should scan: %v", plan)
	}
}
