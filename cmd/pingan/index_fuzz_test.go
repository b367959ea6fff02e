package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"testing"
)

// FuzzIndexInput: `pingan index --input -` reads any bytes as its input
// file (SPEC §9.7): it prints a ranking of every region given, in range,
// or refuses the input as bad (exit status 2, never 1); nothing panics.
func FuzzIndexInput(f *testing.F) {
	for _, file := range []string{"../../docs/index-example.json", "../../docs/index-example-defaults.json"} {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		`{"level":"community","indicators":[{"code":"a","direction":"positive"}],"regions":[{"code":"x","population":0}],"values":{"a":{"x":[null,1,2]}}}`,
		`{"level":"county","indicators":[{"code":"a","direction":"negative","mapping":"step","step":10}],"regions":[{"code":"x","population":1},{"code":"y","population":2}],"values":{"a":{"x":[1,2],"y":[3]}}}`,
		`{"level":"county","indicators":[],"regions":[]}`,
		`{"level":"province"}`,
		`{"level":"county","indicators":[{"code":"a","Direction":"negative"}]}`,
		`{"level":"county","indicators":[{"code":"a","direction":"negative"}],"regions":[{"code":"x"}]}`,
		`{"level":"county","indicators":[{"code":"a","direction":"negative"}],"regions":[{"code":"x","population":1}],"values":{"b":{}}}`,
		`{"level":"county","indicators":[{"code":"a","direction":"negative","weight":-1,"window":0,"alpha":2}],"regions":[{"code":"x","population":1}]}`,
		`{"level":"county"} {}`, `[`, ``, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		err := indexCommand([]string{"--input", "-"}, bytes.NewReader(data), &out)
		if err != nil {
			var bad *badInput
			if !errors.As(err, &bad) || exitCode(err) != 2 || bad.msg == "" {
				t.Fatalf("refused with %T %v (exit %d)", err, err, exitCode(err))
			}
			return
		}
		var in struct {
			Regions []struct {
				Code string `json:"code"`
			} `json:"regions"`
		}
		_ = json.Unmarshal(data, &in)
		var res struct {
			Items []struct {
				Rank   *int     `json:"rank"`
				Region string   `json:"region"`
				Score  *float64 `json:"score"`
			} `json:"items"`
		}
		if err := json.Unmarshal(out.Bytes(), &res); err != nil {
			t.Fatalf("output is not JSON: %v: %s", err, out.Bytes())
		}
		if len(res.Items) != len(in.Regions) {
			t.Fatalf("%d items for %d regions", len(res.Items), len(in.Regions))
		}
		seen := map[string]int{}
		for _, r := range in.Regions {
			seen[r.Code]++
		}
		for _, it := range res.Items {
			if seen[it.Region] == 0 {
				t.Fatalf("item for %q, which is no region of the input", it.Region)
			}
			seen[it.Region]--
			if (it.Score == nil) != (it.Rank == nil) || it.Score != nil &&
				(math.IsNaN(*it.Score) || *it.Score < 0 || *it.Score > 100 || *it.Rank < 1 || *it.Rank > len(res.Items)) {
				t.Fatalf("item %+v", it)
			}
		}
	})
}
