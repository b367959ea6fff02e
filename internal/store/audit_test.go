package store_test

import (
	"context"
	"testing"

	"pingan/internal/demo"
	"pingan/internal/dispute"
	"pingan/internal/incident"
	"pingan/internal/store"
)

// TestAuditScopeMigration: migration 00008 places the entries written
// before it in the region tree as the code now does (SPEC §8.6): by the
// entity's region (a case's grid, a user's or a service account's scope),
// otherwise by the actor's scope (a person's or a department system's), and
// the system's entries at the root.
func TestAuditScopeMigration(t *testing.T) {
	eachSchema(t, 7, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := db.UpsertRegions(ctx, demo.Regions()); err != nil {
			t.Fatal(err)
		}
		for _, u := range [][2]string{{"u-township", demo.DongchengStreet}, {"u-guangrao", demo.GuangraoCounty}} {
			exec(t, db, "INSERT INTO users (id, username, password_hash, name, role, region_code, created_at, updated_at) "+
				"VALUES (?, ?, 'x', 'x', 'admin', ?, ?, ?)", u[0], u[0], u[1], columnsNow, columnsNow)
		}
		inc := incident.Incident{ID: "01930000-0000-7000-8000-000000000001", CaseNo: "SJ-370502-20260301-0001",
			Category: "fire", Severity: incident.Low, Status: incident.Reported, Description: "x",
			RegionCode: demo.FuqianGrid1, CommunityCode: demo.FuqianCommunity, TownshipCode: demo.DongchengStreet,
			CountyCode: demo.DongyingDistrict, OccurredAt: columnsNow, ReportedAt: columnsNow, ReporterID: "u-township",
			PhotoIDs: []string{}, Version: 1, CreatedAt: columnsNow, UpdatedAt: columnsNow}
		if err := db.BulkInsertIncidents(ctx, []incident.Incident{inc}, nil, nil, nil); err != nil {
			t.Fatal(err)
		}
		d := testDispute("01930000-0000-7000-8000-000000000002", dispute.Outcome{})
		d.RegionCode, d.CommunityCode, d.TownshipCode, d.CountyCode = demo.GuangraoGrid1, "370523101001", demo.GuangraoTownship, demo.GuangraoCounty
		createDispute(t, db, d)
		exec(t, db, "INSERT INTO service_accounts (id, name, key_hash, key_prefix, indicators, region_code, created_by, created_at) "+
			"VALUES ('sa1', '广饶县公安局', 'h', 'p', 'x', ?, 'u-township', ?)", demo.GuangraoCounty, columnsNow)
		entries := []struct{ id, actor, entity, entityID, want string }{
			{"a1", "u-guangrao", "incident", inc.ID, "/370500/370502/370502003/370502003001/370502003001001/"},
			{"a2", "u-township", "dispute", d.ID, "/370500/370523/370523101/370523101001/370523101001001/"},
			{"a3", "u-guangrao", "user", "u-township", "/370500/370502/370502003/"},
			{"a4", "u-guangrao", "category", "incident/fire", "/370500/370523/"},
			{"a5", "system", "index_job", "j1", "/"},
			{"a6", "u-township", "incident", "01930000-0000-7000-8000-00000000dead", "/370500/370502/370502003/"},
			{"a7", "u-township", "service_account", "sa1", "/370500/370523/"},
			{"a8", "sa1", "indicator_value", "x/370523/2026-02", "/370500/370523/"},
		}
		for _, e := range entries {
			exec(t, db, "INSERT INTO audit_log (id, at, actor_id, actor_role, action, entity, entity_id, details) "+
				"VALUES (?, ?, ?, 'admin', 'x', ?, ?, '{}')", e.id, columnsNow, e.actor, e.entity, e.entityID)
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if got := column(t, db, "SELECT region_path FROM audit_log WHERE id = ?", e.id); got != e.want {
				t.Errorf("%s (%s %s by %s): region_path %q, want %q", e.id, e.entity, e.entityID, e.actor, got, e.want)
			}
		}
	})
}
