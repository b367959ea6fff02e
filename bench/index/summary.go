package main

import (
	"context"
	"fmt"
	"log"
	"slices"
	"strings"
	"sync"
	"time"

	"pingan/internal/access"
	"pingan/internal/category"
	"pingan/internal/region"
	"pingan/internal/report"
	"pingan/internal/store"
)

// benchSummary times the period summary (SPEC §13.1 "Reports": the city's
// summary of a month ≤ 300 ms and of a year ≤ 1 s, p99 at 20 req/s within
// those bounds) through report.Service.Summary as the API calls it, for a
// city-wide admin: runs sequential calls of each case after one warm-up,
// then each month and year case paced at 20 req/s for paced calls (each
// call in its own goroutine at its tick, so a slow one does not slow the
// pace) with its p99.
func benchSummary(ctx context.Context, db *store.DB, loc *time.Location, runs, paced int) {
	for _, t := range []string{"case_facts", "case_deadlines"} {
		if _, err := db.SQL().ExecContext(ctx, "ANALYZE TABLE "+t); err != nil {
			log.Fatal(err)
		}
	}
	svc := report.NewService(db, db, region.NewService(db, db, time.Now), category.NewService(db, db, time.Now), loc, time.Now)
	// The daily counts (docs/reports.md, "Daily counts") are what a
	// running server keeps: filled here as the scheduler would, its time
	// printed.
	t0 := time.Now()
	for {
		if err := svc.CountDays(ctx, ""); err != nil {
			log.Fatal(err)
		}
		first, _, err := db.FirstReportedAt(ctx)
		if err != nil {
			log.Fatal(err)
		}
		from := first.In(loc).Format(report.DayLayout)
		yesterday := time.Now().In(loc).AddDate(0, 0, -1).Format(report.DayLayout)
		counted, err := db.CountedDays(ctx, from, yesterday)
		if err != nil {
			log.Fatal(err)
		}
		days := 0
		for d := first.In(loc); d.Format(report.DayLayout) <= yesterday; d = d.AddDate(0, 0, 1) {
			days++
		}
		fmt.Printf("summary daily counts: %d of %d days counted after %s\n", len(counted), days, time.Since(t0).Round(time.Millisecond))
		if len(counted) >= days {
			break
		}
	}
	admin := access.Principal{UserID: "bench", Role: access.Admin, RegionCode: "370500", RegionPath: "/370500/"}
	local := time.Now().In(loc)
	first := time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, loc)
	lastMonth := report.Query{From: first.AddDate(0, -1, 0).Format(report.DayLayout), To: first.AddDate(0, 0, -1).Format(report.DayLayout)}
	year := report.Query{From: local.AddDate(-1, 0, 1).Format(report.DayLayout), To: local.Format(report.DayLayout)}
	byChild := lastMonth
	byChild.ByChild = true
	county := lastMonth
	county.Region, county.ByChild = "370502", true
	cases := []struct {
		name string
		q    report.Query
	}{{"city month", lastMonth}, {"city year", year}, {"city month by county", byChild}, {"county month by township", county}}
	for _, c := range cases {
		call := func() time.Duration {
			t0 := time.Now()
			if _, err := svc.Summary(ctx, admin, c.q); err != nil {
				log.Fatalf("%s: %v", c.name, err)
			}
			return time.Since(t0)
		}
		warm := call()
		times := make([]time.Duration, runs)
		shown := make([]string, runs)
		for i := range runs {
			times[i] = call()
			shown[i] = times[i].Round(time.Millisecond).String()
		}
		slices.Sort(times)
		fmt.Printf("summary %-25s %s..%s  warm-up %s  runs [%s]  median %s\n", c.name, c.q.From, c.q.To,
			warm.Round(time.Millisecond), strings.Join(shown, " "), times[len(times)/2].Round(time.Millisecond))
	}
	// Where the time goes: one more call of each case with MariaDB's slow
	// log on, its queries by time.
	if _, err := db.SQL().ExecContext(ctx, "SET GLOBAL log_output = 'TABLE', long_query_time = 0, slow_query_log = ON"); err != nil {
		log.Fatal(err)
	}
	// A session keeps the long_query_time it began with: the pool's idle
	// connections go, so that the calls below open new ones.
	db.SQL().SetMaxIdleConns(0)
	db.SQL().SetMaxIdleConns(8)
	for _, c := range cases {
		if _, err := db.SQL().ExecContext(ctx, "TRUNCATE mysql.slow_log"); err != nil {
			log.Fatal(err)
		}
		if _, err := svc.Summary(ctx, admin, c.q); err != nil {
			log.Fatalf("%s: %v", c.name, err)
		}
		rows, err := db.SQL().QueryContext(ctx, "SELECT TIME_TO_SEC(query_time), rows_examined, LEFT(REPLACE(sql_text, '\n', ' '), 160) "+
			"FROM mysql.slow_log WHERE sql_text LIKE 'SELECT%' ORDER BY query_time DESC LIMIT 12")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("summary %s, its queries by time:\n", c.name)
		for rows.Next() {
			var secs float64
			var examined int
			var text string
			if err := rows.Scan(&secs, &examined, &text); err != nil {
				log.Fatal(err)
			}
			fmt.Printf("  %8.3fs %9d rows  %s\n", secs, examined, text)
		}
		rows.Close()
	}
	if _, err := db.SQL().ExecContext(ctx, "SET GLOBAL slow_query_log = OFF"); err != nil {
		log.Fatal(err)
	}
	for _, c := range cases[:2] {
		var mu sync.Mutex
		var wg sync.WaitGroup
		var times []time.Duration
		tick := time.NewTicker(50 * time.Millisecond)
		for range paced {
			<-tick.C
			wg.Go(func() {
				t0 := time.Now()
				if _, err := svc.Summary(ctx, admin, c.q); err != nil {
					log.Fatalf("%s: %v", c.name, err)
				}
				mu.Lock()
				times = append(times, time.Since(t0))
				mu.Unlock()
			})
		}
		tick.Stop()
		wg.Wait()
		slices.Sort(times)
		p := func(q float64) time.Duration {
			return times[min(len(times)-1, int(q*float64(len(times))))].Round(time.Millisecond)
		}
		fmt.Printf("summary %-25s at 20 req/s, %d calls: median %s  p90 %s  p99 %s  max %s\n", c.name, len(times), p(0.5), p(0.9),
			p(0.99), times[len(times)-1].Round(time.Millisecond))
	}
}
