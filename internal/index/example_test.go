package index

import (
	"fmt"
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
// at county level.
func count(code string, weight float64) Indicator {
	return Indicator{Code: code, Direction: Negative, Weight: weight, PerCapita: true, Smoothing: NoSmoothing,
		Window: DefaultWindow, Alpha: DefaultAlpha, Mapping: LinearMapping}
}

// workedExample is the table of SPEC §9.4: five counties, one negative
// count indicator, W = 6, α = 0.5, linear. Each history averages to the
// table's μ.
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

func TestWorkedExample(t *testing.T) {
	res, err := Score(workedExample())
	if err != nil {
		t.Fatal(err)
	}
	// The table of SPEC §9.4, plus the composite rank and band.
	want := []struct {
		code      string
		x, mu     float64
		d         string
		rankSelf  int
		scoreSelf float64
		rate      string
		rankCross int
		scoreX    float64
		score     float64
		rank      int
		band      Band
	}{
		{"A", 12, 10, "0.2000", 4, 25, "0.2308", 2, 75, 50.0, 4, Red},
		{"B", 30, 21, "0.4286", 5, 0, "0.3297", 5, 0, 0.0, 5, Red},
		{"C", 5, 6, "-0.1667", 1, 100, "0.1923", 1, 100, 100.0, 1, Green},
		{"D", 18, 18, "0.0000", 1, 100, "0.2812", 4, 25, 62.5, 3, Red},
		{"E", 9, 11, "-0.1818", 1, 100, "0.2368", 3, 50, 75.0, 2, Yellow},
	}
	pops := map[string]float64{"A": 520000, "B": 910000, "C": 260000, "D": 640000, "E": 380000}
	for i, w := range want {
		rs := res.Regions[i]
		c := rs.Indicators[0]
		if rs.Code != w.code || !c.Present {
			t.Fatalf("%d: %+v", i, rs)
		}
		got := fmt.Sprintf("x=%v mu=%v d=%.4f self=%d/%v rate=%.4f cross=%d/%v s=%v",
			c.Value, c.Mu, c.D, c.RankSelf, c.ScoreSelf, c.Rate.X, c.RankCross, c.ScoreCross, c.Score)
		exp := fmt.Sprintf("x=%v mu=%v d=%s self=%d/%v rate=%s cross=%d/%v s=%v",
			w.x, Known(w.mu), w.d, w.rankSelf, w.scoreSelf, w.rate, w.rankCross, w.scoreX, w.score)
		if got != exp {
			t.Errorf("%s:\n got %s\nwant %s", w.code, got, exp)
		}
		// The unrounded intermediates are the formulas' own floats.
		if c.D != (w.x-w.mu)/w.mu || c.Rate != Known(w.x*1e4/pops[w.code]) || c.RateSmoothed.Valid {
			t.Errorf("%s: d %v rate %v smoothed %v", w.code, c.D, c.Rate, c.RateSmoothed)
		}
		// One indicator: the composite is its score, exactly.
		if !rs.Scored || rs.Score != w.score || rs.Rank != w.rank || rs.Band != w.band || !rs.Complete || rs.Missing != nil {
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
}
