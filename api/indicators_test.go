package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"pingan/internal/demo"
)

func TestIndicatorDefaultsAndChanges(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		r := e.do(t, req{method: "GET", path: "/api/v1/indicators", token: e.login(t, "demo-supervisor")})
		expect(t, r, 200, "")
		var codes []string
		weight := 0.0
		for _, it := range r.json(t)["items"].([]any) {
			m := it.(map[string]any)
			codes = append(codes, m["code"].(string))
			weight += m["weight"].(float64)
			// The base score and tolerance of SPEC §9.4 as revised.
			if m["floor"] != 60.0 || m["tolerance"] != 0.05 {
				t.Errorf("%s: floor %v tolerance %v", m["code"], m["floor"], m["tolerance"])
			}
		}
		want := []string{"disputes", "overdue", "petitions", "public_order", "safety_hazards", "satisfaction", "settlement_rate", "telecom_fraud"}
		if !slices.Equal(codes, want) || weight < 0.999 || weight > 1.001 {
			t.Fatalf("indicators %v (weights %v)", codes, weight)
		}
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/indicators", token: e.login(t, "demo-mediator")}), 403, "permission_denied")

		patch := func(user, etag string, body map[string]any) resp {
			h := map[string]string{}
			if etag != "" {
				h["If-Match"] = etag
			}
			return e.do(t, req{method: "PATCH", path: "/api/v1/indicators/petitions", token: e.login(t, user), body: body, header: h})
		}
		expect(t, patch("demo-admin", "", map[string]any{"weight": 0.2}), 428, "precondition_required")
		expect(t, patch("demo-supervisor", `"1"`, map[string]any{"weight": 0.2}), 403, "permission_denied")
		expect(t, patch("demo-admin", `"1"`, map[string]any{"weight": -1}), 400, "invalid_argument")
		expect(t, patch("demo-admin", `"1"`, map[string]any{"code": "x"}), 400, "invalid_argument")
		ok := patch("demo-admin", `"1"`, map[string]any{"weight": 0.2, "mapping": "step", "step": 10})
		expect(t, ok, 200, "")
		if m := ok.json(t); m["weight"] != 0.2 || m["version"] != 2.0 || m["step"] != 10.0 || ok.Header.Get("ETag") != `"2"` {
			t.Fatalf("patched: %s", ok.Body)
		}
		expect(t, patch("demo-admin", `"1"`, map[string]any{"weight": 0.3}), 412, "precondition_failed")
		var audits int
		if err := e.app.DB.SQL().QueryRow("SELECT COUNT(*) FROM audit_log WHERE action = 'indicator.update' AND entity_id = 'petitions'").Scan(&audits); err != nil || audits != 1 {
			t.Fatalf("audits %d %v", audits, err)
		}

		// The floor is in [0, 100), the tolerance a finite number ≥ 0.
		bad := patch("demo-admin", `"2"`, map[string]any{"floor": 100, "tolerance": -0.01})
		expect(t, bad, 400, "invalid_argument")
		fields := bad.json(t)["error"].(map[string]any)["details"].(map[string]any)["fields"].(map[string]any)
		if len(fields) != 2 || fields["floor"] == nil || fields["tolerance"] == nil {
			t.Fatalf("bad floor and tolerance: %s", bad.Body)
		}
		expect(t, patch("demo-admin", `"2"`, map[string]any{"floor": -1}), 400, "invalid_argument")
		ok = patch("demo-admin", `"2"`, map[string]any{"floor": 0, "tolerance": 0.125})
		expect(t, ok, 200, "")
		if m := ok.json(t); m["floor"] != 0.0 || m["tolerance"] != 0.125 || m["version"] != 3.0 || m["weight"] != 0.2 {
			t.Fatalf("patched floor and tolerance: %s", ok.Body)
		}
		got, err := e.app.DB.FindIndicator(context.Background(), "petitions")
		if err != nil || got.Floor != 0 || got.Tolerance != 0.125 {
			t.Fatalf("stored %+v %v", got, err)
		}
		var details string
		if err := e.app.DB.SQL().QueryRow("SELECT details FROM audit_log WHERE action = 'indicator.update' AND entity_id = 'petitions' " +
			"ORDER BY at DESC, id DESC LIMIT 1").Scan(&details); err != nil {
			t.Fatal(err)
		}
		var audit map[string]map[string]any
		if err := json.Unmarshal([]byte(details), &audit); err != nil || audit["old"]["floor"] != 60.0 || audit["new"]["floor"] != 0.0 ||
			audit["old"]["tolerance"] != 0.05 || audit["new"]["tolerance"] != 0.125 {
			t.Fatalf("audit %s", details)
		}

		// A new indicator takes the defaults unless given.
		admin := e.login(t, "demo-admin")
		created := e.do(t, req{method: "POST", path: "/api/v1/indicators", token: admin, body: map[string]any{
			"code": "noise", "name_zh": "噪声投诉", "direction": "negative", "weight": 0.1, "periods": []string{"month"},
			"source": "manual"}})
		expect(t, created, 201, "")
		if m := created.json(t); m["floor"] != 60.0 || m["tolerance"] != 0.05 || m["window"] != 6.0 || m["alpha"] != 0.5 {
			t.Fatalf("created with defaults: %s", created.Body)
		}
		created = e.do(t, req{method: "POST", path: "/api/v1/indicators", token: admin, body: map[string]any{
			"code": "noise_strict", "name_zh": "噪声投诉", "direction": "negative", "weight": 0.1, "periods": []string{"month"},
			"source": "manual", "floor": 40, "tolerance": 0}})
		expect(t, created, 201, "")
		if m := created.json(t); m["floor"] != 40.0 || m["tolerance"] != 0.0 {
			t.Fatalf("created with floor and tolerance: %s", created.Body)
		}
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/indicators", token: admin, body: map[string]any{
			"code": "noise_edge", "name_zh": "噪声投诉", "direction": "negative", "weight": 0.1, "periods": []string{"month"},
			"source": "manual", "floor": 99.999, "tolerance": 1e308}}), 201, "")
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/indicators", token: admin, body: map[string]any{
			"code": "noise_worse", "name_zh": "噪声投诉", "direction": "negative", "weight": 0.1, "periods": []string{"month"},
			"source": "manual", "floor": "60"}}), 400, "invalid_argument")
	})
}

func ivCount(t *testing.T, e *env) int { return countRows(t, e, "indicator_values") }

func TestDepartmentValues(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		sup := e.login(t, "demo-supervisor")
		post := func(tok string, body any) resp {
			return e.do(t, req{method: "POST", path: "/api/v1/indicator-values", token: tok, body: body})
		}
		r := post(sup, map[string]any{"indicator": "petitions", "region_code": demo.DongyingDistrict, "period": "2026-10", "value": 12, "note": "信访局"})
		expect(t, r, 200, "")
		if it := r.json(t)["items"].([]any)[0].(map[string]any); it["value"] != 12.0 || it["period"] != "2026-10" {
			t.Fatalf("entered: %s", r.Body)
		}
		// A batch with bad items writes nothing and names each bad item.
		before := ivCount(t, e)
		r = post(sup, map[string]any{"items": []map[string]any{
			{"indicator": "petitions", "region_code": demo.DongchengStreet, "period": "2026-10", "value": 3},
			{"indicator": "petitions", "region_code": demo.DongchengStreet, "period": "2026-10-03", "value": 3}, // a day: petitions are monthly
			{"indicator": "nope", "region_code": demo.DongchengStreet, "period": "2026-10", "value": 3},
			{"indicator": "petitions", "region_code": demo.FuqianGrid1, "period": "2026-10", "value": 3}, // a grid is not ranked
			{"indicator": "petitions", "region_code": demo.FuqianCommunity, "period": "2026-13", "value": -1},
		}})
		expect(t, r, 400, "invalid_argument")
		details := r.json(t)["error"].(map[string]any)["details"].(map[string]any)["fields"].(map[string]any)
		for _, f := range []string{"items[1].period", "items[2].indicator", "items[3].region_code", "items[4].period", "items[4].value"} {
			if _, ok := details[f]; !ok {
				t.Errorf("no error for %s in %v", f, details)
			}
		}
		if _, ok := details["items[0].value"]; ok || ivCount(t, e) != before {
			t.Fatalf("the good item was refused or something was written: %v", details)
		}
		// A county supervisor enters for their county only.
		cs := e.login(t, "demo-county-supervisor")
		expect(t, post(cs, map[string]any{"indicator": "petitions", "region_code": demo.GuangraoCounty, "period": "2026-10", "value": 1}), 400, "invalid_argument")
		expect(t, post(cs, map[string]any{"indicator": "petitions", "region_code": demo.DongchengStreet, "period": "2026-10", "value": 4}), 200, "")
		expect(t, post(e.login(t, "demo-mediator"), map[string]any{"indicator": "petitions", "region_code": demo.FuqianCommunity, "period": "2026-10", "value": 1}), 403, "permission_denied")
		// A new value for the same key replaces it; the audit keeps the old one.
		expect(t, post(sup, map[string]any{"indicator": "petitions", "region_code": demo.DongyingDistrict, "period": "2026-10", "value": 15}), 200, "")
		var details2 string
		if err := e.app.DB.SQL().QueryRow("SELECT details FROM audit_log WHERE action = 'indicator_value.upsert' ORDER BY at DESC, id DESC LIMIT 1").Scan(&details2); err != nil {
			t.Fatal(err)
		}
		var d map[string]any
		if err := json.Unmarshal([]byte(details2), &d); err != nil || d["old"] != 12.0 || d["new"] != 15.0 {
			t.Fatalf("audit %s", details2)
		}
		var v float64
		if err := e.app.DB.SQL().QueryRow("SELECT value FROM indicator_values WHERE indicator = 'petitions' AND region_code = ? AND period = '2026-10'",
			demo.DongyingDistrict).Scan(&v); err != nil || v != 15 {
			t.Fatalf("stored %v %v", v, err)
		}
	})
}

// ivImport sends a file to the import route, as a supervisor.
func ivImport(t *testing.T, e *env, contentType string, data []byte) resp {
	t.Helper()
	return e.do(t, req{method: "POST", path: "/api/v1/indicator-values/import", token: e.login(t, "demo-supervisor"), body: data,
		header: map[string]string{"Content-Type": contentType}})
}

func xlsxOf(t *testing.T, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDepartmentImport(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		good := "indicator,region_code,period,value,note\n" +
			"petitions,370502,2026-09,7,\n" +
			"petitions,370502003,2026-09,2,街道\n"
		bad := good + "petitions,370502003001,2026-9,1,\n" // row 4: a bad period
		audits := func() int {
			var n int
			if err := e.app.DB.SQL().QueryRow("SELECT COUNT(*) FROM audit_log WHERE action = 'indicator_value.upsert'").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		before, beforeAudits := ivCount(t, e), audits()
		r := ivImport(t, e, "text/csv", []byte(bad))
		expect(t, r, 400, "invalid_argument")
		if _, ok := r.json(t)["error"].(map[string]any)["details"].(map[string]any)["fields"].(map[string]any)["row 4.period"]; !ok || ivCount(t, e) != before {
			t.Fatalf("bad CSV: %s", r.Body)
		}
		xbad := xlsxOf(t, [][]any{{"indicator", "region_code", "period", "value"}, {"petitions", "370502", "2026-08", 3},
			{"petitions", "370523", "2026-08", "many"}})
		r = ivImport(t, e, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", xbad)
		expect(t, r, 400, "invalid_argument")
		if _, ok := r.json(t)["error"].(map[string]any)["details"].(map[string]any)["fields"].(map[string]any)["row 3.value"]; !ok || ivCount(t, e) != before {
			t.Fatalf("bad XLSX: %s", r.Body)
		}
		expect(t, ivImport(t, e, "text/csv", []byte("region,value\n1,2\n")), 400, "invalid_argument")
		expect(t, ivImport(t, e, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", []byte("not a zip")), 400, "invalid_argument")
		expect(t, ivImport(t, e, "application/json", []byte("{}")), 415, "unsupported_media_type")
		if audits() != beforeAudits {
			t.Fatal("refused imports were audited")
		}
		// Good files upsert and audit each row.
		expect(t, ivImport(t, e, "text/csv", []byte(good)), 200, "")
		xgood := xlsxOf(t, [][]any{{"indicator", "region_code", "period", "value", "note"}, {"petitions", "370502", "2026-08", 3, "x"},
			{"petitions", "370523", "2026-08", 5.5, ""}})
		r = ivImport(t, e, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", xgood)
		expect(t, r, 200, "")
		if n := len(r.json(t)["items"].([]any)); n != 2 || ivCount(t, e) != before+4 || audits() != beforeAudits+4 {
			t.Fatalf("imported %d; rows +%d, audits +%d", n, ivCount(t, e)-before, audits()-beforeAudits)
		}
	})
}

func TestServiceAccounts(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		admin := e.login(t, "demo-admin")
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/service-accounts", token: admin,
			body: map[string]any{"name": "x", "indicators": []string{"nope"}, "region_code": demo.DongyingDistrict}}), 400, "invalid_argument")
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/service-accounts", token: e.login(t, "demo-supervisor"),
			body: map[string]any{"name": "x", "indicators": []string{"petitions"}, "region_code": demo.DongyingDistrict}}), 403, "permission_denied")
		r := e.do(t, req{method: "POST", path: "/api/v1/service-accounts", token: admin,
			body: map[string]any{"name": "东营区信访局系统", "indicators": []string{"petitions"}, "region_code": demo.DongyingDistrict}})
		expect(t, r, 201, "")
		acct := r.json(t)
		key, _ := acct["key"].(string)
		if !strings.HasPrefix(key, "pak_") || len(key) < 40 || !strings.HasPrefix(key, acct["key_prefix"].(string)) {
			t.Fatalf("created: %s", r.Body)
		}
		// Only the key's hash is kept, and it is never shown again.
		var stored string
		if err := e.app.DB.SQL().QueryRow("SELECT key_hash FROM service_accounts WHERE id = ?", acct["id"]).Scan(&stored); err != nil ||
			stored == key || strings.Contains(stored, key[4:]) {
			t.Fatalf("stored %q %v", stored, err)
		}
		l := e.do(t, req{method: "GET", path: "/api/v1/service-accounts", token: admin})
		expect(t, l, 200, "")
		if strings.Contains(string(l.Body), key) || strings.Contains(string(l.Body), `"key":`) {
			t.Fatal("the key is listed")
		}
		// The department's system pushes its indicator in its scope, and nothing else.
		push := func(body map[string]any) resp {
			return e.do(t, req{method: "POST", path: "/api/v1/indicator-values", token: key, body: body})
		}
		ok := push(map[string]any{"indicator": "petitions", "region_code": demo.DongchengStreet, "period": "2026-10", "value": 5})
		expect(t, ok, 200, "")
		if by := ok.json(t)["items"].([]any)[0].(map[string]any)["entered_by"]; by != acct["id"] {
			t.Fatalf("entered by %v", by)
		}
		expect(t, push(map[string]any{"indicator": "disputes", "region_code": demo.DongchengStreet, "period": "2026-10", "value": 5}), 400, "invalid_argument")
		expect(t, push(map[string]any{"indicator": "petitions", "region_code": demo.GuangraoCounty, "period": "2026-10", "value": 5}), 400, "invalid_argument")
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/disputes", token: key}), 403, "permission_denied")
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/me", token: key}), 403, "permission_denied")
		// Revoked: refused at once.
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/service-accounts/" + acct["id"].(string) + "/revoke", token: admin}), 200, "")
		expect(t, push(map[string]any{"indicator": "petitions", "region_code": demo.DongchengStreet, "period": "2026-10", "value": 6}), 401, "unauthenticated")
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/indicator-values", token: "pak_forged",
			body: map[string]any{"indicator": "petitions", "region_code": demo.DongchengStreet, "period": "2026-10", "value": 6}}), 401, "unauthenticated")
	})
}
