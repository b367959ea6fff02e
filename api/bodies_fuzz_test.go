package api_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"pingan/internal/demo"
	"pingan/internal/notify"
)

// jsonRoute is a route that reads a JSON body, called as who (a demo
// account, or nobody), with a body it accepts as the seed.
type jsonRoute struct {
	method, path, who string
	ifMatch           string
	seed              any
}

// jsonRoutes are every route of the router that reads a JSON body (SPEC
// §13.2: every JSON request body), on objects made by fuzzEnv. The CSV and
// XLSX import and the photo upload have targets of their own.
func jsonRoutes(ids map[string]string) []jsonRoute {
	now := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
	return []jsonRoute{
		{"POST", "/api/v1/auth/login", "", "", map[string]any{"username": "demo-gridworker", "password": "wrong password"}},
		{"POST", "/api/v1/auth/refresh", "", "", map[string]any{"refresh_token": ids["refresh"]}},
		{"POST", "/api/v1/auth/logout", "", "", map[string]any{"refresh_token": "not-a-token"}},
		{"POST", "/api/v1/users", "demo-admin", "", map[string]any{"username": "fuzz-new", "password": "correct-horse",
			"name": "新用户", "role": "grid_worker", "region_code": demo.FuqianGrid1, "phone": "13800001111"}},
		{"PATCH", "/api/v1/users/" + ids["user"], "demo-admin", "", map[string]any{"name": "改名", "active": true}},
		{"POST", "/api/v1/categories", "demo-admin", "", map[string]any{"code": "fuzz_cat", "kind": "incident",
			"name_zh": "测试", "name_en": "Test"}},
		{"PATCH", "/api/v1/categories/incident/other", "demo-admin", "", map[string]any{"name_en": "Other", "active": true}},
		{"POST", "/api/v1/incidents", "demo-gridworker", "", incidentBody(nil)},
		{"POST", "/api/v1/incidents/" + ids["incident"] + "/transitions", "demo-supervisor", `"1"`,
			map[string]any{"action": "accept", "note": "收到"}},
		{"POST", "/api/v1/disputes", "demo-gridworker", "", disputeBody(nil)},
		{"POST", "/api/v1/disputes/" + ids["dispute"] + "/actions", "demo-mediator", `"1"`, map[string]any{"action": "accept"}},
		{"POST", "/api/v1/uploads", "demo-gridworker", "", map[string]any{"content_type": "image/jpeg", "size": 1000}},
		{"POST", "/api/v1/sync", "demo-gridworker", "", map[string]any{"operations": []map[string]any{{
			"idempotency_key": "fuzz-1", "method": "POST", "path": "/api/v1/incidents", "body": incidentBody(nil)}}}},
		{"POST", "/api/v1/notifications/" + ids["notification"] + "/read", "demo-gridworker", "", map[string]any{}},
		{"POST", "/api/v1/indicators", "demo-admin", "", map[string]any{"code": "fuzz_ind", "name_zh": "测试", "direction": "negative",
			"weight": 0.1, "periods": []string{"month"}, "source": "manual"}},
		{"PATCH", "/api/v1/indicators/petitions", "demo-admin", `"1"`, map[string]any{"weight": 0.2}},
		{"POST", "/api/v1/indicator-values", "demo-supervisor", "", map[string]any{"indicator": "petitions",
			"region_code": demo.FuqianCommunity, "period": "2026-09", "value": 3, "note": now}},
		{"POST", "/api/v1/service-accounts", "demo-admin", "", map[string]any{"name": "信访局", "indicators": []string{"petitions"},
			"region_code": demo.DongyingDistrict}},
		{"POST", "/api/v1/index/recompute", "demo-admin", "", map[string]any{"period": "month", "at": "2026-09"}},
		{"POST", "/api/v1/warnings/" + ids["warning"] + "/ack", "demo-supervisor", "", map[string]any{}},
		{"POST", "/api/v1/warnings/" + ids["warning"] + "/close", "demo-supervisor", `"1"`, map[string]any{"note": "已处置"}},
		{"POST", "/api/v1/key-dates", "demo-admin", "", map[string]any{"name": "春节", "dates": []map[string]any{
			{"start": "2027-02-06", "end": "2027-02-12"}}}},
		{"PATCH", "/api/v1/key-dates/" + ids["key_date"], "demo-admin", "", map[string]any{"name": "国庆节",
			"dates": []map[string]any{{"start": "2026-10-01", "end": "2026-10-07"}}}},
		{"POST", "/api/v1/regions/import", "demo-admin", "", json.RawMessage(`{"type":"FeatureCollection","features":[` +
			`{"type":"Feature","properties":{"code":"` + demo.FuqianCommunity + `901","name":"新网格","level":"grid",` +
			`"parent_code":"` + demo.FuqianCommunity + `","population":10},"geometry":null}]}`)},
	}
}

// FuzzJSONBodies sends any bytes as the JSON body of every route that reads
// one, through the real router on SQLite: whatever the body, the answer is
// never a 5xx, and it is what openapi.yaml says (an error body naming the
// problem for a 4xx).
func FuzzJSONBodies(f *testing.F) {
	e := newEnv(f, "sqlite")
	ids := map[string]string{"user": e.do(f, req{method: "POST", path: "/api/v1/users", token: e.login(f, "demo-admin"),
		body: map[string]any{"username": "fuzz-target", "password": "correct-horse", "name": "被改的人", "role": "grid_worker",
			"region_code": demo.FuqianGrid1}}).json(f)["id"].(string)}
	ids["refresh"] = e.loginPair(f, "demo-gridworker-2")["refresh_token"].(string)
	inc := e.do(f, req{method: "POST", path: "/api/v1/incidents", token: e.login(f, "demo-gridworker"), body: incidentBody(nil)})
	ids["incident"] = inc.json(f)["id"].(string)
	dsp := e.do(f, req{method: "POST", path: "/api/v1/disputes", token: e.login(f, "demo-gridworker"), body: disputeBody(nil)})
	ids["dispute"] = dsp.json(f)["id"].(string)
	gw, err := e.app.DB.FindUserByUsername(f.Context(), "demo-gridworker")
	if err != nil {
		f.Fatal(err)
	}
	if err := e.app.Notify.Notify(f.Context(), notify.Notification{UserID: gw.ID, Kind: notify.KindWarning, Title: "测试"}); err != nil {
		f.Fatal(err)
	}
	inbox := e.do(f, req{method: "GET", path: "/api/v1/notifications", token: e.login(f, "demo-gridworker")})
	ids["notification"] = inbox.json(f)["items"].([]any)[0].(map[string]any)["id"].(string)

	ids["warning"] = seedWarning(f, e, demo.DongchengStreet, e.clock.now(), nil).ID
	kd := e.do(f, req{method: "POST", path: "/api/v1/key-dates", token: e.login(f, "demo-admin"),
		body: map[string]any{"name": "端午节", "dates": []map[string]any{{"start": "2027-06-09", "end": "2027-06-11"}}}})
	ids["key_date"] = kd.json(f)["id"].(string)

	routes := jsonRoutes(ids)
	tokens := map[string]string{"": ""}
	for _, r := range routes {
		if _, ok := tokens[r.who]; !ok {
			tokens[r.who] = e.login(f, r.who)
		}
	}
	for i, r := range routes {
		raw, err := json.Marshal(r.seed)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), raw)
		f.Add(uint8(i), []byte(`{}`))
		f.Add(uint8(i), []byte(`{"a":1,"a":2}`))
	}

	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		r := routes[int(which)%len(routes)]
		h := map[string]string{}
		if r.ifMatch != "" {
			h["If-Match"] = r.ifMatch
		}
		got := e.do(t, req{method: r.method, path: r.path, token: tokens[r.who], body: body, header: h})
		what := fmt.Sprintf("%s %s %q", r.method, r.path, body)
		switch {
		case got.Code >= 500:
			t.Fatalf("%s: %d %s", what, got.Code, got.Body)
		case got.Code >= 400 && got.errCode(t) == "":
			t.Fatalf("%s: %d without an error code: %s", what, got.Code, got.Body)
		}
	})
}
