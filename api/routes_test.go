package api_test

import (
	"testing"

	"github.com/gin-gonic/gin"

	"pingan/internal/demo"
)

// TestRouteRoleTable checks every route for every role and for no token
// (SPEC §13.3, function-level authorisation).
func TestRouteRoleTable(t *testing.T) {
	e := newEnv(t, "sqlite")
	gw, err := e.app.DB.FindUserByUsername(t.Context(), "demo-gridworker")
	if err != nil {
		t.Fatal(err)
	}
	roles := []string{"", "demo-gridworker", "demo-mediator", "demo-supervisor", "demo-admin"}
	inc := e.do(t, req{method: "POST", path: "/api/v1/incidents", token: e.login(t, "demo-gridworker"), body: incidentBody(nil)})
	expect(t, inc, 201, "")
	incPath := "/api/v1/incidents/" + inc.json(t)["id"].(string)
	dsp := e.do(t, req{method: "POST", path: "/api/v1/disputes", token: e.login(t, "demo-gridworker"), body: disputeBody(nil)})
	expect(t, dsp, 201, "")
	dspPath := "/api/v1/disputes/" + dsp.json(t)["id"].(string)
	// A warning in 府前社区, which every reader of warnings sees, and a
	// key date.
	wrn := "/api/v1/warnings/" + seedWarning(t, e, demo.FuqianCommunity, e.clock.now(), nil).ID
	kd := e.do(t, req{method: "POST", path: "/api/v1/key-dates", token: e.login(t, "demo-admin"),
		body: map[string]any{"name": "春节", "dates": []any{map[string]any{"start": "2027-02-06", "end": "2027-02-12"}}}})
	expect(t, kd, 201, "")
	kdPath := "/api/v1/key-dates/" + kd.json(t)["id"].(string)
	missing := "/api/v1/photos/0193f1b2-0000-7000-8000-000000000001"
	type row struct {
		method, route, path string
		body                any
		want                [5]int // no token, grid worker, mediator, supervisor, admin
	}
	all200 := [5]int{200, 200, 200, 200, 200}
	anyone := [5]int{401, 200, 200, 200, 200}
	adminOnly := func(adminStatus int) [5]int { return [5]int{401, 403, 403, 403, adminStatus} }
	table := []row{
		{"GET", "/healthz", "/healthz", nil, all200},
		{"GET", "/readyz", "/readyz", nil, all200},
		{"GET", "/metrics", "/metrics", nil, all200},
		{"POST", "/api/v1/auth/login", "/api/v1/auth/login", map[string]any{}, [5]int{400, 400, 400, 400, 400}},
		{"POST", "/api/v1/auth/refresh", "/api/v1/auth/refresh", map[string]any{}, [5]int{400, 400, 400, 400, 400}},
		{"POST", "/api/v1/auth/logout", "/api/v1/auth/logout", map[string]any{}, [5]int{400, 400, 400, 400, 400}},
		{"GET", "/api/v1/me", "/api/v1/me", nil, anyone},
		{"GET", "/api/v1/regions", "/api/v1/regions", nil, anyone},
		{"GET", "/api/v1/regions/:code", "/api/v1/regions/" + demo.CityCode, nil, [5]int{401, 404, 404, 200, 200}},
		{"GET", "/api/v1/regions/:code", "/api/v1/regions/" + demo.FuqianGrid1, nil, anyone},
		{"POST", "/api/v1/regions/import", "/api/v1/regions/import", map[string]any{}, adminOnly(400)},
		{"GET", "/api/v1/users", "/api/v1/users", nil, [5]int{401, 403, 403, 200, 200}},
		{"POST", "/api/v1/users", "/api/v1/users", map[string]any{}, adminOnly(400)},
		{"GET", "/api/v1/users/:id", "/api/v1/users/" + gw.ID, nil, [5]int{401, 403, 403, 200, 200}},
		{"PATCH", "/api/v1/users/:id", "/api/v1/users/" + gw.ID, map[string]any{}, adminOnly(200)},
		{"GET", "/api/v1/categories", "/api/v1/categories", nil, anyone},
		{"POST", "/api/v1/categories", "/api/v1/categories", map[string]any{}, adminOnly(400)},
		{"PATCH", "/api/v1/categories/:kind/:code", "/api/v1/categories/incident/fire", map[string]any{}, adminOnly(200)},
		{"POST", "/api/v1/incidents", "/api/v1/incidents", map[string]any{}, [5]int{401, 400, 400, 403, 400}},
		{"GET", "/api/v1/incidents", "/api/v1/incidents", nil, anyone},
		{"GET", "/api/v1/incidents/:id", incPath, nil, anyone},
		{"POST", "/api/v1/incidents/:id/transitions", incPath + "/transitions", map[string]any{"action": "accept"}, [5]int{401, 428, 428, 428, 428}},
		{"GET", "/api/v1/incidents/:id/timeline", incPath + "/timeline", nil, anyone},
		{"POST", "/api/v1/disputes", "/api/v1/disputes", map[string]any{}, [5]int{401, 400, 400, 403, 400}},
		{"GET", "/api/v1/disputes", "/api/v1/disputes", nil, anyone},
		{"GET", "/api/v1/disputes/:id", dspPath, nil, anyone},
		{"POST", "/api/v1/disputes/:id/actions", dspPath + "/actions", map[string]any{"action": "accept"}, [5]int{401, 403, 428, 403, 428}},
		{"GET", "/api/v1/disputes/:id/timeline", dspPath + "/timeline", nil, anyone},
		{"GET", "/api/v1/indicators", "/api/v1/indicators", nil, [5]int{401, 403, 403, 200, 200}},
		{"POST", "/api/v1/indicators", "/api/v1/indicators", map[string]any{}, adminOnly(400)},
		{"GET", "/api/v1/indicators/:code", "/api/v1/indicators/petitions", nil, [5]int{401, 403, 403, 200, 200}},
		{"PATCH", "/api/v1/indicators/:code", "/api/v1/indicators/petitions", map[string]any{}, adminOnly(428)},
		{"POST", "/api/v1/indicator-values", "/api/v1/indicator-values", map[string]any{}, [5]int{401, 403, 403, 400, 400}},
		{"POST", "/api/v1/indicator-values/import", "/api/v1/indicator-values/import", map[string]any{}, [5]int{401, 403, 403, 415, 415}}, // a JSON body
		{"POST", "/api/v1/service-accounts", "/api/v1/service-accounts", map[string]any{}, adminOnly(400)},
		{"GET", "/api/v1/service-accounts", "/api/v1/service-accounts", nil, adminOnly(200)},
		{"POST", "/api/v1/service-accounts/:id/revoke", "/api/v1/service-accounts/0193f1b2-0000-7000-8000-000000000001/revoke", map[string]any{}, adminOnly(404)},
		{"GET", "/api/v1/index/rankings", "/api/v1/index/rankings?level=county&period=month&at=2026-10", nil, [5]int{401, 403, 200, 200, 200}},
		{"GET", "/api/v1/index/series", "/api/v1/index/series?region=" + demo.FuqianCommunity + "&period=month&from=2026-01&to=2026-10", nil, [5]int{401, 403, 200, 200, 200}},
		{"POST", "/api/v1/index/recompute", "/api/v1/index/recompute", map[string]any{}, adminOnly(400)},
		{"GET", "/api/v1/index/jobs/:id", "/api/v1/index/jobs/0193f1b2-0000-7000-8000-000000000001", nil, adminOnly(404)},
		{"POST", "/api/v1/uploads", "/api/v1/uploads", map[string]any{}, [5]int{401, 400, 400, 403, 400}},
		{"POST", "/api/v1/uploads/:id/complete", "/api/v1/uploads/0193f1b2-0000-7000-8000-000000000001/complete", map[string]any{}, [5]int{401, 404, 404, 403, 404}},
		{"POST", "/api/v1/photos", "/api/v1/photos", map[string]any{}, [5]int{401, 415, 415, 403, 415}}, // a JSON body
		{"GET", "/api/v1/photos/:id", missing, nil, [5]int{401, 404, 404, 404, 404}},
		{"GET", "/api/v1/photos/:id/thumb", missing + "/thumb", nil, [5]int{401, 404, 404, 404, 404}},
		{"POST", "/api/v1/sync", "/api/v1/sync", map[string]any{}, [5]int{401, 400, 400, 403, 400}},
		{"GET", "/api/v1/sync/changes", "/api/v1/sync/changes", nil, anyone},
		{"GET", "/api/v1/notifications", "/api/v1/notifications", nil, anyone},
		{"POST", "/api/v1/notifications/:id/read", "/api/v1/notifications/0193f1b2-0000-7000-8000-000000000001/read", map[string]any{}, [5]int{401, 404, 404, 404, 404}},
		// A query parameter makes the stream answer 400 at once instead of
		// streaming: the roles are checked before it (streams: notifications_test.go).
		{"GET", "/api/v1/notifications/stream", "/api/v1/notifications/stream?probe=1", nil, [5]int{401, 400, 400, 400, 400}},
		{"GET", "/api/v1/audit", "/api/v1/audit", nil, adminOnly(200)},
		{"GET", "/api/v1/warnings", "/api/v1/warnings", nil, [5]int{401, 403, 200, 200, 200}},
		{"GET", "/api/v1/warnings/:id", wrn, nil, [5]int{401, 403, 200, 200, 200}},
		// Closing needs a note: each reader gets as far as asking for it.
		{"POST", "/api/v1/warnings/:id/close", wrn + "/close", map[string]any{}, [5]int{401, 403, 400, 400, 400}},
		{"POST", "/api/v1/warnings/:id/ack", "/api/v1/warnings/0193f1b2-0000-7000-8000-000000000001/ack", nil, [5]int{401, 403, 404, 404, 404}},
		{"GET", "/api/v1/key-dates", "/api/v1/key-dates", nil, [5]int{401, 403, 200, 200, 200}},
		{"GET", "/api/v1/key-dates/:id", kdPath, nil, [5]int{401, 403, 200, 200, 200}},
		{"POST", "/api/v1/key-dates", "/api/v1/key-dates", map[string]any{}, adminOnly(400)},
		{"PATCH", "/api/v1/key-dates/:id", kdPath, map[string]any{}, adminOnly(200)},
		{"GET", "/api/v1/reports/workload", "/api/v1/reports/workload", nil, [5]int{401, 403, 200, 200, 200}},
		{"GET", "/api/v1/reports/summary", "/api/v1/reports/summary", nil, [5]int{401, 403, 200, 200, 200}},
		{"GET", "/api/v1/reports/heatmap", "/api/v1/reports/heatmap", nil, [5]int{401, 403, 200, 200, 200}},
		{"GET", "/api/v1/exports/incidents", "/api/v1/exports/incidents?format=csv", nil, anyone},
		{"GET", "/api/v1/exports/disputes", "/api/v1/exports/disputes?format=csv", nil, anyone},
		{"GET", "/api/v1/exports/rankings", "/api/v1/exports/rankings?format=csv&level=county&period=month&at=2026-10", nil, [5]int{401, 403, 200, 200, 200}},
		{"GET", "/api/v1/exports/warnings", "/api/v1/exports/warnings?format=csv", nil, [5]int{401, 403, 200, 200, 200}},
		{"GET", "/api/v1/exports/summary", "/api/v1/exports/summary?format=csv", nil, [5]int{401, 403, 200, 200, 200}},
	}
	covered := map[string]bool{}
	for _, r := range table {
		covered[r.method+" "+r.route] = true
		for i, who := range roles {
			token := ""
			if who != "" {
				token = e.login(t, who)
			}
			got := e.do(t, req{method: r.method, path: r.path, body: r.body, token: token})
			if got.Code != r.want[i] {
				t.Errorf("%s %s as %q: %d, want %d: %s", r.method, r.path, who, got.Code, r.want[i], got.Body)
			}
		}
	}
	for _, rt := range e.app.Handler.(*gin.Engine).Routes() {
		if !covered[rt.Method+" "+rt.Path] {
			t.Errorf("route %s %s is missing from the role table", rt.Method, rt.Path)
		}
	}
}
