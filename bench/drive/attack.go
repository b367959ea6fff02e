package main

import (
	"fmt"
	"sort"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// phaseSpec is one attack: a fixed number of concurrent workers as fast as
// they go (Rate 0, a closed loop: the maximum throughput at that
// concurrency), or a fixed rate (an open loop: requests keep coming at the
// rate however slowly the server answers, so latency is not flattered).
type phaseSpec struct {
	Label    string
	Rate     int // requests per second; 0 is as fast as Workers allow
	Workers  uint64
	Duration time.Duration
}

// Phase is what one attack measured.
type Phase struct {
	Label         string  `json:"label"`
	RequestedRate int     `json:"requested_rate"` // 0: as fast as the workers go
	Workers       uint64  `json:"workers"`
	DurationS     float64 `json:"duration_s"`
	Requests      uint64  `json:"requests"`
	// OK counts the responses with the wanted status (201 or 200); any
	// other status, and any transport error, is a failure.
	OK uint64 `json:"ok"`
	// Throughput is OK responses per second over the whole attack.
	Throughput   float64        `json:"throughput"`
	SuccessRatio float64        `json:"success_ratio"`
	Latency      Latency        `json:"latency_ms"`
	StatusCodes  map[string]int `json:"status_codes"`
	// Errors holds up to five distinct failures, with a body snippet.
	Errors []string `json:"errors,omitempty"`
}

// Latency is a latency distribution in milliseconds, over every request
// (failures included) as vegeta's Metrics reports it.
type Latency struct {
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
}

// maxOpenLoopWorkers bounds the workers vegeta may add to hold a fixed rate
// against a slow server.
const maxOpenLoopWorkers = 1024

// attack runs one phase against e and summarises it.
func attack(e endpoint, spec phaseSpec) Phase {
	maxWorkers := spec.Workers
	if spec.Rate > 0 {
		maxWorkers = maxOpenLoopWorkers
	}
	a := vegeta.NewAttacker(
		vegeta.Workers(spec.Workers),
		vegeta.MaxWorkers(maxWorkers),
		vegeta.KeepAlive(true),
		vegeta.Timeout(10*time.Second),
		vegeta.Redirects(vegeta.NoFollow),
		// Enough of an error body to say what went wrong; the rest of
		// every body is read and dropped.
		vegeta.MaxBody(512),
	)
	pacer := vegeta.ConstantPacer{Freq: spec.Rate, Per: time.Second}
	var (
		m      vegeta.Metrics
		ok     uint64
		errs   []string
		seenEr = map[string]bool{}
	)
	for r := range a.Attack(e.Targeter, pacer, spec.Duration, e.Name+"-"+spec.Label) {
		m.Add(r)
		if int(r.Code) == e.Want {
			ok++
			continue
		}
		msg := r.Error
		if r.Code != 0 {
			msg = fmt.Sprintf("%d %s", r.Code, snippet(r.Body))
		}
		if !seenEr[msg] && len(errs) < 5 {
			seenEr[msg] = true
			errs = append(errs, msg)
		}
	}
	m.Close()
	p := Phase{
		Label: spec.Label, RequestedRate: spec.Rate, Workers: spec.Workers,
		Requests: m.Requests, OK: ok, StatusCodes: m.StatusCodes, Errors: errs,
	}
	if elapsed := (m.Duration + m.Wait).Seconds(); elapsed > 0 {
		p.DurationS = round(elapsed, 2)
		p.Throughput = round(float64(ok)/elapsed, 1)
	}
	if m.Requests > 0 {
		p.SuccessRatio = round(float64(ok)/float64(m.Requests), 4)
		p.Latency = Latency{
			Mean: ms(m.Latencies.Mean), P50: ms(m.Latencies.P50), P90: ms(m.Latencies.P90),
			P99: ms(m.Latencies.P99), Max: ms(m.Latencies.Max),
		}
	}
	return p
}

// codes formats a status histogram as "201×4200 500×3" (0 is a transport error).
func codes(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := ""
	for _, k := range keys {
		if s != "" {
			s += " "
		}
		s += fmt.Sprintf("%s×%d", k, m[k])
	}
	return s
}

func ms(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 2) }

func round(x float64, places int) float64 {
	p := 1.0
	for range places {
		p *= 10
	}
	return float64(int64(x*p+0.5)) / p
}
