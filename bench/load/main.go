// Command load bulk-loads generated incidents into a migrated database for
// the read benchmark (SPEC §13.1: the first page of one township over
// 1 000 000 incidents).
//
//	load -dsn 'root:secret@tcp(127.0.0.1:3306)/pingan_bench?parseTime=true' -n 1000000
//
// Rows are spread over the 360 demo grids by population, over the last
// -days days with seasonal and weekly swings, with realistic categories,
// severities and states (bench/load/gen.go). They are written -batch rows
// per statement, multi-row INSERTs or, with -method infile, LOAD DATA LOCAL
// INFILE of tab-separated text (less parsing for MariaDB), by -workers
// connections, -tx statements per transaction, with unique and foreign-key
// checks off for the session. The
// schema must exist (pingan migrate); the demo accounts, when loaded, become
// the reporters of their grids. Case numbers read SJ-COUNTY-DATE-Bseed-row:
// the "B" keeps them apart from the API's own, and a second load into the
// same table needs another -seed.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"pingan/bench/internal/benchdb"
)

// config is the loader's flags.
type config struct {
	dsn                   string
	n, batch, workers, tx int
	days                  int
	seed                  uint64
	tz                    string
	analyze               bool
	// method is "insert" (multi-row INSERT) or "infile" (LOAD DATA LOCAL INFILE).
	method string
	// now is the end of the period; zero means the time of the run.
	now time.Time
}

func main() {
	var c config
	flag.StringVar(&c.dsn, "dsn", "", "MariaDB DSN, user:pass@tcp(host:port)/db (a mysql:// prefix is accepted)")
	flag.IntVar(&c.n, "n", 1_000_000, "rows to insert")
	flag.IntVar(&c.batch, "batch", 1000, "rows per INSERT statement")
	flag.IntVar(&c.workers, "workers", 4, "concurrent connections")
	flag.IntVar(&c.tx, "tx", 10, "statements per transaction")
	flag.IntVar(&c.days, "days", 365, "spread created_at over this many days up to now")
	flag.Uint64Var(&c.seed, "seed", 2026, "random seed (the same seed makes the same rows)")
	flag.StringVar(&c.tz, "tz", "Asia/Shanghai", "time zone of the days in case numbers and the daily pattern")
	flag.BoolVar(&c.analyze, "analyze", true, "ANALYZE TABLE incidents afterwards, so the planner sees the new rows")
	flag.StringVar(&c.method, "method", "insert", "insert: multi-row INSERT statements; infile: LOAD DATA LOCAL INFILE per batch")
	flag.Parse()
	if c.dsn == "" || c.n < 1 || c.batch < 1 || c.workers < 1 || c.tx < 1 || c.days < 1 ||
		(c.method != "insert" && c.method != "infile") {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c); err != nil {
		log.Fatal("load: ", err)
	}
}

func run(ctx context.Context, c config) error {
	loc, err := time.LoadLocation(c.tz)
	if err != nil {
		return fmt.Errorf("-tz: %w", err)
	}
	db, err := benchdb.Open(ctx, c.dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	var before int64
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM incidents").Scan(&before); err != nil {
		return fmt.Errorf("incidents table (run pingan migrate first): %w", err)
	}
	reporters, err := gridWorkers(ctx, db)
	if err != nil {
		return err
	}
	if c.now.IsZero() {
		c.now = time.Now()
	}
	gen := newGenerator(c.n, c.days, c.now, loc, benchdb.Grids(), reporters, c.seed)

	// The first failing worker cancels the others.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Chunks of rows go out in time order; each worker takes the next one,
	// so all writers stay near the newest end of every index.
	chunks := make(chan int)
	go func() {
		defer close(chunks)
		for first := 0; first < c.n; first += c.batch {
			select {
			case chunks <- first:
			case <-ctx.Done():
				return
			}
		}
	}()
	var (
		done     atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	start := time.Now()
	stopProgress := progress(&done, c.n, start)
	for range c.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := work(ctx, db, gen, c, chunks, &done); err != nil {
				errOnce.Do(func() { firstErr = err; cancel() })
			}
		}()
	}
	wg.Wait()
	stopProgress()
	if firstErr != nil {
		return firstErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	elapsed := time.Since(start)
	fmt.Printf("load: inserted %d incidents in %.1f s: %.0f rows/s (%s, %d workers, %d rows per statement, %d statements per transaction; table had %d rows)\n",
		c.n, elapsed.Seconds(), float64(c.n)/elapsed.Seconds(), c.method, c.workers, c.batch, c.tx, before)
	if c.analyze {
		t := time.Now()
		if _, err := db.ExecContext(ctx, "ANALYZE TABLE incidents"); err != nil {
			return fmt.Errorf("analyze: %w", err)
		}
		fmt.Printf("load: ANALYZE TABLE incidents took %.1f s\n", time.Since(t).Seconds())
	}
	return nil
}

// work inserts the chunks it receives on one connection, -tx statements per
// transaction.
func work(ctx context.Context, db *sql.DB, gen *generator, c config, chunks <-chan int, done *atomic.Int64) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// The rows are fresh and unique by construction, and the table has no
	// foreign keys today; skipping the checks lets InnoDB buffer index work.
	if _, err := conn.ExecContext(ctx, "SET SESSION unique_checks = 0, foreign_key_checks = 0"); err != nil {
		return fmt.Errorf("session settings: %w", err)
	}
	fullSQL := insertSQL(c.batch)
	args := make([]any, 0, c.batch*benchdb.NumColumns)
	var tsv []byte
	var row benchdb.Incident
	var tx *sql.Tx
	inTx := 0
	for first := range chunks {
		if tx == nil {
			if tx, err = conn.BeginTx(ctx, nil); err != nil {
				return err
			}
		}
		last := min(first+c.batch, c.n)
		args, tsv = args[:0], tsv[:0]
		for i := first; i < last; i++ {
			gen.row(i, &row)
			if c.method == "infile" {
				tsv = appendTSV(tsv, &row)
			} else {
				args = row.AppendArgs(args)
			}
		}
		q, forget := fullSQL, func() {}
		switch {
		case c.method == "infile":
			var name string
			name, forget = registerChunk(tsv)
			q = infileSQL(name)
		case last-first != c.batch:
			q = insertSQL(last - first)
		}
		_, err := tx.ExecContext(ctx, q, args...)
		forget()
		if err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("insert rows %d…%d: %w", first, last-1, err)
		}
		done.Add(int64(last - first))
		if inTx++; inTx == c.tx {
			if err := tx.Commit(); err != nil {
				return err
			}
			tx, inTx = nil, 0
		}
	}
	if tx != nil {
		if err := ctx.Err(); err != nil {
			_ = tx.Rollback()
			return err
		}
		return tx.Commit()
	}
	return nil
}

func insertSQL(rows int) string {
	return "INSERT INTO incidents (" + benchdb.Columns + ") VALUES " + benchdb.Placeholders(rows)
}

// gridWorkers maps each grid to the id of an active grid worker scoped to it
// (the demo accounts), so that "reporter=me" finds rows for them.
func gridWorkers(ctx context.Context, db *sql.DB) (map[string]string, error) {
	rows, err := db.QueryContext(ctx, "SELECT region_code, id FROM users WHERE role = 'grid_worker' AND active ORDER BY username")
	if err != nil {
		return nil, fmt.Errorf("users table (run pingan migrate first): %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var grid, id string
		if err := rows.Scan(&grid, &id); err != nil {
			return nil, err
		}
		if _, ok := out[grid]; !ok {
			out[grid] = id
		}
	}
	return out, rows.Err()
}

// progress prints a line every 10 s until the returned function is called.
func progress(done *atomic.Int64, n int, start time.Time) func() {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				d := done.Load()
				fmt.Printf("load: %d/%d rows, %.0f rows/s\n", d, n, float64(d)/time.Since(start).Seconds())
			}
		}
	}()
	return func() { close(stop); wg.Wait() }
}
