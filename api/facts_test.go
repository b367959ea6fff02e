package api_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"pingan/internal/demo"
	"pingan/internal/indicator"
)

// Case facts (SPEC §4.3) and the auto indicators computed from them
// (§9.2): a past period's statistics never depend on a case's current state.

// factsEnv is an env whose clock stands at 10:00 local on the 2nd of a
// month long after the demo year, so that the month and its days hold only
// the cases a test makes.
func factsEnv(t *testing.T, backend string, vars map[string]string) *env {
	e := newEnvWith(t, backend, vars)
	loc := e.app.Ranking.Location()
	later := e.clock.now().In(loc).AddDate(1, 2, 0)
	at := time.Date(later.Year(), later.Month(), 2, 10, 0, 0, 0, loc)
	dpAdvance(e, at.Sub(e.clock.now()))
	return e
}

// indicatorValue is the value of indicator code for the community in the
// rankings of the period, computed afresh; ok is false when the community
// has no value for it.
func indicatorValue(t *testing.T, e *env, kind, period, code, community string) (float64, bool) {
	t.Helper()
	if err := e.app.Ranking.Compute(context.Background(), period); err != nil {
		t.Fatal(err)
	}
	r := e.do(t, req{method: "GET", path: fmt.Sprintf("/api/v1/index/rankings?level=community&period=%s&at=%s&parent=%s",
		kind, period, demo.DongchengStreet), token: e.login(t, "demo-supervisor")})
	expect(t, r, 200, "")
	for _, it := range r.json(t)["items"].([]any) {
		m := it.(map[string]any)
		if m["region"].(map[string]any)["code"] != community {
			continue
		}
		for _, ind := range m["indicators"].([]any) {
			if x := ind.(map[string]any); x["code"] == code {
				v, ok := x["value"].(float64)
				return v, ok
			}
		}
	}
	return 0, false
}

// dpNow registers a dispute that occurred an hour before the env's clock.
func dpNow(t *testing.T, e *env, edit func(m map[string]any)) string {
	t.Helper()
	r := e.do(t, req{method: "POST", path: "/api/v1/disputes", token: e.login(t, "demo-gridworker"),
		body: disputeBody(func(m map[string]any) {
			m["occurred_at"] = e.clock.now().Add(-time.Hour).UTC().Format(time.RFC3339)
			if edit != nil {
				edit(m)
			}
		})})
	expect(t, r, 201, "")
	return r.json(t)["id"].(string)
}

// TestOverdueSurvivesLateResolution is the example of issue 11: a deadline
// that fell in a day and was not met counts as overdue in that day, before
// and after the late resolution, however often the day is recomputed.
func TestOverdueSurvivesLateResolution(t *testing.T) {
	for _, backend := range []string{"sqlite", "mysql"} {
		t.Run(backend, func(t *testing.T) {
			e := factsEnv(t, backend, map[string]string{"PINGAN_DISPUTE_DEADLINES": "accept.low=1m,resolve.community=2m"})
			loc := e.app.Ranking.Location()
			today := indicator.PeriodOf(indicator.Day, e.clock.now(), loc)
			id := dpNow(t, e, func(m map[string]any) { m["risk_level"] = "low" })
			dpMust(t, e, "demo-mediator", id, map[string]any{"action": "accept"})
			dpMust(t, e, "demo-mediator", id, map[string]any{"action": "start"})
			if v, _ := indicatorValue(t, e, indicator.Day, today, "overdue", demo.FuqianCommunity); v != 0 {
				t.Fatalf("overdue %v before the deadline, want 0", v)
			}
			dpAdvance(e, 3*time.Minute)
			g := e.do(t, req{method: "GET", path: "/api/v1/disputes?overdue=true", token: e.login(t, "demo-mediator")})
			expect(t, g, 200, "")
			if items := g.json(t)["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != id {
				t.Fatalf("overdue list: %v", items)
			}
			if v, _ := indicatorValue(t, e, indicator.Day, today, "overdue", demo.FuqianCommunity); v != 1 {
				t.Fatalf("overdue %v past the deadline, want 1", v)
			}
			dpMust(t, e, "demo-mediator", id, dpActionBodies()["resolve"])
			for range 3 {
				if v, _ := indicatorValue(t, e, indicator.Day, today, "overdue", demo.FuqianCommunity); v != 1 {
					t.Fatalf("overdue %v after the late resolution, want 1", v)
				}
			}
			// Through the API and its job, as an admin asks for it.
			expect(t, e.do(t, req{method: "POST", path: "/api/v1/index/recompute", token: e.login(t, "demo-admin"),
				body: map[string]any{"period": "day", "at": today}}), 202, "")
			if err := e.app.Ranking.RunPending(context.Background()); err != nil {
				t.Fatal(err)
			}
			var stored float64
			if err := e.app.DB.SQL().QueryRow(`SELECT value FROM index_values WHERE period = ? AND indicator = 'overdue'
				AND level = 'community' AND region_code = ?`, today, demo.FuqianCommunity).Scan(&stored); err != nil || stored != 1 {
				t.Fatalf("stored overdue %v (%v), want 1", stored, err)
			}
			// The facts say why: the accept deadline met in time, the resolve
			// deadline met late and breached at its due time.
			rows, err := e.app.DB.SQL().Query(`SELECT kind, level, met_at IS NOT NULL, breached_at = due_at, ended_at IS NOT NULL
				FROM case_deadlines WHERE case_id = ? ORDER BY started_at, id`, id)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var got []string
			for rows.Next() {
				var kind, level string
				var met, breached, ended bool
				var b *bool
				if err := rows.Scan(&kind, &level, &met, &b, &ended); err != nil {
					t.Fatal(err)
				}
				if b != nil {
					breached = *b
				}
				got = append(got, fmt.Sprintf("%s/%s met=%v breached=%v ended=%v", kind, level, met, breached, ended))
			}
			want := []string{"accept/community met=true breached=false ended=true", "resolve/community met=true breached=true ended=true"}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("deadlines\n%v\nwant\n%v", got, want)
			}
		})
	}
}

// TestSettledLevelOfHigherMediator: a township mediator who accepts and
// settles a community case settles it at township level; 就地化解率 counts
// it as not settled locally.
func TestSettledLevelOfHigherMediator(t *testing.T) {
	for _, backend := range []string{"sqlite", "mysql"} {
		t.Run(backend, func(t *testing.T) {
			e := factsEnv(t, backend, nil)
			month := indicator.PeriodOf(indicator.Month, e.clock.now(), e.app.Ranking.Location())
			local := dpNow(t, e, nil)
			for _, a := range []string{"accept", "start", "resolve"} {
				dpMust(t, e, "demo-mediator", local, dpActionBodies()[a])
			}
			up := dpNow(t, e, nil)
			for _, a := range []string{"accept", "start", "resolve"} {
				dpMust(t, e, "demo-township-mediator", up, dpActionBodies()[a])
			}
			for id, want := range map[string]string{local: "community", up: "township"} {
				var level string
				if err := e.app.DB.SQL().QueryRow("SELECT level FROM case_facts WHERE case_id = ? AND fact = 'resolved'", id).
					Scan(&level); err != nil || level != want {
					t.Fatalf("settled level %q (%v), want %s", level, err, want)
				}
			}
			if v, ok := indicatorValue(t, e, indicator.Month, month, "settlement_rate", demo.FuqianCommunity); !ok || v != 0.5 {
				t.Fatalf("就地化解率 %v (%v), want 0.5", v, ok)
			}
		})
	}
}

// TestSatisfactionMeanOfFollowUps: two follow-ups of a period with
// satisfaction 5 and 1 make a mean of 3, whichever is the case's last.
func TestSatisfactionMeanOfFollowUps(t *testing.T) {
	for _, backend := range []string{"sqlite", "mysql"} {
		t.Run(backend, func(t *testing.T) {
			e := factsEnv(t, backend, nil)
			month := indicator.PeriodOf(indicator.Month, e.clock.now(), e.app.Ranking.Location())
			id := dpNow(t, e, nil)
			for _, a := range []string{"accept", "start", "resolve"} {
				dpMust(t, e, "demo-mediator", id, dpActionBodies()[a])
			}
			dpMust(t, e, "demo-mediator", id, map[string]any{"action": "follow_up", "satisfaction": 5})
			dpAdvance(e, 8*24*time.Hour)
			dpMust(t, e, "demo-mediator", id, map[string]any{"action": "follow_up", "satisfaction": 1})
			if v, ok := indicatorValue(t, e, indicator.Month, month, "satisfaction", demo.FuqianCommunity); !ok || v != 3 {
				t.Fatalf("satisfaction_mean %v (%v), want 3", v, ok)
			}
		})
	}
}
