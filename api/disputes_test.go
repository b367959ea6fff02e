package api_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"pingan/internal/demo"
	"pingan/internal/dispute"
	"pingan/internal/region"
)

const (
	dpPhone    = "13912345678"
	dpIDNumber = "370502199001031234" // its check digit (GB 11643) is 4
)

func disputeBody(edit func(m map[string]any)) map[string]any {
	m := map[string]any{
		"category": "neighbourhood", "description": "楼上漏水, 邻里协商未果", "risk_level": "medium",
		"occurred_at": time.Now().Add(-2 * time.Hour).UTC().Format(time.RFC3339),
		"amount":      120000,
		"parties": []map[string]any{
			{"role": "applicant", "name": "张三", "phone": dpPhone, "id_number": dpIDNumber},
			{"role": "respondent", "name": "李四", "phone": "138-0000-9999"},
		},
	}
	if edit != nil {
		edit(m)
	}
	return m
}

// dpCreate registers a dispute in 府前社区第1网格 as demo-gridworker.
func dpCreate(t *testing.T, e *env) map[string]any {
	t.Helper()
	r := e.do(t, req{method: "POST", path: "/api/v1/disputes", token: e.login(t, "demo-gridworker"), body: disputeBody(nil)})
	expect(t, r, 201, "")
	return r.json(t)
}

// dpAct takes an action as user on the dispute at its current version.
func dpAct(t *testing.T, e *env, user, id string, body map[string]any) resp {
	t.Helper()
	tok := e.login(t, user)
	g := e.do(t, req{method: "GET", path: "/api/v1/disputes/" + id, token: e.login(t, "demo-admin")})
	expect(t, g, 200, "")
	return e.do(t, req{method: "POST", path: "/api/v1/disputes/" + id + "/actions", token: tok, body: body,
		header: map[string]string{"If-Match": g.Header.Get("ETag")}})
}

func dpMust(t *testing.T, e *env, user, id string, body map[string]any) map[string]any {
	t.Helper()
	r := dpAct(t, e, user, id, body)
	expect(t, r, 200, "")
	return r.json(t)
}

func dpEvents(t *testing.T, e *env, id string) int {
	t.Helper()
	var n int
	if err := e.app.DB.SQL().QueryRow("SELECT COUNT(*) FROM case_events WHERE case_id = ?", id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDisputeCreateProtectsParties(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		d := dpCreate(t, e)
		id := d["id"].(string)
		if d["status"] != "registered" || d["level"] != "community" || d["level_code"] != demo.FuqianCommunity ||
			!strings.HasPrefix(d["case_no"].(string), "JF-370502-") || d["due_at"] == nil || d["parties_revealed"] != false {
			t.Fatalf("created: %v", d)
		}
		parties := d["parties"].([]any)
		p0, p1 := parties[0].(map[string]any), parties[1].(map[string]any)
		if p0["phone"] != "139****5678" || p0["id_number"] != "370502********1234" || p0["name"] != "张三" ||
			p1["phone"] != "138****9999" || p1["id_number"] != "" {
			t.Fatalf("parties not masked: %v", parties)
		}
		// No plain phone or ID number anywhere in the database rows.
		for _, q := range []string{
			"SELECT COUNT(*) FROM dispute_parties WHERE phone LIKE '%5678%' OR id_number LIKE '%1234%' OR phone = ''",
			"SELECT COUNT(*) FROM disputes WHERE description LIKE '%13912345678%'",
		} {
			var n int
			if err := e.app.DB.SQL().QueryRow(q).Scan(&n); err != nil || n != 0 {
				t.Fatalf("%s: %d %v", q, n, err)
			}
		}
		var sealed string
		if err := e.app.DB.SQL().QueryRow("SELECT phone FROM dispute_parties WHERE dispute_id = ? AND position = 0", id).Scan(&sealed); err != nil ||
			!strings.HasPrefix(sealed, "v1.") {
			t.Fatalf("stored phone %q %v", sealed, err)
		}

		reveal := func(user string) resp {
			return e.do(t, req{method: "GET", path: "/api/v1/disputes/" + id + "?reveal=parties", token: e.login(t, user)})
		}
		audits := func() int {
			var n int
			if err := e.app.DB.SQL().QueryRow("SELECT COUNT(*) FROM audit_log WHERE action = 'dispute.reveal' AND entity_id = ?", id).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		// Nobody is assigned yet: the mediator may not reveal; neither may the reporter or a supervisor.
		for _, u := range []string{"demo-mediator", "demo-gridworker", "demo-supervisor"} {
			expect(t, reveal(u), 403, "permission_denied")
		}
		if audits() != 0 {
			t.Fatal("a refused reveal was audited")
		}
		r := reveal("demo-admin")
		expect(t, r, 200, "")
		got := r.json(t)["parties"].([]any)[0].(map[string]any)
		if got["phone"] != dpPhone || got["id_number"] != dpIDNumber || r.json(t)["parties_revealed"] != true {
			t.Fatalf("admin reveal: %s", r.Body)
		}
		if audits() != 1 {
			t.Fatalf("reveals audited: %d, want 1", audits())
		}
		// Once assigned, the mediator may.
		dpMust(t, e, "demo-mediator", id, map[string]any{"action": "accept"})
		expect(t, reveal("demo-mediator"), 200, "")
		expect(t, reveal("demo-mediator-2"), 403, "permission_denied")
		if audits() != 2 {
			t.Fatalf("reveals audited: %d, want 2", audits())
		}
		// Exact phone search, by its keyed hash; in any spelling.
		for _, phone := range []string{dpPhone, "139-1234-5678"} {
			l := e.do(t, req{method: "GET", path: "/api/v1/disputes?phone=" + phone, token: e.login(t, "demo-mediator")})
			expect(t, l, 200, "")
			items := l.json(t)["items"].([]any)
			if len(items) != 1 || items[0].(map[string]any)["id"] != id {
				t.Fatalf("phone %s: %s", phone, l.Body)
			}
		}
		l := e.do(t, req{method: "GET", path: "/api/v1/disputes?phone=13912345670", token: e.login(t, "demo-mediator")})
		expect(t, l, 200, "")
		if n := len(l.json(t)["items"].([]any)); n != 0 {
			t.Fatalf("another phone found %d", n)
		}
		// None of it reached the logs, though it was sent, searched and revealed.
		logs := e.logs.String()
		if !strings.Contains(logs, "/api/v1/disputes") {
			t.Fatal("no request logged: the check below would prove nothing")
		}
		for _, secret := range []string{dpPhone, "1234-5678", dpIDNumber, "199001031234"} {
			if strings.Contains(logs, secret) {
				t.Fatalf("the logs hold %q", secret)
			}
		}
	})
}

func TestDisputeCreateRefusesBadInput(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		before := countRows(t, e, "disputes")
		tok := e.login(t, "demo-gridworker")
		for name, edit := range map[string]func(m map[string]any){
			"no parties":    func(m map[string]any) { delete(m, "parties") },
			"empty parties": func(m map[string]any) { m["parties"] = []any{} },
			"bad role":      func(m map[string]any) { m["parties"] = []map[string]any{{"role": "judge", "name": "王五"}} },
			"bad phone": func(m map[string]any) {
				m["parties"] = []map[string]any{{"role": "applicant", "name": "王五", "phone": "12ab"}}
			},
			"bad id number": func(m map[string]any) {
				m["parties"] = []map[string]any{{"role": "applicant", "name": "王五", "id_number": "123"}}
			},
			"bad risk":          func(m map[string]any) { m["risk_level"] = "extreme" },
			"negative amount":   func(m map[string]any) { m["amount"] = -1 },
			"status":            func(m map[string]any) { m["status"] = "resolved" },
			"level":             func(m map[string]any) { m["level"] = "city" },
			"assignee":          func(m map[string]any) { m["assignee_id"] = "0193f1b2-0000-7000-8000-000000000001" },
			"unknown":           func(m map[string]any) { m["x"] = 1 },
			"incident category": func(m map[string]any) { m["category"] = "public_order" },
		} {
			r := e.do(t, req{method: "POST", path: "/api/v1/disputes", token: tok, body: disputeBody(edit)})
			if r.Code != 400 {
				t.Errorf("%s: %d %s", name, r.Code, r.Body)
			}
		}
		// Another county's grid is outside the reporter's scope; supervisors do not report.
		r := e.do(t, req{method: "POST", path: "/api/v1/disputes", token: tok,
			body: disputeBody(func(m map[string]any) { m["region_code"] = demo.GuangraoGrid1 })})
		expect(t, r, 403, "permission_denied")
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/disputes", token: e.login(t, "demo-supervisor"),
			body: disputeBody(func(m map[string]any) { m["region_code"] = demo.FuqianGrid1 })}), 403, "permission_denied")
		if n := countRows(t, e, "disputes"); n != before {
			t.Fatalf("%d disputes written by refused requests", n-before)
		}
	})
}

// dpActionBodies is a valid body for each action.
func dpActionBodies() map[string]map[string]any {
	return map[string]map[string]any{
		"accept": {"action": "accept"},
		"start":  {"action": "start"},
		"record_session": {"action": "record_session", "held_at": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339),
			"method": "onsite", "attendees": []string{"张三", "李四"}, "notes": "双方陈述"},
		"resolve":   {"action": "resolve", "agreement": "李四赔偿维修费1200元", "amount_settled": 120000},
		"fail":      {"action": "fail", "reason": "双方分歧过大"},
		"escalate":  {"action": "escalate", "reason": "需街道协调"},
		"refer":     {"action": "refer", "to": "litigation", "note": "建议诉讼"},
		"follow_up": {"action": "follow_up", "satisfaction": 5},
		"close":     {"action": "close"},
		"reopen":    {"action": "reopen", "reason": "协议未履行"},
	}
}

// dpInState walks a new dispute into the state as demo-mediator (the
// assignee), with a follow-up done for "resolved+followed".
func dpInState(t *testing.T, e *env, state string) string {
	t.Helper()
	id := dpCreate(t, e)["id"].(string)
	b := dpActionBodies()
	steps := map[string][]string{
		"registered":        nil,
		"accepted":          {"accept"},
		"mediating":         {"accept", "start"},
		"resolved":          {"accept", "start", "resolve"},
		"resolved+followed": {"accept", "start", "resolve", "follow_up"},
		"failed":            {"accept", "start", "fail"},
		"referred":          {"accept", "start", "fail", "refer"},
		"closed":            {"accept", "start", "resolve", "follow_up", "close"},
	}[state]
	for _, a := range steps {
		dpMust(t, e, "demo-mediator", id, b[a])
	}
	return id
}

func TestDisputeStateMachine(t *testing.T) {
	// Every (state, action) pair, as the assignee: allowed ones move to the
	// right state with one event; the others are 409 with the allowed list.
	want := map[string]map[string]string{ // state → action → new state
		"registered":        {"accept": "accepted", "escalate": "registered"},
		"accepted":          {"start": "mediating", "escalate": "registered"},
		"mediating":         {"record_session": "mediating", "resolve": "resolved", "fail": "failed", "escalate": "registered"},
		"resolved":          {"follow_up": "resolved", "reopen": "registered"},
		"resolved+followed": {"close": "closed", "reopen": "registered"}, // a second follow-up within 7 days: 409
		"failed":            {"escalate": "registered", "refer": "referred"},
		"referred":          {"close": "closed"},
		"closed":            {"reopen": "registered"},
	}
	e := newEnv(t, "mysql")
	for state, allowed := range want {
		for _, action := range dispute.Actions() {
			t.Run(state+"/"+action, func(t *testing.T) {
				id := dpInState(t, e, state)
				events := dpEvents(t, e, id)
				r := dpAct(t, e, "demo-mediator", id, dpActionBodies()[action])
				to, ok := allowed[action]
				if !ok {
					expect(t, r, 409, "conflict")
					details := r.json(t)["error"].(map[string]any)["details"].(map[string]any)
					var got []string
					for _, a := range details["allowed_actions"].([]any) {
						got = append(got, a.(string))
					}
					var exp []string
					for a := range allowed {
						exp = append(exp, a)
					}
					slices.Sort(exp)
					if !slices.Equal(got, exp) {
						t.Fatalf("allowed_actions %v, want %v", got, exp)
					}
					if n := dpEvents(t, e, id); n != events {
						t.Fatalf("a refused action wrote %d events", n-events)
					}
					return
				}
				expect(t, r, 200, "")
				d := r.json(t)
				if d["status"] != to {
					t.Fatalf("%s → %v, want %s", action, d["status"], to)
				}
				if n := dpEvents(t, e, id); n != events+1 {
					t.Fatalf("%d events written, want 1", n-events)
				}
				if action == "escalate" && (d["level"] != "township" || d["level_code"] != demo.DongchengStreet || d["assignee_id"] != nil) {
					t.Fatalf("escalated: %v", d)
				}
			})
		}
	}
}

func TestDisputeActionRules(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		id := dpInState(t, e, "registered")
		// Missing If-Match, stale If-Match, fields an action does not take.
		tok := e.login(t, "demo-mediator")
		r := e.do(t, req{method: "POST", path: "/api/v1/disputes/" + id + "/actions", token: tok, body: map[string]any{"action": "accept"}})
		expect(t, r, 428, "precondition_required")
		r = e.do(t, req{method: "POST", path: "/api/v1/disputes/" + id + "/actions", token: tok, body: map[string]any{"action": "accept"},
			header: map[string]string{"If-Match": `"7"`}})
		expect(t, r, 412, "precondition_failed")
		expect(t, dpAct(t, e, "demo-mediator", id, map[string]any{"action": "accept", "reason": "x"}), 400, "invalid_argument")
		expect(t, dpAct(t, e, "demo-mediator", id, map[string]any{"action": "dance"}), 400, "invalid_argument")
		// Grid workers and supervisors take no dispute actions at all.
		expect(t, dpAct(t, e, "demo-gridworker", id, map[string]any{"action": "accept"}), 403, "permission_denied")
		expect(t, dpAct(t, e, "demo-supervisor", id, map[string]any{"action": "accept"}), 403, "permission_denied")
		// Accept for a colleague at the level: assigned, and notified; not for someone outside it.
		expect(t, dpAct(t, e, "demo-mediator", id, map[string]any{"action": "accept", "assignee_id": userID(t, e, "demo-guangrao-mediator")}),
			400, "invalid_argument")
		d := dpMust(t, e, "demo-mediator", id, map[string]any{"action": "accept", "assignee_id": userID(t, e, "demo-mediator-2")})
		if d["assignee_id"] != userID(t, e, "demo-mediator-2") {
			t.Fatalf("assignee %v", d["assignee_id"])
		}
		var n int
		if err := e.app.DB.SQL().QueryRow("SELECT COUNT(*) FROM notifications WHERE user_id = ? AND kind = 'assigned' AND case_id = ?",
			userID(t, e, "demo-mediator-2"), id).Scan(&n); err != nil || n != 1 {
			t.Fatalf("assignment notifications: %d %v", n, err)
		}
		// Only the assignee mediates.
		expect(t, dpAct(t, e, "demo-mediator", id, map[string]any{"action": "start"}), 403, "permission_denied")
		dpMust(t, e, "demo-mediator-2", id, map[string]any{"action": "start"})
		dpMust(t, e, "demo-mediator-2", id, dpActionBodies()["resolve"])
		// Close needs a follow-up; one follow-up per 7 days.
		r = dpAct(t, e, "demo-mediator", id, map[string]any{"action": "close"})
		expect(t, r, 409, "conflict")
		dpMust(t, e, "demo-mediator", id, map[string]any{"action": "follow_up", "satisfaction": 4})
		expect(t, dpAct(t, e, "demo-mediator", id, map[string]any{"action": "follow_up", "satisfaction": 4}), 409, "conflict")
		dpAdvance(e, 8*24*time.Hour)
		dpMust(t, e, "demo-mediator", id, map[string]any{"action": "follow_up", "satisfaction": 3})
		d = dpMust(t, e, "demo-mediator", id, map[string]any{"action": "close"})
		if d["status"] != "closed" || d["follow_ups"] != 2.0 || d["resolved_level"] != "community" {
			t.Fatalf("closed: %v", d)
		}
		// Reopen only within 90 days.
		dpAdvance(e, 91*24*time.Hour)
		expect(t, dpAct(t, e, "demo-mediator", id, dpActionBodies()["reopen"]), 409, "conflict")
		// The timeline lists every action with what it carried.
		tl := e.do(t, req{method: "GET", path: "/api/v1/disputes/" + id + "/timeline", token: e.login(t, "demo-mediator")})
		expect(t, tl, 200, "")
		var actions []string
		for _, it := range tl.json(t)["items"].([]any) {
			actions = append(actions, it.(map[string]any)["action"].(string))
		}
		if want := []string{"create", "accept", "start", "resolve", "follow_up", "follow_up", "close"}; !slices.Equal(actions, want) {
			t.Fatalf("timeline %v, want %v", actions, want)
		}
	})
}

func TestDisputeAcceptRace(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		id := dpCreate(t, e)["id"].(string)
		etag := e.do(t, req{method: "GET", path: "/api/v1/disputes/" + id, token: e.login(t, "demo-admin")}).Header.Get("ETag")
		codes := make([]int, 2)
		var wg sync.WaitGroup
		for i, u := range []string{"demo-mediator", "demo-mediator-2"} {
			tok := e.login(t, u)
			wg.Go(func() {
				codes[i] = e.do(t, req{method: "POST", path: "/api/v1/disputes/" + id + "/actions", token: tok,
					body: map[string]any{"action": "accept"}, header: map[string]string{"If-Match": etag}}).Code
			})
		}
		wg.Wait()
		slices.Sort(codes)
		if codes[0] != 200 || codes[1] != 412 {
			t.Fatalf("codes %v, want one 200 and one 412", codes)
		}
		var accepts int
		var assignee string
		if err := e.app.DB.SQL().QueryRow("SELECT COUNT(*) FROM case_events WHERE case_id = ? AND action = 'accept'", id).Scan(&accepts); err != nil || accepts != 1 {
			t.Fatalf("accept events %d %v", accepts, err)
		}
		if err := e.app.DB.SQL().QueryRow("SELECT assignee_id FROM disputes WHERE id = ?", id).Scan(&assignee); err != nil ||
			(assignee != userID(t, e, "demo-mediator") && assignee != userID(t, e, "demo-mediator-2")) {
			t.Fatalf("assignee %q %v", assignee, err)
		}
	})
}

func TestDisputeEscalation(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		id := dpInState(t, e, "mediating")
		d := dpMust(t, e, "demo-mediator", id, dpActionBodies()["escalate"])
		if d["status"] != "registered" || d["level"] != "township" || d["level_code"] != demo.DongchengStreet {
			t.Fatalf("escalated: %v", d)
		}
		// The township's mediators are notified, once, and find it in their queue.
		var n int
		if err := e.app.DB.SQL().QueryRow("SELECT COUNT(*) FROM notifications WHERE user_id = ? AND kind = 'escalated' AND case_id = ?",
			userID(t, e, "demo-township-mediator"), id).Scan(&n); err != nil || n != 1 {
			t.Fatalf("escalation notifications: %d %v", n, err)
		}
		q := e.do(t, req{method: "GET", path: "/api/v1/disputes?level=township&status=registered", token: e.login(t, "demo-township-mediator")})
		expect(t, q, 200, "")
		if items := q.json(t)["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != id {
			t.Fatalf("township queue: %s", q.Body)
		}
		// Another township's mediator does not see it at all.
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/disputes/" + id, token: e.login(t, "demo-guangrao-mediator")}), 404, "not_found")
		expect(t, dpAct(t, e, "demo-guangrao-mediator", id, map[string]any{"action": "accept"}), 404, "not_found")
		// The community mediator still reads it, with its history, but may not act any more (403).
		g := e.do(t, req{method: "GET", path: "/api/v1/disputes/" + id, token: e.login(t, "demo-mediator")})
		expect(t, g, 200, "")
		if acts := g.json(t)["allowed_actions"].([]any); len(acts) != 0 {
			t.Fatalf("the community mediator may still %v", acts)
		}
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/disputes/" + id + "/timeline", token: e.login(t, "demo-mediator")}), 200, "")
		expect(t, dpAct(t, e, "demo-mediator", id, map[string]any{"action": "accept"}), 403, "permission_denied")
		// Up to county, settled there; the level of settlement is kept.
		dpMust(t, e, "demo-township-mediator", id, dpActionBodies()["escalate"])
		for _, a := range []string{"accept", "start", "resolve"} {
			d = dpMust(t, e, "demo-county-mediator", id, dpActionBodies()[a])
		}
		if d["resolved_level"] != "county" || d["level"] != "county" || d["status"] != "resolved" {
			t.Fatalf("settled: %v", d)
		}
		// A county mediator handles a township's or community's case too (their level and below).
		other := dpCreate(t, e)["id"].(string)
		dpMust(t, e, "demo-county-mediator", other, map[string]any{"action": "accept"})
		// Not above city.
		top := dpInState(t, e, "registered")
		for _, u := range []string{"demo-mediator", "demo-township-mediator", "demo-county-mediator"} {
			dpMust(t, e, u, top, dpActionBodies()["escalate"])
		}
		r := dpAct(t, e, "demo-city-mediator", top, dpActionBodies()["escalate"])
		expect(t, r, 409, "conflict")
	})
}

func TestDisputeDeadlines(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		high := e.do(t, req{method: "POST", path: "/api/v1/disputes", token: e.login(t, "demo-gridworker"),
			body: disputeBody(func(m map[string]any) { m["risk_level"] = "high" })})
		expect(t, high, 201, "")
		d := high.json(t)
		id := d["id"].(string)
		created, _ := time.Parse(time.RFC3339Nano, d["created_at"].(string))
		due, _ := time.Parse(time.RFC3339Nano, d["due_at"].(string))
		if due.Sub(created) != 2*time.Hour {
			t.Fatalf("high risk due %v after creation, want 2h", due.Sub(created))
		}
		overdue := func() []any {
			r := e.do(t, req{method: "GET", path: "/api/v1/disputes?overdue=true", token: e.login(t, "demo-mediator")})
			expect(t, r, 200, "")
			return r.json(t)["items"].([]any)
		}
		if len(overdue()) != 0 {
			t.Fatal("overdue before its time")
		}
		notes := func(kind string) int {
			var n int
			if err := e.app.DB.SQL().QueryRow("SELECT COUNT(*) FROM notifications WHERE case_id = ? AND kind = ?", id, kind).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		// An hour before: due soon, once, however often the scan runs.
		dpAdvance(e, time.Hour+time.Minute)
		for range 3 {
			if _, err := e.app.Disputes.NotifyDue(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if notes("due_soon") != 2 || notes("overdue") != 0 { // the two community mediators
			t.Fatalf("due_soon %d overdue %d", notes("due_soon"), notes("overdue"))
		}
		dpAdvance(e, time.Hour)
		for range 3 {
			if _, err := e.app.Disputes.NotifyDue(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if items := overdue(); len(items) != 1 || items[0].(map[string]any)["id"] != id || items[0].(map[string]any)["overdue"] != true {
			t.Fatalf("overdue list: %v", items)
		}
		if notes("overdue") != 2 {
			t.Fatalf("overdue notifications %d, want one per mediator", notes("overdue"))
		}
		// Accepting it sets the next deadline (30 days at community level) and it leaves the overdue list.
		a := dpMust(t, e, "demo-mediator", id, map[string]any{"action": "accept"})
		due2, _ := time.Parse(time.RFC3339Nano, a["due_at"].(string))
		if due2.Sub(created) != 30*24*time.Hour || a["overdue"] != false {
			t.Fatalf("after accept due %v after creation, overdue %v", due2.Sub(created), a["overdue"])
		}
		if len(overdue()) != 0 {
			t.Fatal("still overdue after accept")
		}
	})
}

func TestSettlementRate(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		from := e.clock.now().Add(-time.Hour)
		// Three settled at community level, one at township, one failed, one still open: 3 / 4.
		for range 3 {
			dpInState(t, e, "resolved")
		}
		up := dpInState(t, e, "registered")
		dpMust(t, e, "demo-mediator", up, dpActionBodies()["escalate"])
		for _, a := range []string{"accept", "start", "resolve"} {
			dpMust(t, e, "demo-township-mediator", up, dpActionBodies()[a])
		}
		dpInState(t, e, "failed")
		dpInState(t, e, "mediating")
		to := e.clock.now().Add(time.Hour)
		for _, r := range []region.Region{
			{Code: demo.CityCode, Level: region.City}, {Code: demo.DongyingDistrict, Level: region.County},
			{Code: demo.DongchengStreet, Level: region.Township}, {Code: demo.FuqianCommunity, Level: region.Community},
		} {
			rate, community, total, err := e.app.Disputes.SettlementRate(ctx, r, from, to)
			if err != nil || community != 3 || total != 4 || rate != 0.75 {
				t.Fatalf("%s: %v (%d of %d), %v; want 0.75 (3 of 4)", r.Code, rate, community, total, err)
			}
		}
		// Another county, and a period before: nothing resolved.
		rate, _, total, err := e.app.Disputes.SettlementRate(ctx, region.Region{Code: demo.GuangraoCounty, Level: region.County}, from, to)
		if err != nil || total != 0 || rate != 0 {
			t.Fatalf("广饶: %v of %d, %v", rate, total, err)
		}
		if _, _, total, _ := e.app.Disputes.SettlementRate(ctx, region.Region{Code: demo.CityCode, Level: region.City}, from.Add(-48*time.Hour), from); total != 0 {
			t.Fatalf("the day before: %d", total)
		}
	})
}

// dpAdvance moves the clock on; the access tokens of before have expired then.
func dpAdvance(e *env, d time.Duration) {
	e.clock.advance(d)
	clear(e.tokens)
}

func userID(t *testing.T, e *env, username string) string {
	t.Helper()
	var id string
	if err := e.app.DB.SQL().QueryRow("SELECT id FROM users WHERE username = ?", username).Scan(&id); err != nil {
		t.Fatalf("user %s: %v", username, err)
	}
	return id
}

var _ = fmt.Sprintf

func TestDisputeOfflineSync(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		before := countRows(t, e, "disputes")
		ops := []map[string]any{
			{"idempotency_key": "offline-d1", "method": "POST", "path": "/api/v1/disputes", "body": disputeBody(nil)},
			{"idempotency_key": "offline-d2", "method": "POST", "path": "/api/v1/disputes", "body": disputeBody(func(m map[string]any) { m["risk_level"] = "x" })},
		}
		for range 2 { // the replay writes nothing new
			r := e.do(t, req{method: "POST", path: "/api/v1/sync", token: e.login(t, "demo-gridworker"), body: map[string]any{"operations": ops}})
			expect(t, r, 200, "")
			results := r.json(t)["results"].([]any)
			if results[0].(map[string]any)["status"] != 201.0 || results[1].(map[string]any)["status"] != 400.0 {
				t.Fatalf("results %s", r.Body)
			}
			if n := countRows(t, e, "disputes"); n != before+1 {
				t.Fatalf("%d disputes written", n-before)
			}
		}
	})
}
