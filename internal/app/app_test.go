package app

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"pingan/internal/config"
)

// load reads a configuration whose data directory is a fresh temporary
// one (the embedded SQLite database and file store).
func load(t *testing.T, vars map[string]string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Load(func(k string) string {
		if k == "PINGAN_DATA_DIR" {
			return dir
		}
		return vars[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestOpenEmbedded: the real assembly, on SQLite and the file store,
// builds every service.
func TestOpenEmbedded(t *testing.T) {
	cfg := load(t, map[string]string{"PINGAN_DISPUTE_DEADLINES": "accept.high=1h,resolve.county=45d"})
	a, err := Open(context.Background(), cfg, slog.New(slog.DiscardHandler), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Auth == nil || a.Users == nil || a.Regions == nil || a.Categories == nil || a.Incidents == nil || a.Disputes == nil ||
		a.Indicators == nil || a.Ranking == nil || a.Photos == nil || a.Notify == nil || a.Handler == nil {
		t.Fatalf("a service is missing: %+v", a)
	}
	if err := a.DB.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestOpenRefusesBadDeadlines: configuration keeps PINGAN_DISPUTE_DEADLINES
// as text and the dispute package reads it; a bad value still stops
// start-up with one line naming the variable, before anything is written.
func TestOpenRefusesBadDeadlines(t *testing.T) {
	for _, v := range []string{"accept.urgent=1h", "resolve.community=-1h", "accept.high", "resolve.grid=3d"} {
		cfg := load(t, map[string]string{"PINGAN_DISPUTE_DEADLINES": v})
		if cfg.DisputeDeadlines != v {
			t.Fatalf("config kept %q, want %q", cfg.DisputeDeadlines, v)
		}
		_, err := Open(context.Background(), cfg, slog.New(slog.DiscardHandler), time.Now)
		if err == nil {
			t.Fatalf("%q accepted", v)
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "PINGAN_DISPUTE_DEADLINES: ") || strings.Contains(msg, "\n") {
			t.Fatalf("%q: error %q should be one line starting with PINGAN_DISPUTE_DEADLINES:", v, msg)
		}
		if entries, err := os.ReadDir(cfg.DataDir); err != nil || len(entries) != 0 {
			t.Fatalf("%q: the data directory holds %v (%v); nothing should be written", v, entries, err)
		}
	}
}
