package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"
)

// dnNotices lists (user, kind, title) of the notices about a case, by user.
func dnNotices(t *testing.T, e *env, caseID string) [][3]string {
	t.Helper()
	rows, err := e.app.DB.SQL().Query(`SELECT u.username, n.kind, n.title FROM notifications n JOIN users u ON u.id = n.user_id
		WHERE n.case_id = ? ORDER BY u.username`, caseID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][3]string
	for rows.Next() {
		var r [3]string
		if err := rows.Scan(&r[0], &r[1], &r[2]); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// TestNewDisputeNotifiesItsQueue (issue #12, 9c; SPEC §7 "a new dispute in
// your queue"): registering a dispute notifies the active mediators of its
// handling region (its community) in the registration's transaction, once
// per case; the notice reaches their live stream and the webhook like any
// other. A high-risk case names its accept deadline (2 h) in the title; a
// mediator who registers one is not told of their own case; a refused
// registration notifies nobody.
func TestNewDisputeNotifiesItsQueue(t *testing.T) {
	for _, backend := range []string{"sqlite", "mysql"} {
		t.Run(backend, func(t *testing.T) { dnNewDispute(t, backend) })
	}
}

func dnNewDispute(t *testing.T, backend string) {
	hooked := make(chan map[string]any, 20)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		hooked <- m
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(hook.Close)
	e := newEnvWith(t, backend, map[string]string{"PINGAN_WEBHOOK_URL": hook.URL + "/hook",
		"PINGAN_WEBHOOK_SECRET": "webhook-test-secret-0123456789"})
	stream, _ := openStream(t, newServer(t, e), e.login(t, "demo-mediator"), "")
	waitStreams(t, e, e.userID(t, "demo-mediator"), 1)

	// One body for the registration and its replay: disputeBody stamps
	// the time it is called, to the second.
	key, body := newKey(), disputeBody(nil)
	r := e.do(t, req{method: "POST", path: "/api/v1/disputes", token: e.login(t, "demo-gridworker"), body: body,
		header: map[string]string{"Idempotency-Key": key}})
	expect(t, r, 201, "")
	d := r.json(t)
	id, no := d["id"].(string), d["case_no"].(string)
	want := [][3]string{{"demo-mediator", "new_case", "新矛盾纠纷待受理 " + no}, {"demo-mediator-2", "new_case", "新矛盾纠纷待受理 " + no}}
	if got := dnNotices(t, e, id); !slices.Equal(got, want) {
		t.Fatalf("notices %v, want %v", got, want)
	}
	ev := stream.next(t, 5*time.Second)
	var sent map[string]any
	if err := json.Unmarshal([]byte(ev.data), &sent); err != nil || sent["kind"] != "new_case" || sent["case_id"] != id ||
		sent["case_kind"] != "dispute" || sent["title"] != "新矛盾纠纷待受理 "+no {
		t.Fatalf("stream event %+v", ev)
	}
	for range 2 {
		select {
		case m := <-hooked:
			n, _ := m["notification"].(map[string]any)
			if m["event"] != "notification" || n["kind"] != "new_case" || n["case_id"] != id {
				t.Fatalf("webhook body %v", m)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no webhook delivery")
		}
	}
	// The replay of the registration notifies nobody again.
	again := e.do(t, req{method: "POST", path: "/api/v1/disputes", token: e.login(t, "demo-gridworker"), body: body,
		header: map[string]string{"Idempotency-Key": key}})
	expect(t, again, 201, "")
	if got := dnNotices(t, e, id); len(got) != 2 || countRows(t, e, "webhook_deliveries") != 2 {
		t.Fatalf("after the replay: %v, %d deliveries", got, countRows(t, e, "webhook_deliveries"))
	}

	// High risk, registered by one of the community's mediators: the
	// colleague is told, with the deadline; the reporter is not.
	r = e.do(t, req{method: "POST", path: "/api/v1/disputes", token: e.login(t, "demo-mediator"),
		body: disputeBody(func(m map[string]any) { m["risk_level"] = "high"; m["region_code"] = "370502003001001" })})
	expect(t, r, 201, "")
	d = r.json(t)
	due, err := time.Parse(time.RFC3339Nano, d["due_at"].(string))
	if err != nil || due.Sub(e.clock.now()) > 2*time.Hour || due.Sub(e.clock.now()) < 2*time.Hour-time.Minute {
		t.Fatalf("due_at %v", d["due_at"])
	}
	title := "高风险矛盾纠纷待受理 " + d["case_no"].(string) + ", " + due.In(e.app.Config.Location).Format("01-02 15:04") + "前受理"
	if got := dnNotices(t, e, d["id"].(string)); !slices.Equal(got, [][3]string{{"demo-mediator-2", "new_case", title}}) {
		t.Fatalf("high-risk notices %v, want %q to demo-mediator-2", got, title)
	}

	// Refused: nobody is told.
	notices := countRows(t, e, "notifications")
	r = e.do(t, req{method: "POST", path: "/api/v1/disputes", token: e.login(t, "demo-gridworker"),
		body: disputeBody(func(m map[string]any) { m["risk_level"] = "extreme" })})
	expect(t, r, 400, "invalid_argument")
	if n := countRows(t, e, "notifications"); n != notices {
		t.Fatalf("a refused registration wrote %d notices", n-notices)
	}
}
