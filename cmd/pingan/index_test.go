package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
)

// runIndex runs `pingan index` with args and stdin and decodes its items.
func runIndex(t *testing.T, stdin string, args ...string) ([]map[string]any, error) {
	t.Helper()
	out := &bytes.Buffer{}
	err := indexCommand(args, strings.NewReader(stdin), out)
	if err != nil {
		return nil, err
	}
	var body struct {
		Items []map[string]any `json:"items"`
	}
	dec := json.NewDecoder(out)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		t.Fatalf("output: %v", err)
	}
	return body.Items, nil
}

// TestIndexCommandWorkedExample runs the README's commands: the worked
// example of SPEC §9.4 through `pingan index`, whose output is the table
// with F = 0 (docs/index-example.json) and, with the default floor F = 60
// and tolerance, scores 80, 60, 100, 85, 90 (docs/index-example-defaults.json).
func TestIndexCommandWorkedExample(t *testing.T) {
	type row struct {
		region            string
		rank              int
		band              string
		x, mu, d          float64
		rankSelf          int
		scoreSelf, rate   float64
		rankCross         int
		scoreCross, score float64
	}
	for _, tc := range []struct {
		file string
		rows []row // ordered by rank
	}{
		{"../../docs/index-example.json", []row{
			{"C", 1, "green", 5, 6, -0.1666667, 1, 100, 0.1923077, 1, 100, 100},
			{"E", 2, "yellow", 9, 11, -0.1818182, 1, 100, 0.2368421, 3, 50, 75},
			{"D", 3, "red", 18, 18, 0, 1, 100, 0.28125, 4, 25, 62.5},
			{"A", 4, "red", 12, 10, 0.2, 4, 25, 0.2307692, 2, 75, 50},
			{"B", 5, "red", 30, 21, 0.4285714, 5, 0, 0.3296703, 5, 0, 0},
		}},
		{"../../docs/index-example-defaults.json", []row{
			{"C", 1, "green", 5, 6, -0.1666667, 1, 100, 0.1923077, 1, 100, 100},
			{"E", 2, "green", 9, 11, -0.1818182, 1, 100, 0.2368421, 3, 80, 90},
			{"D", 3, "blue", 18, 18, 0, 1, 100, 0.28125, 4, 70, 85},
			{"A", 4, "blue", 12, 10, 0.2, 4, 70, 0.2307692, 2, 90, 80},
			{"B", 5, "red", 30, 21, 0.4285714, 5, 60, 0.3296703, 5, 60, 60},
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			out := &bytes.Buffer{}
			// Through run, with a configuration that would stop the server:
			// the calculator needs none.
			err := run(context.Background(), []string{"index", "--input", tc.file},
				func(k string) string { return map[string]string{"PINGAN_ENV": "bogus"}[k] }, out, nil)
			if err != nil {
				t.Fatal(err)
			}
			var body struct {
				Items []map[string]any `json:"items"`
			}
			if err := json.Unmarshal(out.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if len(body.Items) != len(tc.rows) {
				t.Fatalf("%d items: %s", len(body.Items), out)
			}
			for i, w := range tc.rows {
				it := body.Items[i]
				ind := it["indicators"].([]any)[0].(map[string]any)
				if it["region"] != w.region || it["rank"] != float64(w.rank) || it["band"] != w.band ||
					ind["rank_self"] != float64(w.rankSelf) || ind["rank_cross"] != float64(w.rankCross) {
					t.Errorf("item %d: %v", i, it)
				}
				for _, f := range []struct {
					what string
					got  any
					want float64
				}{
					{"value", ind["value"], w.x}, {"mu", ind["mu"], w.mu}, {"d", ind["d"], w.d},
					{"score_self", ind["score_self"], w.scoreSelf}, {"rate", ind["rate"], w.rate},
					{"score_cross", ind["score_cross"], w.scoreCross}, {"score", ind["score"], w.score},
					{"composite", it["score"], w.score}, {"weight", ind["weight"], 0.2},
					// One indicator: it contributes the whole composite.
					{"contribution", ind["contribution"], w.score},
				} {
					if got, ok := f.got.(float64); !ok || math.Abs(got-f.want) > 1e-6 {
						t.Errorf("%s %s: got %v, want %v", w.region, f.what, f.got, f.want)
					}
				}
				if it["rank_in_parent"] != nil || it["change"] != nil || it["complete"] != true ||
					fmt.Sprint(it["missing"]) != "[]" || ind["code"] != "disputes" || ind["rate_smoothed"] != nil ||
					ind["name_zh"] != nil || ind["change"] != nil {
					t.Errorf("item %d: %v", i, it)
				}
				if len(it) != 9 || len(ind) != 15 {
					t.Errorf("item %d has %d fields, its indicator %d", i, len(it), len(ind))
				}
			}
			// Full floats, not rounded: B's d is 9/21.
			if !strings.Contains(out.String(), `"d": 0.42857142857142855`) {
				t.Errorf("d of B not printed in full:\n%s", out)
			}
		})
	}
}

// TestIndexCommandDefaults: stdin, the community-level defaults (empirical
// Bayes for per-capita indicators only), null values and missing regions.
func TestIndexCommandDefaults(t *testing.T) {
	in := `{"level":"community",
	  "indicators":[{"code":"cases","direction":"negative","weight":0.6},
	                {"code":"settled","direction":"positive","weight":0.4,"per_capita":false,"window":2,"mapping":"step","step":40}],
	  "regions":[{"code":"a","population":1000},{"code":"b","population":1000},{"code":"c","population":0}],
	  "values":{"cases":{"a":[1,1,1,1,1,1,1],"b":[null,null,null,null,null,2,3],"c":[0,0,0,0,0,0,0]},
	            "settled":{"a":[0.5,0.5,0.5],"c":[0.9,null,0.8]}}}`
	items, err := runIndex(t, in, "--input", "-")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range items {
		line := fmt.Sprintf("%v rank=%v score=%v complete=%v missing=%v:", it["region"], it["rank"], it["score"],
			it["complete"], it["missing"])
		for _, p := range it["indicators"].([]any) {
			c := p.(map[string]any)
			line += fmt.Sprintf(" %v(x=%v rate=%v eb=%v mu=%v d=%v %v/%v %v/%v s=%v w=%v c=%.9g)", c["code"], c["value"], c["rate"],
				c["rate_smoothed"], c["mu"], c["d"], c["rank_self"], c["score_self"], c["rank_cross"], c["score_cross"], c["score"],
				c["weight"], c["contribution"])
		}
		got = append(got, line)
	}
	// cases: rates 10 and 30 per 10⁴, m = 20, s² = 100, A = 100 − 20·10⁴/1000
	// < 0 → 0: both smoothed to m and tied. b's μ is over its one period
	// with a value (manual semantics: null is skipped). c has no population.
	// settled, step 40: c's μ skips the null, 0.9; it fell to 0.8, so d > 0
	// and c ranks second on self (60) but first on the rate (100).
	// a: (0.6·100 + 0.4·80) / 1 = 92.
	// The floor F = 60 lifts b's last self rank to 60 (b 80, tied with c);
	// c's fall of 0.111 is above the tolerance 0.05, so it still costs c its
	// self rank. Contributions: a 0.6·100 + 0.4·80 = 60 + 32 = 92.
	want := []string{
		"a rank=1 score=92 complete=true missing=[]: cases(x=1 rate=10 eb=20 mu=1 d=0 1/100 1/100 s=100 w=0.6 c=60)" +
			" settled(x=0.5 rate=<nil> eb=<nil> mu=0.5 d=0 1/100 2/60 s=80 w=0.4 c=32)",
		"b rank=2 score=80 complete=false missing=[settled]: cases(x=3 rate=30 eb=20 mu=2 d=0.5 2/60 1/100 s=80 w=0.6 c=80)",
		"c rank=2 score=80 complete=false missing=[cases]: settled(x=0.8 rate=<nil> eb=<nil> mu=0.9 d=0.11111111111111108 2/60 1/100 s=80 w=0.4 c=80)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestIndexCommandBadInput(t *testing.T) {
	const ind = `{"code":"x","direction":"negative","weight":1,"window":1}`
	const ok = `{"level":"county","indicators":[` + ind + `],"regions":[{"code":"A","population":5}],"values":{"x":{"A":[1,2]}}}`
	if _, err := runIndex(t, ok, "--input", "-"); err != nil {
		t.Fatalf("the base input: %v", err)
	}
	for _, tc := range []struct {
		args  []string
		stdin string
		want  string
	}{
		{nil, ok, "index: usage: pingan index --input FILE (- reads stdin)"},
		{[]string{"--input", "-", "extra"}, ok, "index: usage: pingan index --input FILE"},
		{[]string{"--inptu", "-"}, ok, "index: flag provided but not defined: -inptu"},
		{[]string{"--input", "/nonexistent/in.json"}, "", "index: open /nonexistent/in.json: no such file or directory"},
		{[]string{"--input", "-"}, "", "index: input: truncated or empty JSON"},
		{[]string{"--input", "-"}, "{\n\"level\": county}", "index: input: malformed JSON at line 2, column 10: invalid character 'c' looking for beginning of value"},
		{[]string{"--input", "-"}, ok + " {}", "index: input: trailing data after the JSON object"},
		{[]string{"--input", "-"}, `{"level":"county","extra":1}`, `index: input: unknown field "extra"`},
		{[]string{"--input", "-"}, `{"level":"county","level":"township"}`, "index: input: the key level is given twice in one object"},
		{[]string{"--input", "-"}, `{"level":"county","indicators":[{"code":"x"},{"code":"y","weight":1,"weight":2}]}`,
			"index: input: the key indicators[1].weight is given twice in one object"},
		{[]string{"--input", "-"}, `{"level":"county","values":{"x":{"A":[1],"A":[2]}}}`,
			"index: input: the key values.x.A is given twice in one object"},
		{[]string{"--input", "-"}, `{"level":"county","indicators":[{"code":"x","direction":"negative","weight":1,"smothing":"eb"}]}`,
			`index: indicators[0]: unknown field "smothing"`},
		{[]string{"--input", "-"}, `{"level":"county","indicators":[` + ind + `],"regions":[{"code":"A","pop":5}]}`,
			`index: regions[0]: unknown field "pop"`},
		{[]string{"--input", "-"}, `{"level":"county","indicators":[` + ind + `],"regions":[{"code":"A"}]}`,
			"index: regions[0].population is required (0 if unknown)"},
		{[]string{"--input", "-"}, `{"indicators":[` + ind + `]}`, "index: level is required: county, township or community"},
		{[]string{"--input", "-"}, `{"level":"grid","indicators":[` + ind + `]}`, `index: level "grid" is not county, township or community`},
		{[]string{"--input", "-"}, `{"level":"county"}`, "index: indicators: at least one is required"},
		{[]string{"--input", "-"}, `{"level":"county","indicators":[{"code":"x","weight":1}]}`, "index: indicators[0].direction is required"},
		{[]string{"--input", "-"}, `{"level":"county","indicators":[{"code":"x","direction":"negative"}]}`, "index: indicators[0].weight is required"},
		{[]string{"--input", "-"}, `{"level":"county","indicators":[{"direction":"negative","weight":1}]}`, "index: indicators[0].code is required"},
		{[]string{"--input", "-"}, `{"level":"county","indicators":[{"code":"x","direction":"negative","weight":1,"window":6.5}]}`,
			"index: indicators[0].window: want an integer, got number 6.5"},
		{[]string{"--input", "-"}, `{"level":"county","indicators":[{"code":"x","direction":"up","weight":1}]}`,
			`index: indicator "x": direction "up" is not negative or positive`},
		{[]string{"--input", "-"}, `{"level":"county","indicators":[{"code":"x","direction":"negative","weight":1,"per_capita":false,"smoothing":"eb"}]}`,
			`index: indicator "x": smoothing eb needs per_capita`},
		{[]string{"--input", "-"}, `{"level":"county","indicators":[{"code":"x","direction":"negative","weight":1,"mapping":"step"}]}`,
			`index: indicator "x": step 0 is not a number in (0, 100]`},
		{[]string{"--input", "-"}, `{"level":"county","indicators":[{"code":"x","direction":"negative","weight":1,"floor":100}]}`,
			`index: indicator "x": floor 100 is not a number in [0, 100)`},
		{[]string{"--input", "-"}, `{"level":"county","indicators":[{"code":"x","direction":"negative","weight":1,"tolerance":-0.5}]}`,
			`index: indicator "x": tolerance -0.5 is not a finite number ≥ 0`},
		{[]string{"--input", "-"}, `{"level":"county","indicators":[{"code":"x","direction":"negative","weight":1,"floor":"60"}]}`,
			"index: indicators[0].floor: want a number, got string"},
		{[]string{"--input", "-"}, strings.Replace(ok, `"A":[1,2]`, `"A":[1,"2"]`, 1), "index: values.x.A: want a number, got string"},
		{[]string{"--input", "-"}, strings.Replace(ok, `"A":[1,2]`, `"A":[1,-2]`, 1),
			`index: indicator "x", region "A": x[t] = -2 is not a number from 0 to 1e15`},
		{[]string{"--input", "-"}, strings.Replace(ok, `"A":[1,2]`, `"A":[2]`, 1),
			`index: indicator "x", region "A": 1 values, want window+1 = 2`},
		{[]string{"--input", "-"}, strings.Replace(ok, `"A":[1,2]`, `"B":[1,2]`, 1), "index: values.x.B: no such region"},
		{[]string{"--input", "-"}, strings.Replace(ok, `"values":{"x"`, `"values":{"y"`, 1), "index: values.y: no such indicator"},
		{[]string{"--input", "-"}, strings.Replace(ok, `{"code":"A","population":5}`, `{"code":"A","population":5},{"code":"A","population":6}`, 1),
			`index: region "A" is listed twice`},
	} {
		_, err := runIndex(t, tc.stdin, tc.args...)
		var bad *badInput
		if err == nil || !errors.As(err, &bad) || exitCode(err) != 2 || !strings.HasPrefix(err.Error(), tc.want) ||
			strings.Contains(err.Error(), "\n") {
			t.Errorf("%v %.60s:\n got %v\nwant %s", tc.args, tc.stdin, err, tc.want)
		}
	}
	if exitCode(errors.New("disk on fire")) != 1 {
		t.Error("other errors exit 1")
	}
}
