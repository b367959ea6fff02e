package api_test

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"pingan/internal/demo"
	"pingan/internal/indicator"
	"pingan/internal/notify"
)

// dongyingPath is the subtree every caller of TestEveryListStaysInScope is
// scoped to: 东营区 (370502).
const dongyingPath = "/" + demo.CityCode + "/" + demo.DongyingDistrict + "/"

// TestEveryListStaysInScope walks every list route as a caller of each role
// scoped to 东营区 and checks that no item lies outside 370502's subtree
// (SPEC §5: the rule holds for every list without exception) — including
// the audit log, which records actions on 广饶县 cases beside 东营区 ones.
func TestEveryListStaysInScope(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		admin := e.login(t, "demo-admin")
		// An admin of 东营区 (the demo has admins of the city only).
		const password = "county-admin-passphrase-1"
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/users", token: admin, body: map[string]any{
			"username": "county-admin", "password": password, "name": "区管理员", "role": "admin",
			"region_code": demo.DongyingDistrict}}), 201, "")
		lr := e.do(t, req{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"username": "county-admin", "password": password}})
		expect(t, lr, 200, "")
		countyAdmin := lr.json(t)["access_token"].(string)

		// Cases and actions on both sides of the boundary: a report and a
		// dispute in each county, the disputes escalated (which writes audit
		// entries and notifies the next level's mediators).
		var disputes [2]string
		for i, side := range []struct{ reporter, grid string }{
			{"demo-gridworker", demo.FuqianGrid1}, {"demo-gridworker-2", demo.GuangraoGrid1},
		} {
			tok := e.login(t, side.reporter)
			expect(t, e.do(t, req{method: "POST", path: "/api/v1/incidents", token: tok, body: incidentBody(inGridOf(t, side.reporter))}), 201, "")
			r := e.do(t, req{method: "POST", path: "/api/v1/disputes", token: tok, body: disputeBody(nil)})
			expect(t, r, 201, "")
			disputes[i] = r.json(t)["id"].(string)
			if got := r.json(t)["region_code"]; got != side.grid {
				t.Fatalf("dispute of %s in %v, want %s", side.reporter, got, side.grid)
			}
		}
		dpMust(t, e, "demo-mediator", disputes[0], map[string]any{"action": "escalate", "reason": "需镇街协调"})
		dpMust(t, e, "demo-township-mediator", disputes[0], map[string]any{"action": "escalate", "reason": "需区级协调"})
		dpMust(t, e, "demo-admin", disputes[1], map[string]any{"action": "escalate", "reason": "需镇街协调"})
		dpMust(t, e, "demo-guangrao-mediator", disputes[1], map[string]any{"action": "accept"})
		// A warning on each side, acknowledged by the city admin (audit
		// entries placed by the warning's region), and a notice of the
		// 东营区 one in the county mediator's inbox.
		clearWarnings(t, e)
		var warnings [2]string
		for i, code := range []string{demo.DongchengStreet, demo.GuangraoTownship} {
			warnings[i] = seedWarning(t, e, code, e.clock.now(), nil).ID
			expect(t, e.do(t, req{method: "POST", path: "/api/v1/warnings/" + warnings[i] + "/ack", token: admin}), 200, "")
		}
		if err := e.app.Notify.Notify(ctx, notify.Notification{UserID: userID(t, e, "demo-county-mediator"), Kind: notify.KindWarning,
			CaseKind: notify.CaseWarning, CaseID: warnings[0], Title: "东城街道矛盾纠纷激增"}); err != nil {
			t.Fatal(err)
		}
		period := indicator.PeriodOf(indicator.Month, time.Now(), e.app.Ranking.Location())
		if err := e.app.Ranking.Compute(ctx, period); err != nil {
			t.Fatal(err)
		}

		// The control: unscoped, the log holds entries about the 广饶县 dispute.
		if !auditMentions(t, e, admin, disputes[1]) {
			t.Fatal("the city admin does not see the audit entries of the 广饶县 dispute: the test has nothing to find")
		}
		if auditMentions(t, e, countyAdmin, disputes[1]) {
			t.Fatal("the 东营区 admin reads audit entries of a 广饶县 dispute")
		}
		if !auditMentions(t, e, countyAdmin, disputes[0]) {
			t.Fatal("the 东营区 admin does not see the audit entries of a 东营区 dispute")
		}

		callers := []struct {
			role, token string
		}{
			{"grid_worker", e.login(t, "demo-gridworker")},
			{"mediator", e.login(t, "demo-county-mediator")},
			{"supervisor", e.login(t, "demo-county-supervisor")},
			{"admin", countyAdmin},
		}
		routes := []struct {
			path    string
			allowed map[string]bool
			// region gives the codes of the regions an item lies in.
			region func(item map[string]any) []string
			// some: a caller allowed to list it must get at least one item.
			some bool
		}{
			{"/api/v1/incidents", all(), field("region_code"), true},
			{"/api/v1/disputes", all(), field("region_code"), true},
			{"/api/v1/notifications", all(), e.caseRegion, false},
			{"/api/v1/audit", roles("admin"), e.auditRegion(t), true},
			{"/api/v1/users", roles("supervisor", "admin"), field("region_code"), true},
			{"/api/v1/warnings", roles("mediator", "supervisor", "admin"), field("region_code"), true},
			{"/api/v1/reports/workload", roles("mediator", "supervisor", "admin"), field("region_code"), true},
			{"/api/v1/regions", all(), field("code"), true},
			{"/api/v1/index/rankings?level=county&period=month&at=" + period, roles("mediator", "supervisor", "admin"), rankingRegion, true},
			{"/api/v1/index/rankings?level=township&period=month&at=" + period, roles("mediator", "supervisor", "admin"), rankingRegion, true},
			{"/api/v1/index/rankings?level=community&period=month&at=" + period, roles("mediator", "supervisor", "admin"), rankingRegion, true},
		}
		for _, c := range callers {
			for _, rt := range routes {
				if !rt.allowed[c.role] {
					expect(t, e.do(t, req{method: "GET", path: rt.path, token: c.token}), 403, "permission_denied")
					continue
				}
				items := listAll(t, e, rt.path, c.token)
				if rt.some && len(items) == 0 {
					t.Errorf("%s %s: no items, so nothing was checked", c.role, rt.path)
				}
				for _, it := range items {
					for _, code := range rt.region(it) {
						if !e.inSubtree(t, code, dongyingPath) {
							t.Errorf("%s %s: item in %s, outside 东营区: %v", c.role, rt.path, code, it)
						}
					}
				}
			}
		}
		// The county mediator was notified of the escalated 东营区 dispute, so
		// the notification list above had something to check.
		if n := listAll(t, e, "/api/v1/notifications", e.login(t, "demo-county-mediator")); len(n) == 0 {
			t.Error("the county mediator has no notification of the escalated dispute")
		}
	})
}

func all() map[string]bool { return roles("grid_worker", "mediator", "supervisor", "admin") }

func roles(rs ...string) map[string]bool {
	out := map[string]bool{}
	for _, r := range rs {
		out[r] = true
	}
	return out
}

func field(name string) func(map[string]any) []string {
	return func(it map[string]any) []string { return []string{it[name].(string)} }
}

func rankingRegion(it map[string]any) []string {
	return []string{it["region"].(map[string]any)["code"].(string)}
}

// listAll reads every page of a list (at most 50 pages of 100; rankings
// come in one).
func listAll(t *testing.T, e *env, path, token string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	cursor := ""
	for range 50 {
		p := path
		if !strings.Contains(path, "/index/rankings") { // rankings are one page
			p += sep + "limit=100"
		}
		if cursor != "" {
			p += "&cursor=" + url.QueryEscape(cursor)
		}
		r := e.do(t, req{method: "GET", path: p, token: token})
		expect(t, r, http.StatusOK, "")
		body := r.json(t)
		for _, it := range body["items"].([]any) {
			out = append(out, it.(map[string]any))
		}
		next, _ := body["next_cursor"].(string)
		if next == "" {
			return out
		}
		cursor = next
	}
	return out
}

// auditMentions reports whether the caller's audit log has an entry about
// the entity id.
func auditMentions(t *testing.T, e *env, token, id string) bool {
	t.Helper()
	for _, it := range listAll(t, e, "/api/v1/audit?entity=dispute", token) {
		if it["entity_id"] == id {
			if _, ok := it["details"].(map[string]any); !ok {
				t.Fatalf("audit details are not a JSON object: %v", it)
			}
			return true
		}
	}
	return false
}

// inSubtree reports whether the region code lies under path.
func (e *env) inSubtree(t *testing.T, code, path string) bool {
	t.Helper()
	r, err := e.app.DB.FindRegionByCode(context.Background(), code)
	if err != nil {
		t.Fatalf("region %q: %v", code, err)
	}
	return strings.HasPrefix(r.Path, path)
}

// caseRegion is the grid of the case a notification is about, or the
// region of its warning.
func (e *env) caseRegion(it map[string]any) []string {
	id, _ := it["case_id"].(string)
	switch {
	case id == "":
		return nil
	case it["case_kind"] == "warning":
		return []string{e.gridOf("warnings", id, "")}
	}
	return []string{e.gridOf("incidents", id, e.gridOf("disputes", id, ""))}
}

func (e *env) gridOf(table, id, otherwise string) string {
	var code string
	err := e.app.DB.SQL().QueryRow("SELECT region_code FROM "+table+" WHERE id = ?", id).Scan(&code)
	if errors.Is(err, sql.ErrNoRows) {
		return otherwise
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return code
}

// auditRegion places an audit entry as SPEC §8.6 says: by its entity's
// region, or its actor's scope for entities without one.
func (e *env) auditRegion(t *testing.T) func(map[string]any) []string {
	return func(it map[string]any) []string {
		id, _ := it["entity_id"].(string)
		switch it["entity"] {
		case "incident":
			return []string{e.gridOf("incidents", id, "")}
		case "dispute":
			return []string{e.gridOf("disputes", id, "")}
		case "warning":
			return []string{e.gridOf("warnings", id, "")}
		case "user":
			return []string{e.userRegion(t, id)}
		}
		return []string{e.userRegion(t, it["actor_id"].(string))}
	}
}

func (e *env) userRegion(t *testing.T, id string) string {
	t.Helper()
	var code string
	if err := e.app.DB.SQL().QueryRow("SELECT region_code FROM users WHERE id = ?", id).Scan(&code); err != nil {
		t.Fatalf("user %s: %v", id, err)
	}
	return code
}
