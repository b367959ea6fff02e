package api_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/url"
	"reflect"
	"slices"
	"testing"
	"time"

	"pingan/internal/demo"
)

// The workload report (SPEC §11.3): every figure of a fixed data set, built
// through the API, equals its hand count; periods, pages, scope and bad
// input.

// workloadGet asks for the report as user and returns its rows by username.
func workloadGet(t *testing.T, e *env, user, query string) map[string]map[string]any {
	t.Helper()
	r := e.do(t, req{method: "GET", path: "/api/v1/reports/workload?limit=100&" + query, token: e.login(t, user)})
	expect(t, r, 200, "")
	body := r.json(t)
	if body["next_cursor"] != nil {
		t.Fatalf("more than one page: %s", r.Body)
	}
	out := map[string]map[string]any{}
	for _, it := range body["items"].([]any) {
		m := it.(map[string]any)
		out[m["username"].(string)] = m
	}
	return out
}

// wlGridWorker and wlMediator are a row's expected figures as the JSON
// decodes them (numbers float64, null nil).
func wlGridWorker(reports, confirmations int) map[string]any {
	return map[string]any{"reports": float64(reports), "confirmations": float64(confirmations)}
}

type wlMed struct {
	accepted, sessions, settled, failed, escalated int
	median                                         any // float64 or nil
	withDeadline, onTime                           int
	rate                                           any
	followUps                                      int
	satisfaction                                   any
}

func (m wlMed) json() map[string]any {
	return map[string]any{"accepted": float64(m.accepted), "sessions": float64(m.sessions), "settled": float64(m.settled),
		"failed": float64(m.failed), "escalated": float64(m.escalated), "median_days_to_settle": m.median,
		"settled_with_deadline": float64(m.withDeadline), "settled_on_time": float64(m.onTime), "on_time_rate": m.rate,
		"follow_ups": float64(m.followUps), "mean_satisfaction": m.satisfaction}
}

// checkWorkload compares every row of got with want: grid workers by their
// figures, mediators by theirs, and no other rows.
func checkWorkload(t *testing.T, what string, got map[string]map[string]any, workers map[string]map[string]any, mediators map[string]wlMed) {
	t.Helper()
	if len(got) != len(workers)+len(mediators) {
		t.Errorf("%s: %d rows, want %d: %v", what, len(got), len(workers)+len(mediators), slices.Sorted(maps.Keys(got)))
	}
	for name, want := range workers {
		row := got[name]
		if row == nil || row["role"] != "grid_worker" || row["mediator"] != nil || !reflect.DeepEqual(row["grid_worker"], want) {
			t.Errorf("%s: %s: %v, want grid_worker %v", what, name, row, want)
		}
	}
	for name, want := range mediators {
		row := got[name]
		if row == nil || row["role"] != "mediator" || row["grid_worker"] != nil || !reflect.DeepEqual(row["mediator"], want.json()) {
			t.Errorf("%s: %s: %v\nwant mediator %v", what, name, row, want.json())
		}
	}
}

// wlDispute registers a dispute as a demo grid worker, occurred an hour ago.
func wlDispute(t *testing.T, e *env, who string) string {
	t.Helper()
	r := e.do(t, req{method: "POST", path: "/api/v1/disputes", token: e.login(t, who), body: disputeBody(func(m map[string]any) {
		m["occurred_at"] = e.clock.now().Add(-time.Hour).UTC().Format(time.RFC3339)
	})})
	expect(t, r, 201, "")
	return r.json(t)["id"].(string)
}

// wlAct takes the actions in order as user; record_session is held now.
func wlAct(t *testing.T, e *env, user, id string, actions ...string) {
	t.Helper()
	for _, a := range actions {
		body := dpActionBodies()[a]
		if a == "record_session" {
			body["held_at"] = e.clock.now().Add(-10 * time.Minute).UTC().Format(time.RFC3339)
		}
		dpMust(t, e, user, id, body)
	}
}

func followUp(t *testing.T, e *env, user, id string, satisfaction int) {
	t.Helper()
	dpMust(t, e, user, id, map[string]any{"action": "follow_up", "satisfaction": satisfaction})
}

// confirm writes a confirmation of an incident by the user at a time: the
// timeline event that POST …/confirmations (SPEC §6.4, not built yet) will
// write.
func confirm(t *testing.T, e *env, user, incidentID string, at time.Time) {
	t.Helper()
	_, err := e.app.DB.SQL().Exec(`INSERT INTO case_events (id, case_id, case_kind, actor_id, action, from_status, to_status,
		note, request_id, created_at) VALUES (?, ?, 'incident', ?, 'confirm', 'reported', 'reported', '', '', ?)`,
		fmt.Sprintf("0193f1b2-0000-7000-a000-%012d", at.UnixMicro()%1e12), incidentID, userID(t, e, user), at.UTC().Round(time.Microsecond))
	if err != nil {
		t.Fatal(err)
	}
}

// days is a duration in days to hundredths, as the report rounds medians.
func days(d time.Duration) float64 { return math.Round(d.Hours()/24*100) / 100 }

// TestWorkloadFigures: two grid workers report; mediators accept, hold
// sessions, settle (one late), fail and escalate; cases are followed up,
// one reopened and settled again by another mediator. Each figure of each
// person equals its hand count, for the month of the work and the next.
func TestWorkloadFigures(t *testing.T) {
	for _, backend := range []string{"sqlite", "mysql"} {
		t.Run(backend, func(t *testing.T) {
			// A community case must be settled within 48 h of entering its level.
			e := factsEnv(t, backend, map[string]string{"PINGAN_DISPUTE_DEADLINES": "resolve.community=48h"})
			loc := e.app.Config.Location
			t0 := e.clock.now().In(loc) // 10:00 on the 2nd
			first := time.Date(t0.Year(), t0.Month(), 1, 0, 0, 0, 0, loc)
			month := "from=" + first.Format(time.DateOnly) + "&to=" + first.AddDate(0, 1, -1).Format(time.DateOnly)

			// Month 1, day 2: reports.
			now := func(m map[string]any) { m["occurred_at"] = e.clock.now().Add(-time.Hour).UTC().Format(time.RFC3339) }
			inc := e.report(t, "demo-gridworker", now)["id"].(string)
			e.report(t, "demo-gridworker", now)
			e.report(t, "demo-gridworker-2", now)
			a, b, c, x := wlDispute(t, e, "demo-gridworker"), wlDispute(t, e, "demo-gridworker"),
				wlDispute(t, e, "demo-gridworker"), wlDispute(t, e, "demo-gridworker")
			g := wlDispute(t, e, "demo-gridworker-2")
			confirm(t, e, "demo-gridworker", inc, t0)
			confirm(t, e, "demo-gridworker", inc, t0.AddDate(0, 0, -40)) // the month before
			// The same day: acceptances, sessions, a failure, an escalation.
			wlAct(t, e, "demo-mediator", a, "accept", "start", "record_session", "record_session")
			wlAct(t, e, "demo-mediator", b, "accept", "start", "record_session")
			wlAct(t, e, "demo-mediator-2", c, "accept", "start", "fail")
			wlAct(t, e, "demo-mediator", x, "escalate")
			wlAct(t, e, "demo-township-mediator", x, "accept", "start")
			wlAct(t, e, "demo-guangrao-mediator", g, "accept", "start")
			// A day later: three settled in time.
			dpAdvance(e, 24*time.Hour)
			wlAct(t, e, "demo-mediator", a, "resolve")
			wlAct(t, e, "demo-township-mediator", x, "resolve")
			wlAct(t, e, "demo-guangrao-mediator", g, "resolve")
			// Two days more: b settled 72 h after its report, past its 48 h;
			// follow-ups (b's recorded by an admin: it counts to who settled).
			dpAdvance(e, 48*time.Hour)
			wlAct(t, e, "demo-mediator", b, "resolve")
			followUp(t, e, "demo-mediator", a, 5)
			followUp(t, e, "demo-admin", b, 2)
			followUp(t, e, "demo-township-mediator", x, 4)

			monthOne := func(what string, got map[string]map[string]any) {
				t.Helper()
				checkWorkload(t, what, got, map[string]map[string]any{
					"demo-gridworker":   wlGridWorker(6, 1), // 2 incidents, 4 disputes; 1 confirmation in the month
					"demo-gridworker-2": wlGridWorker(2, 0),
				}, map[string]wlMed{
					// Days to settle: a 1, b 3 → median 2; b late → 1 of 2 in time; follow-ups 5 and 2.
					"demo-mediator":          {accepted: 2, sessions: 3, settled: 2, escalated: 1, median: 2.0, withDeadline: 2, onTime: 1, rate: 0.5, followUps: 2, satisfaction: 3.5},
					"demo-mediator-2":        {accepted: 1, failed: 1},
					"demo-township-mediator": {accepted: 1, settled: 1, median: 1.0, withDeadline: 1, onTime: 1, rate: 1.0, followUps: 1, satisfaction: 4.0},
					"demo-county-mediator":   {},
					"demo-city-mediator":     {},
					"demo-guangrao-mediator": {accepted: 1, settled: 1, median: 1.0, withDeadline: 1, onTime: 1, rate: 1.0},
				})
			}
			monthOne("month 1", workloadGet(t, e, "demo-supervisor", month))

			// Month 2, day 2: a's second follow-up (1) counts to demo-mediator
			// in month 2; x is reopened, escalated to the county and settled
			// there, and its follow-up (3) counts to the county mediator, not
			// to the township mediator who settled it before.
			next := time.Date(t0.Year(), t0.Month()+1, 2, 10, 0, 0, 0, loc)
			dpAdvance(e, next.Sub(e.clock.now()))
			followUp(t, e, "demo-mediator", a, 1)
			h := wlDispute(t, e, "demo-gridworker")
			wlAct(t, e, "demo-mediator", h, "accept")
			wlAct(t, e, "demo-township-mediator", x, "reopen", "escalate")
			wlAct(t, e, "demo-county-mediator", x, "accept", "start", "resolve")
			followUp(t, e, "demo-county-mediator", x, 3)
			var reported, resolved time.Time
			if err := e.app.DB.SQL().QueryRow(`SELECT f.reported_at, f.at FROM case_facts f WHERE f.case_id = ? AND f.fact = 'resolved'
				ORDER BY f.at DESC LIMIT 1`, x).Scan(&reported, &resolved); err != nil {
				t.Fatal(err)
			}
			xDays := days(resolved.Sub(reported))
			if xDays < 28 || xDays > 32 {
				t.Fatalf("x settled %v days after its report: the clock did not move as planned", xDays)
			}

			monthOne("month 1 again", workloadGet(t, e, "demo-supervisor", month))
			checkWorkload(t, "month 2", workloadGet(t, e, "demo-supervisor", ""), map[string]map[string]any{
				"demo-gridworker":   wlGridWorker(1, 0),
				"demo-gridworker-2": wlGridWorker(0, 0),
			}, map[string]wlMed{
				"demo-mediator":          {accepted: 1, followUps: 1, satisfaction: 1.0},
				"demo-mediator-2":        {},
				"demo-township-mediator": {escalated: 1},
				"demo-county-mediator":   {accepted: 1, settled: 1, median: xDays, withDeadline: 1, onTime: 1, rate: 1.0, followUps: 1, satisfaction: 3.0},
				"demo-city-mediator":     {},
				"demo-guangrao-mediator": {},
			})
			// Both months at once: the sums, and medians over both.
			both := "from=" + first.Format(time.DateOnly) + "&to=" + next.Format(time.DateOnly)
			got := workloadGet(t, e, "demo-supervisor", both+"&role=mediator")
			checkWorkload(t, "two months, mediators", got, nil, map[string]wlMed{
				"demo-mediator":          {accepted: 3, sessions: 3, settled: 2, escalated: 1, median: 2.0, withDeadline: 2, onTime: 1, rate: 0.5, followUps: 3, satisfaction: 8.0 / 3},
				"demo-mediator-2":        {accepted: 1, failed: 1},
				"demo-township-mediator": {accepted: 1, settled: 1, escalated: 1, median: 1.0, withDeadline: 1, onTime: 1, rate: 1.0, followUps: 1, satisfaction: 4.0},
				"demo-county-mediator":   {accepted: 1, settled: 1, median: xDays, withDeadline: 1, onTime: 1, rate: 1.0, followUps: 1, satisfaction: 3.0},
				"demo-city-mediator":     {},
				"demo-guangrao-mediator": {accepted: 1, settled: 1, median: 1.0, withDeadline: 1, onTime: 1, rate: 1.0},
			})
			// The rows name their people and regions.
			row := got["demo-township-mediator"]
			if row["name"] != "东城街道调解员" || row["region_code"] != demo.DongchengStreet || row["region_name"] != "东城街道" ||
				row["active"] != true || row["user_id"] != userID(t, e, "demo-township-mediator") {
				t.Errorf("row: %v", row)
			}
		})
	}
}

// TestWorkloadPagesAndScope: pages of one row walk every row in order
// (grid workers, then mediators, each by id); a county supervisor sees the
// people of their county only and may not ask for another; grid workers
// may not read it; bad parameters are 400 naming them.
func TestWorkloadPagesAndScope(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		sup := e.login(t, "demo-supervisor")
		var order []string
		for _, role := range []string{"grid_worker", "mediator"} {
			rows, err := e.app.DB.SQL().Query("SELECT username FROM users WHERE role = ? ORDER BY id", role)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var u string
				if err := rows.Scan(&u); err != nil {
					t.Fatal(err)
				}
				order = append(order, u)
			}
			rows.Close()
		}
		if len(order) != 8 {
			t.Fatalf("the demo has %d grid workers and mediators, want 8", len(order))
		}
		var paged []string
		cursor := ""
		for i := 0; ; i++ {
			p := "/api/v1/reports/workload?limit=1"
			if cursor != "" {
				p += "&cursor=" + url.QueryEscape(cursor)
			}
			r := e.do(t, req{method: "GET", path: p, token: sup})
			expect(t, r, 200, "")
			var body struct {
				From, To   string
				Items      []struct{ Username string }
				NextCursor *string `json:"next_cursor"`
			}
			if err := json.Unmarshal(r.Body, &body); err != nil {
				t.Fatal(err)
			}
			if len(body.Items) != 1 || body.From == "" || body.To == "" {
				t.Fatalf("page %d: %s", i, r.Body)
			}
			paged = append(paged, body.Items[0].Username)
			if body.NextCursor == nil {
				break
			}
			if i > len(order) {
				t.Fatalf("more pages than rows: %v", paged)
			}
			cursor = *body.NextCursor
		}
		if !slices.Equal(paged, order) {
			t.Fatalf("pages %v, want %v", paged, order)
		}

		// Scope.
		names := func(user, query string) []string {
			return slices.Sorted(maps.Keys(workloadGet(t, e, user, query)))
		}
		dongying := []string{"demo-county-mediator", "demo-gridworker", "demo-mediator", "demo-mediator-2", "demo-township-mediator"}
		if got := names("demo-county-supervisor", ""); !slices.Equal(got, dongying) {
			t.Errorf("county supervisor sees %v, want %v", got, dongying)
		}
		if got := names("demo-supervisor", "region="+demo.DongyingDistrict); !slices.Equal(got, dongying) {
			t.Errorf("city supervisor asking for 东营区 sees %v, want %v", got, dongying)
		}
		if got := names("demo-mediator", ""); !slices.Equal(got, []string{"demo-gridworker", "demo-mediator", "demo-mediator-2"}) {
			t.Errorf("community mediator sees %v", got)
		}
		if got := names("demo-supervisor", "role=grid_worker"); !slices.Equal(got, []string{"demo-gridworker", "demo-gridworker-2"}) {
			t.Errorf("role=grid_worker: %v", got)
		}
		county := e.login(t, "demo-county-supervisor")
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/reports/workload?region=" + demo.GuangraoCounty, token: county}), 403, "permission_denied")
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/reports/workload", token: e.login(t, "demo-gridworker")}), 403, "permission_denied")
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/reports/workload"}), 401, "unauthenticated")

		// Bad input names the field.
		for _, c := range []struct{ query, field string }{
			{"region=999999", "region"},
			{"from=2026-02-30", "from"},
			{"to=yesterday", "to"},
			{"from=2026-03-02&to=2026-03-01", "to"},
			{"from=2025-01-01&to=2026-03-01", "to"},
			{"role=admin", "role"},
			{"limit=0", "limit"},
			{"limit=101", "limit"},
			{"cursor=abc", "cursor"},
			{"kind=incident", "kind"},
		} {
			r := e.do(t, req{method: "GET", path: "/api/v1/reports/workload?" + c.query, token: sup})
			expect(t, r, 400, "invalid_argument")
			fields, _ := r.json(t)["error"].(map[string]any)["details"].(map[string]any)["fields"].(map[string]any)
			if _, ok := fields[c.field]; !ok || len(fields) != 1 {
				t.Errorf("%s: fields %v, want %s alone", c.query, fields, c.field)
			}
		}
	})
}
