package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"pingan/internal/app"
	"pingan/internal/config"
	"pingan/internal/demo"
	"pingan/internal/testenv"
)

// clock is a settable test clock shared by the services of one env.
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// env is the real application on one backend pair, with the demo data.
type env struct {
	t      testing.TB
	app    *app.App
	clock  *clock
	tokens map[string]string
	logs   *bytes.Buffer
	// skipSpec turns off the openapi check of responses (benchmarks only).
	skipSpec bool
}

// eachBackend runs fn on SQLite with the file store, and on MariaDB with
// MinIO (SPEC §14).
func eachBackend(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	for _, backend := range []string{"sqlite", "mysql"} {
		t.Run(backend, func(t *testing.T) { fn(t, newEnv(t, backend)) })
	}
}

func newEnv(t testing.TB, backend string) *env {
	t.Helper()
	return newEnvWith(t, backend, nil)
}

// newEnvWith is newEnv with more configuration (environment variables).
func newEnvWith(t testing.TB, backend string, more map[string]string) *env {
	t.Helper()
	dir := t.TempDir()
	vars := map[string]string{"PINGAN_DATA_DIR": dir}
	for k, v := range more {
		vars[k] = v
	}
	if backend == "mysql" {
		vars["PINGAN_DB"] = testenv.MySQLDSN(t)
		vars["PINGAN_BLOB"] = testenv.MinioURL(t)
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	e := &env{t: t, clock: &clock{}, tokens: map[string]string{}, logs: logs}
	a, err := app.Open(context.Background(), cfg, slog.New(slog.NewJSONHandler(&lockedWriter{w: logs}, nil)), e.clock.now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if err := demo.Load(context.Background(), demo.Deps{Store: a.DB, Users: a.Users, Photos: a.Photos}); err != nil {
		t.Fatal(err)
	}
	e.app = a
	return e
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// resp is a recorded response.
type resp struct {
	Code   int
	Header http.Header
	Body   []byte
}

// json decodes the body into a generic map, failing the test otherwise.
func (r resp) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.Body)
	}
	return m
}

// errCode is the error body's code, or "" when there is none.
func (r resp) errCode(t testing.TB) string {
	t.Helper()
	e, _ := r.json(t)["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

// req describes one request: body may be a string (sent raw), []byte, or
// any value (sent as JSON).
type req struct {
	method, path string
	body         any
	token        string
	header       map[string]string
}

// do sends r through the real router and checks the response against
// openapi.yaml.
func (e *env) do(t testing.TB, r req) resp {
	t.Helper()
	var body io.Reader
	switch b := r.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(raw)
	}
	hr := httptest.NewRequest(r.method, r.path, body)
	hr.RemoteAddr = "192.0.2.10:1234"
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	// Every POST outside /auth needs an Idempotency-Key: give each request a
	// fresh one unless the test sets the header itself ("" leaves it out).
	if _, set := r.header["Idempotency-Key"]; !set && r.method == "POST" && !strings.Contains(r.path, "/auth/") {
		hr.Header.Set("Idempotency-Key", newKey())
	}
	for k, v := range r.header {
		if v != "" {
			hr.Header.Set(k, v)
		}
	}
	rec := httptest.NewRecorder()
	e.app.Handler.ServeHTTP(rec, hr)
	out := resp{Code: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	if !e.skipSpec {
		validateAgainstSpec(t, hr, out.Code, out.Header, out.Body)
	}
	return out
}

var keySeq atomic.Int64

func newKey() string { return fmt.Sprintf("test-%d-%d", time.Now().UnixNano(), keySeq.Add(1)) }

// login returns an access token for a demo account, cached per env.
func (e *env) login(t testing.TB, username string) string {
	t.Helper()
	if tok, ok := e.tokens[username]; ok {
		return tok
	}
	r := e.do(t, req{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"username": username, "password": demo.Password}})
	if r.Code != http.StatusOK {
		t.Fatalf("login %s: %d %s", username, r.Code, r.Body)
	}
	tok := r.json(t)["access_token"].(string)
	e.tokens[username] = tok
	return tok
}

// loginPair returns the whole token response of a fresh login.
func (e *env) loginPair(t testing.TB, username string) map[string]any {
	t.Helper()
	r := e.do(t, req{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"username": username, "password": demo.Password}})
	if r.Code != http.StatusOK {
		t.Fatalf("login %s: %d %s", username, r.Code, r.Body)
	}
	return r.json(t)
}

// expect fails unless r has the status (and, when code is set, the error code).
func expect(t testing.TB, r resp, status int, code string) {
	t.Helper()
	if r.Code != status {
		t.Fatalf("status %d, want %d: %s", r.Code, status, r.Body)
	}
	if code != "" {
		if got := r.errCode(t); got != code {
			t.Fatalf("error code %q, want %q: %s", got, code, r.Body)
		}
	}
}

// reopen starts a second instance on e's database with other signing keys,
// as a rolling key rotation would.
func reopen(t *testing.T, e *env, keys []config.Key) *env {
	t.Helper()
	cfg := *e.app.Config
	cfg.JWTKeys = keys
	a, err := app.Open(context.Background(), &cfg, slog.New(slog.DiscardHandler), e.clock.now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return &env{t: t, app: a, clock: e.clock, tokens: map[string]string{}, logs: &bytes.Buffer{}}
}
