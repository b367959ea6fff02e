package api_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"pingan/internal/demo"
)

// The period summary (SPEC §11.1) on a data set built here, every figure
// hand-computed, for a period and its previous period, on both engines.

// summaryDay is day d of the env's month at hh:00 local (factsEnv's clock
// stands at 10:00 on the 2nd).
func summaryDay(e *env, d, hh int) time.Time {
	loc := e.app.Ranking.Location()
	n := e.clock.now().In(loc)
	return time.Date(n.Year(), n.Month(), d, hh, 0, 0, 0, loc)
}

// summaryAt moves the env's clock on to day d, hh:00.
func summaryAt(t *testing.T, e *env, d, hh int) {
	t.Helper()
	to := summaryDay(e, d, hh)
	if to.Before(e.clock.now()) {
		t.Fatalf("the clock would go back to %s", to)
	}
	dpAdvance(e, to.Sub(e.clock.now()))
}

// incAct takes an incident action as user at the incident's current version.
func incAct(t *testing.T, e *env, user, id, action string) {
	t.Helper()
	body := map[string]any{"action": action}
	if action == "reject" {
		body["note"] = "不属于本平台受理范围"
	}
	g := e.do(t, req{method: "GET", path: "/api/v1/incidents/" + id, token: e.login(t, "demo-admin")})
	expect(t, g, 200, "")
	r := e.do(t, req{method: "POST", path: "/api/v1/incidents/" + id + "/transitions", token: e.login(t, user),
		body: body, header: map[string]string{"If-Match": g.Header.Get("ETag")}})
	expect(t, r, 200, "")
}

// incNow reports an incident as demo-gridworker that occurred an hour
// before the env's clock.
func incNow(t *testing.T, e *env, severity string) string {
	t.Helper()
	inc := e.report(t, "demo-gridworker", func(m map[string]any) {
		m["severity"] = severity
		m["occurred_at"] = e.clock.now().Add(-time.Hour).UTC().Format(time.RFC3339)
	})
	return inc["id"].(string)
}

// summaryData builds the cases of TestSummary. The previous period is the
// 2nd and 3rd of the month, the period the 4th and 5th:
//
//	day 2 10:00  I1 (low), I5 (low), D1 (low risk) reported
//	day 2 11:00  D1 accepted by its community's mediator (accept due 12:00: met), started
//	day 2 12:00  I1 resolved on the spot by its reporter (2 h, never accepted)
//	day 3 09:00  D1 resolved at community level (23 h; resolve due day 3 10:00: met)
//	day 4 10:00  I2 (medium), I3, I4, D2, D3 reported
//	day 4 11:00  I4 rejected
//	day 4 12:00  I2 accepted (2 h)
//	day 4 13:00  D2 accepted by the township mediator (3 h; accept due 12:00: breached), started
//	day 4 15:00  D1 followed up, satisfaction 5
//	day 4 16:00  I5 resolved (54 h after its report, in the previous period)
//	day 5 08:00  D2 resolved, settled at township level (22 h; resolve due day 5 10:00: met)
//	day 5 09:00  D2 followed up, satisfaction 2
//	day 5 10:00  I2 resolved (24 h)
//	D3 is never accepted (accept due day 4 12:00: breached, still open); I3 stays open.
func summaryData(t *testing.T, e *env) (d3 string) {
	t.Helper()
	i1, i5 := incNow(t, e, "low"), incNow(t, e, "low")
	d1 := dpNow(t, e, func(m map[string]any) { m["risk_level"] = "low" })
	summaryAt(t, e, 2, 11)
	dpMust(t, e, "demo-mediator", d1, map[string]any{"action": "accept"})
	dpMust(t, e, "demo-mediator", d1, map[string]any{"action": "start"})
	summaryAt(t, e, 2, 12)
	incAct(t, e, "demo-gridworker", i1, "resolve")
	summaryAt(t, e, 3, 9)
	dpMust(t, e, "demo-mediator", d1, map[string]any{"action": "resolve", "agreement": "协商一致"})

	summaryAt(t, e, 4, 10)
	i2, i3, i4 := incNow(t, e, "medium"), incNow(t, e, "low"), incNow(t, e, "low")
	_ = i3
	d2 := dpNow(t, e, func(m map[string]any) { m["risk_level"] = "low" })
	d3 = dpNow(t, e, func(m map[string]any) { m["risk_level"] = "low" })
	summaryAt(t, e, 4, 11)
	incAct(t, e, "demo-supervisor", i4, "reject")
	summaryAt(t, e, 4, 12)
	incAct(t, e, "demo-supervisor", i2, "accept")
	summaryAt(t, e, 4, 13)
	dpMust(t, e, "demo-township-mediator", d2, map[string]any{"action": "accept"})
	dpMust(t, e, "demo-township-mediator", d2, map[string]any{"action": "start"})
	summaryAt(t, e, 4, 15)
	dpMust(t, e, "demo-mediator", d1, map[string]any{"action": "follow_up", "satisfaction": 5})
	summaryAt(t, e, 4, 16)
	incAct(t, e, "demo-supervisor", i5, "resolve")
	summaryAt(t, e, 5, 8)
	dpMust(t, e, "demo-township-mediator", d2, map[string]any{"action": "resolve", "agreement": "协商一致"})
	summaryAt(t, e, 5, 9)
	dpMust(t, e, "demo-township-mediator", d2, map[string]any{"action": "follow_up", "satisfaction": 2})
	summaryAt(t, e, 5, 10)
	incAct(t, e, "demo-supervisor", i2, "resolve")
	summaryAt(t, e, 7, 10)
	return d3
}

// wantFigure is a period's figures, as JSON.
const (
	wantPrevious = `{
	"reported": {"total": 3, "incidents": 2, "disputes": 1,
		"by_category": [{"kind": "dispute", "key": "neighbourhood", "name": "邻里", "count": 1},
			{"kind": "incident", "key": "public_order", "name": "治安", "count": 2}],
		"by_status": [{"kind": "dispute", "key": "resolved", "count": 1}, {"kind": "incident", "key": "resolved", "count": 2}],
		"by_level": [{"kind": "dispute", "key": "community", "count": 1}]},
	"resolved": {"count": 2, "incidents": 1, "disputes": 1,
		"days_to_accept": {"median": 0.04, "p90": 0.04}, "days_to_resolve": {"median": 0.08, "p90": 0.96},
		"community_resolution_rate": 1, "by_level": [{"kind": "dispute", "key": "community", "count": 1}]},
	"deadlines": {"due": 2, "met": 2, "breached": 0, "on_time_rate": 1},
	"follow_ups": {"count": 0, "mean_satisfaction": null},
	"open": {"as_of": "%s", "count": 1, "overdue": 0}}`
	wantCurrent = `{
	"reported": {"total": 5, "incidents": 3, "disputes": 2,
		"by_category": [{"kind": "dispute", "key": "neighbourhood", "name": "邻里", "count": 2},
			{"kind": "incident", "key": "public_order", "name": "治安", "count": 3}],
		"by_status": [{"kind": "dispute", "key": "registered", "count": 1}, {"kind": "dispute", "key": "resolved", "count": 1},
			{"kind": "incident", "key": "rejected", "count": 1}, {"kind": "incident", "key": "reported", "count": 1},
			{"kind": "incident", "key": "resolved", "count": 1}],
		"by_level": [{"kind": "dispute", "key": "community", "count": 2}]},
	"resolved": {"count": 3, "incidents": 2, "disputes": 1,
		"days_to_accept": {"median": 0.08, "p90": 0.13}, "days_to_resolve": {"median": 1, "p90": 2.25},
		"community_resolution_rate": 0, "by_level": [{"kind": "dispute", "key": "township", "count": 1}]},
	"deadlines": {"due": 3, "met": 1, "breached": 2, "on_time_rate": 0.3333},
	"follow_ups": {"count": 2, "mean_satisfaction": 3.5},
	"open": {"as_of": "%s", "count": 2, "overdue": 1}}`
	wantChange = `{"reported": 2, "incidents": 1, "disputes": 1, "resolved": 1, "median_days_to_accept": 0.04,
	"median_days_to_resolve": 0.92, "community_resolution_rate": -1, "met": -1, "breached": 2, "on_time_rate": -0.6667,
	"follow_ups": 2, "mean_satisfaction": null, "open": 1, "overdue": 1}`
	zeroFigure = `{
	"reported": {"total": 0, "incidents": 0, "disputes": 0, "by_category": [], "by_status": [], "by_level": []},
	"resolved": {"count": 0, "incidents": 0, "disputes": 0, "days_to_accept": {"median": null, "p90": null},
		"days_to_resolve": {"median": null, "p90": null}, "community_resolution_rate": null, "by_level": []},
	"deadlines": {"due": 0, "met": 0, "breached": 0, "on_time_rate": null},
	"follow_ups": {"count": 0, "mean_satisfaction": null},
	"open": {"as_of": "%s", "count": 0, "overdue": 0}}`
	zeroChange = `{"reported": 0, "incidents": 0, "disputes": 0, "resolved": 0, "median_days_to_accept": null,
	"median_days_to_resolve": null, "community_resolution_rate": null, "met": 0, "breached": 0, "on_time_rate": null,
	"follow_ups": 0, "mean_satisfaction": null, "open": 0, "overdue": 0}`
)

// sameJSONText fails unless got (a decoded value) equals the JSON want.
func sameJSONText(t *testing.T, what string, got any, want string) {
	t.Helper()
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: the expected JSON: %v\n%s", what, err, want)
	}
	g, _ := json.Marshal(got)
	ws, _ := json.Marshal(w)
	if string(g) != string(ws) {
		t.Fatalf("%s:\n got %s\nwant %s", what, g, ws)
	}
}

func TestSummary(t *testing.T) {
	for _, backend := range []string{"sqlite", "mysql"} {
		t.Run(backend, func(t *testing.T) {
			e := factsEnv(t, backend, map[string]string{"PINGAN_DISPUTE_DEADLINES": "accept.low=2h,resolve.community=24h"})
			d3 := summaryData(t, e)
			day := func(d int) string { return summaryDay(e, d, 0).Format("2006-01-02") }
			instant := func(d int) string { return summaryDay(e, d, 0).UTC().Format(time.RFC3339) }
			sup := e.login(t, "demo-supervisor")

			r := e.do(t, req{method: "GET", path: "/api/v1/reports/summary?from=" + day(4) + "&to=" + day(5), token: sup})
			expect(t, r, 200, "")
			got := r.json(t)
			sameJSONText(t, "region", got["region"], `{"code": "370500", "name": "东营市", "level": "city"}`)
			sameJSONText(t, "kind", got["kind"], `null`)
			sameJSONText(t, "period", got["period"], fmt.Sprintf(`{"from": %q, "to": %q, "days": 2}`, day(4), day(5)))
			sameJSONText(t, "previous period", got["previous_period"], fmt.Sprintf(`{"from": %q, "to": %q, "days": 2}`, day(2), day(3)))
			sameJSONText(t, "current", got["current"], fmt.Sprintf(wantCurrent, instant(6)))
			sameJSONText(t, "previous", got["previous"], fmt.Sprintf(wantPrevious, instant(4)))
			sameJSONText(t, "change", got["change"], wantChange)
			if _, ok := got["children"]; ok {
				t.Fatal("children without by=child")
			}

			// By child: the county holds everything, every other county nothing.
			r = e.do(t, req{method: "GET", path: "/api/v1/reports/summary?by=child&from=" + day(4) + "&to=" + day(5), token: sup})
			expect(t, r, 200, "")
			got = r.json(t)
			sameJSONText(t, "by child: current", got["current"], fmt.Sprintf(wantCurrent, instant(6)))
			children := got["children"].([]any)
			if len(children) != 5 {
				t.Fatalf("%d children of the city, want its 5 counties", len(children))
			}
			for _, c := range children {
				m := c.(map[string]any)
				code := m["region"].(map[string]any)["code"]
				if code == demo.DongyingDistrict {
					sameJSONText(t, "东营区", m["current"], fmt.Sprintf(wantCurrent, instant(6)))
					sameJSONText(t, "东营区 previous", m["previous"], fmt.Sprintf(wantPrevious, instant(4)))
					sameJSONText(t, "东营区 change", m["change"], wantChange)
					continue
				}
				sameJSONText(t, fmt.Sprint(code), m["current"], fmt.Sprintf(zeroFigure, instant(6)))
				sameJSONText(t, fmt.Sprint(code), m["change"], zeroChange)
			}

			// One kind: the disputes alone.
			r = e.do(t, req{method: "GET", path: "/api/v1/reports/summary?kind=dispute&from=" + day(4) + "&to=" + day(5), token: sup})
			expect(t, r, 200, "")
			cur := r.json(t)["current"].(map[string]any)
			sameJSONText(t, "disputes reported", cur["reported"].(map[string]any)["total"], `2`)
			sameJSONText(t, "disputes resolved", cur["resolved"], `{"count": 1, "incidents": 0, "disputes": 1,
				"days_to_accept": {"median": 0.13, "p90": 0.13}, "days_to_resolve": {"median": 0.92, "p90": 0.92},
				"community_resolution_rate": 0, "by_level": [{"kind": "dispute", "key": "township", "count": 1}]}`)
			sameJSONText(t, "disputes open", cur["open"], fmt.Sprintf(`{"as_of": %q, "count": 1, "overdue": 1}`, instant(6)))

			// Where the summary and the index's auto indicators coincide
			// they give the same numbers: 就地化解率, satisfaction, and the
			// breached deadlines of the month (the overdue indicator).
			month := summaryDay(e, 1, 0)
			last := month.AddDate(0, 1, -1).Format("2006-01-02")
			r = e.do(t, req{method: "GET", path: "/api/v1/reports/summary?kind=dispute&region=" + demo.FuqianCommunity + "&from=" +
				day(1) + "&to=" + last, token: sup})
			expect(t, r, 200, "")
			cur = r.json(t)["current"].(map[string]any)
			period := month.Format("2006-01")
			for _, c := range []struct {
				code string
				got  any
				want float64
			}{
				{"settlement_rate", cur["resolved"].(map[string]any)["community_resolution_rate"], 0.5},
				{"satisfaction", cur["follow_ups"].(map[string]any)["mean_satisfaction"], 3.5},
				{"overdue", cur["deadlines"].(map[string]any)["breached"], 2},
			} {
				v, ok := indicatorValue(t, e, "month", period, c.code, demo.FuqianCommunity)
				if !ok || v != c.want || c.got != c.want {
					t.Errorf("%s: the index says %v (%v), the summary %v, want %v", c.code, v, ok, c.got, c.want)
				}
			}

			// The heat map counts the same cases: its total is the summary's
			// count of cases reported, kind by kind.
			for kind, want := range map[string]float64{"": 5, "incident": 3, "dispute": 2} {
				h := e.do(t, req{method: "GET", path: "/api/v1/reports/heatmap?from=" + day(4) + "&to=" + day(5) + "&kind=" + kind, token: sup})
				if kind == "" {
					h = e.do(t, req{method: "GET", path: "/api/v1/reports/heatmap?from=" + day(4) + "&to=" + day(5), token: sup})
				}
				expect(t, h, 200, "")
				if got := h.json(t)["total"]; got != want {
					t.Errorf("heat map of %q: total %v, the summary counts %v", kind, got, want)
				}
			}

			// The export: the same figures, three rows per region.
			x := e.export(t, "demo-county-supervisor", "/api/v1/exports/summary?format=csv&from="+day(4)+"&to="+day(5))
			expect(t, x, 200, "")
			wantName := "filename*=UTF-8''" + url.PathEscape("东营区-平安建设统计摘要-"+day(4)+"_"+day(5)+".csv")
			if d := x.Header.Get("Content-Disposition"); !strings.Contains(d, wantName) {
				t.Fatalf("Content-Disposition %q, want %s", d, wantName)
			}
			recs := readCSV(t, x.Body)
			want := [][]string{
				{"地区编码", "地区", "层级", "期间", "起", "止", "上报总数", "事件", "矛盾纠纷", "化解数", "受理天数中位数", "受理天数P90",
					"化解天数中位数", "化解天数P90", "就地化解率", "到期期限", "按期", "逾期", "按期率", "回访数", "平均满意度", "期末未结", "期末逾期"},
				{"370502", "东营区", "县区", "本期", day(4), day(5), "5", "3", "2", "3", "0.08", "0.13", "1", "2.25", "0", "3", "1", "2",
					"0.3333", "2", "3.5", "2", "1"},
				{"370502", "东营区", "县区", "上期", day(2), day(3), "3", "2", "1", "2", "0.04", "0.04", "0.08", "0.96", "1", "2", "2", "0",
					"1", "0", "", "1", "0"},
				{"370502", "东营区", "县区", "变化", "", "", "2", "1", "1", "1", "0.04", "", "0.92", "", "-1", "1", "-1", "2", "-0.6667",
					"2", "", "1", "1"},
			}
			if fmt.Sprint(recs) != fmt.Sprint(want) {
				t.Fatalf("summary export:\n got %q\nwant %q", recs, want)
			}
			var audited int
			if err := e.app.DB.SQL().QueryRow("SELECT COUNT(*) FROM audit_log WHERE action = 'export.summary'").Scan(&audited); err != nil || audited != 1 {
				t.Fatalf("export.summary audited %d times (%v)", audited, err)
			}
			expect(t, e.export(t, "demo-county-supervisor", "/api/v1/exports/summary?format=csv&region="+demo.GuangraoCounty), 403,
				"permission_denied")
			expect(t, e.export(t, "demo-county-supervisor", "/api/v1/exports/summary?format=csv&from=x"), 400, "invalid_argument")

			// A county supervisor: their county by default, 403 for another.
			county := e.login(t, "demo-county-supervisor")
			r = e.do(t, req{method: "GET", path: "/api/v1/reports/summary?from=" + day(4) + "&to=" + day(5), token: county})
			expect(t, r, 200, "")
			sameJSONText(t, "county supervisor's region", r.json(t)["region"], `{"code": "370502", "name": "东营区", "level": "county"}`)
			sameJSONText(t, "county supervisor's figures", r.json(t)["current"], fmt.Sprintf(wantCurrent, instant(6)))
			r = e.do(t, req{method: "GET", path: "/api/v1/reports/summary?region=" + demo.GuangraoCounty, token: county})
			expect(t, r, 403, "permission_denied")
			r = e.do(t, req{method: "GET", path: "/api/v1/reports/summary", token: e.login(t, "demo-gridworker")})
			expect(t, r, 403, "permission_denied")

			// The period has ended, so its counts from facts are kept; the
			// cases reported by current status are counted again. D3 is
			// accepted now (late): its status moves, every other figure of
			// the period stays (it was open and overdue at the period's end).
			dpMust(t, e, "demo-township-mediator", d3, map[string]any{"action": "accept"})
			r = e.do(t, req{method: "GET", path: "/api/v1/reports/summary?from=" + day(4) + "&to=" + day(5), token: sup})
			expect(t, r, 200, "")
			moved := strings.Replace(wantCurrent, `{"kind": "dispute", "key": "registered", "count": 1}, {"kind": "dispute", "key": "resolved", "count": 1}`,
				`{"kind": "dispute", "key": "accepted", "count": 1}, {"kind": "dispute", "key": "resolved", "count": 1}`, 1)
			if moved == wantCurrent {
				t.Fatal("the expected status breakdown was not found to change")
			}
			sameJSONText(t, "after D3's acceptance", r.json(t)["current"], fmt.Sprintf(moved, instant(6)))
			sameJSONText(t, "after D3's acceptance: previous", r.json(t)["previous"], fmt.Sprintf(wantPrevious, instant(4)))
		})
	}
}

// TestSummaryBadInput: every bad parameter is a 400 naming it, nothing is
// counted.
func TestSummaryBadInput(t *testing.T) {
	e := newEnv(t, "sqlite")
	sup := e.login(t, "demo-supervisor")
	for q, field := range map[string]string{
		"from=2026-13-01":                          "from",
		"to=yesterday":                             "to",
		"from=2026-10-02&to=2026-10-01":            "to",
		"from=2025-01-01&to=2026-01-02":            "to",
		"kind=petition":                            "kind",
		"by=parent":                                "by",
		"region=999999":                            "region",
		"colour=red":                               "colour",
		"from=2026-10-01&from=2026-10-02":          "from",
		"region=" + demo.FuqianGrid1 + "&by=child": "by",
	} {
		r := e.do(t, req{method: "GET", path: "/api/v1/reports/summary?" + q, token: sup})
		expect(t, r, 400, "invalid_argument")
		details, _ := r.json(t)["error"].(map[string]any)["details"].(map[string]any)
		if _, ok := details["fields"].(map[string]any)[field]; !ok {
			t.Errorf("%s: the error names %v, want %s", q, details, field)
		}
	}
}
