package index

import (
	"fmt"
	"math"
	"testing"
)

// gap marks a missing value in ser.
const gap = -1

// ser is a series of known values, with gap for a missing one.
func ser(xs ...float64) []Value {
	out := make([]Value, len(xs))
	for i, x := range xs {
		if x != gap {
			out[i] = Known(x)
		}
	}
	return out
}

// count is a negative per-capita count indicator with the SPEC's defaults
// at county level, but the floor F = 0 of the worked example's table: ranks
// map to 0–100.
func count(code string, weight float64) Indicator {
	return Indicator{Code: code, Direction: Negative, Weight: weight, PerCapita: true, Smoothing: NoSmoothing,
		Window: DefaultWindow, Alpha: DefaultAlpha, Mapping: LinearMapping, Tolerance: DefaultTolerance}
}

// workedExample is the table of SPEC §9.4: five counties, one negative
// count indicator, W = 6, α = 0.5, τ = 0.05, linear with F = 0. Each
// history averages to the table's μ.
func workedExample() Input {
	return Input{
		Indicators: []Indicator{count("disputes", 0.2)},
		Regions:    []Region{{"A", 520000}, {"B", 910000}, {"C", 260000}, {"D", 640000}, {"E", 380000}},
		Values: [][][]Value{{
			ser(8, 9, 10, 11, 12, 10, 12),   // μ 10
			ser(18, 20, 21, 22, 24, 21, 30), // μ 21
			ser(5, 6, 7, 6, 5, 7, 5),        // μ 6
			ser(16, 17, 18, 19, 20, 18, 18), // μ 18
			ser(10, 12, 11, 9, 13, 11, 9),   // μ 11
		}},
	}
}

// exampleRow is one county of the worked example: the table of SPEC §9.4,
// plus the composite's rank and band.
type exampleRow struct {
	code              string
	x, mu, d          float64
	rankSelf          int
	scoreSelf, rate   float64
	rankCross         int
	scoreCross, score float64
	rank              int
	band              Band
}

// workedTables are the worked example's figures with F = 0 (the SPEC's
// table) and with the default F = 60, where each score is 60 + 0.4 × the
// table's. The ranks do not change with F.
var workedTables = []struct {
	name  string
	floor float64
	rows  []exampleRow
}{
	{"F = 0 (the SPEC's table)", 0, []exampleRow{
		{"A", 12, 10, 0.2, 4, 25, 0.2307692, 2, 75, 50, 4, Red},
		{"B", 30, 21, 0.4285714, 5, 0, 0.3296703, 5, 0, 0, 5, Red},
		{"C", 5, 6, -0.1666667, 1, 100, 0.1923077, 1, 100, 100, 1, Green},
		{"D", 18, 18, 0, 1, 100, 0.28125, 4, 25, 62.5, 3, Red},
		{"E", 9, 11, -0.1818182, 1, 100, 0.2368421, 3, 50, 75, 2, Yellow},
	}},
	{"F = 60 (the default)", DefaultFloor, []exampleRow{
		{"A", 12, 10, 0.2, 4, 70, 0.2307692, 2, 90, 80, 4, Blue},
		{"B", 30, 21, 0.4285714, 5, 60, 0.3296703, 5, 60, 60, 5, Red},
		{"C", 5, 6, -0.1666667, 1, 100, 0.1923077, 1, 100, 100, 1, Green},
		{"D", 18, 18, 0, 1, 100, 0.28125, 4, 70, 85, 3, Blue},
		{"E", 9, 11, -0.1818182, 1, 100, 0.2368421, 3, 80, 90, 2, Green},
	}},
}

func TestWorkedExample(t *testing.T) {
	pops := map[string]float64{"A": 520000, "B": 910000, "C": 260000, "D": 640000, "E": 380000}
	for _, tc := range workedTables {
		t.Run(tc.name, func(t *testing.T) {
			in := workedExample()
			in.Indicators[0].Floor = tc.floor
			res, err := Score(in)
			if err != nil {
				t.Fatal(err)
			}
			near := func(what string, got, want float64) {
				t.Helper()
				if math.Abs(got-want) > 1e-6 {
					t.Errorf("%s: got %.9g, want %.9g", what, got, want)
				}
			}
			for i, w := range tc.rows {
				rs := res.Regions[i]
				c := rs.Indicators[0]
				if rs.Code != w.code || !c.Present || !c.Mu.Valid || !c.Rate.Valid || c.RateSmoothed.Valid {
					t.Fatalf("%d: %+v", i, rs)
				}
				near(w.code+" x", c.Value, w.x)
				near(w.code+" μ", c.Mu.X, w.mu)
				near(w.code+" d", c.D, w.d)
				near(w.code+" S_self", c.ScoreSelf, w.scoreSelf)
				near(w.code+" rate", c.Rate.X, w.rate)
				near(w.code+" S_cross", c.ScoreCross, w.scoreCross)
				near(w.code+" score", c.Score, w.score)
				near(w.code+" composite", rs.Score, w.score)
				// One indicator: it contributes the whole composite.
				near(w.code+" contribution", c.Contribution, w.score)
				if c.RankSelf != w.rankSelf || c.RankCross != w.rankCross || c.Weight != 0.2 {
					t.Errorf("%s: ranks %d/%d, want %d/%d; weight %v", w.code, c.RankSelf, c.RankCross, w.rankSelf,
						w.rankCross, c.Weight)
				}
				// The unrounded intermediates are the formulas' own floats.
				if c.D != (w.x-w.mu)/w.mu || c.Rate != Known(w.x*1e4/pops[w.code]) {
					t.Errorf("%s: d %v rate %v", w.code, c.D, c.Rate)
				}
				if !rs.Scored || rs.Rank != w.rank || rs.Band != w.band || !rs.Complete || rs.Missing != nil {
					t.Errorf("%s: composite %+v", w.code, rs)
				}
			}
			if s := res.Indicators[0]; s != (IndicatorSummary{Code: "disputes", Peers: 5}) {
				t.Errorf("summary %+v", s)
			}
			var order []string
			for _, rs := range res.Ranked() {
				order = append(order, rs.Code)
			}
			if fmt.Sprint(order) != "[C E D A B]" {
				t.Errorf("ranked %v", order)
			}
		})
	}
	// The table as the SPEC prints it: 4 decimals.
	res, _ := Score(workedExample())
	var got []string
	for _, rs := range res.Regions {
		c := rs.Indicators[0]
		got = append(got, fmt.Sprintf("%s d=%+.4f rate=%.4f s=%.1f", rs.Code, c.D, c.Rate.X, c.Score))
	}
	want := "[A d=+0.2000 rate=0.2308 s=50.0 B d=+0.4286 rate=0.3297 s=0.0 C d=-0.1667 rate=0.1923 s=100.0 " +
		"D d=+0.0000 rate=0.2812 s=62.5 E d=-0.1818 rate=0.2368 s=75.0]"
	if fmt.Sprint(got) != want {
		t.Errorf("printed\n got %v\nwant %s", got, want)
	}
}
