package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Report is the outcome of one mode, as printed and as written to -out.
type Report struct {
	Mode         string  `json:"mode"`
	Started      string  `json:"started"`
	CPUs         int     `json:"cpus"`
	Workers      uint64  `json:"workers"`
	PhaseSeconds float64 `json:"phase_seconds"`
	Rounds       int     `json:"rounds"`
	Townships    int     `json:"townships,omitempty"`
	Raw          Side    `json:"raw"`
	API          Side    `json:"api"`
	// Ratio is the API's maximum throughput over the floor's; nil when a
	// side was not measured.
	Ratio     *float64 `json:"ratio_api_raw,omitempty"`
	APIMemory *Memory  `json:"api_memory,omitempty"`
	Checks    []Check  `json:"checks"`
	// Complete is false when a side could not be measured.
	Complete bool `json:"complete"`
}

// Side is one server's figures.
type Side struct {
	Name    string `json:"name"`
	URL     string `json:"url"`
	Request string `json:"request"`
	// Skipped says why the side was not (fully) measured.
	Skipped string `json:"skipped,omitempty"`
	// Max is the best maximum-throughput round; Rounds has every round's throughput.
	Max    *Phase    `json:"max,omitempty"`
	Rounds []float64 `json:"max_rounds,omitempty"`
	// Fixed is the latency phase: half of Max's rate (ingest) or -read-rate (read).
	Fixed *Phase `json:"fixed_rate,omitempty"`
}

// Memory is the API process's resident memory from /proc/PID/status.
type Memory struct {
	PID    int     `json:"pid"`
	PeakMB float64 `json:"peak_rss_mb"` // VmHWM
	NowMB  float64 `json:"rss_mb"`      // VmRSS
	Error  string  `json:"error,omitempty"`
}

// Check is one SPEC target, judged.
type Check struct {
	Name   string   `json:"name"`
	Value  *float64 `json:"value"`
	Unit   string   `json:"unit"`
	Target string   `json:"target"`
	// Result is PASS, MISS, or SKIP when it could not be measured.
	Result string `json:"result"`
}

// judge fills Ratio and Checks from the measured sides.
func (r *Report) judge(o options) {
	r.CPUs = runtime.NumCPU()
	if r.API.Max != nil && r.Raw.Max != nil && r.Raw.Max.Throughput > 0 && r.API.Skipped == "" {
		v := round(r.API.Max.Throughput/r.Raw.Max.Throughput, 3)
		r.Ratio = &v
	}
	var p99 *float64
	if r.API.Fixed != nil {
		v := r.API.Fixed.Latency.P99
		p99 = &v
	}
	switch r.Mode {
	case "ingest":
		r.Checks = append(r.Checks,
			atLeast("API/raw max throughput", r.Ratio, "", o.ingestTarget),
			atMost("API p99 at half its max rate", p99, "ms", o.ingestP99))
		if r.APIMemory != nil {
			// Memory under load means something only when the load ran.
			var peak *float64
			if r.APIMemory.Error == "" && r.API.Skipped == "" && r.API.Max != nil {
				peak = &r.APIMemory.PeakMB
			}
			r.Checks = append(r.Checks, atMost("API peak RSS (VmHWM)", peak, "MB", o.rssTargetMB))
		}
	case "read":
		r.Checks = append(r.Checks,
			atLeast("API/raw max throughput", r.Ratio, "", o.readTarget),
			atMost(fmt.Sprintf("API p99 at %d req/s", o.readRate), p99, "ms", o.readP99))
	}
}

func atLeast(name string, v *float64, unit string, target float64) Check {
	c := Check{Name: name, Value: v, Unit: unit, Target: fmt.Sprintf("≥ %g%s", target, unitSuffix(unit))}
	c.Result = verdict(v != nil, v != nil && *v >= target)
	return c
}

func atMost(name string, v *float64, unit string, target float64) Check {
	c := Check{Name: name, Value: v, Unit: unit, Target: fmt.Sprintf("≤ %g%s", target, unitSuffix(unit))}
	c.Result = verdict(v != nil, v != nil && *v <= target)
	return c
}

func verdict(measured, ok bool) string {
	switch {
	case !measured:
		return "SKIP"
	case ok:
		return "PASS"
	}
	return "MISS"
}

func unitSuffix(unit string) string {
	if unit == "" {
		return ""
	}
	return " " + unit
}

// print writes the human-readable table.
func (r *Report) print(w io.Writer) {
	fmt.Fprintf(w, "\n== %s benchmark (SPEC §13.1) — %s, %d CPUs, %d workers, %gs phases\n",
		r.Mode, r.Started, r.CPUs, r.Workers, r.PhaseSeconds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fixedCol := "at half max"
	if r.Mode == "read" {
		fixedCol = "at fixed rate"
	}
	fmt.Fprintf(tw, "target\trequest\tmax req/s\tok\t| %s:\trate/s\tp50 ms\tp99 ms\tok\n", fixedCol)
	for _, s := range []Side{r.Raw, r.API} {
		maxCol, okCol := "–", "–"
		if s.Max != nil {
			maxCol, okCol = fmt.Sprintf("%.1f", s.Max.Throughput), pct(s.Max.SuccessRatio)
		}
		rate, p50, p99, okF := "–", "–", "–", "–"
		if s.Fixed != nil {
			rate = strconv.Itoa(s.Fixed.RequestedRate)
			p50, p99 = fmt.Sprintf("%.2f", s.Fixed.Latency.P50), fmt.Sprintf("%.2f", s.Fixed.Latency.P99)
			okF = pct(s.Fixed.SuccessRatio)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t|\t%s\t%s\t%s\t%s\n", s.Name, s.Request, maxCol, okCol, rate, p50, p99, okF)
	}
	tw.Flush()
	for _, s := range []Side{r.Raw, r.API} {
		if s.Skipped != "" {
			fmt.Fprintf(w, "%s NOT MEASURED: %s\n", s.Name, s.Skipped)
		}
		for _, p := range []*Phase{s.Max, s.Fixed} {
			if p == nil {
				continue
			}
			fmt.Fprintf(w, "%s %s: %d requests in %.1fs, status %s", s.Name, p.Label, p.Requests, p.DurationS, codes(p.StatusCodes))
			if p == s.Max && len(s.Rounds) > 1 {
				fmt.Fprintf(w, "; best of rounds %v req/s", s.Rounds)
			}
			if len(p.Errors) > 0 {
				fmt.Fprintf(w, "; failures: %s", strings.Join(p.Errors, " | "))
			}
			fmt.Fprintln(w)
		}
	}
	if r.APIMemory != nil {
		if r.APIMemory.Error != "" {
			fmt.Fprintf(w, "API memory (pid %d): %s\n", r.APIMemory.PID, r.APIMemory.Error)
		} else {
			fmt.Fprintf(w, "API memory (pid %d): peak RSS %.1f MB, now %.1f MB\n", r.APIMemory.PID, r.APIMemory.PeakMB, r.APIMemory.NowMB)
		}
	}
	for _, c := range r.Checks {
		val := "not measured"
		if c.Value != nil {
			val = fmt.Sprintf("%g%s", *c.Value, unitSuffix(c.Unit))
		}
		fmt.Fprintf(w, "%-4s  %-32s %-14s (target %s)\n", c.Result, c.Name, val, c.Target)
	}
}

// write stores the report as indented JSON.
func (r *Report) write(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func pct(x float64) string { return fmt.Sprintf("%.1f%%", x*100) }

// readMemory reads VmHWM (peak resident set) and VmRSS of pid.
func readMemory(pid int) *Memory {
	m := &Memory{PID: pid}
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		m.Error = err.Error()
		return m
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmHWM" && key != "VmRSS") {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 64)
		if err != nil {
			continue
		}
		if key == "VmHWM" {
			m.PeakMB = round(kb/1024, 1)
		} else {
			m.NowMB = round(kb/1024, 1)
		}
	}
	if m.PeakMB == 0 {
		m.Error = "no VmHWM in /proc/" + strconv.Itoa(pid) + "/status"
	}
	return m
}
