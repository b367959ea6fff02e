// Command drive is the load generator of the server benchmark (SPEC §13.1).
// It measures the API against the raw floor (bench/rawfloor) on the same
// machine and reports the API's throughput as a fraction of the floor's.
//
//	drive -mode ingest -api http://127.0.0.1:18080 -raw http://127.0.0.1:18081 [-api-pid PID] -out ingest.json
//	drive -mode read   -api http://127.0.0.1:18080 -raw http://127.0.0.1:18081 -out read.json
//
// ingest: POST /api/v1/incidents as demo-gridworker (bearer token, unique
// Idempotency-Key) against the floor's POST /incidents, same body. For each,
// the maximum throughput of -workers concurrent clients as fast as they go
// (the best of -rounds rounds, raw and API alternating), then p50/p99 at half
// of that rate, open loop. Targets: API/raw ≥ 0.70, API p99 at
// half rate ≤ 50 ms, API peak RSS ≤ 150 MB (with -api-pid).
//
// read: the first page (limit 20) of one township, rotating over the 30
// demo townships: GET /api/v1/incidents?region= as demo-supervisor against
// the floor's GET /incidents?township=. Maximum throughput, then p50/p99 at
// -read-rate (200/s). Targets: API/raw ≥ 0.60, API p99 ≤ 25 ms.
//
// Only 2xx codes the API promises count (201 for ingest, 200 for read).
// The table goes to stdout and the same figures, as JSON, to -out. The exit
// status is 0 when both sides were measured, whether or not the targets were
// met (see the PASS/MISS lines), and 3 when a side could not be measured,
// e.g. because the API answers 404 for /api/v1/incidents.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"pingan/bench/internal/benchdb"
	"pingan/internal/demo"
)

// options are the driver's flags.
type options struct {
	mode               string
	api, raw           string
	user, password     string
	workers            uint64
	duration, warmup   time.Duration
	fixedDuration      time.Duration
	readRate, rounds   int
	apiPID             int
	out                string
	onlyRaw, onlyAPI   bool
	ingestTarget       float64
	readTarget         float64
	ingestP99, readP99 float64
	rssTargetMB        float64
}

func main() {
	var o options
	flag.StringVar(&o.mode, "mode", "", "ingest or read")
	flag.StringVar(&o.api, "api", "http://127.0.0.1:18080", "base URL of pingan serve")
	flag.StringVar(&o.raw, "raw", "http://127.0.0.1:18081", "base URL of bench/rawfloor")
	flag.StringVar(&o.user, "user", "", "API login (default demo-gridworker for ingest, demo-supervisor for read)")
	flag.StringVar(&o.password, "password", demo.Password, "API password")
	flag.Uint64Var(&o.workers, "workers", 32, "concurrent clients for the maximum-throughput phase")
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "length of the maximum-throughput phase")
	flag.DurationVar(&o.fixedDuration, "fixed-duration", 20*time.Second, "length of the fixed-rate phase")
	flag.IntVar(&o.rounds, "rounds", 1, "maximum-throughput rounds per side, alternating raw and API; the best counts")
	flag.DurationVar(&o.warmup, "warmup", 3*time.Second, "unrecorded warm-up at full speed before measuring (0: none)")
	flag.IntVar(&o.readRate, "read-rate", 200, "rate of the read mode's latency phase, requests/s")
	flag.IntVar(&o.apiPID, "api-pid", 0, "pid of the API process, to report its peak RSS (VmHWM) at the end")
	flag.StringVar(&o.out, "out", "", "write the results as JSON to this file")
	flag.BoolVar(&o.onlyRaw, "only-raw", false, "measure the raw floor only")
	flag.BoolVar(&o.onlyAPI, "only-api", false, "measure the API only")
	flag.Float64Var(&o.ingestTarget, "ingest-ratio-target", 0.70, "ingest: API/raw max throughput target")
	flag.Float64Var(&o.readTarget, "read-ratio-target", 0.60, "read: API/raw max throughput target")
	flag.Float64Var(&o.ingestP99, "ingest-p99-target", 50, "ingest: API p99 at half rate target, ms")
	flag.Float64Var(&o.readP99, "read-p99-target", 25, "read: API p99 at -read-rate target, ms")
	flag.Float64Var(&o.rssTargetMB, "rss-target", 150, "API peak RSS target, MB")
	flag.Parse()
	if (o.mode != "ingest" && o.mode != "read") || o.workers == 0 || o.duration <= 0 || o.fixedDuration <= 0 ||
		o.readRate <= 0 || o.rounds < 1 || (o.onlyAPI && o.onlyRaw) {
		flag.Usage()
		os.Exit(2)
	}
	for _, u := range []string{o.api, o.raw} {
		if err := loopbackOnly(u); err != nil {
			log.Fatal("drive: ", err)
		}
	}
	if o.user == "" {
		o.user = "demo-gridworker"
		if o.mode == "read" {
			o.user = "demo-supervisor"
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep := run(ctx, o)
	rep.print(os.Stdout)
	if o.out != "" {
		if err := rep.write(o.out); err != nil {
			log.Fatal("drive: ", err)
		}
		fmt.Printf("results written to %s\n", o.out)
	}
	if !rep.Complete {
		os.Exit(3)
	}
}

// run measures both sides, the floor first in every round (so that the API,
// if anything, meets the larger table), and judges the targets. Each side
// gets a preflight request first, which turns a missing route or a failed
// login into one clear line instead of a run of errors.
func run(ctx context.Context, o options) *Report {
	api, raw := strings.TrimRight(o.api, "/"), strings.TrimRight(o.raw, "/")
	client := &http.Client{Timeout: 30 * time.Second}
	tokens := &tokenSource{client: client, base: api, user: o.user, pass: o.password, lifetimeBeforeRenew: 10 * time.Minute}
	runID := randomID()

	rep := &Report{Mode: o.mode, Started: time.Now().Format(time.RFC3339), Workers: o.workers,
		PhaseSeconds: o.duration.Seconds(), Rounds: o.rounds, Complete: true}
	var apiEP, rawEP endpoint
	switch o.mode {
	case "ingest":
		rawEP = endpoint{Name: "raw", Describe: "POST /incidents", Want: http.StatusCreated,
			Targeter: ingestTargeter(raw+"/incidents", runID, nil), check: hasID}
		apiEP = endpoint{Name: "api", Describe: "POST /api/v1/incidents", Want: http.StatusCreated,
			Targeter: ingestTargeter(api+"/api/v1/incidents", runID, tokens.Token), check: hasID}
	case "read":
		townships := benchdb.Townships()
		rep.Townships = len(townships)
		rawEP = endpoint{Name: "raw", Describe: "GET /incidents?township=…&limit=20", Want: http.StatusOK,
			Targeter: readTargeter(townships, func(t string) string {
				return raw + "/incidents?township=" + url.QueryEscape(t) + "&limit=20"
			}, nil), check: hasItems}
		apiEP = endpoint{Name: "api", Describe: "GET /api/v1/incidents?region=…&limit=20", Want: http.StatusOK,
			Targeter: readTargeter(townships, func(t string) string {
				return api + "/api/v1/incidents?region=" + url.QueryEscape(t) + "&limit=20"
			}, tokens.Token), check: hasItems}
	}

	rep.Raw = Side{Name: rawEP.Name, URL: raw, Request: rawEP.Describe}
	rep.API = Side{Name: apiEP.Name, URL: api, Request: apiEP.Describe}
	sides := []*side{
		{ep: rawEP, dst: &rep.Raw, skip: o.onlyAPI, renew: func() error { return nil }},
		{ep: apiEP, dst: &rep.API, skip: o.onlyRaw, renew: func() error { return tokens.Renew(ctx) }},
	}
	for _, s := range sides {
		if s.skip {
			s.dst.Skipped = "not asked for (-only-raw / -only-api)"
			continue
		}
		s.fail(rep, s.renew())
		if s.live() {
			s.fail(rep, preflight(ctx, &http.Client{Timeout: 30 * time.Second}, s.ep))
		}
	}
	// The maximum-throughput rounds alternate the sides, so that a burst of
	// other work on the machine does not fall on one side only; the best
	// round counts, since outside work can only lower a throughput.
	for round := range o.rounds {
		for _, s := range sides {
			if !s.live() || s.fail(rep, ctx.Err()) || s.fail(rep, s.renew()) {
				continue
			}
			if round == 0 && o.warmup > 0 {
				log.Printf("drive: %s: warm-up, %d workers, %s", s.ep.Name, o.workers, o.warmup)
				attack(s.ep, phaseSpec{Label: "warmup", Workers: o.workers, Duration: o.warmup})
			}
			log.Printf("drive: %s: maximum throughput (round %d of %d), %d workers, %s", s.ep.Name, round+1, o.rounds, o.workers, o.duration)
			p := attack(s.ep, phaseSpec{Label: "max", Workers: o.workers, Duration: o.duration})
			s.dst.Rounds = append(s.dst.Rounds, p.Throughput)
			if s.dst.Max == nil || p.Throughput > s.dst.Max.Throughput {
				s.dst.Max = &p
			}
		}
	}
	for _, s := range sides {
		if !s.live() || s.fail(rep, ctx.Err()) || s.fail(rep, s.renew()) {
			continue
		}
		if s.dst.Max.OK == 0 {
			s.fail(rep, fmt.Errorf("no request succeeded at full speed: %s", strings.Join(s.dst.Max.Errors, "; ")))
			continue
		}
		rate, label := o.readRate, "fixed"
		if o.mode == "ingest" {
			rate, label = max(1, int(s.dst.Max.Throughput/2)), "half"
		}
		log.Printf("drive: %s: %d requests/s for %s", s.ep.Name, rate, o.fixedDuration)
		p := attack(s.ep, phaseSpec{Label: label, Rate: rate, Workers: min(o.workers, uint64(rate)), Duration: o.fixedDuration})
		s.dst.Fixed = &p
	}
	if o.apiPID > 0 {
		rep.APIMemory = readMemory(o.apiPID)
	}
	rep.judge(o)
	return rep
}

// side is one server under measurement.
type side struct {
	ep    endpoint
	dst   *Side
	skip  bool
	renew func() error // fresh credentials before each phase
}

// live reports whether the side is still to be measured.
func (s *side) live() bool { return !s.skip && s.dst.Skipped == "" }

// fail records err, if any, as the reason the side was not measured and
// marks the report incomplete. It reports whether err was not nil.
func (s *side) fail(rep *Report, err error) bool {
	if err == nil {
		return false
	}
	if s.dst.Skipped == "" {
		s.dst.Skipped = err.Error()
		log.Printf("drive: %s not measured: %v", s.ep.Name, err)
	}
	rep.Complete = false
	return true
}

// loopbackOnly refuses any target that is not on this machine's loopback.
func loopbackOnly(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", raw, err)
	}
	switch h := u.Hostname(); {
	case h == "localhost", h == "::1", strings.HasPrefix(h, "127."):
		return nil
	}
	return fmt.Errorf("%s: the benchmark only targets loopback addresses (127.0.0.0/8, ::1, localhost)", raw)
}

func randomID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
