package demo_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"pingan/internal/access"
	"pingan/internal/app"
	"pingan/internal/config"
	"pingan/internal/demo"
	"pingan/internal/warning"
)

// TestDemoRaisesEveryWarningKind opens the real app on SQLite, loads the
// demo with its cases, runs the index runner's first jobs (the scheduled
// ones and detection) and finds open warnings of every kind in the city
// supervisor's view (SPEC §10.2, issue #13).
func TestDemoRaisesEveryWarningKind(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the demo's cases and computes its last months")
	}
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 30, 8, 45, 0, 0, loc)
	vars := map[string]string{"PINGAN_DATA_DIR": t.TempDir()}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return now }
	a, err := app.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), clock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	if err := demo.Load(ctx, demo.Deps{Store: a.DB, Users: a.Users, Photos: a.Photos, Cases: true, Now: now, Loc: loc}); err != nil {
		t.Fatal(err)
	}
	t.Logf("demo loaded in %s", time.Since(start))
	// What a first start runs before the backfill of the history: the
	// scheduled index periods, the demo's last three months, early
	// warning's catch-up days, today's pass and the month's checks. The
	// backfill (three years of days, minutes under -race) comes after
	// them and raises nothing new (no month before the latest three
	// raises warnings), so it is left out here.
	if err := a.Ranking.QueueDue(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.DB.SQL().ExecContext(ctx, "DELETE FROM index_jobs WHERE reason = 'backfill'"); err != nil {
		t.Fatal(err)
	}
	if err := a.Ranking.RunPending(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("index and detection done in %s", time.Since(start))
	u, err := a.DB.FindUserByUsername(ctx, "demo-supervisor")
	if err != nil {
		t.Fatal(err)
	}
	sup := access.Principal{UserID: u.ID, Username: u.Username, Role: u.Role, RegionCode: demo.CityCode, RegionPath: "/" + demo.CityCode + "/"}
	var ws []warning.Warning
	for _, kind := range warning.Kinds {
		got, err := a.Warnings.FindWarnings(ctx, sup, warning.Query{Status: string(warning.Open), Kind: kind,
			Filter: warning.Filter{Limit: 500}})
		if err != nil {
			t.Fatal(err)
		}
		ws = append(ws, got...)
	}
	by := map[string]int{}
	for _, w := range ws {
		by[w.Kind]++
		if w.Kind != warning.KindRankFall || by[w.Kind] <= 3 {
			t.Logf("%s %s %s %s..%s %s %s", w.Kind, w.Severity, w.RegionCode, w.FirstDay, w.LastDay, w.Category, w.Summary)
		}
	}
	t.Logf("open warnings by kind: %v", by)
	// What was planted is what fired.
	planted := map[string]string{warning.KindSurge: demo.DongchengStreet, warning.KindOverdue: demo.OverdueBacklog.Township,
		warning.KindRedBand: demo.TroubledTownship.Township, warning.KindKeyDate: demo.DongchengStreet}
	for kind, code := range planted {
		found := false
		for _, w := range ws {
			found = found || (w.Kind == kind && w.RegionCode == code)
		}
		if !found {
			t.Errorf("no open %s warning for %s", kind, code)
		}
	}
	for _, k := range []string{warning.KindSurge, warning.KindOverdue, warning.KindRedBand, warning.KindRankFall, warning.KindKeyDate} {
		if by[k] == 0 {
			t.Errorf("no open %s warning", k)
		}
	}
}
