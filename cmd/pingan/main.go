// Command pingan is the whole product in one binary: the API server, its
// migrations and its command-line tools (SPEC §3.1).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	// The city's time zone must load on images without /usr/share/zoneinfo.
	_ "time/tzdata"

	"pingan/internal/access"
	"pingan/internal/app"
	"pingan/internal/auth"
	"pingan/internal/config"
	"pingan/internal/demo"
	"pingan/internal/idempotency"
	"pingan/internal/notify"
	"pingan/internal/user"
)

const usage = `usage: pingan <command> [flags]

commands:
  serve                 run the API (configuration from PINGAN_* variables, see README)
  migrate               apply database migrations and exit
  user create           create an account: -username -password -role -region -name [-phone]
  region import FILE    import regions from a GeoJSON FeatureCollection (may create the city)
  index --input FILE    score the Ping'an index of a JSON file offline (SPEC §9.7; - reads stdin)
  detect --input FILE   run a surge method over a JSON file's daily counts offline (SPEC §10.4; - reads stdin)
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, "pingan:", err)
		os.Exit(exitCode(err))
	}
}

// run is main with its inputs passed in, so that tests can start the real
// server on port 0. ready, if not nil, receives the listening address.
func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer, ready chan<- string) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	if args[0] == "index" { // offline: needs no configuration
		return indexCommand(args[1:], os.Stdin, out)
	}
	if args[0] == "detect" {
		return detectCommand(args[1:], os.Stdin, out)
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{}))
	switch args[0] {
	case "serve":
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "listen address (PINGAN_ADDR)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		logs := newLineBuffer(out, logFlushEvery)
		defer logs.Close()
		return serve(ctx, cfg, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{})), out, ready)
	case "migrate":
		a, err := app.Open(ctx, cfg, logger, time.Now)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, "migrations applied")
		return a.Close()
	case "user":
		if len(args) < 2 || args[1] != "create" {
			return errors.New(usage)
		}
		return createUser(ctx, cfg, logger, args[2:], out)
	case "region":
		if len(args) != 3 || args[1] != "import" {
			return errors.New(usage)
		}
		return importRegions(ctx, cfg, logger, args[2], out)
	}
	return errors.New(usage)
}

func serve(ctx context.Context, cfg *config.Config, logger *slog.Logger, out io.Writer, ready chan<- string) error {
	start := time.Now()
	tuneGC()
	a, err := app.Open(ctx, cfg, logger, time.Now)
	if err != nil {
		return err
	}
	defer a.Close()
	if a.GeneratedKeys {
		logger.Warn("signing and data keys generated in the data directory; set PINGAN_JWT_KEYS and PINGAN_DATA_KEY in production",
			slog.String("data_dir", cfg.DataDir))
	}
	if err := demo.LoadCategories(ctx, a.DB); err != nil {
		return err
	}
	if err := maybeLoadDemo(ctx, a, out); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("PINGAN_ADDR: %w", err)
	}
	srv := &http.Server{
		Handler:           a.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		// Room for a hostile megabyte in a header to reach the handler and
		// get the API's own 401, not the transport's bare 431.
		MaxHeaderBytes: 2 << 20,
	}
	// Shutdown waits for requests to finish; notification streams only
	// finish when told to.
	srv.RegisterOnShutdown(a.Notify.EndStreams)
	logger.Info("listening", slog.String("addr", ln.Addr().String()), slog.Float64("startup_ms", float64(time.Since(start).Microseconds())/1000),
		slog.String("db", a.DB.Dialect()), slog.Bool("production", cfg.Production))
	if ready != nil {
		ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	go janitor(ctx, a, logger)
	go watchDeadlines(ctx, a, logger)
	// The index runner stops before the database closes: a job it holds
	// then goes back to the queue instead of waiting out its lease.
	runCtx, stopRunner := context.WithCancel(ctx)
	runnerDone := make(chan struct{})
	go func() { a.Ranking.Run(runCtx); close(runnerDone) }()
	defer func() { stopRunner(); <-runnerDone }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Drain in-flight requests before closing the database.
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// janitor removes what has outlived its use, every ten minutes: photos and
// uploads never attached (SPEC §6.3), idempotency records past their
// retention, old login failures, finished webhook deliveries. Each step is idempotent, so several
// instances running it at once do no harm.
func janitor(ctx context.Context, a *app.App, logger *slog.Logger) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n, err := a.Photos.Sweep(ctx); err != nil {
			logger.Warn("photo sweep", slog.String("error", err.Error()))
		} else if n > 0 {
			logger.Info("photo sweep", slog.Int("removed", n))
		}
		if _, err := a.DB.PurgeIdempotencyKeys(ctx, time.Now().Add(-idempotency.Retention)); err != nil {
			logger.Warn("idempotency purge", slog.String("error", err.Error()))
		}
		if err := a.DB.ClearLoginFailures(ctx, nil, "", time.Now().Add(-auth.FailureWindow)); err != nil {
			logger.Warn("login failure purge", slog.String("error", err.Error()))
		}
		if _, err := a.DB.PurgeDeliveries(ctx, time.Now().Add(-notify.DeliveryRetention)); err != nil {
			logger.Warn("webhook delivery purge", slog.String("error", err.Error()))
		}
	}
}

// watchDeadlines writes the due-soon and overdue notices of disputes
// (SPEC §8.3) every minute. Each notice has a key per case and deadline, so
// several instances running it, or a restart, notify each once.
func watchDeadlines(ctx context.Context, a *app.App, logger *slog.Logger) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := a.Disputes.NotifyDue(ctx); err != nil && ctx.Err() == nil {
			logger.Warn("dispute deadlines", slog.String("error", err.Error()))
		}
	}
}

// maybeLoadDemo loads the demo set when PINGAN_DEMO says so, or by default
// on an empty embedded database, and prints the demo accounts.
func maybeLoadDemo(ctx context.Context, a *app.App, out io.Writer) error {
	n, err := a.DB.CountUsers(ctx)
	if err != nil {
		return err
	}
	load := a.Config.Demo == "on" || (a.Config.Demo == "auto" && a.Config.Embedded() && n == 0)
	if !load {
		return nil
	}
	// Generated cases only into an empty database: a restart with
	// PINGAN_DEMO=on must not add a second year of them.
	if err := demo.Load(ctx, demo.Deps{Store: a.DB, Users: a.Users, Photos: a.Photos, Cases: n == 0,
		Now: time.Now(), Loc: a.Config.Location}); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nDemo data loaded. Demo accounts (password %q):\n", demo.Password)
	for _, acc := range demo.Accounts() {
		fmt.Fprintf(out, "  %-24s %s\n", acc.Username, acc.Note)
	}
	fmt.Fprintln(out)
	return nil
}

func createUser(ctx context.Context, cfg *config.Config, logger *slog.Logger, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("user create", flag.ContinueOnError)
	var in user.NewUser
	var role string
	fs.StringVar(&in.Username, "username", "", "login name")
	fs.StringVar(&in.Password, "password", "", "password (at least 8 characters)")
	fs.StringVar(&in.Name, "name", "", "display name")
	fs.StringVar(&in.Phone, "phone", "", "phone number (stored encrypted)")
	fs.StringVar(&role, "role", "", "grid_worker, mediator, supervisor or admin")
	fs.StringVar(&in.RegionCode, "region", "", "scope: the region code")
	if err := fs.Parse(args); err != nil {
		return err
	}
	in.Role = access.Role(role)
	a, err := app.Open(ctx, cfg, logger, time.Now)
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := a.Users.CreateUser(ctx, access.System, in)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "created %s (%s, %s) id %s\n", u.Username, u.Role, u.RegionCode, u.ID)
	return nil
}

func importRegions(ctx context.Context, cfg *config.Config, logger *slog.Logger, path string, out io.Writer) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	a, err := app.Open(ctx, cfg, logger, time.Now)
	if err != nil {
		return err
	}
	defer a.Close()
	n, err := a.Regions.Import(ctx, access.System, data)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "imported %d regions\n", n)
	return nil
}

// tuneGC trades memory the server has for CPU it lacks: the collector runs
// at 3× the live heap instead of 2×, but never lets the heap pass 100 MiB
// (SPEC §13.1 allows 150 MB of RSS under load). GOGC and GOMEMLIMIT in the
// environment override both.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(300)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(100 << 20)
	}
}
