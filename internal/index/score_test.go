package index

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"pingan/internal/errs"
	"pingan/internal/region"
)

// plain is a negative indicator ranked by its value, W = 1, α = 0.5, linear.
func plain(code string, weight float64) Indicator {
	return Indicator{Code: code, Direction: Negative, Weight: weight, Smoothing: NoSmoothing, Window: 1, Alpha: 0.5,
		Mapping: LinearMapping}
}

func regions(codes ...string) []Region {
	out := make([]Region, len(codes))
	for i, c := range codes {
		out[i] = Region{Code: c, Population: 10000}
	}
	return out
}

func mustScore(t *testing.T, in Input) Result {
	t.Helper()
	res, err := Score(in)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// column returns one field of indicator i for every region.
func column[T any](res Result, i int, f func(IndicatorScore) T) []T {
	out := make([]T, len(res.Regions))
	for r, rs := range res.Regions {
		out[r] = f(rs.Indicators[i])
	}
	return out
}

func check[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

func TestTiesShareTheLowestRank(t *testing.T) {
	// Cross keys 3, 3, 3, 5, 7; self: three regions at or below their mean
	// (d ≤ 0 in different amounts, all key 0), then d = 0.5 and 1.
	res := mustScore(t, Input{
		Indicators: []Indicator{plain("x", 1)},
		Regions:    regions("a", "b", "c", "d", "e"),
		Values:     [][][]Value{{ser(3, 3), ser(6, 3), ser(4, 3), ser(10.0/3, 5), ser(3.5, 7)}},
	})
	check(t, "rank_self", column(res, 0, func(c IndicatorScore) int { return c.RankSelf }), []int{1, 1, 1, 4, 5})
	check(t, "score_self", column(res, 0, func(c IndicatorScore) float64 { return c.ScoreSelf }), []float64{100, 100, 100, 25, 0})
	check(t, "rank_cross", column(res, 0, func(c IndicatorScore) int { return c.RankCross }), []int{1, 1, 1, 4, 5})
	var ranks []int
	for _, rs := range res.Regions {
		ranks = append(ranks, rs.Rank)
	}
	check(t, "composite ranks", ranks, []int{1, 1, 1, 4, 5})

	// Equal rates from different counts and populations are equal floats.
	res = mustScore(t, Input{
		Indicators: []Indicator{{Code: "x", Direction: Negative, Weight: 1, PerCapita: true, Smoothing: NoSmoothing,
			Window: 1, Alpha: 0.5, Mapping: LinearMapping}},
		Regions: []Region{{"a", 30000}, {"b", 10000}, {"c", 70000}, {"d", 20000}},
		Values:  [][][]Value{{ser(3, 3), ser(1, 1), ser(7, 7), ser(1, 3)}},
	})
	check(t, "per-capita rank_cross", column(res, 0, func(c IndicatorScore) int { return c.RankCross }), []int{1, 1, 1, 4})
}

func TestOnePeerScores100(t *testing.T) {
	for _, m := range []Mapping{LinearMapping, StepMapping} {
		ind := plain("x", 1)
		ind.Mapping, ind.Step = m, 40
		// b and c have no value: a is alone, however bad its rise.
		res := mustScore(t, Input{Indicators: []Indicator{ind}, Regions: regions("a", "b", "c"),
			Values: [][][]Value{{ser(1, 9), ser(1, gap), nil}}})
		a := res.Regions[0]
		if a.Indicators[0].D != 8 || a.Indicators[0].RankSelf != 1 || a.Indicators[0].RankCross != 1 ||
			a.Indicators[0].Score != 100 || a.Score != 100 || a.Rank != 1 || a.Band != Green || res.Indicators[0].Peers != 1 {
			t.Errorf("%s: %+v", m, a)
		}
	}
}

func TestMissingIndicatorRenormalisesWeights(t *testing.T) {
	pos := plain("rate", 0.4)
	pos.Direction = Positive
	res := mustScore(t, Input{
		Indicators: []Indicator{plain("cases", 0.6), pos},
		Regions:    regions("r1", "r2", "r3"),
		Values: [][][]Value{
			{ser(1, 1), ser(1, 2), ser(1, 3)}, // d 0, 1, 2; cross 1, 2, 3: scores 100, 50, 0
			{nil, ser(5, 5), ser(5, 4)},       // r1 has none; r2 d 0, x 5; r3 d 0.2, x 4: scores 100, 0
		},
	})
	check(t, "cases", column(res, 0, func(c IndicatorScore) float64 { return c.Score }), []float64{100, 50, 0})
	check(t, "rate", column(res, 1, func(c IndicatorScore) float64 { return c.Score }), []float64{0, 100, 0})
	check(t, "rate d", res.Regions[2].Indicators[1].D, 0.2)
	r1, r2, r3 := res.Regions[0], res.Regions[1], res.Regions[2]
	// r1: the weight of the missing indicator is dropped, not scored 0:
	// 0.6·100/0.6 = 100 (without renormalising it would be 60).
	if r1.Complete || !reflect.DeepEqual(r1.Missing, []string{"rate"}) || r1.Score != 100 || r1.Rank != 1 || r1.Indicators[1] != (IndicatorScore{}) {
		t.Errorf("r1 %+v", r1)
	}
	// r2: (0.6·50 + 0.4·100) / (0.6 + 0.4) = 70.
	if !r2.Complete || r2.Missing != nil || r2.Score != 70 || r2.Rank != 2 || r2.Band != Yellow {
		t.Errorf("r2 %+v", r2)
	}
	if r3.Score != 0 || r3.Rank != 3 || r3.Band != Red {
		t.Errorf("r3 %+v", r3)
	}
}

func TestRegionWithoutAnyValue(t *testing.T) {
	res := mustScore(t, Input{
		Indicators: []Indicator{plain("a", 1), plain("b", 1)},
		Regions:    regions("z", "y", "x"),
		Values:     [][][]Value{{nil, ser(1, 1), ser(1, 2)}, {ser(gap, gap), ser(2, 2), nil}},
	})
	z := res.Regions[0]
	if z.Scored || z.Rank != 0 || z.Band != "" || z.Score != 0 || z.Complete || !reflect.DeepEqual(z.Missing, []string{"a", "b"}) {
		t.Errorf("z %+v", z)
	}
	var order []string
	for _, rs := range res.Ranked() {
		order = append(order, rs.Code)
	}
	check(t, "ranked", order, []string{"y", "x", "z"})
	check(t, "peers", []int{res.Indicators[0].Peers, res.Indicators[1].Peers}, []int{2, 1})
}

func TestWeightZero(t *testing.T) {
	res := mustScore(t, Input{
		Indicators: []Indicator{plain("shown", 0), plain("counted", 1)},
		Regions:    regions("a", "b", "c"),
		Values:     [][][]Value{{ser(1, 5), ser(1, 1), ser(1, 1)}, {ser(1, 1), ser(1, 2), nil}},
	})
	a, b, c := res.Regions[0], res.Regions[1], res.Regions[2]
	// a: worst on the weight-0 indicator, which is scored and shown but not
	// counted; best on the other.
	if a.Indicators[0].Score != 0 || a.Indicators[1].Score != 100 || a.Score != 100 || a.Rank != 1 || !a.Complete {
		t.Errorf("a %+v", a)
	}
	if b.Indicators[0].Score != 100 || b.Score != 0 || b.Rank != 2 {
		t.Errorf("b %+v", b)
	}
	// c: only a weight-0 indicator: no composite.
	if c.Scored || c.Rank != 0 || c.Indicators[0].Score != 100 || !reflect.DeepEqual(c.Missing, []string{"counted"}) {
		t.Errorf("c %+v", c)
	}
}

func TestStepMapping(t *testing.T) {
	ind := plain("x", 1)
	ind.Mapping, ind.Step = StepMapping, 30
	res := mustScore(t, Input{Indicators: []Indicator{ind}, Regions: regions("a", "b", "c", "d", "e", "f"),
		Values: [][][]Value{{ser(1, 1), ser(1, 2), ser(1, 2), ser(1, 4), ser(1, 5), ser(1, 6)}}})
	check(t, "rank_self", column(res, 0, func(c IndicatorScore) int { return c.RankSelf }), []int{1, 2, 2, 4, 5, 6})
	check(t, "score_self", column(res, 0, func(c IndicatorScore) float64 { return c.ScoreSelf }), []float64{100, 70, 70, 10, 0, 0})
	check(t, "score", column(res, 0, func(c IndicatorScore) float64 { return c.Score }), []float64{100, 70, 70, 10, 0, 0})
}

func TestFloor(t *testing.T) {
	// Six regions, self ranks 1, 2, 2, 4, 5, 6 (cross the same: the value
	// follows d). The floor F lifts the last rank to F and scales the rest.
	in := func(m Mapping, floor float64) Input {
		ind := plain("x", 1)
		ind.Mapping, ind.Step, ind.Floor = m, 30, floor
		return Input{Indicators: []Indicator{ind}, Regions: regions("a", "b", "c", "d", "e", "f"),
			Values: [][][]Value{{ser(1, 1), ser(1, 2), ser(1, 2), ser(1, 4), ser(1, 5), ser(1, 6)}}}
	}
	for _, tc := range []struct {
		mapping Mapping
		floor   float64
		want    []float64
	}{
		// linear: S = F + (100 − F)·(n − r)/(n − 1), n = 6.
		{LinearMapping, 0, []float64{100, 80, 80, 40, 20, 0}},
		{LinearMapping, 60, []float64{100, 92, 92, 76, 68, 60}},
		{LinearMapping, 99.5, []float64{100, 99.9, 99.9, 99.7, 99.6, 99.5}},
		// step: S = max(F, 100 − (r − 1)·30).
		{StepMapping, 0, []float64{100, 70, 70, 10, 0, 0}},
		{StepMapping, 60, []float64{100, 70, 70, 60, 60, 60}},
		{StepMapping, 80, []float64{100, 80, 80, 80, 80, 80}},
	} {
		res := mustScore(t, in(tc.mapping, tc.floor))
		for _, f := range []struct {
			what string
			got  []float64
		}{
			{"score_self", column(res, 0, func(c IndicatorScore) float64 { return c.ScoreSelf })},
			{"score_cross", column(res, 0, func(c IndicatorScore) float64 { return c.ScoreCross })},
			{"score", column(res, 0, func(c IndicatorScore) float64 { return c.Score })},
		} {
			for r := range tc.want {
				if math.Abs(f.got[r]-tc.want[r]) > 1e-9 {
					t.Errorf("%s F=%v %s: got %v, want %v", tc.mapping, tc.floor, f.what, f.got, tc.want)
					break
				}
			}
		}
		// The last region is last on everything: it scores F, not 0.
		if last := res.Regions[5]; last.Score != max(tc.floor, tc.want[5]) {
			t.Errorf("%s F=%v: last scores %v", tc.mapping, tc.floor, last.Score)
		}
	}
	// A lone peer scores 100 whatever F.
	ind := plain("x", 1)
	ind.Floor = 60
	res := mustScore(t, Input{Indicators: []Indicator{ind}, Regions: regions("a"), Values: [][][]Value{{ser(1, 9)}}})
	if c := res.Regions[0].Indicators[0]; c.ScoreSelf != 100 || c.ScoreCross != 100 || res.Regions[0].Score != 100 {
		t.Errorf("lone peer %+v", res.Regions[0])
	}
}

func TestTolerance(t *testing.T) {
	// A settlement rate (positive, d = (μ − x)/μ): a slips from 0.916 to
	// 0.913 (d ≈ 0.0033), b holds, c falls from 0.5 to 0.46875 (d = 0.0625
	// exactly), e falls by a fifth. d itself is reported unchanged.
	ind := Indicator{Code: "settled", Direction: Positive, Weight: 1, Smoothing: NoSmoothing, Window: 1, Alpha: 1,
		Mapping: LinearMapping}
	in := Input{Indicators: []Indicator{ind}, Regions: regions("a", "b", "c", "e"),
		Values: [][][]Value{{ser(0.916, 0.913), ser(0.9, 0.9), ser(0.5, 0.46875), ser(0.625, 0.5)}}}
	x, mu := 0.913, 0.916
	for _, tc := range []struct {
		tolerance float64
		ranks     []int
	}{
		{0, []int{2, 1, 3, 4}},                // every fall counts
		{DefaultTolerance, []int{1, 1, 3, 4}}, // a's noise ties with b
		{0.0625, []int{1, 1, 1, 4}},           // d = τ exactly is within it: d⁺ = d only when d > τ
		{0.5, []int{1, 1, 1, 1}},
		{math.MaxFloat64, []int{1, 1, 1, 1}},
	} {
		in.Indicators[0].Tolerance = tc.tolerance
		res := mustScore(t, in)
		check(t, fmt.Sprintf("τ=%v rank_self", tc.tolerance), column(res, 0, func(c IndicatorScore) int { return c.RankSelf }), tc.ranks)
		check(t, fmt.Sprintf("τ=%v d", tc.tolerance), column(res, 0, func(c IndicatorScore) float64 { return c.D }),
			[]float64{(mu - x) / mu, 0, 0.0625, 0.2})
	}
}

func TestContributionsAddUpToTheComposite(t *testing.T) {
	// Eight indicators with the SPEC's weights, one of weight 0, one
	// missing for some regions, over random values.
	weights := []float64{0.2, 0.15, 0.15, 0.1, 0.15, 0.1, 0.1, 0.05, 0}
	rng := rand.New(rand.NewPCG(3, 5))
	var in Input
	codes := []string{}
	for r := range 40 {
		codes = append(codes, fmt.Sprintf("r%02d", r))
	}
	in.Regions = regions(codes...)
	for i, w := range weights {
		ind := plain(fmt.Sprintf("i%d", i), w)
		ind.Floor, ind.Tolerance, ind.Window = DefaultFloor, DefaultTolerance, 3
		in.Indicators = append(in.Indicators, ind)
		series := make([][]Value, len(codes))
		for r := range codes {
			if i == 3 && r%7 == 0 {
				continue // no value: the region is incomplete
			}
			series[r] = ser(float64(rng.IntN(9)), float64(rng.IntN(9)), float64(rng.IntN(9)), float64(rng.IntN(12)))
		}
		in.Values = append(in.Values, series)
	}
	res := mustScore(t, in)
	incomplete := 0
	for _, rs := range res.Regions {
		var sum, sw, sws float64
		for i, c := range rs.Indicators {
			if !c.Present {
				if c.Contribution != 0 || c.Weight != 0 {
					t.Errorf("%s/%d absent: %+v", rs.Code, i, c)
				}
				continue
			}
			if c.Weight != weights[i] || c.Contribution < 0 || (weights[i] == 0 && c.Contribution != 0) {
				t.Errorf("%s/%d: weight %v contribution %v", rs.Code, i, c.Weight, c.Contribution)
			}
			sum += c.Contribution
			sw += weights[i]
			sws += weights[i] * c.Score
		}
		if !rs.Complete {
			incomplete++
		}
		if !rs.Scored || math.Abs(sum-rs.Score) > 1e-9 || math.Abs(rs.Score-sws/sw) > 1e-9 || rs.Score < DefaultFloor {
			t.Errorf("%s: contributions add up to %.12f, composite %.12f (Σws/Σw %.12f)", rs.Code, sum, rs.Score, sws/sw)
		}
	}
	if incomplete != 6 {
		t.Errorf("%d incomplete regions, want 6", incomplete)
	}
	// No composite, no contribution: a region with only a weight-0 value.
	res = mustScore(t, Input{Indicators: []Indicator{plain("zero", 0)}, Regions: regions("a"), Values: [][][]Value{{ser(1, 1)}}})
	if rs := res.Regions[0]; rs.Scored || rs.Indicators[0].Contribution != 0 || rs.Indicators[0].Score != 100 {
		t.Errorf("weight 0 only: %+v", rs)
	}
}

func TestPositiveDirection(t *testing.T) {
	// A settlement rate: more is better, not per capita.
	ind := Indicator{Code: "settled", Direction: Positive, Weight: 0.15, Smoothing: NoSmoothing, Window: 2, Alpha: 0.25,
		Mapping: LinearMapping}
	res := mustScore(t, Input{Indicators: []Indicator{ind}, Regions: regions("a", "b", "c"),
		Values: [][][]Value{{ser(0.8, 0.6, 0.9), ser(0.9, 0.9, 0.45), ser(0.5, 0.5, 0.5)}}})
	// μ 0.7, 0.9, 0.5; d = (μ−x)/μ: a rose (better, not penalised), b fell by half, c flat.
	// (Variables, not constants: Go computes constant expressions exactly.)
	x, y, now := 0.8, 0.6, 0.9
	mu := (x + y) / 2
	check(t, "mu", column(res, 0, func(c IndicatorScore) Value { return c.Mu }), []Value{Known(mu), Known(0.9), Known(0.5)})
	check(t, "d", column(res, 0, func(c IndicatorScore) float64 { return c.D }), []float64{(mu - now) / mu, 0.5, 0})
	check(t, "rank_self", column(res, 0, func(c IndicatorScore) int { return c.RankSelf }), []int{1, 3, 1})
	// Highest rate first: 0.9, 0.5, 0.45.
	check(t, "rank_cross", column(res, 0, func(c IndicatorScore) int { return c.RankCross }), []int{1, 3, 2})
	check(t, "rate", column(res, 0, func(c IndicatorScore) bool { return c.Rate.Valid }), []bool{false, false, false})
	// s = 0.25·S_self + 0.75·S_cross.
	check(t, "score", column(res, 0, func(c IndicatorScore) float64 { return c.Score }), []float64{100, 0, 62.5})
}

func TestMissingValues(t *testing.T) {
	skip := plain("manual", 1)
	skip.Window = 6
	zero := skip
	zero.Code, zero.MissingIsZero = "auto", true
	series := ser(gap, 4, gap, gap, gap, gap, 2)
	// Expected floats are computed at run time like the kernel's (Go
	// evaluates constant expressions exactly).
	four, six, three, eps := 4.0, 6.0, 3.0, Epsilon
	for _, tc := range []struct {
		name    string
		ind     Indicator
		s       []Value
		present bool
		x       float64
		mu      Value
		d       float64
	}{
		{"skipped: μ over the one period with a value", skip, series, true, 2, Known(4), -0.5},
		{"zero: μ over six periods", zero, series, true, 2, Known(four / six), (2 - four/six) / (four / six)},
		{"skipped: no x_t, no value", skip, ser(1, 1, 1, 1, 1, 1, gap), false, 0, Value{}, 0},
		{"zero: no x_t is 0", zero, ser(1, 1, 1, 1, 1, 1, gap), true, 0, Known(1), -1},
		{"skipped: no history, not penalised", skip, ser(gap, gap, gap, gap, gap, gap, 3), true, 3, Value{}, 0},
		{"zero: no history, μ 0, d = x/ε", zero, ser(gap, gap, gap, gap, gap, gap, 3), true, 3, Known(0), three / eps},
		{"zero: a nil series is all zeros", zero, nil, true, 0, Known(0), 0},
		{"skipped: a nil series is no value", skip, nil, false, 0, Value{}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := mustScore(t, Input{Indicators: []Indicator{tc.ind}, Regions: regions("a"), Values: [][][]Value{{tc.s}}})
			c := res.Regions[0].Indicators[0]
			if c.Present != tc.present || c.Value != tc.x || c.Mu != tc.mu || c.D != tc.d {
				t.Errorf("got present %v x %v μ %v d %v", c.Present, c.Value, c.Mu, c.D)
			}
			if res.Regions[0].Complete != tc.present || res.Regions[0].Scored != tc.present {
				t.Errorf("complete %v scored %v", res.Regions[0].Complete, res.Regions[0].Scored)
			}
		})
	}
}

func TestAllZeroMeans(t *testing.T) {
	// No history anywhere (auto counts): the regions with no case now tie
	// first, the others rank by their count, d = x/ε.
	ind := plain("x", 1)
	ind.Window, ind.MissingIsZero = 3, true
	res := mustScore(t, Input{Indicators: []Indicator{ind}, Regions: regions("a", "b", "c", "d"),
		Values: [][][]Value{{ser(0, 0, 0, 0), ser(0, 0, 0, 2), nil, ser(0, 0, 0, 1)}}})
	one, two, eps := 1.0, 2.0, Epsilon
	check(t, "d", column(res, 0, func(c IndicatorScore) float64 { return c.D }), []float64{0, two / eps, 0, one / eps})
	check(t, "rank_self", column(res, 0, func(c IndicatorScore) int { return c.RankSelf }), []int{1, 4, 1, 3})
}

func TestZeroPopulation(t *testing.T) {
	percap := count("cases", 1)
	percap.Window = 1
	res := mustScore(t, Input{
		Indicators: []Indicator{percap, plain("plain", 1)},
		Regions:    []Region{{"park", 0}, {"town", 20000}},
		Values:     [][][]Value{{ser(1, 1), ser(1, 1)}, {ser(1, 1), ser(1, 2)}},
	})
	park := res.Regions[0]
	// No population: no rate, so the per-capita indicator is missing there.
	if park.Indicators[0].Present || park.Complete || !reflect.DeepEqual(park.Missing, []string{"cases"}) ||
		!park.Indicators[1].Present || park.Score != 100 || res.Indicators[0].Peers != 1 {
		t.Errorf("park %+v", park)
	}
	if r := res.Regions[1].Indicators[0]; r.Rate != Known(0.5) || r.Score != 100 {
		t.Errorf("town %+v", r)
	}
}

func TestEmpiricalBayes(t *testing.T) {
	// Ten communities of 5 000 and a tiny one of 100 residents with one
	// case: its raw rate, 100 per 10⁴, is the city's worst, but one case is
	// weak evidence and the smoothed rate pulls it toward the city's.
	pops := []int64{5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 5000, 100}
	cases := []float64{1, 2, 3, 4, 5, 6, 8, 10, 14, 20, 1}
	in := Input{Indicators: []Indicator{count("cases", 1)}, Values: [][][]Value{make([][]Value, len(pops))}}
	in.Indicators[0].Window = 1
	for r := range pops {
		in.Regions = append(in.Regions, Region{Code: string(rune('a' + r)), Population: pops[r]})
		in.Values[0][r] = ser(cases[r], cases[r]) // flat: every d is 0, self ranks tie
	}
	raw := mustScore(t, in)
	tiny := raw.Regions[10]
	if tiny.Indicators[0].Rate != Known(100) || tiny.Indicators[0].RankCross != 11 || tiny.Rank != 11 {
		t.Fatalf("unsmoothed: %+v", tiny)
	}

	in.Indicators[0].Smoothing = EmpiricalBayes
	res := mustScore(t, in)
	// m = Σx/Σpop, s² = Σpop(q−m)²/Σpop, A = s² − m/mean(pop), per 10⁴
	// (figures from an independent computation).
	const m, a = 14.770459081836327, 109.08402755367507
	near := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-12*max(1, want) {
			t.Errorf("%s: got %.17g, want %.17g", what, got, want)
		}
	}
	sum := res.Indicators[0]
	if !sum.CityRate.Valid || !sum.PriorVariance.Valid || sum.Peers != 11 {
		t.Fatalf("summary %+v", sum)
	}
	near("m", sum.CityRate.X, m)
	near("A", sum.PriorVariance.X, a)
	tiny = res.Regions[10]
	c := tiny.Indicators[0]
	near("tiny EB", c.RateSmoothed.X, 20.63201013161352) // w = 0.0688: mostly the city's rate
	near("a EB", res.Regions[0].Indicators[0].RateSmoothed.X, 4.721379508550078)
	near("j EB", res.Regions[9].Indicators[0].RateSmoothed.X, 34.623595344158645)
	if c.Rate != Known(100) || c.RateSmoothed.X >= c.Rate.X || c.RateSmoothed.X <= m {
		t.Errorf("tiny: rate %v smoothed %v", c.Rate, c.RateSmoothed)
	}
	// Ranked by the smoothed rate it is 9th of 11, ahead of the two
	// large communities with 14 and 20 cases.
	check(t, "rank_cross", column(res, 0, func(c IndicatorScore) int { return c.RankCross }), []int{1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 9})
	if c.ScoreCross != 20 || tiny.Score != 60 || tiny.Rank != 9 {
		t.Errorf("tiny: %+v", tiny)
	}
}

func TestEmpiricalBayesEdges(t *testing.T) {
	ind := count("cases", 1)
	ind.Smoothing, ind.Window = EmpiricalBayes, 1
	// No case anywhere: every smoothed rate is 0 (not 0/0).
	res := mustScore(t, Input{Indicators: []Indicator{ind}, Regions: []Region{{"a", 100}, {"b", 1000}},
		Values: [][][]Value{{ser(0, 0), ser(0, 0)}}})
	check(t, "zero", column(res, 0, func(c IndicatorScore) Value { return c.RateSmoothed }), []Value{Known(0), Known(0)})
	check(t, "zero ranks", column(res, 0, func(c IndicatorScore) int { return c.RankCross }), []int{1, 1})
	// Rates no more spread than chance (A = 0): full shrinkage, every
	// region gets exactly m and they tie.
	res = mustScore(t, Input{Indicators: []Indicator{ind}, Regions: []Region{{"a", 10000}, {"b", 10000}, {"c", 20000}},
		Values: [][][]Value{{ser(5, 5), ser(6, 6), ser(11, 11)}}})
	check(t, "A", res.Indicators[0].PriorVariance, Known(0))
	m := res.Indicators[0].CityRate
	check(t, "m", m, Known(22*1e4/40000.0))
	check(t, "full shrinkage", column(res, 0, func(c IndicatorScore) Value { return c.RateSmoothed }), []Value{m, m, m})
	check(t, "ties", column(res, 0, func(c IndicatorScore) int { return c.RankCross }), []int{1, 1, 1})
	// A tiny value in a huge population: m > 0, but m·10⁴/pop underflows to
	// 0 with A = 0. No 0/0: every score in range.
	res = mustScore(t, Input{Indicators: []Indicator{ind}, Regions: []Region{{"a", math.MaxInt64}, {"b", 1}},
		Values: [][][]Value{{ser(0, 1e-295), ser(0, 0)}}})
	if m := res.Indicators[0].CityRate.X; m <= 0 || m*PerResidents/math.MaxInt64 != 0 {
		t.Fatalf("m = %v does not reach the corner", m)
	}
	for _, rs := range res.Regions {
		c := rs.Indicators[0]
		if math.IsNaN(c.RateSmoothed.X) || math.IsNaN(rs.Score) || rs.Score < 0 || rs.Score > 100 || rs.Rank < 1 {
			t.Errorf("%s: %+v", rs.Code, rs)
		}
	}
}

func TestCompositeStaysInRange(t *testing.T) {
	// Weights whose sums are inexact: a region at 100 everywhere is exactly
	// 100 (green), not 99.99999999999999.
	weights := []float64{0.2, 0.15, 0.15, 0.1, 0.15, 0.1, 0.1, 0.05}
	var in Input
	in.Regions = regions("a", "b")
	for i, w := range weights {
		in.Indicators = append(in.Indicators, plain(string(rune('p'+i)), w))
		in.Values = append(in.Values, [][]Value{ser(1, 1), ser(1, 2)})
	}
	res := mustScore(t, in)
	if a := res.Regions[0]; a.Score != 100 || a.Band != Green {
		t.Errorf("a %v %v", a.Score, a.Band)
	}
}

func TestBands(t *testing.T) {
	for _, tc := range []struct {
		score float64
		band  Band
		label string
	}{
		{100, Green, "平安"}, {90, Green, "平安"}, {math.Nextafter(90, 0), Blue, "良好"}, {80, Blue, "良好"},
		{79.99, Yellow, "一般"}, {70, Yellow, "一般"}, {69.999, Red, "较差"}, {0, Red, "较差"},
	} {
		if b := BandOf(tc.score); b != tc.band || b.Label() != tc.label {
			t.Errorf("%v: %s %s", tc.score, b, b.Label())
		}
	}
}

func TestChanges(t *testing.T) {
	prev := Result{Regions: []RegionScore{
		{Code: "a", Scored: true, Score: 80, Rank: 1}, {Code: "b", Scored: true, Score: 70, Rank: 2}, {Code: "c"},
	}}
	cur := Result{Regions: []RegionScore{
		{Code: "b", Scored: true, Score: 90.5, Rank: 1}, {Code: "a", Scored: true, Score: 60, Rank: 2},
		{Code: "c", Scored: true, Score: 50, Rank: 3}, {Code: "new", Scored: true, Score: 40, Rank: 4},
	}}
	got := cur.ChangesFrom(prev)
	want := []*Change{{Score: 20.5, Rank: 1}, {Score: -20, Rank: -1}, nil, nil}
	check(t, "changes", got, want)
}

func TestDefaultSmoothing(t *testing.T) {
	check(t, "community count", DefaultSmoothing(region.Community, true), EmpiricalBayes)
	check(t, "community rate", DefaultSmoothing(region.Community, false), NoSmoothing)
	check(t, "township count", DefaultSmoothing(region.Township, true), NoSmoothing)
	check(t, "county count", DefaultSmoothing(region.County, true), NoSmoothing)
}

func TestBadInput(t *testing.T) {
	ok := func() Input {
		return Input{Indicators: []Indicator{plain("x", 1)}, Regions: regions("a", "b"),
			Values: [][][]Value{{ser(1, 1), ser(1, 2)}}}
	}
	for _, tc := range []struct {
		want string
		edit func(*Input)
	}{
		{"no indicators", func(in *Input) { in.Indicators, in.Values = nil, nil }},
		{`indicator "x" is listed twice`, func(in *Input) {
			in.Indicators = append(in.Indicators, plain("x", 1))
			in.Values = append(in.Values, nil)
		}},
		{"an indicator has no code", func(in *Input) { in.Indicators[0].Code = "" }},
		{`indicator "x": direction "up" is not negative or positive`, func(in *Input) { in.Indicators[0].Direction = "up" }},
		{`indicator "x": weight NaN`, func(in *Input) { in.Indicators[0].Weight = math.NaN() }},
		{`indicator "x": weight -1`, func(in *Input) { in.Indicators[0].Weight = -1 }},
		{`indicator "x": weight +Inf`, func(in *Input) { in.Indicators[0].Weight = math.Inf(1) }},
		{`indicator "x": smoothing "" is not none or eb`, func(in *Input) { in.Indicators[0].Smoothing = "" }},
		{`indicator "x": smoothing eb needs per_capita`, func(in *Input) { in.Indicators[0].Smoothing = EmpiricalBayes }},
		{`indicator "x": window 0 is below 1`, func(in *Input) { in.Indicators[0].Window = 0 }},
		{`indicator "x": alpha 1.5 is not in [0, 1]`, func(in *Input) { in.Indicators[0].Alpha = 1.5 }},
		{`indicator "x": alpha NaN`, func(in *Input) { in.Indicators[0].Alpha = math.NaN() }},
		{`indicator "x": mapping "" is not linear or step`, func(in *Input) { in.Indicators[0].Mapping = "" }},
		{`indicator "x": step 0 is not a number in (0, 100]`, func(in *Input) { in.Indicators[0].Mapping = StepMapping }},
		{`indicator "x": floor 100 is not a number in [0, 100)`, func(in *Input) { in.Indicators[0].Floor = 100 }},
		{`indicator "x": floor -1 is not a number in [0, 100)`, func(in *Input) { in.Indicators[0].Floor = -1 }},
		{`indicator "x": floor NaN`, func(in *Input) { in.Indicators[0].Floor = math.NaN() }},
		{`indicator "x": tolerance -0.01 is not a finite number ≥ 0`, func(in *Input) { in.Indicators[0].Tolerance = -0.01 }},
		{`indicator "x": tolerance +Inf`, func(in *Input) { in.Indicators[0].Tolerance = math.Inf(1) }},
		{`indicator "x": tolerance NaN`, func(in *Input) { in.Indicators[0].Tolerance = math.NaN() }},
		{"a region has no code", func(in *Input) { in.Regions[1].Code = "" }},
		{`region "a" is listed twice`, func(in *Input) { in.Regions[1].Code = "a" }},
		{`region "b": population -5 is negative`, func(in *Input) { in.Regions[1].Population = -5 }},
		{"values for 0 indicators", func(in *Input) { in.Values = nil }},
		{`indicator "x": series for 1 regions, want one per region (2)`, func(in *Input) { in.Values[0] = in.Values[0][:1] }},
		{`indicator "x", region "b": 3 values, want window+1 = 2`, func(in *Input) { in.Values[0][1] = ser(1, 2, 3) }},
		{`indicator "x", region "b": x[t-1] = NaN is not a number from 0 to 1e15`, func(in *Input) { in.Values[0][1][0] = Known(math.NaN()) }},
		{`indicator "x", region "a": x[t] = +Inf`, func(in *Input) { in.Values[0][0][1] = Known(math.Inf(1)) }},
		{`indicator "x", region "a": x[t] = -Inf`, func(in *Input) { in.Values[0][0][1] = Known(math.Inf(-1)) }},
		{`indicator "x", region "a": x[t] = -1`, func(in *Input) { in.Values[0][0][1] = Known(-1) }},
		{`indicator "x", region "a": x[t] = 2e+15`, func(in *Input) { in.Values[0][0][1] = Known(2e15) }},
	} {
		in := ok()
		tc.edit(&in)
		_, err := Score(in)
		if err == nil || !errors.Is(err, errs.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.want, err)
		}
	}
	// A NaN that is not Valid is just a missing value.
	in := ok()
	in.Values[0][0][0] = Value{X: math.NaN()}
	if _, err := Score(in); err != nil {
		t.Errorf("invalid NaN: %v", err)
	}
}

func TestNoRegions(t *testing.T) {
	res := mustScore(t, Input{Indicators: []Indicator{plain("x", 1)}, Values: [][][]Value{nil}})
	if len(res.Regions) != 0 || res.Indicators[0].Peers != 0 {
		t.Errorf("%+v", res)
	}
}

func TestScoreDoesNotModifyInput(t *testing.T) {
	in := workedExample()
	before := workedExample()
	mustScore(t, in)
	if !reflect.DeepEqual(in, before) {
		t.Error("input changed")
	}
}
