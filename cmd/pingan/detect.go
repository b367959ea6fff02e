package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"

	"pingan/internal/warning"
)

// maxDetectInput bounds the detector's input file; a century of daily
// counts is under a megabyte.
const maxDetectInput = 4 << 20

// maxDetectCount bounds a day's count: gonum's incomplete gamma keeps the
// Poisson p to 10⁻⁹ (relative) only for means up to about 3·10⁵, and no
// region sees 10⁵ cases a day.
const maxDetectCount = 100_000

// detectFile is the input of `pingan detect` (SPEC §10.4); nil means the
// default. Counts are decoded one by one so that an error can say which.
type detectFile struct {
	Method   string            `json:"method"`
	Alpha    *float64          `json:"alpha"`
	MinSigma *float64          `json:"min_sigma"`
	MinCount *float64          `json:"min_count"`
	Baseline *int              `json:"baseline"`
	Series   []json.RawMessage `json:"series"`
}

// detectCommand is `pingan detect --input FILE`: it runs one surge method
// over a JSON file's daily counts (or stdin's with "-") and prints one
// JSON object per day with enough history. Every problem with the flags or
// the file is a badInput.
func detectCommand(args []string, stdin io.Reader, out io.Writer) error {
	fs := flag.NewFlagSet("detect", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	input := fs.String("input", "", "the JSON input of SPEC §10.4, or - for stdin")
	if err := fs.Parse(args); err != nil {
		return badInputf("detect: %v (usage: pingan detect --input FILE)", err)
	}
	if *input == "" || fs.NArg() > 0 {
		return badInputf("detect: usage: pingan detect --input FILE (- reads stdin)")
	}
	var r io.Reader = stdin
	if *input != "-" {
		f, err := os.Open(*input)
		if err != nil {
			return badInputf("detect: %v", err)
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxDetectInput+1))
	if err != nil {
		return badInputf("detect: reading %s: %v", *input, err)
	}
	if len(data) > maxDetectInput {
		return badInputf("detect: the input is over %d MiB", maxDetectInput>>20)
	}
	p, series, err := parseDetectInput(data)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for _, pt := range warning.Evaluate(series, p) {
		if err := enc.Encode(pt); err != nil {
			return err
		}
	}
	return nil
}

// parseDetectInput reads the file strictly and applies the defaults of
// SPEC §10.4: alpha the method's (0.001, 0.025 for C3), min_sigma 1,
// min_count 0 (3 in the server), baseline 7. A series too short for one
// day of output is refused, so that an empty output always means a file
// that was read.
func parseDetectInput(data []byte) (warning.Params, []float64, error) {
	var f detectFile
	if err := decodeStrict(data, &f, "detect", "input"); err != nil {
		return warning.Params{}, nil, err
	}
	if f.Method == "" {
		return warning.Params{}, nil, badInputf("detect: method is required: C1, C2, C3 or poisson")
	}
	p := warning.Defaults(warning.Method(f.Method))
	p.MinCount = 0
	for _, set := range []struct {
		dst *float64
		src *float64
	}{{&p.Alpha, f.Alpha}, {&p.MinSigma, f.MinSigma}, {&p.MinCount, f.MinCount}} {
		if set.src != nil {
			*set.dst = *set.src
		}
	}
	if f.Baseline != nil {
		p.Baseline = *f.Baseline
	}
	if err := p.Check(); err != nil {
		return warning.Params{}, nil, badInputf("detect: %v", err)
	}
	if p.MinSigma > maxDetectCount { // else Ȳ + z·S may overflow to +Inf, which JSON cannot print
		return warning.Params{}, nil, badInputf("detect: min_sigma %v: want at most %d, the largest count", p.MinSigma,
			maxDetectCount)
	}
	if len(f.Series) == 0 {
		return warning.Params{}, nil, badInputf("detect: series is required: the daily counts, oldest first")
	}
	series := make([]float64, len(f.Series))
	for i, raw := range f.Series {
		where := fmt.Sprintf("series[%d]", i)
		var x *float64
		if err := decodeStrict(raw, &x, "detect", where); err != nil {
			return warning.Params{}, nil, err
		}
		switch {
		case x == nil:
			return warning.Params{}, nil, badInputf("detect: %s is null: want a count, a whole number from 0", where)
		case *x < 0 || *x != math.Trunc(*x):
			return warning.Params{}, nil, badInputf("detect: %s = %v: want a count, a whole number from 0", where, *x)
		case *x > maxDetectCount:
			return warning.Params{}, nil, badInputf("detect: %s = %v: counts above %d are not supported", where, *x,
				maxDetectCount)
		}
		series[i] = *x
	}
	if first := warning.First(p); len(series) <= first {
		return warning.Params{}, nil, badInputf("detect: series has %d days; %s with baseline %d evaluates from day %d "+
			"(day 0 first), so it needs at least %d", len(series), p.Method, p.Baseline, first, first+1)
	}
	return p, series, nil
}
