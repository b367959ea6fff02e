package api_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// syncResult is one result of a sync batch as the client reads it.
type syncResult struct {
	Index          int             `json:"index"`
	IdempotencyKey string          `json:"idempotency_key"`
	Status         int             `json:"status"`
	Body           json.RawMessage `json:"body"`
}

func syncResults(t *testing.T, r resp) []syncResult {
	t.Helper()
	expect(t, r, 200, "")
	var out struct{ Results []syncResult }
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatalf("sync answer: %v: %s", err, r.Body)
	}
	return out.Results
}

// TestSyncRefusesMalformedOperations: an operation that is not a POST to a
// create or action route, or lacks a key or an object body, gets a 400 of
// its own with the one error body of SPEC §6 naming the first bad field,
// and nothing reaches the router.
func TestSyncRefusesMalformedOperations(t *testing.T) {
	e := newEnv(t, "sqlite")
	gw := e.login(t, "demo-gridworker")
	valid := incidentBody(nil)
	const (
		keyMsg    = "required, 1–255 characters"
		methodMsg = "must be POST"
		pathMsg   = "must be a create or action route of incidents or disputes"
		bodyMsg   = "a JSON object is required"
	)
	op := func(edit func(m map[string]any)) map[string]any {
		m := map[string]any{"idempotency_key": "bad-op", "method": "POST", "path": "/api/v1/incidents", "body": valid}
		edit(m)
		return m
	}
	rows := []struct {
		name  string
		op    map[string]any
		key   string // the key the result echoes
		field string
		msg   string // the expected message
	}{
		{"no key", op(func(m map[string]any) { delete(m, "idempotency_key") }), "", "idempotency_key", keyMsg},
		{"null key", op(func(m map[string]any) { m["idempotency_key"] = nil }), "", "idempotency_key", keyMsg},
		{"empty key", op(func(m map[string]any) { m["idempotency_key"] = "" }), "", "idempotency_key", keyMsg},
		{"key of 256", op(func(m map[string]any) { m["idempotency_key"] = strings.Repeat("k", 256) }), strings.Repeat("k", 256), "idempotency_key", keyMsg},
		{"no method", op(func(m map[string]any) { delete(m, "method") }), "bad-op", "method", methodMsg},
		{"GET", op(func(m map[string]any) { m["method"] = "GET" }), "bad-op", "method", methodMsg},
		{"DELETE", op(func(m map[string]any) { m["method"] = "DELETE" }), "bad-op", "method", methodMsg},
		{"lower-case post", op(func(m map[string]any) { m["method"] = "post" }), "bad-op", "method", methodMsg},
		{"no path", op(func(m map[string]any) { delete(m, "path") }), "bad-op", "path", pathMsg},
		{"users", op(func(m map[string]any) { m["path"] = "/api/v1/users" }), "bad-op", "path", pathMsg},
		{"the batch itself", op(func(m map[string]any) { m["path"] = "/api/v1/sync" }), "bad-op", "path", pathMsg},
		{"photos", op(func(m map[string]any) { m["path"] = "/api/v1/photos" }), "bad-op", "path", pathMsg},
		{"trailing slash", op(func(m map[string]any) { m["path"] = "/api/v1/incidents/" }), "bad-op", "path", pathMsg},
		{"query string", op(func(m map[string]any) { m["path"] = "/api/v1/incidents?x=1" }), "bad-op", "path", pathMsg},
		{"short id", op(func(m map[string]any) { m["path"] = "/api/v1/incidents/123/transitions" }), "bad-op", "path", pathMsg},
		{"confirmations", op(func(m map[string]any) {
			m["path"] = "/api/v1/incidents/0190a3f2-0000-7000-8000-000000000001/confirmations"
		}), "bad-op", "path", pathMsg},
		{"no body", op(func(m map[string]any) { delete(m, "body") }), "bad-op", "body", bodyMsg},
		{"null body", op(func(m map[string]any) { m["body"] = nil }), "bad-op", "body", bodyMsg},
		{"array body", op(func(m map[string]any) { m["body"] = []any{valid} }), "bad-op", "body", bodyMsg},
		{"string body", op(func(m map[string]any) { m["body"] = "{}" }), "bad-op", "body", bodyMsg},
		{"first bad field named", op(func(m map[string]any) { delete(m, "idempotency_key"); m["method"] = "GET"; delete(m, "body") }),
			"", "idempotency_key", keyMsg},
	}
	ops := make([]map[string]any, len(rows))
	for i, row := range rows {
		ops[i] = row.op
	}
	before := countRows(t, e, "incidents")
	results := syncResults(t, e.do(t, req{method: "POST", path: "/api/v1/sync", token: gw, body: map[string]any{"operations": ops}}))
	if len(results) != len(rows) {
		t.Fatalf("%d results for %d operations", len(results), len(rows))
	}
	for i, row := range rows {
		field, _ := json.Marshal(row.field)
		msg, _ := json.Marshal(row.msg)
		want := `{"error":{"code":"invalid_argument","message":"the request has invalid fields","details":{"fields":{` +
			string(field) + `:` + string(msg) + `}}}}`
		got := results[i]
		if got.Index != i || got.IdempotencyKey != row.key || got.Status != 400 || string(got.Body) != want {
			t.Errorf("%s: index %d, key %q, status %d, body %s\nwant index %d, key %q, status 400, body %s",
				row.name, got.Index, got.IdempotencyKey, got.Status, got.Body, i, row.key, want)
		}
	}
	if n := countRows(t, e, "incidents"); n != before {
		t.Fatalf("refused operations wrote %d incidents", n-before)
	}
	if n := countRows(t, e, "idempotency_keys"); n != 0 {
		t.Fatalf("refused operations claimed %d idempotency keys", n)
	}
}

// TestSyncAnswersAsOnline: an operation gets exactly the status and body
// the same request gets online — the same middleware, idempotency records
// and checks — and carries the batch's client address and a request id
// derived from the batch's.
func TestSyncAnswersAsOnline(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		gw := e.login(t, "demo-gridworker")
		body := incidentBody(nil)
		other := incidentBody(func(m map[string]any) { m["description"] = "另一个问题" })
		created := e.do(t, req{method: "POST", path: "/api/v1/incidents", token: gw, body: body, header: map[string]string{"Idempotency-Key": "online-1"}})
		expect(t, created, 201, "")
		transitions := "/api/v1/incidents/" + created.json(t)["id"].(string) + "/transitions"
		missing := "/api/v1/incidents/0190a3f2-0000-7000-8000-000000000001/transitions"
		cancel := map[string]any{"action": "cancel", "note": "重复上报"}
		unknown := incidentBody(func(m map[string]any) { m["status"] = "closed" })

		// Each row is sent online with key online+<name> and in the batch
		// with sync+<name>, except the replays, which reuse online-1.
		rows := []struct {
			name, key, path, ifMatch string
			body                     map[string]any
			status                   int
			online                   bool // compare with an online request made now
		}{
			{"replay of an online create", "online-1", "/api/v1/incidents", "", body, 201, false},
			{"online key with another body", "online-1", "/api/v1/incidents", "", other, 422, false},
			{"transition without If-Match", "", transitions, "", cancel, 428, true},
			{"stale If-Match", "", transitions, `"7"`, cancel, 412, true},
			{"no such incident", "", missing, `"1"`, cancel, 404, true},
			{"unknown field", "", "/api/v1/incidents", "", unknown, 400, true},
			{"wrong action", "", transitions, `"1"`, map[string]any{"action": "close"}, 409, true},
		}
		want := make([]resp, len(rows))
		ops := make([]map[string]any, len(rows))
		for i, row := range rows {
			key := row.key
			if key == "" {
				key = "sync-" + row.name
				h := map[string]string{"Idempotency-Key": "online-" + row.name}
				if row.ifMatch != "" {
					h["If-Match"] = row.ifMatch
				}
				want[i] = e.do(t, req{method: "POST", path: row.path, token: gw, body: row.body, header: h})
			}
			ops[i] = map[string]any{"idempotency_key": key, "method": "POST", "path": row.path, "body": row.body}
			if row.ifMatch != "" {
				ops[i]["if_match"] = row.ifMatch
			}
		}
		want[0] = created
		want[1] = e.do(t, req{method: "POST", path: "/api/v1/incidents", token: gw, body: other, header: map[string]string{"Idempotency-Key": "online-1"}})
		// The last operation creates: its answer is stored under its key
		// and an online repeat replays it.
		ops = append(ops, map[string]any{"idempotency_key": "sync-new", "method": "POST", "path": "/api/v1/incidents", "body": other})

		before := countRows(t, e, "incidents")
		results := syncResults(t, e.do(t, req{method: "POST", path: "/api/v1/sync", token: gw,
			body: map[string]any{"operations": ops}, header: map[string]string{"X-Request-ID": "batch-7"}}))
		if len(results) != len(ops) {
			t.Fatalf("%d results for %d operations", len(results), len(ops))
		}
		for i, row := range rows {
			got := results[i]
			if want[i].Code != row.status {
				t.Fatalf("%s online: status %d, want %d: %s", row.name, want[i].Code, row.status, want[i].Body)
			}
			if got.Status != row.status || string(got.Body) != string(compact(t, want[i].Body)) {
				t.Errorf("%s: status %d, body %s\nwant status %d, body %s", row.name, got.Status, got.Body, row.status, want[i].Body)
			}
		}
		last := results[len(ops)-1]
		if last.Status != 201 || countRows(t, e, "incidents") != before+1 {
			t.Fatalf("new operation: %d %s, %d incidents written", last.Status, last.Body, countRows(t, e, "incidents")-before)
		}
		repeat := e.do(t, req{method: "POST", path: "/api/v1/incidents", token: gw, body: other, header: map[string]string{"Idempotency-Key": "sync-new"}})
		if repeat.Code != 201 || string(compact(t, repeat.Body)) != string(last.Body) || repeat.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("online repeat of a synced create: %d %s\nwant 201 %s", repeat.Code, repeat.Body, last.Body)
		}
		var id struct{ ID string }
		if err := json.Unmarshal(last.Body, &id); err != nil {
			t.Fatal(err)
		}
		var requestID, clientIP string
		if err := e.app.DB.SQL().QueryRow("SELECT request_id, client_ip FROM audit_log WHERE entity_id = ?", id.ID).Scan(&requestID, &clientIP); err != nil {
			t.Fatal(err)
		}
		if requestID != "batch-7.7" || clientIP != "192.0.2.10" {
			t.Fatalf("audit of a synced create: request id %q, client ip %q", requestID, clientIP)
		}
	})
}

// compact is body as it appears inside a sync result.
func compact(t *testing.T, body []byte) []byte {
	t.Helper()
	out, err := json.Marshal(json.RawMessage(body))
	if err != nil {
		t.Fatalf("not JSON: %v: %s", err, body)
	}
	return out
}
