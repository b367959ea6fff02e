package api_test

import (
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"pingan/internal/demo"
	"pingan/internal/notify"
)

// incidentBody is a valid report; edit changes it before it is sent. Its
// point lies in 府前社区第1网格 (demo-gridworker's grid); when edit names
// another grid and leaves the point alone, the point moves into that grid,
// since a report must lie near its grid (SPEC §6).
func incidentBody(edit func(m map[string]any)) map[string]any {
	point := map[string]any{"lat": 37.45, "lng": 118.58, "address": "府前社区3号楼"}
	m := map[string]any{
		"category": "public_order", "severity": "low", "description": "路灯损坏, 夜间无照明",
		"location":    point,
		"occurred_at": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339),
	}
	if edit != nil {
		edit(m)
	}
	if grid, ok := m["region_code"].(string); ok && grid != demo.FuqianGrid1 {
		if loc, ok := m["location"].(map[string]any); ok && reflect.ValueOf(loc).Pointer() == reflect.ValueOf(point).Pointer() {
			for _, r := range demo.Regions() {
				if r.Code == grid && r.Centroid != nil {
					point["lat"], point["lng"] = r.Centroid.Lat, r.Centroid.Lng
				}
			}
		}
	}
	return m
}

func countRows(t *testing.T, e *env, table string) int {
	t.Helper()
	var n int
	if err := e.app.DB.SQL().QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (e *env) report(t *testing.T, who string, edit func(m map[string]any)) map[string]any {
	t.Helper()
	if who == "demo-gridworker-2" { // the point must lie near their grid
		inner := edit
		edit = func(m map[string]any) {
			inGridOf(t, who)(m)
			if inner != nil {
				inner(m)
			}
		}
	}
	r := e.do(t, req{method: "POST", path: "/api/v1/incidents", token: e.login(t, who), body: incidentBody(edit)})
	expect(t, r, 201, "")
	return r.json(t)
}

func TestIncidentCreateAndRead(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		gw := e.login(t, "demo-gridworker")
		r := e.do(t, req{method: "POST", path: "/api/v1/incidents", token: gw, body: incidentBody(nil)})
		expect(t, r, 201, "")
		inc := r.json(t)
		day := time.Now().In(e.app.Config.Location).Format("20060102")
		if inc["case_no"] != "SJ-370502-"+day+"-0001" || inc["status"] != "reported" || inc["version"] != float64(1) ||
			inc["region_code"] != demo.FuqianGrid1 || inc["severity"] != "low" || len(inc["photo_ids"].([]any)) != 0 {
			t.Fatalf("created: %s", r.Body)
		}
		if r.Header.Get("ETag") != `"1"` || r.Header.Get("Location") != "/api/v1/incidents/"+inc["id"].(string) {
			t.Fatalf("headers: %v", r.Header)
		}
		second := e.report(t, "demo-gridworker", nil)
		if second["case_no"] != "SJ-370502-"+day+"-0002" {
			t.Fatalf("second case_no %v", second["case_no"])
		}
		// The stored row has the ancestors of the grid.
		var county, township, community string
		if err := e.app.DB.SQL().QueryRow("SELECT county_code, township_code, community_code FROM incidents WHERE id = ?", inc["id"]).
			Scan(&county, &township, &community); err != nil {
			t.Fatal(err)
		}
		if county != demo.DongyingDistrict || township != demo.DongchengStreet || community != demo.FuqianCommunity {
			t.Fatalf("ancestors %s %s %s", county, township, community)
		}
		sup := e.login(t, "demo-supervisor")
		got := e.do(t, req{method: "GET", path: "/api/v1/incidents/" + inc["id"].(string), token: sup})
		expect(t, got, 200, "")
		if got.json(t)["case_no"] != inc["case_no"] || got.Header.Get("ETag") != `"1"` {
			t.Fatalf("get: %s", got.Body)
		}
		nm := e.do(t, req{method: "GET", path: "/api/v1/incidents/" + inc["id"].(string), token: sup, header: map[string]string{"If-None-Match": `"1"`}})
		if nm.Code != http.StatusNotModified || len(nm.Body) != 0 {
			t.Fatalf("If-None-Match: %d %s", nm.Code, nm.Body)
		}
		// The audit log holds the write with its request id.
		admin := e.login(t, "demo-admin")
		a := e.do(t, req{method: "GET", path: "/api/v1/audit?entity=incident&limit=100", token: admin})
		expect(t, a, 200, "")
		found := false
		for _, it := range a.json(t)["items"].([]any) {
			m := it.(map[string]any)
			if m["entity_id"] == inc["id"] && m["action"] == "incident.create" && m["actor_role"] == "grid_worker" && m["request_id"] != "" {
				found = true
			}
		}
		if !found {
			t.Fatalf("no audit entry for the report: %s", a.Body)
		}
	})
}

func TestIncidentIdempotency(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		gw := e.login(t, "demo-gridworker")
		body := incidentBody(nil)
		send := func(key string, b any) resp {
			return e.do(t, req{method: "POST", path: "/api/v1/incidents", token: gw, body: b, header: map[string]string{"Idempotency-Key": key}})
		}
		before := countRows(t, e, "incidents")
		first := send("phone-1-report-1", body)
		expect(t, first, 201, "")
		for i := 0; i < 5; i++ {
			again := send("phone-1-report-1", body)
			if again.Code != 201 || string(again.Body) != string(first.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
				t.Fatalf("repeat %d: %d %s", i, again.Code, again.Body)
			}
		}
		if n := countRows(t, e, "incidents"); n != before+1 {
			t.Fatalf("rows %d → %d after five repeats", before, n)
		}
		// The same key with another body: 422, nothing written.
		other := incidentBody(func(m map[string]any) { m["description"] = "另一件事" })
		expect(t, send("phone-1-report-1", other), 422, "unprocessable")
		// No key: 400.
		expect(t, send("", body), 400, "invalid_argument")
		expect(t, send(strings.Repeat("k", 256), body), 400, "invalid_argument")
		if n := countRows(t, e, "incidents"); n != before+1 {
			t.Fatalf("rows %d → %d", before, n)
		}
		// A client error is remembered too: the repeat answers the same 400.
		bad := incidentBody(func(m map[string]any) { m["severity"] = "apocalyptic" })
		b1, b2 := send("phone-1-bad", bad), send("phone-1-bad", bad)
		if b1.Code != 400 || b2.Code != 400 || string(b1.Body) != string(b2.Body) {
			t.Fatalf("client error replay: %d %s / %d %s", b1.Code, b1.Body, b2.Code, b2.Body)
		}
		// Keys are per user: another grid worker may use the same key.
		gw2 := e.login(t, "demo-gridworker-2")
		r := e.do(t, req{method: "POST", path: "/api/v1/incidents", token: gw2, body: incidentBody(inGridOf(t, "demo-gridworker-2")),
			header: map[string]string{"Idempotency-Key": "phone-1-report-1"}})
		expect(t, r, 201, "")

		// Twenty at once with one key: one row; every answer a replay of it or 409.
		before = countRows(t, e, "incidents")
		results := make([]resp, 20)
		var wg sync.WaitGroup
		for i := range results {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				results[i] = send("burst-key", body)
			}(i)
		}
		wg.Wait()
		created := 0
		var createdBody string
		for _, r := range results {
			switch r.Code {
			case 201:
				if createdBody == "" {
					createdBody = string(r.Body)
				} else if string(r.Body) != createdBody {
					t.Fatalf("two different 201 bodies:\n%s\n%s", createdBody, r.Body)
				}
				created++
			case 409:
			default:
				t.Fatalf("burst answered %d %s", r.Code, r.Body)
			}
		}
		if created == 0 {
			t.Fatal("no request of the burst succeeded")
		}
		if n := countRows(t, e, "incidents"); n != before+1 {
			t.Fatalf("burst wrote %d rows", n-before)
		}
	})
}

func TestIncidentConcurrency(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		inc := e.report(t, "demo-gridworker", nil)
		path := "/api/v1/incidents/" + inc["id"].(string) + "/transitions"
		sup := e.login(t, "demo-supervisor")
		admin := e.login(t, "demo-admin")
		expect(t, e.do(t, req{method: "POST", path: path, token: sup, body: map[string]any{"action": "accept"}}), 428, "precondition_required")
		expect(t, e.do(t, req{method: "POST", path: path, token: sup, body: map[string]any{"action": "accept"}, header: map[string]string{"If-Match": "abc"}}), 400, "invalid_argument")
		events := countRows(t, e, "case_events")
		var wg sync.WaitGroup
		results := make([]resp, 2)
		for i, tok := range []string{sup, admin} {
			wg.Add(1)
			go func(i int, tok string) {
				defer wg.Done()
				results[i] = e.do(t, req{method: "POST", path: path, token: tok, body: map[string]any{"action": "accept"}, header: map[string]string{"If-Match": `"1"`}})
			}(i, tok)
		}
		wg.Wait()
		codes := []int{results[0].Code, results[1].Code}
		if !(codes[0] == 200 && codes[1] == 412) && !(codes[0] == 412 && codes[1] == 200) {
			t.Fatalf("racing transitions answered %v: %s / %s", codes, results[0].Body, results[1].Body)
		}
		if n := countRows(t, e, "case_events"); n != events+1 {
			t.Fatalf("events %d → %d, want one more", events, n)
		}
		got := e.do(t, req{method: "GET", path: "/api/v1/incidents/" + inc["id"].(string), token: sup}).json(t)
		if got["status"] != "accepted" || got["version"] != float64(2) {
			t.Fatalf("after race: %v", got)
		}
		// A stale version later is 412 and changes nothing.
		expect(t, e.do(t, req{method: "POST", path: path, token: sup, body: map[string]any{"action": "start"}, header: map[string]string{"If-Match": `"1"`}}), 412, "precondition_failed")
		// A wrong action names what is allowed.
		r := e.do(t, req{method: "POST", path: path, token: sup, body: map[string]any{"action": "close"}, header: map[string]string{"If-Match": `"2"`}})
		expect(t, r, 409, "conflict")
		allowed := r.json(t)["error"].(map[string]any)["details"].(map[string]any)["allowed_actions"]
		if fmt.Sprint(allowed) != "[reject resolve start]" {
			t.Fatalf("allowed_actions %v", allowed)
		}
		for _, step := range []struct{ action, version, status string }{{"start", `"2"`, "in_progress"}, {"resolve", `"3"`, "resolved"}, {"close", `"4"`, "closed"}} {
			r := e.do(t, req{method: "POST", path: path, token: sup, body: map[string]any{"action": step.action}, header: map[string]string{"If-Match": step.version}})
			expect(t, r, 200, "")
			if r.json(t)["status"] != step.status {
				t.Fatalf("%s → %s", step.action, r.Body)
			}
		}
		tl := e.do(t, req{method: "GET", path: "/api/v1/incidents/" + inc["id"].(string) + "/timeline", token: sup})
		var actions []string
		for _, it := range tl.json(t)["items"].([]any) {
			actions = append(actions, it.(map[string]any)["action"].(string))
		}
		if strings.Join(actions, ",") != "create,accept,start,resolve,close" {
			t.Fatalf("timeline %v", actions)
		}
	})
}

func TestIncidentRules(t *testing.T) {
	e := newEnv(t, "sqlite")
	gw := e.login(t, "demo-gridworker")
	act := func(tok, id, action, version, note string) resp {
		body := map[string]any{"action": action}
		if note != "" {
			body["note"] = note
		}
		return e.do(t, req{method: "POST", path: "/api/v1/incidents/" + id + "/transitions", token: tok, body: body, header: map[string]string{"If-Match": version}})
	}
	// On-the-spot resolution of one's own low report.
	low := e.report(t, "demo-gridworker", nil)
	r := act(gw, low["id"].(string), "resolve", `"1"`, "当场修复")
	expect(t, r, 200, "")
	// Not for a high one, not for others' reports, and never accepting.
	high := e.report(t, "demo-gridworker", func(m map[string]any) { m["severity"] = "high" })
	expect(t, act(gw, high["id"].(string), "resolve", `"1"`, ""), 403, "permission_denied")
	expect(t, act(gw, high["id"].(string), "accept", `"1"`, ""), 403, "permission_denied")
	admins := e.report(t, "demo-admin", func(m map[string]any) { m["region_code"] = demo.FuqianGrid1 })
	expect(t, act(gw, admins["id"].(string), "cancel", `"1"`, ""), 403, "permission_denied")
	// The reporter cancels their own.
	expect(t, act(gw, high["id"].(string), "cancel", `"1"`, ""), 200, "")
	// Rejecting needs a reason; unknown actions are 400.
	sup := e.login(t, "demo-supervisor")
	expect(t, act(sup, admins["id"].(string), "reject", `"1"`, ""), 400, "invalid_argument")
	expect(t, act(sup, admins["id"].(string), "explode", `"1"`, ""), 400, "invalid_argument")
	expect(t, act(sup, admins["id"].(string), "reject", `"1"`, "重复上报"), 200, "")
	// A mediator handles disputes, not incidents: only their own report may they cancel.
	fresh := e.report(t, "demo-admin", func(m map[string]any) { m["region_code"] = demo.FuqianGrid1 })
	expect(t, act(e.login(t, "demo-mediator"), fresh["id"].(string), "accept", `"1"`, ""), 403, "permission_denied")
	// Reporting outside one's subtree is 403; a supervisor may not report.
	expect(t, e.do(t, req{method: "POST", path: "/api/v1/incidents", token: gw, body: incidentBody(func(m map[string]any) { m["region_code"] = demo.GuangraoGrid1 })}), 403, "permission_denied")
	expect(t, e.do(t, req{method: "POST", path: "/api/v1/incidents", token: sup, body: incidentBody(nil)}), 403, "permission_denied")
	// A mediator must name the grid, inside their community.
	med := e.login(t, "demo-mediator")
	expect(t, e.do(t, req{method: "POST", path: "/api/v1/incidents", token: med, body: incidentBody(nil)}), 400, "invalid_argument")
	expect(t, e.do(t, req{method: "POST", path: "/api/v1/incidents", token: med, body: incidentBody(func(m map[string]any) { m["region_code"] = demo.FuqianGrid1 })}), 201, "")
}

func TestIncidentScope(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		mine := e.report(t, "demo-gridworker", nil)
		theirs := e.report(t, "demo-gridworker-2", nil)
		gw2 := e.login(t, "demo-gridworker-2")
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/incidents/" + mine["id"].(string), token: gw2}), 404, "not_found")
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/incidents/" + mine["id"].(string) + "/timeline", token: gw2}), 404, "not_found")
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/incidents?region=370502", token: gw2}), 403, "permission_denied")
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/incidents/" + mine["id"].(string) + "/transitions", token: gw2,
			body: map[string]any{"action": "cancel"}, header: map[string]string{"If-Match": `"1"`}}), 404, "not_found")

		county := e.login(t, "demo-county-supervisor")
		r := e.do(t, req{method: "GET", path: "/api/v1/incidents?limit=100", token: county})
		expect(t, r, 200, "")
		ids := map[string]bool{}
		for _, it := range r.json(t)["items"].([]any) {
			m := it.(map[string]any)
			ids[m["id"].(string)] = true
			if !strings.HasPrefix(m["region_code"].(string), demo.DongyingDistrict) {
				t.Fatalf("county supervisor sees %v", m["region_code"])
			}
		}
		if !ids[mine["id"].(string)] || ids[theirs["id"].(string)] {
			t.Fatalf("county supervisor list: %v", ids)
		}
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/incidents/" + theirs["id"].(string), token: county}), 404, "not_found")
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/incidents?region=" + demo.GuangraoCounty, token: county}), 403, "permission_denied")
		// Narrowing to a township inside the scope works.
		r = e.do(t, req{method: "GET", path: "/api/v1/incidents?region=" + demo.DongchengStreet, token: county})
		expect(t, r, 200, "")
		if len(r.json(t)["items"].([]any)) != 1 {
			t.Fatalf("township list: %s", r.Body)
		}
		// A grid worker lists their grid and their own reports only.
		r = e.do(t, req{method: "GET", path: "/api/v1/incidents", token: gw2})
		if items := r.json(t)["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != theirs["id"] {
			t.Fatalf("grid worker list: %s", r.Body)
		}
		r = e.do(t, req{method: "GET", path: "/api/v1/incidents?reporter=me", token: e.login(t, "demo-gridworker")})
		if items := r.json(t)["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != mine["id"] {
			t.Fatalf("reporter=me: %s", r.Body)
		}
	})
}

func TestIncidentMassAssignment(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		gw := e.login(t, "demo-gridworker")
		before := countRows(t, e, "incidents")
		for field, value := range map[string]any{
			"status": "closed", "reporter_id": "0193f1b2-0000-7000-8000-000000000001", "version": 9,
			"created_at": "2020-01-01T00:00:00Z", "id": "0193f1b2-0000-7000-8000-000000000002", "case_no": "SJ-1", "is_vip": true,
		} {
			r := e.do(t, req{method: "POST", path: "/api/v1/incidents", token: gw, body: incidentBody(func(m map[string]any) { m[field] = value })})
			expect(t, r, 400, "invalid_argument")
			if !strings.Contains(string(r.Body), `"`+field+`"`) {
				t.Fatalf("error does not name %s: %s", field, r.Body)
			}
		}
		for name, edit := range map[string]func(m map[string]any){
			"no category":   func(m map[string]any) { delete(m, "category") },
			"dispute cat":   func(m map[string]any) { m["category"] = "neighbourhood" },
			"future":        func(m map[string]any) { m["occurred_at"] = time.Now().Add(48 * time.Hour).Format(time.RFC3339) },
			"ancient":       func(m map[string]any) { m["occurred_at"] = "2001-01-01T00:00:00Z" },
			"bad time":      func(m map[string]any) { m["occurred_at"] = "yesterday" },
			"lat only":      func(m map[string]any) { m["location"] = map[string]any{"lat": 37.4} },
			"lat range":     func(m map[string]any) { m["location"] = map[string]any{"lat": 137.4, "lng": 118.5} },
			"empty desc":    func(m map[string]any) { m["description"] = "  " },
			"control char":  func(m map[string]any) { m["description"] = "路灯\u0000损坏" },
			"long desc":     func(m map[string]any) { m["description"] = strings.Repeat("长", 2001) },
			"bad photo ids": func(m map[string]any) { m["photo_ids"] = []string{"x"} },
			"not my photo":  func(m map[string]any) { m["photo_ids"] = []string{"0193f1b2-0000-7000-8000-000000000003"} },
		} {
			r := e.do(t, req{method: "POST", path: "/api/v1/incidents", token: gw, body: incidentBody(edit)})
			if r.Code != 400 {
				t.Fatalf("%s: %d %s", name, r.Code, r.Body)
			}
		}
		if n := countRows(t, e, "incidents"); n != before {
			t.Fatalf("bad reports wrote %d rows", n-before)
		}
	})
}

func TestIncidentLists(t *testing.T) {
	e := newEnv(t, "sqlite")
	sup := e.login(t, "demo-supervisor")
	for _, q := range []string{"limit=0", "limit=101", "limit=-1", "cursor=forged", "bogus=1", "status=lost", "severity=mild",
		"from=yesterday", "reporter=you", "from=2026-10-02T00:00:00Z&to=2026-10-01T00:00:00Z", "region=nowhere"} {
		r := e.do(t, req{method: "GET", path: "/api/v1/incidents?" + q, token: sup})
		expect(t, r, 400, "invalid_argument")
	}
	var want []string
	for i := 0; i < 7; i++ {
		sev := []string{"low", "medium", "high"}[i%3]
		inc := e.report(t, "demo-gridworker", func(m map[string]any) { m["severity"] = sev })
		want = append([]string{inc["id"].(string)}, want...)
	}
	var got []string
	path := "/api/v1/incidents?limit=3"
	for {
		r := e.do(t, req{method: "GET", path: path, token: sup})
		expect(t, r, 200, "")
		for _, it := range r.json(t)["items"].([]any) {
			got = append(got, it.(map[string]any)["id"].(string))
		}
		next, _ := r.json(t)["next_cursor"].(string)
		if next == "" {
			break
		}
		path = "/api/v1/incidents?limit=3&cursor=" + next
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("pages newest first:\n got %v\nwant %v", got, want)
	}
	r := e.do(t, req{method: "GET", path: "/api/v1/incidents?severity=high&status=reported", token: sup})
	if n := len(r.json(t)["items"].([]any)); n != 2 {
		t.Fatalf("severity=high: %d items", n)
	}
}

func TestSync(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		gw := e.login(t, "demo-gridworker")
		var ops []map[string]any
		for i := 0; i < 100; i++ {
			body := incidentBody(func(m map[string]any) { m["description"] = fmt.Sprintf("离线上报 %d", i) })
			if i == 42 {
				body["severity"] = "apocalyptic"
			}
			ops = append(ops, map[string]any{"idempotency_key": fmt.Sprintf("offline-%d", i), "method": "POST", "path": "/api/v1/incidents", "body": body})
		}
		before := countRows(t, e, "incidents")
		r := e.do(t, req{method: "POST", path: "/api/v1/sync", token: gw, body: map[string]any{"operations": ops}})
		expect(t, r, 200, "")
		results := r.json(t)["results"].([]any)
		if len(results) != 100 {
			t.Fatalf("%d results", len(results))
		}
		ok := 0
		for i, it := range results {
			m := it.(map[string]any)
			if m["index"] != float64(i) || m["idempotency_key"] != fmt.Sprintf("offline-%d", i) {
				t.Fatalf("result %d out of order: %v", i, m)
			}
			switch {
			case i == 42 && m["status"] == float64(400):
			case i != 42 && m["status"] == float64(201):
				ok++
			default:
				t.Fatalf("result %d: %v", i, m)
			}
		}
		if ok != 99 || countRows(t, e, "incidents") != before+99 {
			t.Fatalf("ok %d, rows +%d", ok, countRows(t, e, "incidents")-before)
		}
		again := e.do(t, req{method: "POST", path: "/api/v1/sync", token: gw, body: map[string]any{"operations": ops}})
		expect(t, again, 200, "")
		if string(again.Body) != string(r.Body) {
			t.Fatal("replaying the batch answered differently")
		}
		if n := countRows(t, e, "incidents"); n != before+99 {
			t.Fatalf("replay wrote %d rows", n-before-99)
		}
		// Batches are bounded and operations checked.
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/sync", token: gw, body: map[string]any{"operations": append(ops, ops[0])}}), 400, "invalid_argument")
		bad := e.do(t, req{method: "POST", path: "/api/v1/sync", token: gw, body: map[string]any{"operations": []map[string]any{
			{"idempotency_key": "x1", "method": "POST", "path": "/api/v1/users", "body": map[string]any{}},
			{"idempotency_key": "x2", "method": "DELETE", "path": "/api/v1/incidents", "body": map[string]any{}},
			{"method": "POST", "path": "/api/v1/incidents", "body": map[string]any{}},
		}}})
		expect(t, bad, 200, "")
		for _, it := range bad.json(t)["results"].([]any) {
			if it.(map[string]any)["status"] != float64(400) {
				t.Fatalf("bad operation accepted: %v", it)
			}
		}
	})
}

func TestSyncChanges(t *testing.T) {
	e := newEnv(t, "sqlite")
	gw := e.login(t, "demo-gridworker")
	r := e.do(t, req{method: "GET", path: "/api/v1/sync/changes", token: gw})
	expect(t, r, 200, "")
	if len(r.json(t)["incidents"].([]any)) != 0 || r.json(t)["has_more"] != false {
		t.Fatalf("empty changes: %s", r.Body)
	}
	a := e.report(t, "demo-gridworker", nil)
	e.report(t, "demo-gridworker-2", nil) // outside the grid worker's sight
	r = e.do(t, req{method: "GET", path: "/api/v1/sync/changes", token: gw})
	items := r.json(t)["incidents"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["id"] != a["id"] {
		t.Fatalf("changes: %s", r.Body)
	}
	since := r.json(t)["next_cursor"].(string)
	// A change of the last seconds before a catch-up comes once more in the
	// next (its transaction could have committed late), then no more.
	e.clock.advance(notify.Lookback + time.Second)
	r = e.do(t, req{method: "GET", path: "/api/v1/sync/changes?since=" + since, token: gw})
	if items := r.json(t)["incidents"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != a["id"] {
		t.Fatalf("the recent change again: %s", r.Body)
	}
	since = r.json(t)["next_cursor"].(string)
	r = e.do(t, req{method: "GET", path: "/api/v1/sync/changes?since=" + since, token: gw})
	if len(r.json(t)["incidents"].([]any)) != 0 || r.json(t)["next_cursor"] != since {
		t.Fatalf("nothing changed since: %s", r.Body)
	}
	// A transition makes it change again.
	sup := e.login(t, "demo-supervisor")
	expect(t, e.do(t, req{method: "POST", path: "/api/v1/incidents/" + a["id"].(string) + "/transitions", token: sup,
		body: map[string]any{"action": "accept"}, header: map[string]string{"If-Match": `"1"`}}), 200, "")
	r = e.do(t, req{method: "GET", path: "/api/v1/sync/changes?since=" + since, token: gw})
	items = r.json(t)["incidents"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["status"] != "accepted" {
		t.Fatalf("after accept: %s", r.Body)
	}
	expect(t, e.do(t, req{method: "GET", path: "/api/v1/sync/changes?since=forged", token: gw}), 400, "invalid_argument")
}

var caseNoPattern = regexp.MustCompile(`^SJ-\d{6}-\d{8}-\d{4}$`)

func TestCaseNumbersUnderLoad(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		gw := e.login(t, "demo-gridworker")
		var wg sync.WaitGroup
		nos := make([]string, 16)
		for i := range nos {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				r := e.do(t, req{method: "POST", path: "/api/v1/incidents", token: gw, body: incidentBody(nil)})
				if r.Code == 201 {
					nos[i] = r.json(t)["case_no"].(string)
				}
			}(i)
		}
		wg.Wait()
		seen := map[string]bool{}
		for _, n := range nos {
			if !caseNoPattern.MatchString(n) || seen[n] {
				t.Fatalf("case numbers %v", nos)
			}
			seen[n] = true
		}
	})
}
