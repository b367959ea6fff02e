package api_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/google/uuid"

	"pingan/internal/demo"
	"pingan/internal/incident"
	"pingan/internal/indicator"
	"pingan/internal/region"
)

// rkIncidents writes n incidents per time straight into the store (no
// index job is queued, as when a city loads its past cases), spread over
// the demo's grids and the categories the default indicators count.
func rkIncidents(t *testing.T, e *env, n int, at ...time.Time) {
	t.Helper()
	var grids []region.Region
	for _, r := range demo.Regions() {
		if r.Level == region.Grid {
			grids = append(grids, r)
		}
	}
	byCode := map[string]region.Region{}
	for _, r := range demo.Regions() {
		byCode[r.Code] = r
	}
	categories := []string{"public_order", "telecom_fraud", "fire", "safety_hazard", "public_order", "other"}
	var incs []incident.Incident
	for k, when := range at {
		for i := range n {
			// A skewed spread: some grids see many cases, most few.
			g := grids[(i*i*7+k*13)%len(grids)]
			community := byCode[g.ParentCode]
			township := byCode[community.ParentCode]
			id := uuid.Must(uuid.NewV7()).String()
			incs = append(incs, incident.Incident{ID: id, CaseNo: fmt.Sprintf("SJ-T-%d-%04d", k, i),
				Category: categories[(i+k)%len(categories)], Severity: incident.Low, Status: incident.Reported, Description: "x",
				RegionCode: g.Code, CommunityCode: community.Code, TownshipCode: township.Code, CountyCode: township.ParentCode,
				OccurredAt: when.Add(time.Duration(i) * time.Minute).UTC(), ReportedAt: when.UTC(), ReporterID: "test",
				PhotoIDs: []string{}, Version: 1, CreatedAt: when.UTC(), UpdatedAt: when.UTC()})
		}
	}
	if err := e.app.DB.BulkInsertIncidents(context.Background(), incs, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
}

// rkList reads a rankings answer as a supervisor: the body and its items by
// region code.
func rkList(t *testing.T, e *env, level, kind, at string) (map[string]any, map[string]map[string]any) {
	t.Helper()
	r := e.do(t, req{method: "GET", path: "/api/v1/index/rankings?level=" + level + "&period=" + kind + "&at=" + at,
		token: e.login(t, "demo-supervisor")})
	expect(t, r, 200, "")
	body := r.json(t)
	items := map[string]map[string]any{}
	for _, it := range body["items"].([]any) {
		m := it.(map[string]any)
		items[m["region"].(map[string]any)["code"].(string)] = m
	}
	return body, items
}

// TestIndexRankingsExplainTheScore: on the default indicators and computed
// cases, each indicator of a rankings item carries its name, its weight,
// its contribution — the contributions add up to the composite — and its
// change since the period before; the answer says when it was computed.
func TestIndexRankingsExplainTheScore(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		loc := e.app.Ranking.Location()
		now := time.Now().In(loc)
		first := time.Date(now.Year(), now.Month(), 1, 10, 0, 0, 0, loc)
		before, last := first.AddDate(0, -2, 0), first.AddDate(0, -1, 0)
		rkIncidents(t, e, 300, before, last)
		pBefore, pLast := indicator.PeriodOf(indicator.Month, before, loc), indicator.PeriodOf(indicator.Month, last, loc)
		for _, p := range []string{pBefore, pLast} {
			if err := e.app.Ranking.Compute(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		inds, err := e.app.DB.FindIndicators(ctx)
		if err != nil {
			t.Fatal(err)
		}
		byCode := map[string]indicator.Indicator{}
		for _, i := range inds {
			byCode[i.Code] = i
		}
		for _, level := range []string{"county", "township", "community"} {
			body, items := rkList(t, e, level, "month", pLast)
			_, prev := rkList(t, e, level, "month", pBefore)
			computed, err := time.Parse(time.RFC3339Nano, fmt.Sprint(body["computed_at"]))
			if err != nil || time.Since(computed) > time.Minute || body["job"] != nil {
				t.Fatalf("%s: computed_at %v job %v", level, body["computed_at"], body["job"])
			}
			scored, changes := 0, 0
			for code, it := range items {
				var sum, sw, sws float64
				for _, x := range it["indicators"].([]any) {
					ind := x.(map[string]any)
					def := byCode[ind["code"].(string)]
					if ind["name_zh"] != def.NameZH || def.NameZH == "" {
						t.Fatalf("%s %s: name_zh %v", code, ind["code"], ind["name_zh"])
					}
					if ind["value"] == nil {
						if ind["weight"] != nil || ind["contribution"] != nil || ind["change"] != nil {
							t.Fatalf("%s %s without a value: %v", code, ind["code"], ind)
						}
						continue
					}
					if ind["weight"] != def.Weight {
						t.Fatalf("%s %s: weight %v, want %v", code, ind["code"], ind["weight"], def.Weight)
					}
					sum += ind["contribution"].(float64)
					sw += def.Weight
					sws += def.Weight * ind["score"].(float64)
					// The change is this score minus last period's.
					var was any
					for _, y := range prev[code]["indicators"].([]any) {
						if p := y.(map[string]any); p["code"] == ind["code"] {
							was = p["score"]
						}
					}
					switch {
					case was == nil && ind["change"] != nil:
						t.Fatalf("%s %s: change %v without a previous score", code, ind["code"], ind["change"])
					case was != nil && ind["change"] != ind["score"].(float64)-was.(float64):
						t.Fatalf("%s %s: change %v, score %v, before %v", code, ind["code"], ind["change"], ind["score"], was)
					case was != nil:
						changes++
					}
				}
				if it["score"] == nil {
					continue
				}
				scored++
				score := it["score"].(float64)
				if math.Abs(sum-score) > 1e-9 || math.Abs(sws/sw-score) > 1e-9 || score < 60 {
					t.Fatalf("%s: contributions add up to %.12f, score %.12f (Σws/Σw %.12f)", code, sum, score, sws/sw)
				}
			}
			if scored != len(items) || scored == 0 || changes == 0 {
				t.Fatalf("%s: %d items, %d scored, %d changes", level, len(items), scored, changes)
			}
		}

		// A period not computed is not an empty result: computed_at is
		// null, and the job says whether it is coming.
		pOld := indicator.Shift(indicator.Month, pBefore, -1, loc)
		body, items := rkList(t, e, "county", "month", pOld)
		if body["computed_at"] != nil || body["job"] != nil || len(items) != 0 || len(body["items"].([]any)) != 0 {
			t.Fatalf("not computed: %v", body)
		}
		job := e.do(t, req{method: "POST", path: "/api/v1/index/recompute", token: e.login(t, "demo-admin"),
			body: map[string]any{"period": "month", "at": pOld}})
		expect(t, job, 202, "")
		body, _ = rkList(t, e, "county", "month", pOld)
		j, _ := body["job"].(map[string]any)
		if body["computed_at"] != nil || j["id"] != job.json(t)["id"] || j["status"] != "pending" || j["reason"] != "request" ||
			j["period"] != pOld || len(body["items"].([]any)) != 0 {
			t.Fatalf("queued: %v", body)
		}

		// The series gives each point when it was computed.
		s := e.do(t, req{method: "GET", path: "/api/v1/index/series?region=" + demo.DongyingDistrict + "&period=month&from=" + pOld +
			"&to=" + pLast, token: e.login(t, "demo-supervisor")})
		expect(t, s, 200, "")
		series := s.json(t)
		pts := series["items"].([]any)
		if len(pts) != 2 || pts[0].(map[string]any)["period"] != pBefore || pts[1].(map[string]any)["period"] != pLast ||
			pts[1].(map[string]any)["computed_at"] == nil || series["computed_at"] != pts[1].(map[string]any)["computed_at"] {
			t.Fatalf("series %s", s.Body)
		}
		s = e.do(t, req{method: "GET", path: "/api/v1/index/series?region=" + demo.DongyingDistrict + "&period=month&from=" + pOld +
			"&to=" + pOld, token: e.login(t, "demo-supervisor")})
		expect(t, s, 200, "")
		if series := s.json(t); series["computed_at"] != nil || len(series["items"].([]any)) != 0 {
			t.Fatalf("series of a period not computed: %s", s.Body)
		}
	})
}
