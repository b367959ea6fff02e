package api_test

import (
	"bytes"
	"context"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"pingan/internal/demo"
	"pingan/internal/warning"
)

// Early warnings through the API (SPEC §10.3). Detection is not what is
// tested here: warnings are written through the store, as the detector
// writes them.

// clearWarnings empties the warnings table, so that a test's lists hold
// exactly the warnings it wrote, whatever the demo data raises.
func clearWarnings(t *testing.T, e *env) {
	t.Helper()
	if _, err := e.app.DB.SQL().Exec("DELETE FROM warnings"); err != nil {
		t.Fatal(err)
	}
}

// seedWarning writes an open yellow surge of disputes in the region, created
// at; edit changes it before it is written.
func seedWarning(t testing.TB, e *env, code string, at time.Time, edit func(w *warning.Warning)) warning.Warning {
	t.Helper()
	r, err := e.app.DB.FindRegionByCode(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.Must(uuid.NewV7()).String()
	at = at.UTC().Truncate(time.Millisecond)
	w := warning.Warning{ID: id, Key: "test/" + id, Kind: warning.KindSurge, RegionCode: code, RegionPath: r.Path,
		Level: string(r.Level), CaseKind: warning.CaseDispute, PeriodKind: "day", FirstDay: "2026-11-20", LastDay: "2026-11-21",
		Method: "C2", Methods: []string{"C2", "poisson"}, Observed: 9, Expected: ptrTo(3.142857), Threshold: ptrTo(5.5),
		Statistic: ptrTo(5.4789), P: ptrTo(0.0051057), Severity: warning.Yellow, Status: warning.Open,
		Series:  []warning.DayCount{{Day: "2026-11-19", Count: 3}, {Day: "2026-11-20", Count: 9}, {Day: "2026-11-21", Count: 11}},
		Summary: r.Name + "矛盾纠纷激增", Version: 1, CreatedAt: at, UpdatedAt: at}
	if edit != nil {
		edit(&w)
	}
	if err := e.app.DB.InsertWarning(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	return w
}

func ptrTo[T any](v T) *T { return &v }

// warningIDs lists a page's item ids.
func warningIDs(body map[string]any) []string {
	out := []string{}
	for _, it := range body["items"].([]any) {
		out = append(out, it.(map[string]any)["id"].(string))
	}
	return out
}

// storedWarning reads a warning's status and version from its row.
func storedWarning(t *testing.T, e *env, id string) (status string, version int) {
	t.Helper()
	if err := e.app.DB.SQL().QueryRow("SELECT status, version FROM warnings WHERE id = ?", id).Scan(&status, &version); err != nil {
		t.Fatal(err)
	}
	return status, version
}

// audits counts the audit rows of an action on an entity by an actor ("" for anyone).
func audits(t *testing.T, e *env, action, entityID, actorID string) int {
	t.Helper()
	q, args := "SELECT COUNT(*) FROM audit_log WHERE action = ? AND entity_id = ?", []any{action, entityID}
	if actorID != "" {
		q, args = q+" AND actor_id = ?", append(args, actorID)
	}
	var n int
	if err := e.app.DB.SQL().QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// warningSet is the warnings the list tests read, oldest first.
type warningSet struct {
	dongcheng, guangrao, county, keyDate, community warning.Warning
}

func seedWarningSet(t *testing.T, e *env) warningSet {
	t.Helper()
	clearWarnings(t, e)
	base := e.clock.now().Add(-time.Hour)
	var s warningSet
	s.dongcheng = seedWarning(t, e, demo.DongchengStreet, base, nil)
	s.guangrao = seedWarning(t, e, demo.GuangraoTownship, base.Add(time.Minute), nil)
	s.county = seedWarning(t, e, demo.DongyingDistrict, base.Add(2*time.Minute), func(w *warning.Warning) {
		w.Kind, w.CaseKind, w.Method, w.Methods, w.Severity = warning.KindOverdue, warning.CaseDispute, "", nil, warning.Red
		w.Expected, w.Statistic, w.P, w.Observed, w.Threshold = nil, nil, nil, 7, ptrTo(5.0)
		w.FirstDay, w.LastDay = "2026-10-01", "2026-10-03"
		w.Status, w.AckedBy, w.AckedAt = warning.Acknowledged, userID(t, e, "demo-admin"), ptrTo(base)
	})
	s.keyDate = seedWarning(t, e, demo.DongchengStreet, base.Add(3*time.Minute), func(w *warning.Warning) {
		w.Kind, w.Severity, w.Method, w.Methods, w.Expected, w.Threshold, w.Statistic, w.P = warning.KindKeyDate, warning.Blue, "", nil, nil, nil, nil, nil
		w.CaseKind, w.Category, w.FirstDay, w.LastDay, w.Series = warning.CaseIncident, "public_order", "2027-02-06", "2027-02-12", nil
		w.Detail.KeyDate = &warning.KeyDateDetail{EventID: "e1", Name: "春节", Start: "2027-02-06", End: "2027-02-12",
			Rises: []warning.KeyDateRise{{CaseKind: warning.CaseIncident, Category: "public_order",
				Years: []warning.KeyDateFigure{{Start: "2026-02-16", Window: 14, Before: 20, Ratio: ptrTo(2.8)}}}}}
	})
	s.community = seedWarning(t, e, demo.FuqianCommunity, base.Add(4*time.Minute), func(w *warning.Warning) {
		w.Kind, w.CaseKind, w.Method, w.Methods, w.PeriodKind, w.Severity = warning.KindRankFall, "", "", nil, "month", warning.Orange
		w.FirstDay, w.LastDay, w.Observed, w.Series = "2026-09", "2026-10", 12, nil
		w.Expected, w.Threshold, w.Statistic, w.P = ptrTo(4.0), nil, nil, nil
		w.Detail = warning.Detail{Peers: 40, Periods: []warning.PeriodFigure{
			{Period: "2026-09", Score: ptrTo(91.5), Band: "green", Rank: 4}, {Period: "2026-10", Score: ptrTo(80.25), Band: "yellow", Rank: 12}}}
	})
	return s
}

func TestWarningListFilters(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		s := seedWarningSet(t, e)
		city := e.login(t, "demo-supervisor")
		list := func(query string) []string {
			t.Helper()
			r := e.do(t, req{method: "GET", path: "/api/v1/warnings" + query, token: city})
			expect(t, r, 200, "")
			if r.json(t)["next_cursor"] != nil {
				t.Fatalf("%s: a next cursor on the only page: %s", query, r.Body)
			}
			return warningIDs(r.json(t))
		}
		for _, c := range []struct {
			query string
			want  []warning.Warning
		}{
			{"", []warning.Warning{s.community, s.keyDate, s.county, s.guangrao, s.dongcheng}},
			{"?status=open", []warning.Warning{s.community, s.keyDate, s.guangrao, s.dongcheng}},
			{"?status=acknowledged", []warning.Warning{s.county}},
			{"?status=closed", nil},
			{"?region=" + demo.GuangraoCounty, []warning.Warning{s.guangrao}},
			{"?region=" + demo.DongchengStreet, []warning.Warning{s.community, s.keyDate, s.dongcheng}},
			{"?kind=overdue", []warning.Warning{s.county}},
			{"?kind=key_date", []warning.Warning{s.keyDate}},
			{"?kind=surge&region=" + demo.DongyingDistrict, []warning.Warning{s.dongcheng}},
			{"?severity=red", []warning.Warning{s.county}},
			{"?severity=blue", []warning.Warning{s.keyDate}},
			{"?severity=orange", []warning.Warning{s.community}},
			// Episodes reaching into [from, to]: days of 2026-11-20…21 and
			// 2027-02-06…12, 2026-10-01…03; the rank fall's months 2026-09…10
			// reach every day of October.
			{"?from=2026-11-21", []warning.Warning{s.keyDate, s.guangrao, s.dongcheng}},
			{"?from=2026-11-22", []warning.Warning{s.keyDate}},
			{"?to=2026-10-02", []warning.Warning{s.community, s.county}},
			{"?from=2026-10-03&to=2026-11-20", []warning.Warning{s.community, s.county, s.guangrao, s.dongcheng}},
			{"?from=2026-10-31&to=2026-11-19", []warning.Warning{s.community}},
			{"?from=2026-11-01&to=2026-11-19", nil},
		} {
			want := []string{}
			for _, w := range c.want {
				want = append(want, w.ID)
			}
			if got := list(c.query); !reflect.DeepEqual(got, want) {
				t.Errorf("%q: %v, want %v", c.query, got, want)
			}
		}
	})
}

func TestWarningListPagesAndBody(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		s := seedWarningSet(t, e)
		tok := e.login(t, "demo-admin")
		var got []string
		cursor := ""
		for page := 0; ; page++ {
			p := "/api/v1/warnings?limit=2"
			if cursor != "" {
				p += "&cursor=" + url.QueryEscape(cursor)
			}
			r := e.do(t, req{method: "GET", path: p, token: tok})
			expect(t, r, 200, "")
			ids := warningIDs(r.json(t))
			got = append(got, ids...)
			next, _ := r.json(t)["next_cursor"].(string)
			if want := []int{2, 2, 1}[page]; len(ids) != want || (next == "") != (page == 2) {
				t.Fatalf("page %d: %d items, next %q: %s", page, len(ids), next, r.Body)
			}
			if next == "" {
				break
			}
			cursor = next
		}
		if want := []string{s.community.ID, s.keyDate.ID, s.county.ID, s.guangrao.ID, s.dongcheng.ID}; !reflect.DeepEqual(got, want) {
			t.Fatalf("pages: %v, want %v", got, want)
		}

		// One item as the list renders it, every field.
		r := e.do(t, req{method: "GET", path: "/api/v1/warnings?kind=surge&region=" + demo.DongchengStreet, token: tok})
		expect(t, r, 200, "")
		item := r.json(t)["items"].([]any)[0].(map[string]any)
		want := map[string]any{
			"id": s.dongcheng.ID, "kind": "surge", "region_code": demo.DongchengStreet, "region_name": "东城街道",
			"level": "township", "case_kind": "dispute", "category": nil, "period_kind": "day",
			"first_day": "2026-11-20", "last_day": "2026-11-21", "method": "C2", "methods": []any{"C2", "poisson"},
			"observed": 9.0, "expected": 3.142857, "threshold": 5.5, "statistic": 5.4789, "p": 0.0051057,
			"severity": "yellow", "status": "open",
			"series": []any{map[string]any{"day": "2026-11-19", "count": 3.0}, map[string]any{"day": "2026-11-20", "count": 9.0},
				map[string]any{"day": "2026-11-21", "count": 11.0}},
			"detail":  map[string]any{"periods": nil, "peers": nil, "key_date": nil},
			"summary": "东城街道矛盾纠纷激增", "acked_by": nil, "acked_at": nil, "closed_by": nil, "closed_at": nil, "close_note": nil,
			"allowed_actions": []any{"ack", "close"}, "version": 1.0,
			"created_at": s.dongcheng.CreatedAt.Format(time.RFC3339Nano), "updated_at": s.dongcheng.UpdatedAt.Format(time.RFC3339Nano),
		}
		if !reflect.DeepEqual(item, want) {
			t.Fatalf("item:\n got %v\nwant %v", item, want)
		}

		// The other kinds' details, and an acknowledged warning's who and when.
		get := func(id string) map[string]any {
			r := e.do(t, req{method: "GET", path: "/api/v1/warnings/" + id, token: tok})
			expect(t, r, 200, "")
			return r.json(t)
		}
		rf := get(s.community.ID)
		if d := rf["detail"].(map[string]any); d["peers"] != 40.0 || d["key_date"] != nil ||
			!reflect.DeepEqual(d["periods"], []any{
				map[string]any{"period": "2026-09", "score": 91.5, "band": "green", "rank": 4.0},
				map[string]any{"period": "2026-10", "score": 80.25, "band": "yellow", "rank": 12.0}}) ||
			rf["case_kind"] != nil || rf["region_name"] != "府前社区" || rf["level"] != "community" || rf["period_kind"] != "month" ||
			!reflect.DeepEqual(rf["series"], []any{}) || !reflect.DeepEqual(rf["methods"], []any{}) {
			t.Fatalf("rank fall: %v", rf)
		}
		kd := get(s.keyDate.ID)
		if d := kd["detail"].(map[string]any); d["periods"] != nil || d["peers"] != nil || !reflect.DeepEqual(d["key_date"],
			map[string]any{"event_id": "e1", "name": "春节", "start": "2027-02-06", "end": "2027-02-12", "rises": []any{
				map[string]any{"case_kind": "incident", "category": "public_order", "years": []any{
					map[string]any{"start": "2026-02-16", "window": 14.0, "before": 20.0, "ratio": 2.8}}}}}) ||
			kd["category"] != "public_order" || kd["severity"] != "blue" {
			t.Fatalf("key date: %v", kd)
		}
		ov := get(s.county.ID)
		if ov["acked_by"] != userID(t, e, "demo-admin") || ov["acked_at"] == nil || ov["method"] != nil ||
			!reflect.DeepEqual(ov["allowed_actions"], []any{"close"}) || ov["region_name"] != "东营区" {
			t.Fatalf("overdue: %v", ov)
		}
	})
}

func TestWarningScope(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		s := seedWarningSet(t, e)
		county := e.login(t, "demo-county-supervisor") // 东营区
		r := e.do(t, req{method: "GET", path: "/api/v1/warnings", token: county})
		expect(t, r, 200, "")
		if got, want := warningIDs(r.json(t)), []string{s.community.ID, s.keyDate.ID, s.county.ID, s.dongcheng.ID}; !reflect.DeepEqual(got, want) {
			t.Fatalf("东营区 supervisor lists %v, want %v (no 广饶县 warning)", got, want)
		}
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/warnings/" + s.guangrao.ID, token: county}), 404, "not_found")
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/warnings/" + s.dongcheng.ID, token: county}), 200, "")
		// A region outside the scope is refused, not emptied.
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/warnings?region=" + demo.GuangraoCounty, token: county}), 403, "permission_denied")
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/warnings?region=" + demo.CityCode, token: county}), 403, "permission_denied")
		// A community mediator sees their community's warnings only.
		r = e.do(t, req{method: "GET", path: "/api/v1/warnings", token: e.login(t, "demo-mediator")})
		expect(t, r, 200, "")
		if got := warningIDs(r.json(t)); !reflect.DeepEqual(got, []string{s.community.ID}) {
			t.Fatalf("府前社区 mediator lists %v", got)
		}
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/warnings/" + s.dongcheng.ID, token: e.login(t, "demo-mediator")}), 404, "not_found")
		// Grid workers read no warnings at all.
		gw := e.login(t, "demo-gridworker")
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/warnings", token: gw}), 403, "permission_denied")
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/warnings/" + s.community.ID, token: gw}), 403, "permission_denied")
	})
}

func TestWarningListRefusesBadFilters(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		tok := e.login(t, "demo-supervisor")
		for _, c := range []struct{ query, field, msg string }{
			{"status=resolved", "status", "one of open, acknowledged, closed"},
			{"kind=flood", "kind", "one of surge, overdue, red_band, rank_fall, key_date"},
			{"severity=purple", "severity", "one of blue, yellow, orange, red"},
			{"from=2026-13-01", "from", "a local day, e.g. 2026-11-27"},
			{"to=2026-11-31", "to", "a local day, e.g. 2026-11-27"},
			{"from=2026-11-01T00:00:00%2B08:00", "from", "a local day, e.g. 2026-11-27"},
			{"region=999999", "region", "unknown region"},
			{"limit=0", "limit", "a whole number from 1 to 100"},
			{"limit=101", "limit", "a whole number from 1 to 100"},
			{"cursor=bm90LWEtY3Vyc29y", "cursor", "not a cursor from this API"},
			{"category=fire", "category", "unknown query parameter"},
			{"status=open&status=closed", "status", "given more than once"},
			{"from=2026-11-02&to=2026-11-01", "to", "a local day on or after from"},
		} {
			r := e.do(t, req{method: "GET", path: "/api/v1/warnings?" + c.query, token: tok})
			expectField(t, r, c.field, c.msg)
		}
		// Every bad filter is named at once.
		r := e.do(t, req{method: "GET", path: "/api/v1/warnings?status=x&kind=y&severity=z", token: tok})
		expect(t, r, 400, "invalid_argument")
		if f := fieldsOf(t, r); len(f) != 3 {
			t.Fatalf("fields %v, want status, kind and severity", f)
		}
	})
}

func TestWarningGetETag(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		clearWarnings(t, e)
		w := seedWarning(t, e, demo.DongchengStreet, e.clock.now(), nil)
		tok := e.login(t, "demo-county-supervisor")
		path := "/api/v1/warnings/" + w.ID
		r := e.do(t, req{method: "GET", path: path, token: tok})
		expect(t, r, 200, "")
		if r.Header.Get("ETag") != `"1"` || r.json(t)["id"] != w.ID || r.json(t)["version"] != 1.0 {
			t.Fatalf("get: %v %s", r.Header, r.Body)
		}
		nm := e.do(t, req{method: "GET", path: path, token: tok, header: map[string]string{"If-None-Match": `"1"`}})
		expect(t, nm, 304, "")
		if len(nm.Body) != 0 || nm.Header.Get("ETag") != `"1"` {
			t.Fatalf("304 with body %q, ETag %q", nm.Body, nm.Header.Get("ETag"))
		}
		expect(t, e.do(t, req{method: "GET", path: path, token: tok, header: map[string]string{"If-None-Match": `"2"`}}), 200, "")
		// Acknowledged, it is version 2: the old tag no longer matches.
		expect(t, e.do(t, req{method: "POST", path: path + "/ack", token: tok}), 200, "")
		r = e.do(t, req{method: "GET", path: path, token: tok, header: map[string]string{"If-None-Match": `"1"`}})
		expect(t, r, 200, "")
		if r.Header.Get("ETag") != `"2"` || r.json(t)["status"] != "acknowledged" {
			t.Fatalf("after ack: %v %s", r.Header, r.Body)
		}
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/warnings/" + uuid.NewString(), token: tok}), 404, "not_found")
		expect(t, e.do(t, req{method: "GET", path: path + "?x=1", token: tok}), 400, "invalid_argument")
	})
}

func TestWarningAckThenClose(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		clearWarnings(t, e)
		w := seedWarning(t, e, demo.DongchengStreet, e.clock.now(), nil)
		sup, supID := e.login(t, "demo-county-supervisor"), userID(t, e, "demo-county-supervisor")
		path := "/api/v1/warnings/" + w.ID

		r := e.do(t, req{method: "POST", path: path + "/ack", token: sup})
		expect(t, r, 200, "")
		body := r.json(t)
		if body["status"] != "acknowledged" || body["acked_by"] != supID || body["acked_at"] == nil || body["version"] != 2.0 ||
			!reflect.DeepEqual(body["allowed_actions"], []any{"close"}) || body["closed_at"] != nil || r.Header.Get("ETag") != `"2"` {
			t.Fatalf("ack: %v %s", r.Header, r.Body)
		}
		if st, v := storedWarning(t, e, w.ID); st != "acknowledged" || v != 2 {
			t.Fatalf("stored after ack: %s v%d", st, v)
		}
		if n := audits(t, e, "warning.ack", w.ID, supID); n != 1 {
			t.Fatalf("warning.ack audited %d times by the supervisor, want 1", n)
		}

		// Closing needs a note saying how it was dealt with; nothing changes without one.
		const noteMsg = "1 to 500 characters saying how the warning was dealt with"
		for _, b := range []any{nil, map[string]any{}, map[string]any{"note": "   "}, map[string]any{"note": nil}} {
			expectField(t, e.do(t, req{method: "POST", path: path + "/close", token: sup, body: b}), "note", noteMsg)
		}
		expectField(t, e.do(t, req{method: "POST", path: path + "/close", token: sup, body: map[string]any{"note": 7}}), "note", "a string")
		expectField(t, e.do(t, req{method: "POST", path: path + "/close", token: sup,
			body: map[string]any{"note": string(bytes.Repeat([]byte("很"), 501))}}), "note", noteMsg)
		expectField(t, e.do(t, req{method: "POST", path: path + "/close", token: sup,
			body: map[string]any{"note": "ok", "status": "open"}}), "status", "unknown field")
		if st, v := storedWarning(t, e, w.ID); st != "acknowledged" || v != 2 {
			t.Fatalf("a refused close changed the warning: %s v%d", st, v)
		}

		r = e.do(t, req{method: "POST", path: path + "/close", token: sup, body: map[string]any{"note": "已约谈双方, 增派巡逻"}})
		expect(t, r, 200, "")
		body = r.json(t)
		if body["status"] != "closed" || body["closed_by"] != supID || body["closed_at"] == nil || body["close_note"] != "已约谈双方, 增派巡逻" ||
			body["acked_by"] != supID || body["version"] != 3.0 || !reflect.DeepEqual(body["allowed_actions"], []any{}) {
			t.Fatalf("close: %s", r.Body)
		}
		if n := audits(t, e, "warning.close", w.ID, supID); n != 1 {
			t.Fatalf("warning.close audited %d times by the supervisor, want 1", n)
		}
		var note string
		if err := e.app.DB.SQL().QueryRow("SELECT close_note FROM warnings WHERE id = ?", w.ID).Scan(&note); err != nil || note != "已约谈双方, 增派巡逻" {
			t.Fatalf("stored note %q %v", note, err)
		}

		// A closed warning takes no action: 409 with what it allows (nothing).
		for _, a := range []struct {
			action string
			body   any
		}{{"ack", nil}, {"close", map[string]any{"note": "again"}}} {
			r = e.do(t, req{method: "POST", path: path + "/" + a.action, token: sup, body: a.body})
			expect(t, r, 409, "conflict")
			details := r.json(t)["error"].(map[string]any)["details"].(map[string]any)
			if details["status"] != "closed" || !reflect.DeepEqual(details["allowed_actions"], []any{}) {
				t.Fatalf("%s of a closed warning: %s", a.action, r.Body)
			}
		}
		if st, v := storedWarning(t, e, w.ID); st != "closed" || v != 3 {
			t.Fatalf("stored after refused actions: %s v%d", st, v)
		}
		if n := audits(t, e, "warning.ack", w.ID, "") + audits(t, e, "warning.close", w.ID, ""); n != 2 {
			t.Fatalf("%d audit rows, want 2", n)
		}
	})
}

func TestWarningActionWho(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		clearWarnings(t, e)
		now := e.clock.now()
		dc := seedWarning(t, e, demo.DongchengStreet, now, nil)
		gr := seedWarning(t, e, demo.GuangraoTownship, now, nil)
		admin := e.login(t, "demo-admin")
		// A supervisor of 广饶县.
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/users", token: admin, body: map[string]any{
			"username": "guangrao-supervisor", "password": "guangrao-passphrase-1", "name": "广饶县督导", "role": "supervisor",
			"region_code": demo.GuangraoCounty}}), 201, "")
		lr := e.do(t, req{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"username": "guangrao-supervisor", "password": "guangrao-passphrase-1"}})
		expect(t, lr, 200, "")
		guangrao := lr.json(t)["access_token"].(string)

		// Outside their county the warning does not exist for them; grid
		// workers may not act at all; a community mediator is below it.
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/warnings/" + dc.ID + "/ack", token: guangrao}), 404, "not_found")
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/warnings/" + dc.ID + "/close", token: guangrao, body: map[string]any{"note": "x"}}), 404, "not_found")
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/warnings/" + gr.ID + "/ack", token: e.login(t, "demo-county-supervisor")}), 404, "not_found")
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/warnings/" + dc.ID + "/ack", token: e.login(t, "demo-gridworker")}), 403, "permission_denied")
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/warnings/" + dc.ID + "/ack", token: e.login(t, "demo-mediator")}), 404, "not_found")
		for _, id := range []string{dc.ID, gr.ID} {
			if st, v := storedWarning(t, e, id); st != "open" || v != 1 {
				t.Fatalf("refused acks changed %s: %s v%d", id, st, v)
			}
		}
		for _, id := range []string{dc.ID, gr.ID} {
			if n := audits(t, e, "warning.ack", id, "") + audits(t, e, "warning.close", id, ""); n != 0 {
				t.Fatalf("%d audit rows of refused actions on %s", n, id)
			}
		}

		// The township's mediator is in scope and may acknowledge; the 广饶县
		// supervisor closes their own.
		r := e.do(t, req{method: "POST", path: "/api/v1/warnings/" + dc.ID + "/ack", token: e.login(t, "demo-township-mediator"), body: map[string]any{}})
		expect(t, r, 200, "")
		if r.json(t)["acked_by"] != userID(t, e, "demo-township-mediator") {
			t.Fatalf("ack by the mediator: %s", r.Body)
		}
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/warnings/" + gr.ID + "/close", token: guangrao, body: map[string]any{"note": "已处置"}}), 200, "")
		if n := audits(t, e, "warning.close", gr.ID, userID(t, e, "guangrao-supervisor")); n != 1 {
			t.Fatalf("close by the 广饶县 supervisor audited %d times", n)
		}
		// ack takes no fields.
		expectField(t, e.do(t, req{method: "POST", path: "/api/v1/warnings/" + gr.ID + "/ack", token: guangrao, body: map[string]any{"note": "x"}}),
			"note", "unknown field")
	})
}

func TestWarningActionIdempotentAndConditional(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		clearWarnings(t, e)
		w := seedWarning(t, e, demo.DongchengStreet, e.clock.now(), nil)
		sup := e.login(t, "demo-county-supervisor")
		path := "/api/v1/warnings/" + w.ID

		// Without a key the action is refused before anything runs.
		expectField(t, e.do(t, req{method: "POST", path: path + "/ack", token: sup, header: map[string]string{"Idempotency-Key": ""}}),
			"Idempotency-Key", "header required, 1–255 characters")

		// A stale If-Match is 412 and changes nothing; a malformed one is 400.
		r := e.do(t, req{method: "POST", path: path + "/ack", token: sup, header: map[string]string{"If-Match": `"2"`}})
		expect(t, r, 412, "precondition_failed")
		expectField(t, e.do(t, req{method: "POST", path: path + "/ack", token: sup, header: map[string]string{"If-Match": "soon"}}),
			"If-Match", `the ETag of the warning, e.g. "3"`)
		if st, v := storedWarning(t, e, w.ID); st != "open" || v != 1 {
			t.Fatalf("stale ack changed the warning: %s v%d", st, v)
		}

		// The same key answers the same bytes, and acts once.
		key := map[string]string{"Idempotency-Key": "ack-" + w.ID, "If-Match": `"1"`}
		first := e.do(t, req{method: "POST", path: path + "/ack", token: sup, header: key})
		expect(t, first, 200, "")
		again := e.do(t, req{method: "POST", path: path + "/ack", token: sup, header: key})
		expect(t, again, 200, "")
		if !bytes.Equal(first.Body, again.Body) || again.Header.Get("Idempotent-Replayed") != "true" || again.Header.Get("ETag") != `"2"` {
			t.Fatalf("replay differs:\n%s\n%s\n%v", first.Body, again.Body, again.Header)
		}
		if n := audits(t, e, "warning.ack", w.ID, ""); n != 1 {
			t.Fatalf("warning.ack audited %d times, want 1", n)
		}
		// The same key on another request is 422; a fresh one is the 409 of an
		// acknowledged warning, kept for its key too.
		expect(t, e.do(t, req{method: "POST", path: path + "/close", token: sup, header: key, body: map[string]any{"note": "x"}}), 422, "unprocessable")
		conflictKey := map[string]string{"Idempotency-Key": "ack-again-" + w.ID}
		c1 := e.do(t, req{method: "POST", path: path + "/ack", token: sup, header: conflictKey})
		expect(t, c1, 409, "conflict")
		c2 := e.do(t, req{method: "POST", path: path + "/ack", token: sup, header: conflictKey})
		if c2.Code != 409 || !bytes.Equal(c1.Body, c2.Body) {
			t.Fatalf("replayed conflict: %d %s", c2.Code, c2.Body)
		}
		details := c1.json(t)["error"].(map[string]any)["details"].(map[string]any)
		if details["status"] != "acknowledged" || !reflect.DeepEqual(details["allowed_actions"], []any{"close"}) {
			t.Fatalf("conflict details: %v", details)
		}

		// Close under the current tag moves it on; its old tag is then stale.
		r = e.do(t, req{method: "POST", path: path + "/close", token: sup, body: map[string]any{"note": "已处置"},
			header: map[string]string{"If-Match": `"2"`}})
		expect(t, r, 200, "")
		if r.Header.Get("ETag") != `"3"` {
			t.Fatalf("close ETag %q", r.Header.Get("ETag"))
		}
		expect(t, e.do(t, req{method: "POST", path: path + "/close", token: sup, body: map[string]any{"note": "again"},
			header: map[string]string{"If-Match": `"2"`}}), 412, "precondition_failed")
		if st, v := storedWarning(t, e, w.ID); st != "closed" || v != 3 {
			t.Fatalf("stored: %s v%d", st, v)
		}
	})
}
