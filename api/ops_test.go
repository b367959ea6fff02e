package api_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func TestOperations(t *testing.T) {
	e := newEnv(t, "sqlite")
	r := e.do(t, req{method: "GET", path: "/healthz"})
	expect(t, r, 200, "")
	for h, want := range map[string]string{
		"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
	} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	// A sane request id is echoed; a hostile one is replaced.
	r = e.do(t, req{method: "GET", path: "/healthz", header: map[string]string{"X-Request-ID": "phone-42.retry_1"}})
	if r.Header.Get("X-Request-ID") != "phone-42.retry_1" {
		t.Fatalf("request id not echoed: %q", r.Header.Get("X-Request-ID"))
	}
	r = e.do(t, req{method: "GET", path: "/healthz", header: map[string]string{"X-Request-ID": "bad id\"<script>"}})
	if id := r.Header.Get("X-Request-ID"); id == "" || strings.ContainsAny(id, " \"<") {
		t.Fatalf("hostile request id kept: %q", id)
	}
	tok := e.login(t, "demo-admin")
	if r := e.do(t, req{method: "GET", path: "/api/v1/me", token: tok}); r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("API responses must not be cached: %q", r.Header.Get("Cache-Control"))
	}

	// Metrics: requests by route and status, latency, the database pool.
	r = e.do(t, req{method: "GET", path: "/metrics"})
	expect(t, r, 200, "")
	body := string(r.Body)
	for _, want := range []string{
		`pingan_http_requests_total{method="POST",route="/api/v1/auth/login",status="200"}`,
		`pingan_http_request_duration_seconds_bucket{method="GET",route="/api/v1/me"`,
		`go_sql_max_open_connections{db_name="pingan"}`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	// Every log line is JSON with the request id; none holds the password.
	for _, line := range strings.Split(strings.TrimSpace(e.logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		if m["msg"] == "request" && m["request_id"] == nil {
			t.Fatalf("request log without request id: %s", line)
		}
	}
}

func TestReadiness(t *testing.T) {
	e := newEnv(t, "sqlite")
	r := e.do(t, req{method: "GET", path: "/readyz"})
	expect(t, r, 200, "")

	// The blob store's directory disappears: not ready.
	if err := os.RemoveAll(e.app.Config.DataDir + "/blobs"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.app.Config.DataDir+"/blobs", []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = e.do(t, req{method: "GET", path: "/readyz"})
	expect(t, r, 503, "")
	checks := r.json(t)["checks"].(map[string]any)
	if checks["blob"] != "unavailable" || checks["database"] != "ok" {
		t.Fatalf("checks: %s", r.Body)
	}

	// The database goes away: not ready, and API calls answer 503, not 500.
	tok := e.login(t, "demo-admin")
	e.app.DB.Close()
	r = e.do(t, req{method: "GET", path: "/readyz"})
	expect(t, r, 503, "")
	if r.json(t)["checks"].(map[string]any)["database"] != "unavailable" {
		t.Fatalf("checks: %s", r.Body)
	}
	expect(t, e.do(t, req{method: "GET", path: "/api/v1/me", token: tok}), 503, "unavailable")
	expect(t, e.do(t, req{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"username": "demo-admin", "password": "x"}}), 503, "unavailable")
}
