// Command rawfloor is the raw floor of the server benchmark (SPEC §13.1): the
// least a Go server can do for the API's two measured requests, so that the
// API's throughput can be reported as a fraction of it on the same machine.
//
//	POST /incidents                      decode the API's JSON body, one plain INSERT, 201 {"id": …}
//	GET  /incidents?township=CODE&limit=20  the API's first-page query, 200 {"items": […], "next_cursor": …}
//	GET  /exports/incidents              every incident as the API's CSV export of the city (export.go)
//
// It uses net/http and database/sql (go-sql-driver/mysql) only: no router,
// no authentication, no idempotency record, no timeline event, no audit.
// The pool and driver settings are the API's (bench/internal/benchdb).
//
//	rawfloor -addr 127.0.0.1:18081 -dsn 'root:secret@tcp(127.0.0.1:3306)/pingan_bench?parseTime=true'
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"pingan/bench/internal/benchdb"
	"pingan/internal/demo"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18081", "listen address (keep it on loopback)")
	dsn := flag.String("dsn", "", "MariaDB DSN, user:pass@tcp(host:port)/db (a mysql:// prefix is accepted)")
	grid := flag.String("grid", demo.FuqianGrid1, "grid that every POSTed incident is filed in (the API takes the reporter's)")
	reporter := flag.String("reporter", "demo-gridworker", "username whose id is stored as reporter_id (a fixed id when the user does not exist)")
	tz := flag.String("tz", "Asia/Shanghai", "time zone of the export's local times (the API's PINGAN_TZ)")
	flag.Parse()
	if *dsn == "" {
		log.Fatal("rawfloor: -dsn is required")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	loc, err := time.LoadLocation(*tz)
	if err != nil {
		log.Fatal("rawfloor: -tz: ", err)
	}
	if err := run(ctx, *addr, *dsn, *grid, *reporter, loc); err != nil {
		log.Fatal("rawfloor: ", err)
	}
}

func run(ctx context.Context, addr, dsn, gridCode, reporter string, loc *time.Location) error {
	db, err := benchdb.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	g, err := benchdb.FindGrid(gridCode)
	if err != nil {
		return err
	}
	reporterID, err := lookupUser(ctx, db, reporter)
	if err != nil {
		return err
	}
	s := &server{db: db, grid: g, reporterID: reporterID, loc: loc}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /incidents", s.create)
	mux.HandleFunc("GET /incidents", s.list)
	mux.HandleFunc("GET /exports/incidents", s.export)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	// The API's server timeouts, so that neither side gains from them.
	srv := &http.Server{
		Addr:              addr,
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Printf("rawfloor: listening on %s (grid %s, reporter %s)", addr, g.Code, reporterID)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// lookupUser returns the id of username, or a fixed placeholder id when the
// users table has no such user (the floor does not need the demo accounts).
func lookupUser(ctx context.Context, db *sql.DB, username string) (string, error) {
	var id string
	err := db.QueryRowContext(ctx, "SELECT id FROM users WHERE username = ?", username).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "00000000-0000-7000-8000-000000000000", nil
	case err != nil:
		return "", fmt.Errorf("look up reporter %q: %w", username, err)
	}
	return id, nil
}
