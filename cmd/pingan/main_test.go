package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"pingan/internal/testenv"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs `pingan serve` on port 0 and returns its base URL and a stop
// function that waits for the graceful shutdown.
func start(t *testing.T, vars map[string]string) (string, *syncBuffer, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	ready := make(chan string, 1)
	done := make(chan error, 1)
	vars["PINGAN_ADDR"] = "127.0.0.1:0"
	go func() { done <- run(ctx, []string{"serve"}, func(k string) string { return vars[k] }, out, ready) }()
	select {
	case addr := <-ready:
		var once sync.Once
		var err error
		stop := func() error {
			once.Do(func() { cancel(); err = <-done })
			return err
		}
		t.Cleanup(func() { stop() })
		return "http://" + addr, out, stop
	case err := <-done:
		cancel()
		t.Fatalf("serve exited: %v\n%s", err, out.String())
	// A first start loads three years of demo cases into a fresh embedded
	// database, with every index the reports read: about 8 s plainly, about
	// two minutes under -race, more on a machine busy with the other
	// packages' tests.
	case <-time.After(360 * time.Second):
		cancel()
		t.Fatalf("serve did not start:\n%s", out.String())
	}
	return "", nil, nil
}

func post(t *testing.T, url string, body any) (int, map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(body)
	r, err := http.Post(url, "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(r.Body).Decode(&m)
	return r.StatusCode, m
}

func get(t *testing.T, url, token string) (int, map[string]any) {
	t.Helper()
	rq, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		rq.Header.Set("Authorization", "Bearer "+token)
	}
	r, err := http.DefaultClient.Do(rq)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(r.Body).Decode(&m)
	return r.StatusCode, m
}

// TestServeEmbedded is the README's first command, end to end: an empty data
// directory, the demo set, a login over real HTTP, a restart that keeps keys
// and data, and a graceful stop.
func TestServeEmbedded(t *testing.T) {
	dir := t.TempDir()
	base, out, stop := start(t, map[string]string{"PINGAN_DATA_DIR": dir})
	for _, name := range []string{"demo-admin", "demo-supervisor", "demo-county-supervisor", "demo-mediator", "demo-gridworker", "demo-gridworker-2"} {
		if !strings.Contains(out.String(), name) {
			t.Fatalf("start-up output does not list %s:\n%s", name, out.String())
		}
	}
	status, body := post(t, base+"/api/v1/auth/login", map[string]string{"username": "demo-gridworker", "password": "pingan-demo"})
	if status != 200 || body["access_token"] == nil || body["refresh_token"] == nil {
		t.Fatalf("login: %d %v", status, body)
	}
	_, sup := post(t, base+"/api/v1/auth/login", map[string]string{"username": "demo-supervisor", "password": "pingan-demo"})
	token := sup["access_token"].(string)
	status, regions := get(t, base+"/api/v1/regions?level=county", token)
	if status != 200 || len(regions["items"].([]any)) != 5 {
		t.Fatalf("counties: %d %v", status, regions)
	}
	if status, _ := get(t, base+"/readyz", ""); status != 200 {
		t.Fatalf("readyz %d", status)
	}
	if err := stop(); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
	if strings.Contains(out.String(), "pingan-demo\"}") || strings.Contains(out.String(), token) {
		t.Fatal("the log holds a password or token")
	}

	// Second start: same keys (the old token is still valid), no second demo load.
	base2, out2, stop2 := start(t, map[string]string{"PINGAN_DATA_DIR": dir})
	if strings.Contains(out2.String(), "Demo data loaded") {
		t.Fatal("demo data loaded twice")
	}
	if status, me := get(t, base2+"/api/v1/me", token); status != 200 || me["username"] != "demo-supervisor" {
		t.Fatalf("token after restart: %d %v", status, me)
	}
	if err := stop2(); err != nil {
		t.Fatal(err)
	}
}

// TestServeMariaDBMinio runs the server on MariaDB and MinIO with explicit keys
// and the demo set switched on.
func TestServeMariaDBMinio(t *testing.T) {
	key := "k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	base, _, stop := start(t, map[string]string{
		"PINGAN_DATA_DIR": t.TempDir(), "PINGAN_DB": testenv.MySQLDSN(t), "PINGAN_BLOB": testenv.MinioURL(t),
		"PINGAN_DEMO": "on", "PINGAN_JWT_KEYS": key, "PINGAN_DATA_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
	})
	status, body := get(t, base+"/readyz", "")
	if status != 200 || body["checks"].(map[string]any)["database"] != "ok" || body["checks"].(map[string]any)["blob"] != "ok" {
		t.Fatalf("readyz: %d %v", status, body)
	}
	status, _ = post(t, base+"/api/v1/auth/login", map[string]string{"username": "demo-county-supervisor", "password": "pingan-demo"})
	if status != 200 {
		t.Fatalf("login on MariaDB: %d", status)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestBadConfigurationOneLine(t *testing.T) {
	err := run(context.Background(), []string{"serve"}, func(k string) string {
		return map[string]string{"PINGAN_ENV": "production"}[k]
	}, &bytes.Buffer{}, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "PINGAN_JWT_KEYS:") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("production without keys: %v", err)
	}
}

func TestUserCreateCommand(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{"PINGAN_DATA_DIR": dir}
	getenv := func(k string) string { return vars[k] }
	geo := dir + "/city.geojson"
	writeFile(t, geo, `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"370500","name":"东营市","level":"city","parent_code":"","population":2190000},"geometry":null}]}`)
	out := &bytes.Buffer{}
	if err := run(context.Background(), []string{"region", "import", geo}, getenv, out, nil); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"user", "create", "-username", "root-admin", "-password", "a-long-password",
		"-name", "管理员", "-role", "admin", "-region", "370500"}, getenv, out, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "created root-admin (admin, 370500)") {
		t.Fatalf("output: %s", out.String())
	}
	err := run(context.Background(), []string{"user", "create", "-username", "x", "-password", "short", "-role", "king", "-region", "1"}, getenv, out, nil)
	if err == nil || !strings.Contains(err.Error(), "password") || !strings.Contains(err.Error(), "role") {
		t.Fatalf("bad user create: %v", err)
	}
	// The embedded server on this non-empty database loads no demo set.
	base, sout, stop := start(t, vars)
	if strings.Contains(sout.String(), "Demo data loaded") {
		t.Fatal("demo loaded into a database with users")
	}
	if status, _ := post(t, base+"/api/v1/auth/login", map[string]string{"username": "root-admin", "password": "a-long-password"}); status != 200 {
		t.Fatalf("login: %d", status)
	}
	stop()
}

// TestGracefulShutdownDrains: a request in flight when the stop signal comes
// is still answered before the server exits.
func TestGracefulShutdownDrains(t *testing.T) {
	base, _, stop := start(t, map[string]string{"PINGAN_DATA_DIR": t.TempDir()})
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"username":"demo-admin","password":"pingan-demo"}`
	fmt.Fprintf(conn, "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:10])
	time.Sleep(200 * time.Millisecond) // the server is now reading the body
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	time.Sleep(300 * time.Millisecond)
	select {
	case err := <-stopped:
		t.Fatalf("server stopped with a request in flight: %v", err)
	default:
	}
	fmt.Fprint(conn, body[10:])
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("in-flight request lost: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("in-flight login: %d", resp.StatusCode)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

// TestMegabyteHeaderOverHTTP: a megabyte of dots after Bearer reaches the API
// through the real server and gets its 401 body, not the transport's 431.
func TestMegabyteHeaderOverHTTP(t *testing.T) {
	base, _, stop := start(t, map[string]string{"PINGAN_DATA_DIR": t.TempDir()})
	defer stop()
	rq, _ := http.NewRequest("GET", base+"/api/v1/me", nil)
	rq.Header.Set("Authorization", "Bearer "+strings.Repeat(".", 1<<20))
	started := time.Now()
	r, err := http.DefaultClient.Do(rq)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body)
	if r.StatusCode != 401 || body["error"].(map[string]any)["code"] != "unauthenticated" {
		t.Fatalf("%d %v", r.StatusCode, body)
	}
	if d := time.Since(started); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
}
