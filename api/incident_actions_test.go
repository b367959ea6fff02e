package api_test

import (
	"fmt"
	"net/url"
	"testing"
)

// iaActions is the allowed_actions of an incident response body.
func iaActions(t *testing.T, m map[string]any) string {
	t.Helper()
	a, ok := m["allowed_actions"].([]any)
	if !ok {
		t.Fatalf("no allowed_actions: %v", m)
	}
	return fmt.Sprint(a)
}

// TestIncidentAllowedActions (issue #12, 9d; SPEC §6.4): a single incident
// carries the actions its caller may take now, as disputes do — in the
// answer to its report (and that answer's replay), to GET, to a transition,
// and in lists and offline sync.
func TestIncidentAllowedActions(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		// One body for the report and its replay: incidentBody stamps the
		// time it is called, to the second.
		key, body := newKey(), incidentBody(nil)
		r := e.do(t, req{method: "POST", path: "/api/v1/incidents", token: e.login(t, "demo-gridworker"), body: body,
			header: map[string]string{"Idempotency-Key": key}})
		expect(t, r, 201, "")
		low := r.json(t)
		id := low["id"].(string)
		// The reporter of a low one may cancel it or resolve it on the spot.
		if got := iaActions(t, low); got != "[cancel resolve]" {
			t.Fatalf("the reporter's actions on creation: %s", got)
		}
		replay := e.do(t, req{method: "POST", path: "/api/v1/incidents", token: e.login(t, "demo-gridworker"), body: body,
			header: map[string]string{"Idempotency-Key": key}})
		if string(replay.Body) != string(r.Body) {
			t.Fatalf("the replay differs:\n%s\n%s", replay.Body, r.Body)
		}
		get := func(user, id string) map[string]any {
			t.Helper()
			g := e.do(t, req{method: "GET", path: "/api/v1/incidents/" + id, token: e.login(t, user)})
			expect(t, g, 200, "")
			return g.json(t)
		}
		for user, want := range map[string]string{
			"demo-gridworker": "[cancel resolve]",        // the reporter
			"demo-supervisor": "[accept reject resolve]", // the command centre
			"demo-admin":      "[accept cancel reject resolve]",
			"demo-mediator":   "[]", // reads it in scope, acts on disputes only
		} {
			if got := iaActions(t, get(user, id)); got != want {
				t.Fatalf("%s on a reported low incident: %s, want %s", user, got, want)
			}
		}
		// A high one may not be resolved on the spot by its reporter.
		high := e.report(t, "demo-gridworker", func(m map[string]any) { m["severity"] = "high" })
		if got := iaActions(t, high); got != "[cancel]" {
			t.Fatalf("the reporter's actions on a high one: %s", got)
		}
		// The answer to a transition is the transitioner's.
		tr := e.do(t, req{method: "POST", path: "/api/v1/incidents/" + id + "/transitions", token: e.login(t, "demo-supervisor"),
			body: map[string]any{"action": "accept"}, header: map[string]string{"If-Match": `"1"`}})
		expect(t, tr, 200, "")
		if got := iaActions(t, tr.json(t)); got != "[reject resolve start]" {
			t.Fatalf("the supervisor's actions after accepting: %s", got)
		}
		if got := iaActions(t, get("demo-gridworker", id)); got != "[]" {
			t.Fatalf("the reporter's actions on an accepted incident: %s", got)
		}
		// Lists and offline sync carry them too, for their caller.
		l := e.do(t, req{method: "GET", path: "/api/v1/incidents?limit=100&region=" + url.QueryEscape("370502003001001"),
			token: e.login(t, "demo-supervisor")})
		expect(t, l, 200, "")
		found := false
		for _, it := range l.json(t)["items"].([]any) {
			m := it.(map[string]any)
			if m["id"] == high["id"] {
				found = true
				if got := iaActions(t, m); got != "[accept reject resolve]" {
					t.Fatalf("listed: %s", got)
				}
			}
		}
		if !found {
			t.Fatal("the high incident is not listed")
		}
		ch := e.do(t, req{method: "GET", path: "/api/v1/sync/changes?limit=100", token: e.login(t, "demo-gridworker")})
		expect(t, ch, 200, "")
		synced := map[any]string{}
		for _, it := range ch.json(t)["incidents"].([]any) {
			m := it.(map[string]any)
			synced[m["id"]] = iaActions(t, m)
		}
		if synced[id] != "[]" || synced[high["id"]] != "[cancel]" {
			t.Fatalf("synced: %v", synced)
		}
	})
}
