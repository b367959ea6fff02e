package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"pingan/internal/testenv"
)

// TestMain lets a test start this binary as a real server process that it
// can kill: with PINGAN_TEST_CHILD=serve the binary is `pingan serve`.
func TestMain(m *testing.M) {
	if os.Getenv("PINGAN_TEST_CHILD") == "serve" {
		ctx, stop := context.WithCancel(context.Background())
		defer stop()
		if err := run(ctx, []string{"serve"}, os.Getenv, os.Stdout, nil); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// child starts the server as a separate process and waits until it is ready.
func child(t *testing.T, env []string, addr string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append(env, "PINGAN_TEST_CHILD=serve", "PINGAN_ADDR="+addr)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if r, err := http.Get("http://" + addr + "/readyz"); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return cmd
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("server did not become ready:\n%s", out.String())
	return nil
}

// TestNoAcknowledgedWriteLost kills the API process with SIGKILL in the
// middle of a stream of reports on MariaDB, restarts it, and finds every
// incident that was answered 201 (SPEC §13.2).
func TestNoAcknowledgedWriteLost(t *testing.T) {
	dsn := testenv.MySQLDSN(t)
	key := "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	env := []string{"PINGAN_DB=" + dsn, "PINGAN_BLOB=" + testenv.MinioURL(t), "PINGAN_DATA_DIR=" + t.TempDir(),
		"PINGAN_DEMO=on", "PINGAN_JWT_KEYS=k1:" + key, "PINGAN_DATA_KEY=" + key}
	addr := freeAddr(t)
	srv := child(t, env, addr)
	base := "http://" + addr

	_, body := post(t, base+"/api/v1/auth/login", map[string]string{"username": "demo-gridworker", "password": "pingan-demo"})
	token := body["access_token"].(string)

	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
		stop  = make(chan struct{})
	)
	client := &http.Client{Timeout: 5 * time.Second}
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				raw, _ := json.Marshal(map[string]any{"category": "public_order", "severity": "low",
					"description": fmt.Sprintf("crash test %d-%d", w, i), "occurred_at": time.Now().UTC().Format(time.RFC3339)})
				rq, _ := http.NewRequest("POST", base+"/api/v1/incidents", bytes.NewReader(raw))
				rq.Header.Set("Content-Type", "application/json")
				rq.Header.Set("Authorization", "Bearer "+token)
				rq.Header.Set("Idempotency-Key", fmt.Sprintf("crash-%d-%d", w, i))
				r, err := client.Do(rq)
				if err != nil {
					return // the server is gone
				}
				var out map[string]any
				_ = json.NewDecoder(r.Body).Decode(&out)
				r.Body.Close()
				if r.StatusCode == 201 {
					mu.Lock()
					acked = append(acked, out["id"].(string))
					mu.Unlock()
				}
			}
		}(w)
	}
	// Let a good number of writes through, then kill mid-stream.
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 150 {
			break
		}
	}
	if err := srv.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = srv.Wait()
	close(stop)
	wg.Wait()
	if len(acked) < 50 {
		t.Fatalf("only %d writes acknowledged before the kill", len(acked))
	}

	child(t, env, addr) // restart on the same database
	cfg, err := mysql.ParseDSN(strings.TrimPrefix(dsn, "mysql://"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	missing := 0
	for _, id := range acked {
		var n int
		if err := db.QueryRow("SELECT COUNT(*) FROM incidents WHERE id = ?", id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged incidents lost", missing, len(acked))
	}
	t.Logf("all %d acknowledged incidents present after SIGKILL and restart", len(acked))
}
