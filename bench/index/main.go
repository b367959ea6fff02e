// Command index times the monthly recompute of the Ping'an index on
// MariaDB at city scale (SPEC §13.1: ~2 000 communities, ~200 townships,
// 5 counties, 8 indicators over 1 000 000 incidents and 200 000 disputes,
// ≤ 3 s). It migrates the database, writes a synthetic region tree of that
// size, bulk-loads the cases over the last year (by multi-row INSERTs in
// parallel), then runs ranking.Service.Compute for last month -runs times
// and prints each time and the median, and the same for yesterday.
//
// With -warnings it times early-warning detection on the same city instead
// (SPEC §13.1: warning.Service.Detect of yesterday and of today, ≤ 1 s
// each; see warnings.go), with -heatmap the heat map of last month at
// precision 6 (SPEC §13.1: ≤ 300 ms, p99 at 20 req/s; see heatmap.go), and
// with -summary the period summary of a month and of a year (≤ 300 ms and
// ≤ 1 s, p99 at 20 req/s; see summary.go). Cases lie around their grid, the
// grids scattered over a 1° × 1° box.
//
//	index -dsn 'root:secret@tcp(127.0.0.1:3306)/pingan_index?parseTime=true'
//	index -warnings -dsn …
//	index -heatmap -skip-load -dsn …
//	index -summary -skip-load -dsn …
package main

import (
	"bytes"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"pingan/internal/heatmap"
	"pingan/internal/indicator"
	"pingan/internal/pii"
	"pingan/internal/ranking"
	"pingan/internal/region"
	"pingan/internal/store"
)

func main() {
	dsn := flag.String("dsn", "", "MariaDB DSN, user:pass@tcp(host:port)/db")
	nInc := flag.Int("incidents", 1_000_000, "incidents to load")
	nDis := flag.Int("disputes", 200_000, "disputes to load")
	runs := flag.Int("runs", 3, "timed recomputes of each period")
	tz := flag.String("tz", "Asia/Shanghai", "the city's time zone")
	skipLoad := flag.Bool("skip-load", false, "use the cases already in the database (a second run)")
	warnings := flag.Bool("warnings", false, "time early-warning detection of yesterday and today instead of the index (-runs default 5)")
	summary := flag.Bool("summary", false, "time the period summary (a month, a year, by child) instead of the index (-runs default 5)")
	paced := flag.Int("paced", 200, "summary: calls of the month and the year each at 20 req/s, for the p99")
	heat := flag.Bool("heatmap", false, "time the heat map of last month instead of the index (-runs default 100)")
	flag.Parse()
	if *dsn == "" {
		log.Fatal("index: -dsn is required")
	}
	loc, err := time.LoadLocation(*tz)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	sealer, _ := pii.NewSealer(bytes.Repeat([]byte{7}, 32))
	db, err := store.Open(ctx, "mysql://"+strings.TrimPrefix(*dsn, "mysql://"), sealer)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	now := time.Now()
	grids := regions(ctx, db)
	if !*skipLoad {
		log.Printf("index: %d grids; loading %d incidents and %d disputes", len(grids), *nInc, *nDis)
		start := time.Now()
		load(ctx, db.SQL(), grids, *nInc, *nDis, now)
		log.Printf("index: loaded in %s", time.Since(start).Round(time.Second))
	}
	for _, t := range []string{"incidents", "disputes"} {
		if _, err := db.SQL().ExecContext(ctx, "ANALYZE TABLE "+t); err != nil {
			log.Fatal(err)
		}
	}
	if *summary {
		n := *runs
		if !isSet("runs") {
			n = 5
		}
		benchSummary(ctx, db, loc, n, *paced)
		return
	}
	if *heat {
		n := *runs
		if !isSet("runs") {
			n = 100
		}
		benchHeatmap(ctx, db, loc, n)
		return
	}
	if *warnings {
		n := *runs
		if !isSet("runs") {
			n = 5
		}
		benchWarnings(ctx, db, loc, n)
		return
	}
	if err := indicator.LoadDefaults(ctx, db, now); err != nil {
		log.Fatal(err)
	}
	svc := ranking.NewService(db, db, db, db, loc, time.Now, slog.New(slog.DiscardHandler))
	local := now.In(loc)
	month := time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, loc).AddDate(0, -1, 0).Format("2006-01")
	day := local.AddDate(0, 0, -1).Format("2006-01-02")
	// The steady state: the months and days before were computed when they
	// ended, and a period's window reads their stored values. Computed here
	// first, oldest first, and timed apart.
	for _, p := range [][2]string{{indicator.Month, month}, {indicator.Day, day}} {
		t0 := time.Now()
		for k := 6; k >= 1; k-- {
			if err := svc.Compute(ctx, indicator.Shift(p[0], p[1], -k, loc)); err != nil {
				log.Fatal(err)
			}
		}
		fmt.Printf("the 6 %ss before %s, computed first: %s\n", p[0], p[1], time.Since(t0).Round(time.Millisecond))
	}
	for _, p := range []string{month, day} {
		var times []time.Duration
		for range *runs {
			t0 := time.Now()
			if err := svc.Compute(ctx, p); err != nil {
				log.Fatal(err)
			}
			times = append(times, time.Since(t0))
		}
		slices.Sort(times)
		fmt.Printf("recompute %-10s  runs %v  median %s\n", p, times, times[len(times)/2].Round(time.Millisecond))
	}
	for _, level := range ranking.Levels {
		rows, err := db.FindResults(ctx, level, indicator.Month, month, nil)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%-9s %5d regions ranked for %s\n", level, len(rows), month)
	}
}

// isSet reports whether the flag was given on the command line.
func isSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// grid is a grid of the synthetic city and where it lies (its cases lie
// around that point).
type grid struct {
	code, community, township, county string
	lat, lng                          float64
}

// The box the synthetic city lies in, about Dongying's size.
const (
	boxLat, boxLng = 37.0, 118.2
	boxSize        = 1.0
)

// regions writes a city of 5 counties × 40 townships × 10 communities × 2
// grids, and returns the grids.
func regions(ctx context.Context, db *store.DB) []grid {
	rng := rand.New(rand.NewPCG(9, 9))
	// Places draw from a source of their own, so that the populations stay as they were.
	place := rand.New(rand.NewPCG(9, 10))
	rs := []region.Region{{Code: "370500", Name: "市", Level: region.City, Path: "/370500/", Population: 2_000_000}}
	var grids []grid
	for c := range 5 {
		county := fmt.Sprintf("3705%02d", 2+c)
		cp := "/370500/" + county + "/"
		rs = append(rs, region.Region{Code: county, Name: "县" + county, Level: region.County, ParentCode: "370500", Path: cp, Population: 400_000})
		for t := range 40 {
			township := fmt.Sprintf("%s%03d", county, t+1)
			tp := cp + township + "/"
			rs = append(rs, region.Region{Code: township, Name: "镇" + township, Level: region.Township, ParentCode: county, Path: tp, Population: 40_000})
			for m := range 10 {
				community := fmt.Sprintf("%s%03d", township, m+1)
				mp := tp + community + "/"
				rs = append(rs, region.Region{Code: community, Name: "社区" + community, Level: region.Community, ParentCode: township,
					Path: mp, Population: int64(1_000 + rng.IntN(9_000))})
				lat, lng := boxLat+place.Float64()*boxSize, boxLng+place.Float64()*boxSize
				for g := range 2 {
					code := fmt.Sprintf("%s%03d", community, g+1)
					rs = append(rs, region.Region{Code: code, Name: "网格" + code, Level: region.Grid, ParentCode: community,
						Path: mp + code + "/", Population: 2_000})
					grids = append(grids, grid{code, community, township, county, lat + float64(g)*0.004, lng})
				}
			}
		}
	}
	if err := db.UpsertRegions(ctx, rs); err != nil {
		log.Fatal(err)
	}
	return grids
}

// load inserts the cases with 4 connections, 2 000 rows per statement.
func load(ctx context.Context, db *sql.DB, grids []grid, nInc, nDis int, now time.Time) {
	const batch, workers = 2000, 4
	type job struct {
		table string
		from  int
	}
	jobs := make(chan job)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			conn, err := db.Conn(ctx)
			if err != nil {
				log.Fatal(err)
			}
			defer conn.Close()
			if _, err := conn.ExecContext(ctx, "SET unique_checks = 0, foreign_key_checks = 0"); err != nil {
				log.Fatal(err)
			}
			for j := range jobs {
				rng := rand.New(rand.NewPCG(uint64(j.from), uint64(w)))
				total := nInc
				if j.table == "disputes" {
					total = nDis
				}
				for _, st := range rowsOf(j.table, j.from, min(batch, total-j.from), total, rng, grids, now) {
					if _, err := conn.ExecContext(ctx, st.q, st.args...); err != nil {
						log.Fatalf("insert %s: %v", j.table, err)
					}
				}
			}
		})
	}
	for i := 0; i < nInc; i += batch {
		jobs <- job{"incidents", i}
	}
	for i := 0; i < nDis; i += batch {
		jobs <- job{"disputes", i}
	}
	close(jobs)
	wg.Wait()
}

var (
	incCategories = []string{"public_order", "safety_hazard", "traffic", "facilities", "environment", "telecom_fraud", "fire", "other"}
	disCategories = []string{"neighbourhood", "marriage_family", "housing_land", "contract", "damages", "labour"}
)

// stmt is one statement with its arguments.
type stmt struct {
	q    string
	args []any
}

// placeOf is where a case of grid g lies: within about a kilometre of the
// grid's point, with the geohash the store would write (heatmap.Geohash).
func placeOf(g grid, rng *rand.Rand) (lat, lng float64, gh string) {
	lat, lng = g.lat+(rng.Float64()*2-1)*0.01, g.lng+(rng.Float64()*2-1)*0.01
	return lat, lng, heatmap.Geohash(&lat, &lng)
}

// rowsOf is the multi-row INSERTs of n rows of table, numbered from from of
// total: for disputes, their case facts too (SPEC §4.3: a resolution, a
// follow-up, the accept and resolve deadlines, one in twenty resolved
// late), which the index reads. Rows come in time order over the last
// year, as reports do, so that every index grows at its end (random times
// would rewrite pages all over the indexes and make the load many times
// slower).
func rowsOf(table string, from, n, total int, rng *rand.Rand, grids []grid, now time.Time) []stmt {
	var q strings.Builder
	var args []any
	// Places draw from a source of their own, so that the other draws stay as they were.
	places := rand.New(rand.NewPCG(uint64(from), 11))
	year := 365 * 24 * time.Hour
	timeOf := func(i int) time.Time {
		return now.Add(-year + time.Duration(float64(year)*float64(from+i)/float64(total))).UTC()
	}
	if table == "incidents" {
		// Each incident is accepted within hours and resolved within days,
		// one in twenty rejected instead; those of the last three days are
		// still open. Their facts are what the summary reads.
		q.WriteString("INSERT INTO incidents (id, case_no, category, severity, status, description, lat, lng, geohash, address, " +
			"region_code, community_code, township_code, county_code, occurred_at, reported_at, reporter_id, photo_ids, version, " +
			"created_at, updated_at) VALUES ")
		var fq strings.Builder
		var fargs []any
		fq.WriteString("INSERT INTO case_facts (id, case_id, case_kind, fact, at, level, satisfaction, category, county_code, " +
			"township_code, community_code, region_code, reporter_id, reported_at) VALUES ")
		facts := 0
		fact := func(prefix string, i int, id, kind string, at time.Time, category string, g grid, reported time.Time) {
			if facts > 0 {
				fq.WriteString(",")
			}
			facts++
			fq.WriteString("(?,?,'incident',?,?,'',NULL,?,?,?,?,?,'bench',?)")
			fargs = append(fargs, fmt.Sprintf("00000000-0000-7000-%s-%012d", prefix, from+i), id, kind, at, category,
				g.county, g.township, g.community, g.code, reported)
		}
		for i := range n {
			g := grids[rng.IntN(len(grids))]
			at := timeOf(i)
			if i > 0 {
				q.WriteString(",")
			}
			id := fmt.Sprintf("00000000-0000-7000-8000-%012d", from+i)
			category := incCategories[rng.IntN(len(incCategories))]
			status := "closed"
			switch {
			case now.Sub(at) < 3*24*time.Hour:
				status = "reported"
			case rng.IntN(20) == 0:
				status = "rejected"
				fact("e000", i, id, "rejected", at.Add(time.Duration(1+rng.IntN(12))*time.Hour), category, g, at)
			default:
				accepted := at.Add(time.Duration(1+rng.IntN(6*60)) * time.Minute)
				fact("e000", i, id, "accepted", accepted, category, g, at)
				fact("f000", i, id, "resolved", accepted.Add(time.Duration(1+rng.IntN(72*60))*time.Minute), category, g, at)
			}
			q.WriteString("(?,?,?,?,?,?,?,?,?,'',?,?,?,?,?,?,?,'',1,?,?)")
			lat, lng, gh := placeOf(g, places)
			args = append(args, id, fmt.Sprintf("SJ-X-%d", from+i),
				category, "low", status, "x", lat, lng, gh, g.code, g.community, g.township, g.county,
				at, at, "bench", at, at)
		}
		if facts == 0 {
			return []stmt{{q.String(), args}}
		}
		return []stmt{{q.String(), args}, {fq.String(), fargs}}
	}
	q.WriteString("INSERT INTO disputes (id, case_no, category, description, lat, lng, geohash, address, region_code, community_code, township_code, " +
		"county_code, city_code, occurred_at, reported_at, reporter_id, photo_ids, risk_level, status, level, level_code, " +
		"entered_level_at, assignee_id, due_at, resolved_level, resolved_at, outcome, follow_ups, last_follow_up_at, version, " +
		"created_at, updated_at) VALUES ")
	var fq, aq, dq strings.Builder
	var fargs, aargs, dargs []any
	fq.WriteString("INSERT INTO case_facts (id, case_id, case_kind, fact, at, level, satisfaction, category, county_code, " +
		"township_code, community_code, region_code, reporter_id, reported_at) VALUES ")
	aq.WriteString("INSERT INTO case_facts (id, case_id, case_kind, fact, at, level, satisfaction, category, county_code, " +
		"township_code, community_code, region_code, reporter_id, reported_at) VALUES ")
	dq.WriteString("INSERT INTO case_deadlines (id, case_id, case_kind, kind, level, category, county_code, township_code, " +
		"community_code, region_code, reporter_id, started_at, due_at, met_at, breached_at, ended_at) VALUES ")
	for i := range n {
		g := grids[rng.IntN(len(grids))]
		at := timeOf(i)
		due := at.Add(30 * 24 * time.Hour)
		level, status := "community", "closed"
		if rng.IntN(10) == 0 {
			level = "township"
		}
		resolved := at.Add(time.Duration(1+rng.IntN(20*24)) * time.Hour)
		var breached any
		if rng.IntN(20) == 0 {
			resolved, breached = due.Add(time.Duration(1+rng.IntN(10*24))*time.Hour), due
		}
		followed := resolved.Add(5 * 24 * time.Hour)
		sat := 3 + rng.IntN(3)
		outcome := fmt.Sprintf(`{"agreement":"x","satisfaction":%d}`, sat)
		category := disCategories[rng.IntN(len(disCategories))]
		id := fmt.Sprintf("00000000-0000-7000-9000-%012d", from+i)
		if i > 0 {
			q.WriteString(",")
			fq.WriteString(",")
			dq.WriteString(",")
		}
		q.WriteString("(?,?,?,?,?,?,?,'',?,?,?,?,'370500',?,?,?,'','low',?,?,?,?,'',?,?,?,?,1,?,5,?,?)")
		lat, lng, gh := placeOf(g, places)
		args = append(args, id, fmt.Sprintf("JF-X-%d", from+i), category, "x", lat, lng, gh, g.code, g.community, g.township, g.county,
			at, at, "bench", status, level, g.community, at, due, level, resolved, outcome, followed, at, at)
		accepted := at.Add(time.Hour)
		fq.WriteString("(?,?,'dispute','resolved',?,?,NULL,?,?,?,?,?,'bench',?),(?,?,'dispute','followed_up',?,?,?,?,?,?,?,?,'bench',?)")
		fargs = append(fargs, fmt.Sprintf("00000000-0000-7000-a000-%012d", from+i), id, resolved, level, category,
			g.county, g.township, g.community, g.code, at,
			fmt.Sprintf("00000000-0000-7000-b000-%012d", from+i), id, followed, level, sat, category,
			g.county, g.township, g.community, g.code, at)
		if i > 0 {
			aq.WriteString(",")
		}
		aq.WriteString("(?,?,'dispute','accepted',?,'community',NULL,?,?,?,?,?,'bench',?)")
		aargs = append(aargs, fmt.Sprintf("00000000-0000-7000-c100-%012d", from+i), id, accepted, category,
			g.county, g.township, g.community, g.code, at)
		dq.WriteString("(?,?,'dispute','accept','community',?,?,?,?,?,'bench',?,?,?,NULL,?),(?,?,'dispute','resolve','community',?,?,?,?,?,'bench',?,?,?,?,?)")
		dargs = append(dargs, fmt.Sprintf("00000000-0000-7000-c000-%012d", from+i), id, category, g.county, g.township,
			g.community, g.code, at, at.Add(24*time.Hour), accepted, accepted,
			fmt.Sprintf("00000000-0000-7000-d000-%012d", from+i), id, category, g.county, g.township, g.community, g.code,
			accepted, due, resolved, breached, resolved)
	}
	return []stmt{{q.String(), args}, {fq.String(), fargs}, {aq.String(), aargs}, {dq.String(), dargs}}
}
