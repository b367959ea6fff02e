package main

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"pingan/internal/app"
	"pingan/internal/notify"
	"pingan/internal/region"
	"pingan/internal/store"
	"pingan/internal/warning"
)

// benchWarnings times early-warning detection (SPEC §13.1: one day for
// every county and township × (disputes + every incident category) ≤ 1 s,
// and the same for the 10-minute same-day pass): warning.Service.Detect of
// yesterday (a closed day) and of today (the day so far), runs times each
// after one untimed warm-up, then one instrumented run of each that says
// where the time goes.
func benchWarnings(ctx context.Context, db *store.DB, loc *time.Location, runs int) {
	notices := notify.NewService(db, db, db, db, notify.Webhook{}, time.Now)
	fmt.Println("notifier: notify.Service (the inbox, as the server wires it); the synthetic city has no users, " +
		"so no warning has watchers and no notice is written")
	newService := func(st warning.Store) *warning.Service {
		return warning.NewService(st, db, app.IndexResults{Store: db}, app.WarningNotices{Notify: notices}, db, warning.DefaultSettings(), loc,
			time.Now, slog.New(slog.DiscardHandler))
	}
	svc := newService(db)
	local := time.Now().In(loc)
	days := []struct{ name, day string }{
		{"yesterday", local.AddDate(0, 0, -1).Format(time.DateOnly)},
		{"today", local.Format(time.DateOnly)},
	}
	for _, d := range days {
		t0 := time.Now()
		if err := svc.Detect(ctx, d.day); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("detect %-9s %s  warm-up (raises the day's warnings) %s\n", d.name, d.day, time.Since(t0).Round(time.Millisecond))
		var times []time.Duration
		for range runs {
			t0 := time.Now()
			if err := svc.Detect(ctx, d.day); err != nil {
				log.Fatal(err)
			}
			times = append(times, time.Since(t0))
		}
		shown := make([]string, len(times))
		for i, t := range times {
			shown[i] = t.Round(time.Millisecond).String()
		}
		slices.Sort(times)
		fmt.Printf("detect %-9s %s  runs [%s]  median %s\n", d.name, d.day, strings.Join(shown, " "),
			times[len(times)/2].Round(time.Millisecond))
	}
	// One more run of each, counting the store calls and their time.
	for _, d := range days {
		st := &countingStore{DB: db, calls: map[string]*callStat{}}
		t0 := time.Now()
		if err := newService(st).Detect(ctx, d.day); err != nil {
			log.Fatal(err)
		}
		total := time.Since(t0)
		fmt.Printf("instrumented %-9s total %s:", d.name, total.Round(time.Millisecond))
		names := make([]string, 0, len(st.calls))
		for n := range st.calls {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			c := st.calls[n]
			fmt.Printf("  %s %d× %s", n, c.n, c.d.Round(time.Millisecond))
		}
		fmt.Println()
	}
	rows, err := db.SQL().QueryContext(ctx, "SELECT kind, severity, COUNT(*) FROM warnings GROUP BY kind, severity ORDER BY kind, severity")
	if err != nil {
		log.Fatal(err)
	}
	defer rows.Close()
	var parts []string
	for rows.Next() {
		var kind, sev string
		var n int
		if err := rows.Scan(&kind, &sev, &n); err != nil {
			log.Fatal(err)
		}
		parts = append(parts, fmt.Sprintf("%s/%s %d", kind, sev, n))
	}
	if err := rows.Err(); err != nil {
		log.Fatal(err)
	}
	places := 0
	for _, l := range []region.Level{region.County, region.Township} {
		rs, err := db.FindRegionsAt(ctx, l)
		if err != nil {
			log.Fatal(err)
		}
		places += len(rs)
	}
	fmt.Printf("series watched: %d counties and townships × (disputes + %d incident categories); warnings stored: %s\n",
		places, len(incCategories), strings.Join(parts, ", "))
}

type callStat struct {
	n int
	d time.Duration
}

// countingStore is the store, counting the calls detection makes and the
// time they take.
type countingStore struct {
	*store.DB
	mu    sync.Mutex
	calls map[string]*callStat
}

func (s *countingStore) note(name string, t0 time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.calls[name]
	if !ok {
		c = &callStat{}
		s.calls[name] = c
	}
	c.n++
	c.d += time.Since(t0)
}

func (s *countingStore) CaseCounts(ctx context.Context, caseKind string, from, to time.Time) ([]warning.Count, error) {
	defer s.note("CaseCounts", time.Now())
	return s.DB.CaseCounts(ctx, caseKind, from, to)
}

func (s *countingStore) BreachedCounts(ctx context.Context, from, to, now time.Time) ([]warning.Count, error) {
	defer s.note("BreachedCounts", time.Now())
	return s.DB.BreachedCounts(ctx, from, to, now)
}

func (s *countingStore) FindEpisode(ctx context.Context, kind, regionCode, caseKind, category, since, until string) (warning.Warning, bool, error) {
	defer s.note("FindEpisode", time.Now())
	return s.DB.FindEpisode(ctx, kind, regionCode, caseKind, category, since, until)
}

func (s *countingStore) InsertWarning(ctx context.Context, w warning.Warning) error {
	defer s.note("InsertWarning", time.Now())
	return s.DB.InsertWarning(ctx, w)
}

func (s *countingStore) UpdateWarning(ctx context.Context, w warning.Warning) error {
	defer s.note("UpdateWarning", time.Now())
	return s.DB.UpdateWarning(ctx, w)
}

func (s *countingStore) FindKeyDates(ctx context.Context) ([]warning.Event, error) {
	defer s.note("FindKeyDates", time.Now())
	return s.DB.FindKeyDates(ctx)
}
