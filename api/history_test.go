package api_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"pingan/internal/demo"
	"pingan/internal/indicator"
)

// TestStableHistory (issue 11, point 3): the periods of a data set are
// computed; then activity touches their cases — late acceptance, late
// resolution, follow-up, closing, reopening, escalation — and a report of
// a few days ago arrives late; every period is computed again. Every stored
// value of the earlier periods is unchanged, except the counts the late
// report adds to its own day and month.
func TestStableHistory(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		loc := e.app.Ranking.Location()
		if err := demo.Load(ctx, demo.Deps{Store: e.app.DB, Users: e.app.Users, Photos: e.app.Photos, Cases: true,
			Now: e.clock.now(), Loc: loc}); err != nil {
			t.Fatal(err)
		}
		// Every day from the first of last month to yesterday, and the two
		// months before this one: oldest first, as the scheduler computes.
		now := e.clock.now().In(loc)
		thisMonth := indicator.PeriodOf(indicator.Month, now, loc)
		lastMonth := indicator.Shift(indicator.Month, thisMonth, -1, loc)
		periods := []string{indicator.Shift(indicator.Month, thisMonth, -2, loc), lastMonth}
		today := indicator.PeriodOf(indicator.Day, now, loc)
		for d := lastMonth + "-01"; d != today; d = indicator.Shift(indicator.Day, d, 1, loc) {
			periods = append(periods, d)
		}
		compute := func() map[string]float64 {
			for _, p := range periods {
				if err := e.app.Ranking.Compute(ctx, p); err != nil {
					t.Fatal(err)
				}
			}
			return storedValues(t, e, periods)
		}
		before := compute()
		if len(before) < 1000 {
			t.Fatalf("only %d stored values over %d periods", len(before), len(periods))
		}

		admin := "demo-admin"
		first := func(query string) string {
			t.Helper()
			r := e.do(t, req{method: "GET", path: "/api/v1/disputes?limit=100&" + query, token: e.login(t, admin)})
			expect(t, r, 200, "")
			for _, it := range r.json(t)["items"].([]any) {
				m := it.(map[string]any)
				if created, _ := time.Parse(time.RFC3339, m["created_at"].(string)); created.Before(now.AddDate(0, 0, -2)) {
					return m["id"].(string)
				}
			}
			t.Fatalf("no dispute of days ago with %s", query)
			return ""
		}
		dpMust(t, e, admin, first("status=registered&overdue=true"), map[string]any{"action": "accept"})
		dpMust(t, e, admin, first("status=mediating&overdue=true"), dpActionBodies()["resolve"])
		dpMust(t, e, admin, first("status=failed"), dpActionBodies()["escalate"])
		resolved := first("status=resolved")
		d := e.do(t, req{method: "GET", path: "/api/v1/disputes/" + resolved, token: e.login(t, admin)})
		expect(t, d, 200, "")
		if fmt.Sprint(d.json(t)["allowed_actions"]) == "[follow_up reopen]" {
			dpMust(t, e, admin, resolved, map[string]any{"action": "follow_up", "satisfaction": 2})
		}
		dpMust(t, e, admin, resolved, dpActionBodies()["reopen"])
		dpMust(t, e, admin, first("status=referred"), dpActionBodies()["close"])

		// A report sent now of what happened four days ago.
		lateDay := now.AddDate(0, 0, -4)
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/incidents", token: e.login(t, "demo-gridworker"),
			body: incidentBody(func(m map[string]any) {
				m["category"] = "public_order"
				m["occurred_at"] = lateDay.UTC().Format(time.RFC3339)
			})}), 201, "")
		if err := e.app.Ranking.RunPending(ctx); err != nil {
			t.Fatal(err)
		}
		after := compute()

		day, month := indicator.PeriodOf(indicator.Day, lateDay, loc), indicator.PeriodOf(indicator.Month, lateDay, loc)
		grown := map[string]bool{}
		touched := map[string]string{day: indicator.Day}
		if slices.Contains(periods, month) { // this month is not among them
			touched[month] = indicator.Month
		}
		for p, kind := range touched {
			for level, code := range map[string]string{"county": demo.DongyingDistrict, "township": demo.DongchengStreet,
				"community": demo.FuqianCommunity} {
				grown[fmt.Sprintf("%s/%s/public_order/%s/%s", kind, p, level, code)] = true
			}
		}
		for k := range grown {
			if after[k] != before[k]+1 {
				t.Errorf("%s: %v after the late report, was %v; want one more", k, after[k], before[k])
			}
		}
		for k, v := range before {
			if !grown[k] && after[k] != v {
				t.Errorf("%s changed from %v to %v", k, v, after[k])
			}
		}
		for k, v := range after {
			if _, ok := before[k]; !ok && !grown[k] {
				t.Errorf("%s appeared with %v", k, v)
			}
		}
	})
}

// storedValues reads index_values of the periods: kind/period/indicator/
// level/region → value.
func storedValues(t *testing.T, e *env, periods []string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, p := range periods {
		rows, err := e.app.DB.SQL().Query(`SELECT period_kind, indicator, level, region_code, value FROM index_values
			WHERE period = ?`, p)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var kind, ind, level, code string
			var v float64
			if err := rows.Scan(&kind, &ind, &level, &code, &v); err != nil {
				t.Fatal(err)
			}
			out[fmt.Sprintf("%s/%s/%s/%s/%s", kind, p, ind, level, code)] = v
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}
