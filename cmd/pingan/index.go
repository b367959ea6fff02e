package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"pingan/internal/index"
	"pingan/internal/region"
)

// maxIndexInput bounds the calculator's input file; a city's month at
// community level is a few megabytes.
const maxIndexInput = 256 << 20

// badInput is an error in what the user gave a command: the process exits
// with status 2 instead of 1.
type badInput struct{ msg string }

func (e *badInput) Error() string { return e.msg }

func badInputf(format string, args ...any) error {
	return &badInput{msg: fmt.Sprintf(format, args...)}
}

// exitCode is the exit status for an error of run: 2 for bad input, 1 for
// anything else.
func exitCode(err error) int {
	var bad *badInput
	if errors.As(err, &bad) {
		return 2
	}
	return 1
}

// indexFile is the input of `pingan index` (SPEC §9.7). Indicators and
// regions are decoded one by one so that an error can say which.
type indexFile struct {
	Level      string                                `json:"level"`
	Indicators []json.RawMessage                     `json:"indicators"`
	Regions    []json.RawMessage                     `json:"regions"`
	Values     map[string]map[string]json.RawMessage `json:"values"`
}

// indexIndicator is one indicator's settings; nil means the default.
type indexIndicator struct {
	Code      string   `json:"code"`
	Direction string   `json:"direction"`
	Weight    *float64 `json:"weight"`
	PerCapita *bool    `json:"per_capita"`
	Smoothing *string  `json:"smoothing"`
	Window    *int     `json:"window"`
	Alpha     *float64 `json:"alpha"`
	Mapping   *string  `json:"mapping"`
	Step      *float64 `json:"step"`
	Floor     *float64 `json:"floor"`
	Tolerance *float64 `json:"tolerance"`
}

type indexRegion struct {
	Code       string `json:"code"`
	Population *int64 `json:"population"`
}

// indexItem is a rankings item of SPEC §9.5, offline: no parent, no previous period.
type indexItem struct {
	Rank         *int            `json:"rank"`
	RankInParent *int            `json:"rank_in_parent"`
	Region       string          `json:"region"`
	Score        *float64        `json:"score"`
	Band         *index.Band     `json:"band"`
	Change       any             `json:"change"` // null: no previous period offline
	Complete     bool            `json:"complete"`
	Missing      []string        `json:"missing"`
	Indicators   []indexItemPart `json:"indicators"`
}

// indexItemPart is one indicator of an item. The calculator knows no
// names (name_zh is null) and no previous period (change is null).
type indexItemPart struct {
	Code         string   `json:"code"`
	NameZH       *string  `json:"name_zh"`
	Weight       float64  `json:"weight"`
	Contribution *float64 `json:"contribution"`
	Value        float64  `json:"value"`
	Rate         *float64 `json:"rate"`
	RateSmoothed *float64 `json:"rate_smoothed"`
	Mu           *float64 `json:"mu"`
	D            float64  `json:"d"`
	RankSelf     int      `json:"rank_self"`
	RankCross    int      `json:"rank_cross"`
	ScoreSelf    float64  `json:"score_self"`
	ScoreCross   float64  `json:"score_cross"`
	Score        float64  `json:"score"`
	Change       *float64 `json:"change"`
}

// indexCommand is `pingan index --input FILE`: it scores the index of a
// JSON file (or of stdin with "-") and prints the rankings. Every problem
// with the flags or the file is a badInput.
func indexCommand(args []string, stdin io.Reader, out io.Writer) error {
	fs := flag.NewFlagSet("index", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	input := fs.String("input", "", "the JSON input of SPEC §9.7, or - for stdin")
	if err := fs.Parse(args); err != nil {
		return badInputf("index: %v (usage: pingan index --input FILE)", err)
	}
	if *input == "" || fs.NArg() > 0 {
		return badInputf("index: usage: pingan index --input FILE (- reads stdin)")
	}
	var r io.Reader = stdin
	if *input != "-" {
		f, err := os.Open(*input)
		if err != nil {
			return badInputf("index: %v", err)
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxIndexInput+1))
	if err != nil {
		return badInputf("index: reading %s: %v", *input, err)
	}
	if len(data) > maxIndexInput {
		return badInputf("index: the input is over %d MiB", maxIndexInput>>20)
	}
	in, err := parseIndexInput(data)
	if err != nil {
		return err
	}
	res, err := index.Score(in)
	if err != nil {
		return &badInput{msg: err.Error()}
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(map[string]any{"items": indexItems(res)})
}

// parseIndexInput reads the file strictly and applies the defaults of SPEC
// §9.4: per_capita true, smoothing eb at community level for per-capita
// indicators and none otherwise, window 6, alpha 0.5, mapping linear, floor
// 60, tolerance 0.05. A
// null value is missing and skipped; a region or indicator absent from
// values has no value.
func parseIndexInput(data []byte) (index.Input, error) {
	var f indexFile
	if err := decodeStrict(data, &f, "index", "input"); err != nil {
		return index.Input{}, err
	}
	level := region.Level(f.Level)
	switch level {
	case region.County, region.Township, region.Community:
	case "":
		return index.Input{}, badInputf("index: level is required: county, township or community")
	default:
		return index.Input{}, badInputf("index: level %q is not county, township or community", f.Level)
	}
	if len(f.Indicators) == 0 {
		return index.Input{}, badInputf("index: indicators: at least one is required")
	}
	var in index.Input
	for i, raw := range f.Indicators {
		ind, err := parseIndicator(raw, level, fmt.Sprintf("indicators[%d]", i))
		if err != nil {
			return index.Input{}, err
		}
		in.Indicators = append(in.Indicators, ind)
	}
	at := make(map[string]int, len(f.Regions))
	for i, raw := range f.Regions {
		where := fmt.Sprintf("regions[%d]", i)
		var r indexRegion
		if err := decodeStrict(raw, &r, "index", where); err != nil {
			return index.Input{}, err
		}
		if r.Population == nil {
			return index.Input{}, badInputf("index: %s.population is required (0 if unknown)", where)
		}
		at[r.Code] = i
		in.Regions = append(in.Regions, index.Region{Code: r.Code, Population: *r.Population})
	}
	in.Values = make([][][]index.Value, len(in.Indicators))
	for code, byRegion := range f.Values {
		i := -1
		for j, ind := range in.Indicators {
			if ind.Code == code {
				i = j
			}
		}
		if i < 0 {
			return index.Input{}, badInputf("index: values.%s: no such indicator", code)
		}
		in.Values[i] = make([][]index.Value, len(in.Regions))
		for rc, raw := range byRegion {
			r, ok := at[rc]
			if !ok {
				return index.Input{}, badInputf("index: values.%s.%s: no such region", code, rc)
			}
			var xs []*float64
			if err := decodeStrict(raw, &xs, "index", "values."+code+"."+rc); err != nil {
				return index.Input{}, err
			}
			if xs == nil {
				continue
			}
			s := make([]index.Value, len(xs))
			for j, x := range xs {
				if x != nil {
					s[j] = index.Known(*x)
				}
			}
			in.Values[i][r] = s
		}
	}
	return in, nil
}

func parseIndicator(raw json.RawMessage, level region.Level, where string) (index.Indicator, error) {
	var p indexIndicator
	if err := decodeStrict(raw, &p, "index", where); err != nil {
		return index.Indicator{}, err
	}
	switch {
	case p.Code == "":
		return index.Indicator{}, badInputf("index: %s.code is required", where)
	case p.Direction == "":
		return index.Indicator{}, badInputf("index: %s.direction is required: negative or positive", where)
	case p.Weight == nil:
		return index.Indicator{}, badInputf("index: %s.weight is required", where)
	}
	ind := index.Indicator{Code: p.Code, Direction: index.Direction(p.Direction), Weight: *p.Weight, PerCapita: true,
		Window: index.DefaultWindow, Alpha: index.DefaultAlpha, Mapping: index.LinearMapping, Floor: index.DefaultFloor,
		Tolerance: index.DefaultTolerance}
	if p.PerCapita != nil {
		ind.PerCapita = *p.PerCapita
	}
	ind.Smoothing = index.DefaultSmoothing(level, ind.PerCapita)
	if p.Smoothing != nil {
		ind.Smoothing = index.Smoothing(*p.Smoothing)
	}
	if p.Window != nil {
		ind.Window = *p.Window
	}
	if p.Alpha != nil {
		ind.Alpha = *p.Alpha
	}
	if p.Mapping != nil {
		ind.Mapping = index.Mapping(*p.Mapping)
	}
	if p.Step != nil {
		ind.Step = *p.Step
	}
	if p.Floor != nil {
		ind.Floor = *p.Floor
	}
	if p.Tolerance != nil {
		ind.Tolerance = *p.Tolerance
	}
	return ind, nil
}

// indexItems turns a result into rankings items, ranked first.
func indexItems(res index.Result) []indexItem {
	items := make([]indexItem, 0, len(res.Regions))
	for _, rs := range res.Ranked() {
		it := indexItem{Region: rs.Code, Complete: rs.Complete, Missing: rs.Missing, Indicators: []indexItemPart{}}
		if it.Missing == nil {
			it.Missing = []string{}
		}
		if rs.Scored {
			rank, score, band := rs.Rank, rs.Score, rs.Band
			it.Rank, it.Score, it.Band = &rank, &score, &band
		}
		for i, c := range rs.Indicators {
			if !c.Present {
				continue
			}
			part := indexItemPart{Code: res.Indicators[i].Code, Weight: c.Weight, Value: c.Value,
				Rate: optional(c.Rate), RateSmoothed: optional(c.RateSmoothed), Mu: optional(c.Mu), D: c.D,
				RankSelf: c.RankSelf, RankCross: c.RankCross, ScoreSelf: c.ScoreSelf, ScoreCross: c.ScoreCross, Score: c.Score}
			if rs.Scored {
				part.Contribution = &c.Contribution
			}
			it.Indicators = append(it.Indicators, part)
		}
		items = append(items, it)
	}
	return items
}

func optional(v index.Value) *float64 {
	if !v.Valid {
		return nil
	}
	return &v.X
}
