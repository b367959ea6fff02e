package warning

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mathext"
	"gonum.org/v1/gonum/stat/distuv"

	"pingan/internal/errs"
)

// Method is a surge detection method of SPEC §10.1.
type Method string

// The methods: EARS C1 (the 7 days before), C2 (the 7 days before two guard
// days), C3 (C2's excesses over three days) and a Poisson test on C2's
// baseline mean.
const (
	C1      Method = "C1"
	C2      Method = "C2"
	C3      Method = "C3"
	Poisson Method = "poisson"
)

// Params of one method. Alpha is α for C1, C2 and Poisson, α₃ for C3.
type Params struct {
	Method   Method
	Alpha    float64
	MinSigma float64 // S = max(S, MinSigma); not used by Poisson
	MinCount float64 // no alarm unless y_t ≥ MinCount
	Baseline int     // baseline length n in days (7)
}

// Defaults are the server's settings of a method (SPEC §10.1): C1 and C2
// α = 0.001, C3 α₃ = 0.025, Poisson α = 0.001, MinSigma 1 (counts are
// sparse: a flat baseline of 0s must not make one case a surge), MinCount 3,
// Baseline 7.
func Defaults(m Method) Params {
	p := Params{Method: m, Alpha: 0.001, MinSigma: 1, MinCount: 3, Baseline: 7}
	if m == C3 {
		p.Alpha = 0.025
	}
	return p
}

// Check says whether p can be evaluated. Returns an error wrapping
// errs.ErrInvalid that names the bad parameter by its JSON key (method,
// alpha, min_sigma, min_count, baseline) and the form expected.
func (p Params) Check() error {
	switch {
	case p.Method != C1 && p.Method != C2 && p.Method != C3 && p.Method != Poisson:
		return paramErrorf("method %q: want C1, C2, C3 or poisson", p.Method)
	case !(p.Alpha > 0 && p.Alpha < 0.5):
		return paramErrorf("alpha %v: want 0 < alpha < 0.5", p.Alpha)
	case !(p.MinSigma >= 0) || math.IsInf(p.MinSigma, 1):
		return paramErrorf("min_sigma %v: want a number ≥ 0", p.MinSigma)
	case !(p.MinCount >= 0) || math.IsInf(p.MinCount, 1):
		return paramErrorf("min_count %v: want a number ≥ 0", p.MinCount)
	case p.Baseline < 2 || p.Baseline > 365:
		return paramErrorf("baseline %d: want a whole number of days from 2 to 365", p.Baseline)
	}
	return nil
}

// paramError is a bad Params, said in one line that a user of `pingan
// detect` can act on.
type paramError struct{ msg string }

func (e *paramError) Error() string { return e.msg }

// Unwrap makes errors.Is(e, errs.ErrInvalid) true.
func (e *paramError) Unwrap() error { return errs.ErrInvalid }

func paramErrorf(format string, args ...any) error {
	return &paramError{msg: fmt.Sprintf(format, args...)}
}

// Point is one day's evaluation by one method. Mean and SD are the
// baseline's Ȳ and S (after MinSigma); for Poisson SD is √μ. Upper is the
// alarm's bound (null for C3), Statistic the method's statistic (null
// where it is infinite or undefined), P the Poisson test's p (null for the
// other methods). The JSON tags are `pingan detect`'s output (SPEC §10.4).
type Point struct {
	T         int      `json:"t"`
	Y         float64  `json:"y"`
	Mean      float64  `json:"mean"`
	SD        float64  `json:"sd"`
	Upper     *float64 `json:"upper"`
	Statistic *float64 `json:"statistic"`
	P         *float64 `json:"p"`
	Alarm     bool     `json:"alarm"`
}

// First is the first day index t of a series with enough history for p's
// method: C1 n, C2 and Poisson n+2, C3 n+4 (C2 on t−2). It is math.MaxInt
// for an unknown method.
func First(p Params) int {
	switch p.Method {
	case C1:
		return p.Baseline
	case C2, Poisson:
		return p.Baseline + 2
	case C3:
		return p.Baseline + 4
	}
	return math.MaxInt
}

// At evaluates day t of y; ok is false when t < First(p), t ≥ len(y) or p
// fails Check.
func At(y []float64, t int, p Params) (pt Point, ok bool) {
	if p.Check() != nil || t < First(p) || t >= len(y) {
		return Point{}, false
	}
	switch p.Method {
	case C1:
		pt = ears(y, t, 1, p)
	case C2:
		pt = ears(y, t, 3, p)
	case C3:
		pt = c3(y, t, p)
	case Poisson:
		pt = poisson(y, t, p)
	}
	return pt, true
}

// Evaluate evaluates every day of y with enough history, in order; nil if
// p fails Check.
func Evaluate(y []float64, p Params) []Point {
	if p.Check() != nil || First(p) >= len(y) {
		return nil
	}
	pts := make([]Point, 0, len(y)-First(p))
	for t := First(p); t < len(y); t++ {
		pt, _ := At(y, t, p)
		pts = append(pts, pt)
	}
	return pts
}

// baseline is the sample mean and standard deviation (n − 1) of the n days
// ending lag days before t.
func baseline(y []float64, t, lag, n int) (mean, sd float64) {
	b := y[t-lag-n+1 : t-lag+1]
	for _, v := range b {
		mean += v
	}
	mean /= float64(n)
	var ss float64
	for _, v := range b {
		ss += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(ss / float64(n-1))
}

// z is Φ⁻¹(1 − α), computed as −Φ⁻¹(α) so that a small α loses nothing to
// the rounding of 1 − α.
func z(alpha float64) float64 { return -distuv.UnitNormal.Quantile(alpha) }

// ears is C1 (lag 1) or C2 (lag 3). With S = 0 the statistic is infinite:
// null, the bound is Ȳ and the alarm y_t > Ȳ.
func ears(y []float64, t, lag int, p Params) Point {
	mean, sd := baseline(y, t, lag, p.Baseline)
	sd = max(sd, p.MinSigma)
	pt := Point{T: t, Y: y[t], Mean: mean, SD: sd}
	upper := mean
	if sd > 0 {
		upper = mean + z(p.Alpha)*sd
		stat := (y[t] - mean) / sd
		pt.Statistic = &stat
	}
	pt.Upper = &upper
	pt.Alarm = y[t] > upper && y[t] >= p.MinCount
	return pt
}

// c3 sums max(0, C2_i − 1) over t−2 … t. A term with S = 0 and y_i above
// the mean is infinite, and so is the sum: statistic null, alarm.
func c3(y []float64, t int, p Params) Point {
	var sum float64
	var pt Point
	for i := t - 2; i <= t; i++ {
		c2 := ears(y, i, 3, p)
		switch {
		case c2.Statistic != nil:
			sum += max(0, *c2.Statistic-1)
		case c2.Y > c2.Mean:
			sum = math.Inf(1)
		}
		pt = c2
	}
	pt.Upper, pt.Statistic = nil, nil
	if !math.IsInf(sum, 1) {
		pt.Statistic = &sum
	}
	pt.Alarm = sum >= z(p.Alpha) && y[t] >= p.MinCount
	return pt
}

// poisson tests y_t against Poisson(μ), μ the C2 baseline mean.
func poisson(y []float64, t int, p Params) Point {
	mu, _ := baseline(y, t, 3, p.Baseline)
	pv := PoissonTail(y[t], mu)
	upper := float64(PoissonUpper(mu, p.Alpha))
	pt := Point{T: t, Y: y[t], Mean: mu, SD: math.Sqrt(mu), Upper: &upper, P: &pv}
	if mu > 0 {
		stat := (y[t] - mu) / math.Sqrt(mu)
		pt.Statistic = &stat
	}
	pt.Alarm = pv < p.Alpha && y[t] >= p.MinCount
	return pt
}

// PoissonTail is P(Y ≥ y | Poisson(mu)): 1 for y ≤ 0, 0 for mu = 0 and
// y > 0; a fractional y counts as the next whole number. It is the
// regularized lower incomplete gamma P(⌈y⌉, mu), computed directly so that
// a p of 10⁻⁷ keeps its digits (1 − CDF would not). Against direct
// summation its relative error stays below 10⁻⁹ for mu up to 3·10⁵; at 10⁶,
// past 4.5 standard deviations, gonum's series is cut short and p keeps
// only about 5 digits.
func PoissonTail(y, mu float64) float64 {
	switch {
	case y <= 0:
		return 1
	case mu <= 0:
		return 0
	}
	return mathext.GammaIncReg(math.Ceil(y), mu)
}

// PoissonUpper is the smallest k with P(Y ≤ k) ≥ 1 − alpha, Y ~
// Poisson(mu): the upper bound of SPEC §10.1. It is 0 for mu ≤ 0 (or NaN)
// and alpha ≥ 1, math.MaxInt for an infinite mu or alpha ≤ 0 (or NaN).
func PoissonUpper(mu, alpha float64) int {
	switch {
	case !(mu > 0) || alpha >= 1:
		return 0
	case math.IsInf(mu, 1) || !(alpha > 0):
		return math.MaxInt
	}
	// P(Y ≤ k) ≥ 1 − alpha is P(Y ≥ k+1) ≤ alpha, which keeps its digits.
	return smallest(mu, z(alpha), func(k int) bool { return PoissonTail(float64(k+1), mu) <= alpha })
}

// PoissonLower is the smallest k with P(Y ≤ k) ≥ alpha, Y ~ Poisson(mu).
// It is 0 for mu ≤ 0 (or NaN) and alpha ≤ 0 (or NaN), math.MaxInt for an
// infinite mu or alpha ≥ 1.
func PoissonLower(mu, alpha float64) int {
	switch {
	case !(mu > 0) || !(alpha > 0):
		return 0
	case math.IsInf(mu, 1) || alpha >= 1:
		return math.MaxInt
	}
	// P(Y ≤ k) is the regularized upper incomplete gamma Q(k+1, mu).
	return smallest(mu, distuv.UnitNormal.Quantile(alpha), func(k int) bool {
		return mathext.GammaIncRegComp(float64(k+1), mu) >= alpha
	})
}

// smallest is the smallest k ≥ 0 for which the monotone ok holds. The
// search starts at the Cornish–Fisher approximation mu + q·√mu + (q² − 1)/6
// of the quantile (q the normal quantile), which is a step or two off,
// then gallops and bisects, so a poor start costs a few dozen calls of ok,
// not thousands. Past μ = 10¹⁵ the approximation is the answer: k is no
// longer exact in a float64.
func smallest(mu, q float64, ok func(int) bool) int {
	guess := math.Max(0, math.Floor(mu+q*math.Sqrt(mu)+(q*q-1)/6))
	if mu > 1e15 {
		return int(min(guess, 1e18))
	}
	// Bracket the answer: ok(lo) is false (or lo is −1), ok(hi) is true.
	lo, hi := int(guess)-1, int(guess)
	if ok(hi) {
		for step := 2; lo >= 0 && ok(lo); step *= 2 {
			lo, hi = max(lo-step, -1), lo
		}
	} else {
		for step := 2; !ok(hi); step *= 2 {
			lo, hi = hi, hi+step
		}
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if ok(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// Config is the server's combination of methods (SPEC §10.1).
type Config struct {
	Primary Params // C2 by default (C1 allowed)
	C3      Params
	Poisson Params
	RedP    float64 // a Poisson p below this is red (10⁻⁶)
	RedRun  int     // alarmed on this many days running is red (3)
}

// DefaultConfig is the server's: C2, C3 and Poisson at their Defaults, red
// at p < 10⁻⁶ or on the third day running.
func DefaultConfig() Config {
	return Config{Primary: Defaults(C2), C3: Defaults(C3), Poisson: Defaults(Poisson), RedP: 1e-6, RedRun: 3}
}

// Assessment of day t of a series by every method of a Config.
type Assessment struct {
	Alarm    bool
	Methods  []Method // the methods alarming at t, in the order Primary, Poisson, C3
	Primary  Point
	Poisson  Point
	C3       Point
	Severity Severity // "" without alarm; yellow one method; orange Primary and Poisson both, or C3; red when the
	// series alarmed on RedRun days running ending at t, or Poisson alarmed with p < RedP
}

// Assess evaluates day t with every method of c; ok is false when t lacks
// the history of any of them (First of C3 with the defaults), t ≥ len(y),
// or a method's Params fail Check.
func Assess(y []float64, t int, c Config) (a Assessment, ok bool) {
	if a, ok = c.points(y, t); !ok || !a.Alarm {
		return a, ok
	}
	for _, m := range []struct {
		pt     Point
		method Method
	}{{a.Primary, c.Primary.Method}, {a.Poisson, c.Poisson.Method}, {a.C3, c.C3.Method}} {
		if m.pt.Alarm {
			a.Methods = append(a.Methods, m.method)
		}
	}
	run := 1
	for d := t - 1; d > t-c.RedRun; d-- {
		if prev, ok := c.points(y, d); !ok || !prev.Alarm {
			break
		}
		run++
	}
	switch {
	case run >= c.RedRun || (a.Poisson.Alarm && a.Poisson.P != nil && *a.Poisson.P < c.RedP):
		a.Severity = Red
	case a.C3.Alarm || (a.Primary.Alarm && a.Poisson.Alarm):
		a.Severity = Orange
	default:
		a.Severity = Yellow
	}
	return a, true
}

// points is Assess without Methods and Severity: each method's point and
// whether any alarms.
func (c Config) points(y []float64, t int) (a Assessment, ok bool) {
	var ok1, ok2, ok3 bool
	a.Primary, ok1 = At(y, t, c.Primary)
	a.Poisson, ok2 = At(y, t, c.Poisson)
	a.C3, ok3 = At(y, t, c.C3)
	if !ok1 || !ok2 || !ok3 {
		return Assessment{}, false
	}
	a.Alarm = a.Primary.Alarm || a.Poisson.Alarm || a.C3.Alarm
	return a, true
}
