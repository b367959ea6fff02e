package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runDetect runs `pingan detect` with args and stdin and decodes its lines,
// each exactly the eight fields of SPEC §10.4.
func runDetect(t *testing.T, stdin string, args ...string) ([]map[string]any, error) {
	t.Helper()
	out := &bytes.Buffer{}
	if err := detectCommand(args, strings.NewReader(stdin), out); err != nil {
		return nil, err
	}
	return detectLines(t, out.String()), nil
}

func detectLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		for _, k := range []string{"t", "y", "mean", "sd", "upper", "statistic", "p", "alarm"} {
			if _, ok := m[k]; !ok {
				t.Fatalf("line %q has no %s", line, k)
			}
		}
		if len(m) != 8 {
			t.Fatalf("line %q has %d fields", line, len(m))
		}
		lines = append(lines, m)
	}
	return lines
}

// figure compares a printed figure with want; NaN wants null.
func figure(got any, want float64) bool {
	if math.IsNaN(want) {
		return got == nil
	}
	g, ok := got.(float64)
	return ok && math.Abs(g-want) <= 1e-6
}

// TestDetectCommandWorkedExample runs the example of SPEC §10.1 through
// `pingan detect` for each method (cmd/pingan/testdata/detect_*.json):
// a line per day from the method's first, the alarms of the SPEC, and the
// figures of days 14 and 15 to 10⁻⁶ (computed independently at 40 digits).
func TestDetectCommandWorkedExample(t *testing.T) {
	nan := math.NaN()
	type day struct {
		t                           int
		y, mean, sd, upper, stat, p float64
		alarm                       bool
	}
	for _, tc := range []struct {
		file   string
		first  int
		alarms []int
		days   []day
	}{
		{"testdata/detect_c1.json", 7, []int{14}, []day{
			{14, 9, 3, 0.816496580927726, 5.523164112258422, 7.348469228349534, nan, true},
			{15, 11, 4, 2.309401076758503, 11.13658581529786, 3.031088913245535, nan, false},
		}},
		{"testdata/detect_c2.json", 9, []int{14, 15}, []day{
			{14, 9, 3.142857142857143, 1.069044967649698, 6.446454438634363, 5.4788554592047, nan, true},
			{15, 11, 3.142857142857143, 1.069044967649698, 6.446454438634363, 7.349684152591671, nan, true},
		}},
		// alpha omitted: C3's default α₃ = 0.025.
		{"testdata/detect_c3.json", 11, []int{14, 15, 16, 17}, []day{
			{14, 9, 3.142857142857143, 1.069044967649698, nan, 4.4788554592047, nan, true},
			{15, 11, 3.142857142857143, 1.069044967649698, nan, 10.82853961179637, nan, true},
		}},
		// min_sigma omitted (1): Poisson does not use it.
		{"testdata/detect_poisson.json", 9, []int{15}, []day{
			{14, 9, 3.142857142857143, 1.772810520855837, 10, 3.303874152504059, 0.005105671199046651, false},
			{15, 11, 3.142857142857143, 1.772810520855837, 10, 4.432026302139592, 0.0004291489253957617, true},
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			out := &bytes.Buffer{}
			// Through run, with a configuration that would stop the server:
			// the calculator needs none.
			err := run(context.Background(), []string{"detect", "--input", tc.file},
				func(k string) string { return map[string]string{"PINGAN_ENV": "bogus"}[k] }, out, nil)
			if err != nil {
				t.Fatal(err)
			}
			lines := detectLines(t, out.String())
			if len(lines) != 20-tc.first {
				t.Fatalf("%d lines, want %d:\n%s", len(lines), 20-tc.first, out)
			}
			var alarms []int
			for i, l := range lines {
				if l["t"] != float64(tc.first+i) {
					t.Errorf("line %d: t %v", i, l["t"])
				}
				if l["alarm"] == true {
					alarms = append(alarms, tc.first+i)
				}
			}
			if !equalInts(alarms, tc.alarms) {
				t.Errorf("alarms on days %v, want %v", alarms, tc.alarms)
			}
			for _, w := range tc.days {
				l := lines[w.t-tc.first]
				if l["y"] != w.y || l["alarm"] != w.alarm || !figure(l["mean"], w.mean) || !figure(l["sd"], w.sd) ||
					!figure(l["upper"], w.upper) || !figure(l["statistic"], w.stat) || !figure(l["p"], w.p) {
					t.Errorf("day %d: %v, want %+v", w.t, l, w)
				}
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestDetectCommandDefaults: stdin, min_sigma 1 and min_count 0 by default,
// a flat baseline with min_sigma 0 (statistic null, upper the mean) and an
// all-zero baseline for Poisson (p 0; min_count still applies).
func TestDetectCommandDefaults(t *testing.T) {
	const series = `[3, 2, 4, 3, 2, 3, 5, 2, 3, 4, 3, 2, 3, 4, 9, 11, 4, 3, 12, 3]`
	lines, err := runDetect(t, `{"method":"C2","series":`+series+`}`, "--input", "-")
	if err != nil {
		t.Fatal(err)
	}
	// Day 16: S = 0.8165 is lifted to min_sigma 1.
	if l := lines[16-9]; l["sd"] != 1.0 || !figure(l["statistic"], 1) || !figure(l["upper"], 3+3.090232306167813) {
		t.Errorf("day 16 with min_sigma 1: %v", l)
	}
	flat := `[5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 6]`
	for _, tc := range []struct {
		in                string
		mean, upper, stat float64
		p                 float64
		alarm             bool
	}{
		{`{"method":"C1","min_sigma":0,"series":` + flat + `}`, 5, 5, math.NaN(), math.NaN(), true},
		{`{"method":"C2","min_sigma":0,"series":[5,5,5,5,5,5,5,5,5,5]}`, 5, 5, math.NaN(), math.NaN(), false},
		{`{"method":"poisson","series":[0,0,0,0,0,0,0,0,0,1]}`, 0, 0, math.NaN(), 0, true},
		{`{"method":"poisson","min_count":3,"series":[0,0,0,0,0,0,0,0,0,2]}`, 0, 0, math.NaN(), 0, false},
		{`{"method":"poisson","series":[0,0,0,0,0,0,0,0,0,0]}`, 0, 0, math.NaN(), 1, false},
	} {
		lines, err := runDetect(t, tc.in, "--input", "-")
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		l := lines[len(lines)-1]
		if !figure(l["mean"], tc.mean) || !figure(l["upper"], tc.upper) || !figure(l["statistic"], tc.stat) ||
			!figure(l["p"], tc.p) || l["alarm"] != tc.alarm {
			t.Errorf("%s: last line %v", tc.in, l)
		}
	}
}

func TestDetectCommandBadInput(t *testing.T) {
	const ok = `{"method":"C2","series":[1,2,3,4,5,6,7,8,9,10]}`
	if lines, err := runDetect(t, ok, "--input", "-"); err != nil || len(lines) != 1 {
		t.Fatalf("the base input: %v, %d lines", err, len(lines))
	}
	long := `[` + strings.Repeat("1,", 5<<20) + `1]`
	for _, tc := range []struct {
		args  []string
		stdin string
		want  string
	}{
		{nil, ok, "detect: usage: pingan detect --input FILE (- reads stdin)"},
		{[]string{"--input", "-", "extra"}, ok, "detect: usage: pingan detect --input FILE (- reads stdin)"},
		{[]string{"--inptu", "-"}, ok, "detect: flag provided but not defined: -inptu (usage: pingan detect --input FILE)"},
		{[]string{"--input", "/nonexistent/in.json"}, "", "detect: open /nonexistent/in.json: no such file or directory"},
		{[]string{"--input", "-"}, "", "detect: input: truncated or empty JSON"},
		{[]string{"--input", "-"}, "{\n\"method\": C2}", "detect: input: malformed JSON at line 2, column 11: invalid character 'C' looking for beginning of value"},
		{[]string{"--input", "-"}, ok + " {}", "detect: input: trailing data after the JSON object"},
		{[]string{"--input", "-"}, `{"method":"C2","window":7,"series":[1]}`, `detect: input: unknown field "window"`},
		{[]string{"--input", "-"}, `{"method":"C2","method":"C1","series":[1,2,3,4,5,6,7,8,9,10]}`,
			"detect: input: the key method is given twice in one object"},
		{[]string{"--input", "-"}, `{"series":[1,2,3]}`, "detect: method is required: C1, C2, C3 or poisson"},
		{[]string{"--input", "-"}, `{"method":"c2","series":[1]}`, `detect: method "c2": want C1, C2, C3 or poisson`},
		{[]string{"--input", "-"}, `{"method":"EWMA","series":[1]}`, `detect: method "EWMA": want C1, C2, C3 or poisson`},
		{[]string{"--input", "-"}, `{"method":"C2","alpha":0.5,"series":[1]}`, "detect: alpha 0.5: want 0 < alpha < 0.5"},
		{[]string{"--input", "-"}, `{"method":"C3","alpha":0,"series":[1]}`, "detect: alpha 0: want 0 < alpha < 0.5"},
		{[]string{"--input", "-"}, `{"method":"C2","alpha":"0.01","series":[1]}`, "detect: input.alpha: want a number, got string"},
		{[]string{"--input", "-"}, `{"method":"C1","min_sigma":-1,"series":[1]}`, "detect: min_sigma -1: want a number ≥ 0"},
		{[]string{"--input", "-"}, `{"method":"C1","min_sigma":1e300,"series":[1]}`, "detect: min_sigma 1e+300: want at most 100000, the largest count"},
		{[]string{"--input", "-"}, `{"method":"C1","min_count":-3,"series":[1]}`, "detect: min_count -3: want a number ≥ 0"},
		{[]string{"--input", "-"}, `{"method":"C1","baseline":1,"series":[1]}`, "detect: baseline 1: want a whole number of days from 2 to 365"},
		{[]string{"--input", "-"}, `{"method":"C1","baseline":7.5,"series":[1]}`, "detect: input.baseline: want an integer, got number 7.5"},
		{[]string{"--input", "-"}, `{"method":"C2"}`, "detect: series is required: the daily counts, oldest first"},
		{[]string{"--input", "-"}, `{"method":"C2","series":[]}`, "detect: series is required: the daily counts, oldest first"},
		{[]string{"--input", "-"}, `{"method":"C2","series":null}`, "detect: series is required: the daily counts, oldest first"},
		{[]string{"--input", "-"}, `{"method":"C2","series":{"0":1}}`, "detect: input.series: want a list, got object"},
		{[]string{"--input", "-"}, `{"method":"C2","series":[1,2,3,-1]}`, "detect: series[3] = -1: want a count, a whole number from 0"},
		{[]string{"--input", "-"}, `{"method":"C2","series":[1,2.5]}`, "detect: series[1] = 2.5: want a count, a whole number from 0"},
		{[]string{"--input", "-"}, `{"method":"C2","series":[1,null]}`, "detect: series[1] is null: want a count, a whole number from 0"},
		{[]string{"--input", "-"}, `{"method":"C2","series":[1,"2"]}`, "detect: series[1]: want a number, got string"},
		{[]string{"--input", "-"}, `{"method":"C2","series":[1e6]}`, "detect: series[0] = 1e+06: counts above 100000 are not supported"},
		{[]string{"--input", "-"}, `{"method":"C2","series":[1,2,3,4,5,6,7,8,9]}`,
			"detect: series has 9 days; C2 with baseline 7 evaluates from day 9 (day 0 first), so it needs at least 10"},
		{[]string{"--input", "-"}, `{"method":"C3","baseline":2,"series":[1,2,3,4,5,6]}`,
			"detect: series has 6 days; C3 with baseline 2 evaluates from day 6 (day 0 first), so it needs at least 7"},
		{[]string{"--input", "-"}, `{"method":"C2","series":` + long + `}`, "detect: the input is over 4 MiB"},
	} {
		out := &bytes.Buffer{}
		err := detectCommand(tc.args, strings.NewReader(tc.stdin), out)
		if err == nil || err.Error() != tc.want || exitCode(err) != 2 || out.Len() != 0 {
			t.Errorf("%v %.60q: got %v (exit %d, %d bytes out), want %q", tc.args, tc.stdin, err, exitCode(err), out.Len(), tc.want)
		}
	}
}

// TestDetectCommandDocs: the example of docs/warnings.md is the command's
// real input and output.
func TestDetectCommandDocs(t *testing.T) {
	doc, err := os.ReadFile("../../docs/warnings.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	const cmd = "$ pingan detect --input "
	i := strings.Index(text, cmd)
	if i < 0 {
		t.Fatal("docs/warnings.md shows no `pingan detect`")
	}
	rest := text[i+len(cmd):]
	path, rest, _ := strings.Cut(rest, "\n")
	shown, _, found := strings.Cut(rest, "```")
	if !found {
		t.Fatal("the output block is not closed")
	}
	file := filepath.Join("../..", path)
	input, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "```json\n"+string(input)+"```") {
		t.Errorf("docs/warnings.md does not show %s as it is:\n%s", path, input)
	}
	out := &bytes.Buffer{}
	if err := detectCommand([]string{"--input", file}, nil, out); err != nil {
		t.Fatal(err)
	}
	if out.String() != shown {
		t.Errorf("docs/warnings.md shows\n%s\nthe command prints\n%s", shown, out)
	}
}

// FuzzDetectInput: whatever the file, the command either refuses it as bad
// input (exit 2) or prints valid lines, one per day with history.
func FuzzDetectInput(f *testing.F) {
	for _, name := range []string{"c1", "c2", "c3", "poisson"} {
		data, err := os.ReadFile("testdata/detect_" + name + ".json")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"method":"C3","min_sigma":0,"min_count":0,"baseline":2,"series":[0,0,0,0,5,0,100000]}`))
	f.Add([]byte(`{"method":"poisson","alpha":1e-300,"series":[0,0,0,0,0,0,0,0,0,1]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		out := &bytes.Buffer{}
		err := detectCommand([]string{"--input", "-"}, bytes.NewReader(data), out)
		if err != nil {
			if exitCode(err) != 2 || out.Len() != 0 {
				t.Fatalf("%q: %v (exit %d) after %d bytes", data, err, exitCode(err), out.Len())
			}
			return
		}
		lines := detectLines(t, out.String())
		if len(lines) == 0 {
			t.Fatalf("%q: no output and no error", data)
		}
	})
}
