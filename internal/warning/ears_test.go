package warning

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"pingan/internal/errs"
)

// example is the township of SPEC §10.1: day 0 first, the surge on day 14.
var example = []float64{3, 2, 4, 3, 2, 3, 5, 2, 3, 4, 3, 2, 3, 4, 9, 11, 4, 3, 12, 3}

// want is one day's expected figures; NaN stands for null.
type want struct {
	t                        int
	mean, sd, upper, stat, p float64
	alarm                    bool
}

var null = math.NaN()

// exampleWant are the figures of every day of the example (min_sigma 0,
// α = 0.001, α₃ = 0.025), computed independently at 40 digits (mpmath).
var exampleWant = map[Method][]want{
	C1: {
		{7, 3.142857142857143, 1.069044967649698, 6.446454438634363, -1.069044967649698, null, false},
		{8, 3, 1.154700538379252, 6.56829290764893, 0, null, false},
		{9, 3.142857142857143, 1.069044967649698, 6.446454438634363, 0.8017837257372732, null, false},
		{10, 3.142857142857143, 1.069044967649698, 6.446454438634363, -0.1336306209562122, null, false},
		{11, 3.142857142857143, 1.069044967649698, 6.446454438634363, -1.069044967649698, null, false},
		{12, 3.142857142857143, 1.069044967649698, 6.446454438634363, -0.1336306209562122, null, false},
		{13, 3.142857142857143, 1.069044967649698, 6.446454438634363, 0.8017837257372732, null, false},
		{14, 3, 0.816496580927726, 5.523164112258422, 7.348469228349534, null, true},
		{15, 4, 2.309401076758503, 11.13658581529786, 3.031088913245535, null, false},
		{16, 5.142857142857143, 3.436498771936898, 15.76243666800256, -0.332564397284216, null, false},
		{17, 5.142857142857143, 3.436498771936898, 15.76243666800256, -0.6235582449079049, null, false},
		{18, 5.142857142857143, 3.436498771936898, 15.76243666800256, 1.995386383705296, null, false},
		{19, 6.571428571428571, 3.952094080237415, 18.7843173751928, -0.9036800488347748, null, false},
	},
	C2: {
		{9, 3.142857142857143, 1.069044967649698, 6.446454438634363, 0.8017837257372732, null, false},
		{10, 3, 1.154700538379252, 6.56829290764893, 0, null, false},
		{11, 3.142857142857143, 1.069044967649698, 6.446454438634363, -1.069044967649698, null, false},
		{12, 3.142857142857143, 1.069044967649698, 6.446454438634363, -0.1336306209562122, null, false},
		{13, 3.142857142857143, 1.069044967649698, 6.446454438634363, 0.8017837257372732, null, false},
		{14, 3.142857142857143, 1.069044967649698, 6.446454438634363, 5.4788554592047, null, true},
		{15, 3.142857142857143, 1.069044967649698, 6.446454438634363, 7.349684152591671, null, true},
		{16, 3, 0.816496580927726, 5.523164112258422, 1.224744871391589, null, false},
		{17, 4, 2.309401076758503, 11.13658581529786, -0.4330127018922193, null, false},
		{18, 5.142857142857143, 3.436498771936898, 15.76243666800256, 1.995386383705296, null, false},
		{19, 5.142857142857143, 3.436498771936898, 15.76243666800256, -0.6235582449079049, null, false},
	},
	// C3: mean and sd are the C2 baseline's at t; no upper bound.
	C3: {
		{11, 3.142857142857143, 1.069044967649698, null, 0, null, false},
		{12, 3.142857142857143, 1.069044967649698, null, 0, null, false},
		{13, 3.142857142857143, 1.069044967649698, null, 0, null, false},
		{14, 3.142857142857143, 1.069044967649698, null, 4.4788554592047, null, true},
		{15, 3.142857142857143, 1.069044967649698, null, 10.82853961179637, null, true},
		{16, 3, 0.816496580927726, null, 11.05328448318796, null, true},
		{17, 4, 2.309401076758503, null, 6.57442902398326, null, true},
		{18, 5.142857142857143, 3.436498771936898, null, 1.220131255096885, null, false},
		{19, 5.142857142857143, 3.436498771936898, null, 0.9953863837052957, null, false},
	},
	// Poisson: sd √μ, statistic (y − μ)/√μ, upper the 1 − α quantile.
	Poisson: {
		{9, 3.142857142857143, 1.772810520855837, 10, 0.4834937784152282, 0.3847386709851816, false},
		{10, 3, 1.732050807568877, 10, 0, 0.5768099188731565, false},
		{11, 3.142857142857143, 1.772810520855837, 10, -0.6446583712203042, 0.8211971473454107, false},
		{12, 3.142857142857143, 1.772810520855837, 10, -0.08058229640253803, 0.6080430077276244, false},
		{13, 3.142857142857143, 1.772810520855837, 10, 0.4834937784152282, 0.3847386709851816, false},
		{14, 3.142857142857143, 1.772810520855837, 10, 3.303874152504059, 0.005105671199046651, false},
		{15, 3.142857142857143, 1.772810520855837, 10, 4.432026302139592, 0.0004291489253957617, true},
		{16, 3, 1.732050807568877, 10, 0.5773502691896258, 0.3527681112177687, false},
		{17, 4, 2, 11, -0.5, 0.7618966944464557, false},
		{18, 5.142857142857143, 2.267786838055363, 13, 3.023715784073818, 0.006735519345925745, false},
		{19, 5.142857142857143, 2.267786838055363, 13, -0.9449111825230681, 0.8868757653328104, false},
	},
}

// exampleParams are the example's settings of m: min_sigma 0, α = 0.001
// (α₃ 0.025 for C3), no min_count.
func exampleParams(m Method) Params {
	p := Defaults(m)
	p.MinSigma, p.MinCount = 0, 0
	return p
}

// near says whether a nullable figure is want (NaN: null) within tol.
func near(got *float64, want, tol float64) bool {
	if math.IsNaN(want) {
		return got == nil
	}
	return got != nil && math.Abs(*got-want) <= tol
}

func ptr(x float64) *float64 { return &x }

func TestEARSWorkedExample(t *testing.T) {
	for _, m := range []Method{C1, C2, C3, Poisson} {
		t.Run(string(m), func(t *testing.T) {
			pts := Evaluate(example, exampleParams(m))
			ws := exampleWant[m]
			if len(pts) != len(ws) {
				t.Fatalf("%d points, want %d", len(pts), len(ws))
			}
			for i, w := range ws {
				pt := pts[i]
				if pt.T != w.t || pt.Y != example[w.t] || pt.Alarm != w.alarm ||
					!near(&pt.Mean, w.mean, 1e-6) || !near(&pt.SD, w.sd, 1e-6) || !near(pt.Upper, w.upper, 1e-6) ||
					!near(pt.Statistic, w.stat, 1e-6) || !near(pt.P, w.p, 1e-9) {
					t.Errorf("day %d: got %s\nwant %+v", w.t, show(pt), w)
				}
			}
		})
	}
}

// TestEARSSpecFigures asserts the figures of SPEC §10.1 at the precision
// the SPEC prints them.
func TestEARSSpecFigures(t *testing.T) {
	at := func(m Method, day int) Point {
		pt, ok := At(example, day, exampleParams(m))
		if !ok {
			t.Fatalf("%s day %d: no point", m, day)
		}
		return pt
	}
	for _, tc := range []struct {
		what      string
		got       *float64
		want, tol float64
	}{
		{"day 14 C1 upper", at(C1, 14).Upper, 5.5232, 5e-5},
		{"day 14 C1 statistic", at(C1, 14).Statistic, 7.3485, 5e-5},
		{"day 14 C2 statistic", at(C2, 14).Statistic, 5.4789, 5e-5},
		{"day 14 C3", at(C3, 14).Statistic, 4.4789, 5e-5},
		{"day 14 Poisson μ", ptr(at(Poisson, 14).Mean), 3.142857, 5e-7},
		{"day 14 Poisson p", at(Poisson, 14).P, 0.0051057, 5e-8},
		{"day 15 C2 statistic", at(C2, 15).Statistic, 7.3497, 5e-5},
		{"day 15 Poisson p", at(Poisson, 15).P, 0.000429149, 5e-10},
		{"z(0.001)", ptr(z(0.001)), 3.0902, 5e-5},
		{"z(0.025)", ptr(z(0.025)), 1.9600, 5e-5},
	} {
		if !near(tc.got, tc.want, tc.tol) {
			t.Errorf("%s: got %v, want %v", tc.what, deref(tc.got), tc.want)
		}
	}
	for _, tc := range []struct {
		m     Method
		day   int
		alarm bool
	}{{C1, 14, true}, {C2, 14, true}, {C3, 14, true}, {Poisson, 14, false},
		{C1, 15, false}, {C2, 15, true}, {Poisson, 15, true}} {
		if got := at(tc.m, tc.day).Alarm; got != tc.alarm {
			t.Errorf("%s day %d: alarm %v, want %v", tc.m, tc.day, got, tc.alarm)
		}
	}
}

func TestPoissonReference(t *testing.T) {
	if got := PoissonLower(5, 0.05); got != 2 {
		t.Errorf("PoissonLower(5, 0.05) = %d, want 2", got)
	}
	if got := PoissonUpper(5, 0.05); got != 9 {
		t.Errorf("PoissonUpper(5, 0.05) = %d, want 9", got)
	}
	// Tails, to 10⁻⁹ relative: small p keep their digits.
	for _, tc := range []struct{ y, mu, want float64 }{
		{11, 5, 0.013695268598382938},
		{6, 1, 0.000594184817581693},
		{15, 1, 3.0000106665252021e-13},
		{20, 2, 6.4437313931120939e-14},
		{50, 10, 1.8547268838697993e-19},
		{1, 0.001, 0.00099950016662500833},
		{1000, 900, 0.00054990226571178292},
		{12, 36.0 / 7, 0.0067355193459257451},
		{11.5, 5, 0.0054530919130093593}, // ⌈11.5⌉ = 12: P(Y ≥ 12)
		{0, 5, 1}, {-3, 5, 1}, {0, 0, 1},
		{1, 0, 0}, {7, 0, 0},
	} {
		got := PoissonTail(tc.y, tc.mu)
		if math.Abs(got-tc.want) > 1e-9*tc.want {
			t.Errorf("PoissonTail(%v, %v) = %v, want %v", tc.y, tc.mu, got, tc.want)
		}
	}
	// The SPEC's figure, at its precision.
	if got := PoissonTail(11, 5); math.Abs(got-0.01369527) > 5e-9 {
		t.Errorf("PoissonTail(11, 5) = %v, want 0.01369527", got)
	}
	if PoissonUpper(0, 0.001) != 0 || PoissonLower(0, 0.05) != 0 {
		t.Error("bounds at μ = 0 are not 0")
	}
}

// TestPoissonBoundsBruteForce checks PoissonUpper and PoissonLower against
// sums of the probability mass, over a grid of μ and α.
func TestPoissonBoundsBruteForce(t *testing.T) {
	for _, mu := range []float64{0.01, 0.3, 1, 2.5, 3.142857142857143, 5, 9.9, 20, 57, 150, 400, 2500} {
		for _, alpha := range []float64{1e-6, 0.001, 0.01, 0.025, 0.05, 0.2, 0.49} {
			cdf, upper, lower := 0.0, -1, -1
			for k := 0; upper < 0; k++ {
				cdf += math.Exp(float64(k)*math.Log(mu) - mu - lgamma(k+1))
				if lower < 0 && cdf >= alpha {
					lower = k
				}
				if cdf >= 1-alpha {
					upper = k
				}
			}
			if got := PoissonUpper(mu, alpha); got != upper {
				t.Errorf("PoissonUpper(%v, %v) = %d, want %d", mu, alpha, got, upper)
			}
			if got := PoissonLower(mu, alpha); got != lower {
				t.Errorf("PoissonLower(%v, %v) = %d, want %d", mu, alpha, got, lower)
			}
		}
	}
}

func lgamma(k int) float64 {
	v, _ := math.Lgamma(float64(k))
	return v
}

// TestEARSFlatBaseline: with min_sigma 0 a flat baseline has S = 0, the
// statistic is null, the bound is the mean and the alarm is y > mean; C3
// with such a term is infinite.
func TestEARSFlatBaseline(t *testing.T) {
	flat := func(last ...float64) []float64 {
		return append([]float64{3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3}, last...)
	}
	for _, tc := range []struct {
		m     Method
		y     []float64
		t     int
		stat  float64 // NaN: null
		alarm bool
	}{
		{C1, flat(3), 11, null, false},
		{C1, flat(4), 11, null, true},
		{C1, flat(2), 11, null, false},
		{C2, flat(3), 11, null, false},
		{C2, flat(4), 11, null, true},
		// The C2 baseline of day 13 is days 4…10, still flat.
		{C2, flat(9, 9, 4), 13, null, true},
		// C3 on day 15 sums C2 on days 13…15; 13's is infinite.
		{C3, flat(3, 3, 9, 3, 3), 15, null, true},
		// At or below the mean the infinite term is 0.
		{C3, flat(3, 3, 3, 3, 3), 15, 0, false},
		{C3, flat(3, 3, 2, 2, 3), 15, 0, false},
	} {
		p := exampleParams(tc.m)
		pt, ok := At(tc.y, tc.t, p)
		if !ok || !near(pt.Statistic, tc.stat, 0) || pt.Alarm != tc.alarm || pt.Mean != 3 || pt.SD != 0 {
			t.Errorf("%s %v day %d: ok %v %s, want statistic %v alarm %v", tc.m, tc.y, tc.t, ok, show(pt), tc.stat, tc.alarm)
		}
		if want := (tc.m != C3); (pt.Upper != nil) != want || (want && *pt.Upper != 3) {
			t.Errorf("%s %v: upper %v, want the mean 3 (null for C3)", tc.m, tc.y, deref(pt.Upper))
		}
	}
	// min_sigma lifts S and gives a statistic again.
	pt, _ := At(flat(4), 11, Defaults(C2))
	if pt.SD != 1 || !near(pt.Statistic, 1, 1e-12) || !near(pt.Upper, 3+3.090232306167813, 1e-9) || pt.Alarm {
		t.Errorf("min_sigma 1: %s", show(pt))
	}
}

// TestPoissonZeroBaseline: μ = 0 gives p = 0 for any case, a null
// statistic and an upper bound of 0; min_count still decides.
func TestPoissonZeroBaseline(t *testing.T) {
	zeros := make([]float64, 9)
	for _, tc := range []struct {
		y, minCount float64
		p           float64
		alarm       bool
	}{
		{0, 0, 1, false},
		{1, 0, 0, true},
		{1, 3, 0, false},
		{2, 3, 0, false},
		{3, 3, 0, true},
	} {
		p := Defaults(Poisson)
		p.MinCount = tc.minCount
		pt, ok := At(append(zeros, tc.y), 9, p)
		if !ok || pt.Mean != 0 || pt.SD != 0 || pt.Statistic != nil || !near(pt.Upper, 0, 0) || !near(pt.P, tc.p, 0) ||
			pt.Alarm != tc.alarm {
			t.Errorf("y %v min_count %v: %s, want p %v alarm %v", tc.y, tc.minCount, show(pt), tc.p, tc.alarm)
		}
	}
}

// TestEARSMinCount: no method alarms below min_count, whatever its figures.
func TestEARSMinCount(t *testing.T) {
	for _, m := range []Method{C1, C2, C3, Poisson} {
		day := 14
		if m == Poisson {
			day = 15 // y 11
		}
		for _, tc := range []struct {
			minCount float64
			alarm    bool
		}{{0, true}, {example[day], true}, {example[day] + 0.5, false}, {100, false}} {
			p := exampleParams(m)
			p.MinCount = tc.minCount
			pt, _ := At(example, day, p)
			if pt.Alarm != tc.alarm {
				t.Errorf("%s day %d min_count %v: alarm %v, want %v", m, day, tc.minCount, pt.Alarm, tc.alarm)
			}
		}
	}
}

func TestEARSFirstAndBounds(t *testing.T) {
	for _, tc := range []struct {
		m        Method
		baseline int
		first    int
	}{{C1, 7, 7}, {C2, 7, 9}, {C3, 7, 11}, {Poisson, 7, 9}, {C1, 2, 2}, {C2, 14, 16}, {C3, 14, 18}, {Poisson, 28, 30}} {
		p := exampleParams(tc.m)
		p.Baseline = tc.baseline
		if got := First(p); got != tc.first {
			t.Errorf("First(%s, n %d) = %d, want %d", tc.m, tc.baseline, got, tc.first)
		}
		y := make([]float64, tc.first+3)
		for i := range y {
			y[i] = float64(i % 4)
		}
		for _, c := range []struct {
			t  int
			ok bool
		}{{-1, false}, {tc.first - 1, false}, {tc.first, true}, {len(y) - 1, true}, {len(y), false}} {
			pt, ok := At(y, c.t, p)
			if ok != c.ok || (ok && (pt.T != c.t || pt.Y != y[c.t])) {
				t.Errorf("At(%s n %d, t %d): ok %v %s, want ok %v", tc.m, tc.baseline, c.t, ok, show(pt), c.ok)
			}
		}
		pts := Evaluate(y, p)
		if len(pts) != 3 || pts[0].T != tc.first || pts[2].T != len(y)-1 {
			t.Errorf("Evaluate(%s n %d): %d points", tc.m, tc.baseline, len(pts))
		}
		if got := Evaluate(y[:tc.first], p); got != nil {
			t.Errorf("Evaluate of a series without history: %v", got)
		}
	}
	if First(Params{Method: "C4", Baseline: 7}) != math.MaxInt {
		t.Error("First of an unknown method")
	}
	bad := exampleParams(C2)
	bad.Baseline = 1
	if _, ok := At(example, 15, bad); ok || Evaluate(example, bad) != nil {
		t.Error("a bad Params evaluated")
	}
}

func TestEARSCheck(t *testing.T) {
	for _, m := range []Method{C1, C2, C3, Poisson} {
		if err := Defaults(m).Check(); err != nil {
			t.Errorf("Defaults(%s): %v", m, err)
		}
	}
	if d := Defaults(C3); d.Alpha != 0.025 || d.MinSigma != 1 || d.MinCount != 3 || d.Baseline != 7 {
		t.Errorf("Defaults(C3) = %+v", d)
	}
	if d := Defaults(Poisson); d.Alpha != 0.001 || d.Method != Poisson {
		t.Errorf("Defaults(Poisson) = %+v", d)
	}
	for _, tc := range []struct {
		edit func(*Params)
		want string
	}{
		{func(p *Params) { p.Method = "c2" }, `method "c2": want C1, C2, C3 or poisson`},
		{func(p *Params) { p.Method = "" }, `method "": want C1, C2, C3 or poisson`},
		{func(p *Params) { p.Alpha = 0 }, "alpha 0: want 0 < alpha < 0.5"},
		{func(p *Params) { p.Alpha = 0.5 }, "alpha 0.5: want 0 < alpha < 0.5"},
		{func(p *Params) { p.Alpha = math.NaN() }, "alpha NaN: want 0 < alpha < 0.5"},
		{func(p *Params) { p.MinSigma = -1 }, "min_sigma -1: want a number ≥ 0"},
		{func(p *Params) { p.MinSigma = math.Inf(1) }, "min_sigma +Inf: want a number ≥ 0"},
		{func(p *Params) { p.MinCount = -0.5 }, "min_count -0.5: want a number ≥ 0"},
		{func(p *Params) { p.Baseline = 1 }, "baseline 1: want a whole number of days from 2 to 365"},
		{func(p *Params) { p.Baseline = 366 }, "baseline 366: want a whole number of days from 2 to 365"},
	} {
		p := Defaults(C2)
		tc.edit(&p)
		err := p.Check()
		if err == nil || !errors.Is(err, errs.ErrInvalid) || err.Error() != tc.want {
			t.Errorf("Check: %v, want %q", err, tc.want)
		}
	}
}

func TestAssessSeverity(t *testing.T) {
	// Poisson alone: a baseline of mean 1 with a 7 in it keeps C2 (1.89)
	// and C3 (0.89) quiet while P(Y ≥ 6 | 1) = 0.00059.
	lone := []float64{0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 6}
	// P(Y ≥ 15 | 1) = 3·10⁻¹³: red on the first day.
	huge := []float64{0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 15}
	// No C3: Primary and Poisson (α 0.01) both alarm on the example's day 14.
	both := DefaultConfig()
	both.Primary.MinSigma, both.Poisson.Alpha, both.C3.Alpha = 0, 0.01, 1e-12
	// Poisson's p < 10⁻⁶ but Poisson held back by its min_count: not red.
	held := DefaultConfig()
	held.Poisson.MinCount = 100
	for _, tc := range []struct {
		name     string
		y        []float64
		t        int
		c        Config
		methods  string
		severity Severity
	}{
		{"quiet", example, 13, DefaultConfig(), "[]", ""},
		{"poisson alone", lone, 11, DefaultConfig(), "[poisson]", Yellow},
		{"C2 and C3", example, 14, DefaultConfig(), "[C2 C3]", Orange},
		{"C2 and poisson", example, 14, both, "[C2 poisson]", Orange},
		{"second day", example, 15, DefaultConfig(), "[C2 poisson C3]", Orange},
		{"third day running", example, 16, DefaultConfig(), "[C3]", Red},
		{"fourth day running", example, 17, DefaultConfig(), "[C3]", Red},
		{"over", example, 18, DefaultConfig(), "[]", ""},
		{"p below 1e-6", huge, 11, DefaultConfig(), "[C2 poisson C3]", Red},
		{"p below 1e-6, poisson held", huge, 11, held, "[C2 C3]", Orange},
	} {
		a, ok := Assess(tc.y, tc.t, tc.c)
		if !ok || fmt.Sprint(a.Methods) != tc.methods || a.Severity != tc.severity || a.Alarm != (tc.severity != "") {
			t.Errorf("%s: ok %v alarm %v methods %v severity %q, want %s %q", tc.name, ok, a.Alarm, a.Methods, a.Severity,
				tc.methods, tc.severity)
		}
		if ok && (a.Primary.T != tc.t || a.Poisson.P == nil || a.C3.Upper != nil) {
			t.Errorf("%s: points %s %s %s", tc.name, show(a.Primary), show(a.Poisson), show(a.C3))
		}
	}
	// A run of RedRun 2 makes the example's day 15 red.
	c := DefaultConfig()
	c.RedRun = 2
	if a, _ := Assess(example, 15, c); a.Severity != Red {
		t.Errorf("RedRun 2, day 15: %q", a.Severity)
	}
	for _, day := range []int{-1, 10, len(example)} {
		if _, ok := Assess(example, day, DefaultConfig()); ok {
			t.Errorf("Assess day %d: ok", day)
		}
	}
}

func show(pt Point) string {
	return fmt.Sprintf("{t %d y %v mean %v sd %v upper %v statistic %v p %v alarm %v}", pt.T, pt.Y, pt.Mean, pt.SD,
		deref(pt.Upper), deref(pt.Statistic), deref(pt.P), pt.Alarm)
}

func deref(x *float64) any {
	if x == nil {
		return nil
	}
	return *x
}
