package main

import (
	"context"
	"fmt"
	"log"
	"slices"
	"sync"
	"time"

	"pingan/internal/access"
	"pingan/internal/heatmap"
	"pingan/internal/store"
)

// benchHeatmap times the heat map (SPEC §13.1: a month at precision 6 at
// city scale ≤ 300 ms, p99 at 20 req/s within it) through heatmap.Service,
// as the handler calls it, for the city's supervisor: last month at
// precision 6 (and, for comparison, by region and for one county), runs
// times in a row after one untimed warm-up; then last month at precision 6
// at a steady 20 calls a second for 15 seconds, each call on its own
// goroutine as requests would be, with its latency. JSON encoding and gzip
// (the handler's part) are not included.
func benchHeatmap(ctx context.Context, db *store.DB, loc *time.Location, runs int) {
	svc := heatmap.NewService(db, db, db, heatmap.DefaultMinCount, loc, time.Now)
	city := access.Principal{UserID: "bench", Role: access.Supervisor, RegionCode: "370500", RegionPath: "/370500/"}
	local := time.Now().In(loc)
	first := time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, loc).AddDate(0, -1, 0)
	from, to := first.Format(time.DateOnly), first.AddDate(0, 1, -1).Format(time.DateOnly)
	month := heatmap.Query{From: from, To: to, Precision: "6"}
	call := func(q heatmap.Query) (heatmap.Map, time.Duration) {
		t0 := time.Now()
		m, err := svc.Find(ctx, city, q)
		if err != nil {
			log.Fatal(err)
		}
		return m, time.Since(t0)
	}
	county := month
	county.Region = "370502"
	byRegion := heatmap.Query{From: from, To: to, By: "region"}
	for _, c := range []struct {
		name string
		q    heatmap.Query
	}{{"city, precision 6", month}, {"county 370502, precision 6", county}, {"city, by region", byRegion}} {
		m, warm := call(c.q)
		times := make([]time.Duration, runs)
		for i := range runs {
			_, times[i] = call(c.q)
		}
		slices.Sort(times)
		fmt.Printf("heatmap %-27s %s…%s: %d cases, %d cells (%d communities), %d suppressed, %d unlocated; "+
			"warm-up %s; %d runs: median %s, p99 %s, max %s\n", c.name, from, to, m.Total, len(m.Cells), len(m.Communities),
			m.Suppressed, m.Unlocated, warm.Round(time.Millisecond), runs, pct(times, 50), pct(times, 99), times[len(times)-1].Round(time.Millisecond))
	}
	// 20 calls a second for 15 seconds.
	const rate, seconds = 20, 15
	var mu sync.Mutex
	var wg sync.WaitGroup
	var times []time.Duration
	tick := time.NewTicker(time.Second / rate)
	for range rate * seconds {
		<-tick.C
		wg.Go(func() {
			_, d := call(month)
			mu.Lock()
			times = append(times, d)
			mu.Unlock()
		})
	}
	tick.Stop()
	wg.Wait()
	slices.Sort(times)
	fmt.Printf("heatmap city, precision 6 at %d/s for %ds: %d calls, median %s, p99 %s, max %s\n", rate, seconds, len(times),
		pct(times, 50), pct(times, 99), times[len(times)-1].Round(time.Millisecond))
}

// pct is the p-th percentile of sorted times (nearest rank).
func pct(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	return sorted[max(i-1, 0)].Round(time.Millisecond)
}
