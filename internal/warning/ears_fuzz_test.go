package warning

import (
	"math"
	"testing"
)

// FuzzEARS evaluates arbitrary series (small counts, some up to 10⁵) with
// arbitrary settings, valid or not, by every method and by Assess, and
// checks what must always hold: no panic, a point per day with history,
// no alarm below min_count, each method's alarm rule, p in [0, 1].
func FuzzEARS(f *testing.F) {
	f.Add([]byte{3, 2, 4, 3, 2, 3, 5, 2, 3, 4, 3, 2, 3, 4, 9, 11, 4, 3, 12, 3}, uint8(0), uint8(7), uint8(0))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 250, 0}, uint8(1), uint8(7), uint8(3))
	f.Add([]byte{255, 254, 255, 253, 255, 255, 255, 255, 255, 255}, uint8(9), uint8(2), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, setting, baseline, minCount uint8) {
		if len(data) > 400 {
			data = data[:400]
		}
		y := make([]float64, len(data))
		for i, b := range data {
			y[i] = float64(b % 50)
			if b >= 250 {
				y[i] = math.Pow(10, float64(b-250)) // 1 … 10⁵
			}
		}
		alphas := []float64{0.001, 0.025, 0.05, 1e-9, 0.3, 0, 0.5}
		for _, m := range []Method{C1, C2, C3, Poisson} {
			p := Params{Method: m, Alpha: alphas[setting%7], MinSigma: float64(setting>>3%3) / 2,
				MinCount: float64(minCount % 6), Baseline: int(baseline % 30)}
			pts := Evaluate(y, p)
			if p.Check() != nil || First(p) >= len(y) {
				if pts != nil {
					t.Fatalf("%+v: %d points", p, len(pts))
				}
				continue
			}
			if len(pts) != len(y)-First(p) {
				t.Fatalf("%+v: %d points for %d days", p, len(pts), len(y))
			}
			for _, pt := range pts {
				checkPoint(t, p, pt)
			}
		}
		c := DefaultConfig()
		c.Primary.MinSigma = float64(setting % 2)
		for day := range y {
			a, ok := Assess(y, day, c)
			if ok != (day >= First(c.C3)) || a.Alarm != (len(a.Methods) > 0) || a.Alarm != (a.Severity != "") {
				t.Fatalf("day %d: ok %v %+v", day, ok, a)
			}
		}
	})
}

func checkPoint(t *testing.T, p Params, pt Point) {
	t.Helper()
	if pt.Alarm && pt.Y < p.MinCount {
		t.Fatalf("%+v: alarm below min_count: %s", p, show(pt))
	}
	if math.IsNaN(pt.Mean) || math.IsNaN(pt.SD) || pt.SD < 0 || (pt.Statistic != nil && math.IsNaN(*pt.Statistic)) {
		t.Fatalf("%+v: %s", p, show(pt))
	}
	switch p.Method {
	case C1, C2:
		if pt.Upper == nil || pt.P != nil || pt.Alarm != (pt.Y > *pt.Upper && pt.Y >= p.MinCount) ||
			(pt.Statistic == nil) != (pt.SD == 0) {
			t.Fatalf("%+v: %s", p, show(pt))
		}
	case C3:
		if pt.Upper != nil || pt.P != nil || (pt.Statistic != nil && (*pt.Statistic < 0 ||
			pt.Alarm != (*pt.Statistic >= z(p.Alpha) && pt.Y >= p.MinCount))) {
			t.Fatalf("%+v: %s", p, show(pt))
		}
	case Poisson:
		if pt.P == nil || *pt.P < 0 || *pt.P > 1 || pt.Upper == nil || *pt.Upper < 0 ||
			pt.Alarm != (*pt.P < p.Alpha && pt.Y >= p.MinCount) {
			t.Fatalf("%+v: %s", p, show(pt))
		}
		// The bound: P(Y > upper) ≤ α < P(Y > upper − 1).
		if u := *pt.Upper; pt.Mean > 0 && pt.Mean < 1e15 &&
			(PoissonTail(u+1, pt.Mean) > p.Alpha || (u > 0 && PoissonTail(u, pt.Mean) <= p.Alpha)) {
			t.Fatalf("%+v: upper %v for μ %v", p, u, pt.Mean)
		}
	}
}
