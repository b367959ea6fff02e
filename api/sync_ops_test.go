package api_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// soFields is the error body naming one field, as SPEC §6 shapes it.
func soFields(field, msg string) string {
	f, _ := json.Marshal(field)
	m, _ := json.Marshal(msg)
	return `{"error":{"code":"invalid_argument","message":"the request has invalid fields","details":{"fields":{` +
		string(f) + `:` + string(m) + `}}}}`
}

// TestSyncOperationFailsAlone (issue #12, part 3): one queued operation with
// an unknown field, a value of the wrong type, or that is no object at all
// used to fail the whole batch (the batch was decoded in one piece); now it
// gets a 400 result of its own naming the field, and every other operation
// of the batch is applied — on both databases.
func TestSyncOperationFailsAlone(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		gw := e.login(t, "demo-gridworker")
		op := func(key string, edit func(m map[string]any)) map[string]any {
			m := map[string]any{"idempotency_key": key, "method": "POST", "path": "/api/v1/incidents", "body": incidentBody(nil)}
			if edit != nil {
				edit(m)
			}
			return m
		}
		ops := []any{
			op("so-1", nil),
			op("so-2", func(m map[string]any) { m["retries"] = 3 }),
			op("so-3", func(m map[string]any) { m["method"] = 5 }),
			op("so-4", func(m map[string]any) { m["if_match"] = []string{`"1"`} }),
			nil,
			"POST /api/v1/incidents",
			[]any{op("so-7", nil)},
			op("so-8", func(m map[string]any) { m["body"].(map[string]any)["status"] = "closed" }),
			map[string]any{"idempotency_key": "so-9", "method": "POST", "path": "/api/v1/disputes", "body": disputeBody(nil)},
		}
		incidents, disputes := countRows(t, e, "incidents"), countRows(t, e, "disputes")
		batch := map[string]any{"operations": ops}
		first := e.do(t, req{method: "POST", path: "/api/v1/sync", token: gw, body: batch})
		results := syncResults(t, first)
		if len(results) != len(ops) {
			t.Fatalf("%d results for %d operations", len(results), len(ops))
		}
		notObject := soFields("operation", "a JSON object with idempotency_key, method, path and body")
		for i, want := range []struct {
			status int
			key    string
			body   string // "" for a success
		}{
			{201, "so-1", ""},
			{400, "", soFields("retries", "unknown field")},
			{400, "", soFields("method", "a string")},
			{400, "", soFields("if_match", "a string")},
			{400, "", notObject},
			{400, "", notObject},
			{400, "", notObject},
			{400, "so-8", soFields("status", "unknown field")}, // the router's own answer, as online
			{201, "so-9", ""},
		} {
			got := results[i]
			if got.Index != i || got.Status != want.status || got.IdempotencyKey != want.key ||
				(want.body != "" && string(got.Body) != want.body) {
				t.Errorf("operation %d: index %d, status %d, key %q, body %s\nwant status %d, key %q, body %s",
					i, got.Index, got.Status, got.IdempotencyKey, got.Body, want.status, want.key, want.body)
			}
		}
		var created map[string]any
		if err := json.Unmarshal(results[0].Body, &created); err != nil || created["status"] != "reported" {
			t.Fatalf("the first operation: %s", results[0].Body)
		}
		if err := json.Unmarshal(results[8].Body, &created); err != nil || !strings.HasPrefix(created["case_no"].(string), "JF-") {
			t.Fatalf("the last operation: %s", results[8].Body)
		}
		if n := countRows(t, e, "incidents"); n != incidents+1 {
			t.Fatalf("%d incidents written, want 1", n-incidents)
		}
		if n := countRows(t, e, "disputes"); n != disputes+1 {
			t.Fatalf("%d disputes written, want 1", n-disputes)
		}
		// The replay answers the same and writes nothing more.
		again := e.do(t, req{method: "POST", path: "/api/v1/sync", token: gw, body: batch})
		if string(again.Body) != string(first.Body) {
			t.Fatalf("the replay answered differently:\n%s\n%s", again.Body, first.Body)
		}
		if countRows(t, e, "incidents") != incidents+1 || countRows(t, e, "disputes") != disputes+1 {
			t.Fatal("the replay wrote rows")
		}
		// Only a malformed batch is refused whole.
		for _, body := range []string{`{"operations":[{}],"extra":1}`, `{"operations":{}}`, `[]`} {
			expect(t, e.do(t, req{method: "POST", path: "/api/v1/sync", token: gw, body: body}), 400, "invalid_argument")
		}
	})
}

// TestSyncOperationPathInSpec (issue #12, 9b): openapi.yaml's pattern for an
// operation's path admits exactly the routes the server replays — dispute
// registrations and actions as well as incident reports and transitions.
func TestSyncOperationPathInSpec(t *testing.T) {
	doc, _ := loadSpec(t)
	pattern := doc.Components.Schemas["SyncOperation"].Value.Properties["path"].Value.Pattern
	re, err := regexp.Compile(pattern)
	if err != nil {
		t.Fatalf("pattern %q: %v", pattern, err)
	}
	const id = "0190a3f2-0000-7000-8000-000000000001"
	for path, want := range map[string]bool{
		"/api/v1/incidents": true, "/api/v1/incidents/" + id + "/transitions": true,
		"/api/v1/disputes": true, "/api/v1/disputes/" + id + "/actions": true,
		"/api/v1/disputes/" + id: false, "/api/v1/incidents/" + id + "/confirmations": false, "/api/v1/users": false,
		"/api/v1/sync": false, "/api/v1/disputes/" + id + "/actions/x": false, "/api/v1/incidents/": false,
	} {
		if re.MatchString(path) != want {
			t.Errorf("the spec's pattern on %s: %v, want %v", path, !want, want)
		}
	}
}
