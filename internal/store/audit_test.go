package store_test

import (
	"context"
	"testing"

	"pingan/internal/demo"
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
		// The rows as the schema of version 7 has them (the row mappers of
		// today write columns added since, such as the geohash).
		inc := struct{ ID string }{"01930000-0000-7000-8000-000000000001"}
		exec(t, db, "INSERT INTO incidents (id, case_no, category, severity, status, description, address, region_code, "+
			"community_code, township_code, county_code, occurred_at, reported_at, reporter_id, photo_ids, version, created_at, "+
			"updated_at) VALUES (?, 'SJ-370502-20260301-0001', 'fire', 'low', 'reported', 'x', '', ?, ?, ?, ?, ?, ?, 'u-township', "+
			"'[]', 1, ?, ?)", inc.ID, demo.FuqianGrid1, demo.FuqianCommunity, demo.DongchengStreet, demo.DongyingDistrict,
			columnsNow, columnsNow, columnsNow, columnsNow)
		d := struct{ ID string }{"01930000-0000-7000-8000-000000000002"}
		exec(t, db, "INSERT INTO disputes (id, case_no, category, description, address, region_code, community_code, "+
			"township_code, county_code, city_code, occurred_at, reported_at, reporter_id, photo_ids, risk_level, status, level, "+
			"level_code, entered_level_at, assignee_id, outcome, version, created_at, updated_at) VALUES (?, 'JF-370523-20260301-0001', "+
			"'neighbourhood', 'x', '', ?, '370523101001', ?, ?, '370500', ?, ?, 'u-township', '[]', 'low', 'registered', 'community', "+
			"'370523101001', ?, '', '{}', 1, ?, ?)", d.ID, demo.GuangraoGrid1, demo.GuangraoTownship, demo.GuangraoCounty,
			columnsNow, columnsNow, columnsNow, columnsNow, columnsNow)
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
