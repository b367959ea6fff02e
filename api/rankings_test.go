package api_test

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"pingan/internal/access"
	"pingan/internal/demo"
	"pingan/internal/indicator"
	"pingan/internal/region"
)

// rkOnly leaves one indicator active: a manual, negative, per-capita count
// as in the worked example of SPEC §9.4 (floor F = 0, as its table).
func rkOnly(t *testing.T, e *env) {
	t.Helper()
	admin := e.login(t, "demo-admin")
	r := e.do(t, req{method: "GET", path: "/api/v1/indicators", token: admin})
	expect(t, r, 200, "")
	for _, it := range r.json(t)["items"].([]any) {
		m := it.(map[string]any)
		expect(t, e.do(t, req{method: "PATCH", path: "/api/v1/indicators/" + m["code"].(string), token: admin,
			body: map[string]any{"active": false}, header: map[string]string{"If-Match": fmt.Sprintf(`"%v"`, m["version"])}}), 200, "")
	}
	expect(t, e.do(t, req{method: "POST", path: "/api/v1/indicators", token: admin, body: map[string]any{
		"code": "example", "name_zh": "示例", "direction": "negative", "weight": 1, "periods": []string{"month"},
		"levels": []string{"county"}, "source": "manual", "per_capita": true, "window": 6, "alpha": 0.5, "mapping": "linear",
		"floor": 0}}), 201, "")
}

// The worked example of SPEC §9.4: county → (population, x, μ).
var rkExample = []struct {
	code       string
	population int64
	x, mu      float64
	// expected
	d                    float64
	rankSelf, rankCross  int
	scoreSelf, scoreCros float64
	score                float64
	rate                 float64
	rank                 int
	// with the default floor F = 60: each score is 60 + 0.4 × the table's
	scoreSelf60, scoreCross60, score60 float64
}{
	{demo.DongyingDistrict, 520_000, 12, 10, 0.2, 4, 2, 25, 75, 50, 0.2308, 4, 70, 90, 80},
	{"370503", 910_000, 30, 21, 0.4286, 5, 5, 0, 0, 0, 0.3297, 5, 60, 60, 60},
	{"370505", 260_000, 5, 6, -0.1667, 1, 1, 100, 100, 100, 0.1923, 1, 100, 100, 100},
	{"370522", 640_000, 18, 18, 0, 1, 4, 100, 25, 62.5, 0.2812, 3, 100, 70, 85},
	{demo.GuangraoCounty, 380_000, 9, 11, -0.1818, 1, 3, 100, 50, 75, 0.2368, 2, 100, 80, 90},
}

func TestIndexWorkedExampleThroughAPI(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		rkOnly(t, e)
		for _, c := range rkExample {
			if _, err := e.app.DB.SQL().Exec("UPDATE regions SET population = ? WHERE code = ?", c.population, c.code); err != nil {
				t.Fatal(err)
			}
		}
		// Six months at μ, then October at x, entered as department data.
		var items []map[string]any
		for _, c := range rkExample {
			for m := 4; m <= 10; m++ {
				v := c.mu
				if m == 10 {
					v = c.x
				}
				items = append(items, map[string]any{"indicator": "example", "region_code": c.code, "period": fmt.Sprintf("2026-%02d", m), "value": v})
			}
		}
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/indicator-values", token: e.login(t, "demo-supervisor"),
			body: map[string]any{"items": items}}), 200, "")
		// Not computed yet: no result, and the job the entry queued.
		pending := e.do(t, req{method: "GET", path: "/api/v1/index/rankings?level=county&period=month&at=2026-10", token: e.login(t, "demo-supervisor")})
		expect(t, pending, 200, "")
		if b := pending.json(t); b["computed_at"] != nil || len(b["items"].([]any)) != 0 || b["job"] == nil ||
			b["job"].(map[string]any)["status"] != "pending" || b["job"].(map[string]any)["reason"] != "late_data" {
			t.Fatalf("before the job ran: %s", pending.Body)
		}
		// Entering data queued each month; an admin may also ask.
		job := e.do(t, req{method: "POST", path: "/api/v1/index/recompute", token: e.login(t, "demo-admin"),
			body: map[string]any{"period": "month", "at": "2026-10"}})
		expect(t, job, 202, "")
		if err := e.app.Ranking.RunPending(context.Background()); err != nil {
			t.Fatal(err)
		}
		j := e.do(t, req{method: "GET", path: "/api/v1/index/jobs/" + job.json(t)["id"].(string), token: e.login(t, "demo-admin")})
		expect(t, j, 200, "")
		if j.json(t)["status"] != "done" {
			t.Fatalf("job %s", j.Body)
		}

		r := e.do(t, req{method: "GET", path: "/api/v1/index/rankings?level=county&period=month&at=2026-10", token: e.login(t, "demo-supervisor")})
		expect(t, r, 200, "")
		got := map[string]map[string]any{}
		for _, it := range r.json(t)["items"].([]any) {
			m := it.(map[string]any)
			got[m["region"].(map[string]any)["code"].(string)] = m
		}
		near := func(v any, want float64) bool { f, ok := v.(float64); return ok && math.Abs(f-want) < 5e-5 }
		for _, c := range rkExample {
			m := got[c.code]
			if m == nil {
				t.Fatalf("county %s missing from %s", c.code, r.Body)
			}
			ind := m["indicators"].([]any)[0].(map[string]any)
			if m["rank"] != float64(c.rank) || m["score"] != c.score || m["complete"] != true ||
				ind["value"] != c.x || ind["mu"] != c.mu || !near(ind["d"], c.d) || ind["rank_self"] != float64(c.rankSelf) ||
				ind["rank_cross"] != float64(c.rankCross) || ind["score_self"] != c.scoreSelf || ind["score_cross"] != c.scoreCros ||
				ind["score"] != c.score || !near(ind["rate"], c.rate) || ind["rate_smoothed"] != nil ||
				ind["name_zh"] != "示例" || ind["weight"] != 1.0 || ind["contribution"] != c.score {
				t.Errorf("county %s: %v", c.code, m)
			}
		}
		// The change is against September, computed from the same data.
		sep := e.do(t, req{method: "GET", path: "/api/v1/index/rankings?level=county&period=month&at=2026-09", token: e.login(t, "demo-supervisor")})
		expect(t, sep, 200, "")
		for _, it := range sep.json(t)["items"].([]any) {
			m := it.(map[string]any)
			code := m["region"].(map[string]any)["code"].(string)
			ch := got[code]["change"].(map[string]any)
			if ch["score"] != got[code]["score"].(float64)-m["score"].(float64) || ch["rank"] != m["rank"].(float64)-got[code]["rank"].(float64) {
				t.Errorf("change of %s: %v (September %v, rank %v)", code, ch, m["score"], m["rank"])
			}
		}

		// With the default floor F = 60: 80, 60, 100, 85, 90, the same ranks.
		admin := e.login(t, "demo-admin")
		expect(t, e.do(t, req{method: "PATCH", path: "/api/v1/indicators/example", token: admin, body: map[string]any{"floor": 60},
			header: map[string]string{"If-Match": `"1"`}}), 200, "")
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/index/recompute", token: admin,
			body: map[string]any{"period": "month", "at": "2026-10"}}), 202, "")
		if err := e.app.Ranking.RunPending(context.Background()); err != nil {
			t.Fatal(err)
		}
		r = e.do(t, req{method: "GET", path: "/api/v1/index/rankings?level=county&period=month&at=2026-10", token: e.login(t, "demo-supervisor")})
		expect(t, r, 200, "")
		for _, it := range r.json(t)["items"].([]any) {
			got[it.(map[string]any)["region"].(map[string]any)["code"].(string)] = it.(map[string]any)
		}
		for _, c := range rkExample {
			m := got[c.code]
			ind := m["indicators"].([]any)[0].(map[string]any)
			if m["rank"] != float64(c.rank) || m["score"] != c.score60 || ind["rank_self"] != float64(c.rankSelf) ||
				ind["rank_cross"] != float64(c.rankCross) || ind["score_self"] != c.scoreSelf60 || ind["score_cross"] != c.scoreCross60 ||
				ind["score"] != c.score60 || !near(ind["d"], c.d) {
				t.Errorf("county %s with F = 60: %v", c.code, m)
			}
		}
	})
}

func TestIndexScopeAndRankInParent(t *testing.T) {
	e := newEnv(t, "mysql")
	ctx := context.Background()
	// Reports in two counties last month, so that townships differ.
	lastMonth := time.Now().AddDate(0, -1, 0)
	for i, g := range []string{demo.FuqianGrid1, demo.FuqianGrid1, demo.GuangraoGrid1} {
		tok := e.login(t, "demo-admin")
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/incidents", token: tok, body: incidentBody(func(m map[string]any) {
			m["region_code"] = g
			m["occurred_at"] = lastMonth.Add(time.Duration(i) * time.Minute).UTC().Format(time.RFC3339)
		})}), 201, "")
	}
	period := indicator.PeriodOf(indicator.Month, lastMonth, e.app.Ranking.Location())
	if err := e.app.Ranking.Compute(ctx, period); err != nil {
		t.Fatal(err)
	}
	all := e.do(t, req{method: "GET", path: "/api/v1/index/rankings?level=township&period=month&at=" + period, token: e.login(t, "demo-supervisor")})
	expect(t, all, 200, "")
	cityRank := map[string]float64{}
	for _, it := range all.json(t)["items"].([]any) {
		m := it.(map[string]any)
		cityRank[m["region"].(map[string]any)["code"].(string)] = m["rank"].(float64)
	}
	r := e.do(t, req{method: "GET", path: "/api/v1/index/rankings?level=township&period=month&at=" + period, token: e.login(t, "demo-county-supervisor")})
	expect(t, r, 200, "")
	items := r.json(t)["items"].([]any)
	townships, _ := e.app.DB.FindRegions(ctx, region.Filter{Scope: access.Scope{Path: "/" + demo.CityCode + "/" + demo.DongyingDistrict + "/", Code: demo.DongyingDistrict, Depth: access.CountyDepth}, Level: region.Township, Limit: 100})
	if len(items) != len(townships) || len(items) == 0 {
		t.Fatalf("%d items for %d townships of 东营区", len(items), len(townships))
	}
	for _, it := range items {
		m := it.(map[string]any)
		reg := m["region"].(map[string]any)
		if reg["parent_code"] != demo.DongyingDistrict {
			t.Fatalf("another county's township: %v", reg)
		}
		// The city-wide rank, and the rank among 东营区's townships.
		if m["rank"] != cityRank[reg["code"].(string)] || m["rank_in_parent"].(float64) > float64(len(townships)) {
			t.Fatalf("ranks of %v: %v / %v (city %v)", reg["code"], m["rank"], m["rank_in_parent"], cityRank[reg["code"].(string)])
		}
	}
	expect(t, e.do(t, req{method: "GET", path: "/api/v1/index/rankings?level=township&period=month&at=" + period + "&parent=" + demo.GuangraoCounty,
		token: e.login(t, "demo-county-supervisor")}), 403, "permission_denied")
	expect(t, e.do(t, req{method: "GET", path: "/api/v1/index/rankings?level=township&period=month&at=" + period,
		token: e.login(t, "demo-gridworker")}), 403, "permission_denied")
	expect(t, e.do(t, req{method: "GET", path: "/api/v1/index/series?region=" + demo.GuangraoCounty + "&period=month&from=" + period + "&to=" + period,
		token: e.login(t, "demo-county-supervisor")}), 403, "permission_denied")
	s := e.do(t, req{method: "GET", path: "/api/v1/index/series?region=" + demo.DongchengStreet + "&period=month&from=" + period + "&to=" + period,
		token: e.login(t, "demo-county-supervisor")})
	expect(t, s, 200, "")
	if pts := s.json(t)["items"].([]any); len(pts) != 1 || pts[0].(map[string]any)["rank"] != cityRank[demo.DongchengStreet] {
		t.Fatalf("series %s", s.Body)
	}
	for _, bad := range []string{"level=city&period=month&at=" + period, "level=county&period=day&at=" + period,
		"level=county&period=month&at=2026-13", "level=county&period=month&at=" + period + "&x=1"} {
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/index/rankings?" + bad, token: e.login(t, "demo-supervisor")}), 400, "invalid_argument")
	}
}

func TestIndexLocalPeriodsAndLateData(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		loc := e.app.Ranking.Location()
		// 23:30 local on the last day of last month is 15:30 UTC that day: it belongs to last month.
		now := time.Now().In(loc)
		first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, loc)
		lateNight := first.Add(-30 * time.Minute) // 23:30 local on the last day of last month
		lastMonth := indicator.PeriodOf(indicator.Month, lateNight, loc)
		thisMonth := indicator.PeriodOf(indicator.Month, now, loc)
		for _, p := range []string{lastMonth, thisMonth} {
			if err := e.app.Ranking.Compute(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		value := func(period string) float64 {
			r := e.do(t, req{method: "GET", path: "/api/v1/index/rankings?level=community&period=month&at=" + period + "&parent=" + demo.DongchengStreet,
				token: e.login(t, "demo-supervisor")})
			expect(t, r, 200, "")
			for _, it := range r.json(t)["items"].([]any) {
				m := it.(map[string]any)
				if m["region"].(map[string]any)["code"] != demo.FuqianCommunity {
					continue
				}
				for _, ind := range m["indicators"].([]any) {
					if x := ind.(map[string]any); x["code"] == "public_order" {
						return x["value"].(float64)
					}
				}
			}
			t.Fatalf("no public_order value for 府前社区 in %s", period)
			return 0
		}
		var before string
		if err := e.app.DB.SQL().QueryRow("SELECT detail FROM index_results WHERE level = 'community' AND period = ? AND region_code = ?",
			thisMonth, demo.FuqianCommunity).Scan(&before); err != nil {
			t.Fatal(err)
		}
		if value(lastMonth) != 0 {
			t.Fatal("a report before any was made")
		}
		// A report sent now of what happened at 23:30 on the last day of last month.
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/incidents", token: e.login(t, "demo-gridworker"), body: incidentBody(func(m map[string]any) {
			m["occurred_at"] = lateNight.Format(time.RFC3339)
		})}), 201, "")
		var pending int
		if err := e.app.DB.SQL().QueryRow("SELECT COUNT(*) FROM index_jobs WHERE period = ? AND status = 'pending' AND reason = 'late_data'", lastMonth).Scan(&pending); err != nil || pending != 1 {
			t.Fatalf("late-data jobs for %s: %d %v", lastMonth, pending, err)
		}
		if err := e.app.Ranking.RunPending(ctx); err != nil {
			t.Fatal(err)
		}
		if value(lastMonth) != 1 {
			t.Fatalf("last month's value %v after the late report, want 1", value(lastMonth))
		}
		var after string
		if err := e.app.DB.SQL().QueryRow("SELECT detail FROM index_results WHERE level = 'community' AND period = ? AND region_code = ?",
			thisMonth, demo.FuqianCommunity).Scan(&after); err != nil || after != before {
			t.Fatalf("this month's result changed too (%v)", err)
		}
	})
}

func TestIndexJobsRunOnceAcrossInstances(t *testing.T) {
	e := newEnv(t, "mysql")
	other := reopen(t, e, e.app.Config.JWTKeys)
	ctx := context.Background()
	var wg sync.WaitGroup
	for _, a := range []*env{e, other, e, other} {
		wg.Go(func() {
			if err := a.app.Ranking.Tick(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	var jobs, runs, done int
	if err := e.app.DB.SQL().QueryRow("SELECT COUNT(*), COALESCE(SUM(attempts), 0), COALESCE(SUM(CASE WHEN status = 'done' THEN 1 ELSE 0 END), 0) FROM index_jobs "+indexOnly).
		Scan(&jobs, &runs, &done); err != nil {
		t.Fatal(err)
	}
	if jobs != 4 || runs != 4 || done != 4 {
		rows, _ := e.app.DB.SQL().Query("SELECT period, status, error FROM index_jobs " + indexOnly)
		for rows.Next() {
			var p, st, er string
			_ = rows.Scan(&p, &st, &er)
			t.Log(p, st, er)
		}
		t.Fatalf("%d jobs, %d runs, %d done; want each of the 4 periods queued once and run once", jobs, runs, done)
	}
	var owners int
	if err := e.app.DB.SQL().QueryRow("SELECT COUNT(DISTINCT period_kind, period) FROM index_results").Scan(&owners); err != nil || owners != 4 {
		t.Fatalf("results for %d periods, %v", owners, err)
	}
}
