// Package index scores the Ping'an index 平安指数 (SPEC §9.4): for one level
// and one period, each region's indicators are compared with the region's own
// recent past (自比) and with its peers (他比), turned into scores, and
// weighted into one composite with a rank and a band.
//
// The package is the pure kernel shared by the server and the offline
// calculator (`pingan index`): no database, no clock, no I/O. The caller
// gathers the values; Score does the arithmetic and keeps every intermediate
// so that a supervisor can see why a region ranks where it does.
// docs/scoring.md explains the method and every choice made here.
package index

import "pingan/internal/region"

// Defaults of SPEC §9.4.
const (
	// DefaultWindow is W, the number of previous periods of the self-comparison.
	DefaultWindow = 6
	// DefaultAlpha is α, the weight of the self-comparison in an indicator's score.
	DefaultAlpha = 0.5
	// Epsilon keeps the relative change finite when a region's own mean is 0.
	Epsilon = 1e-9
	// PerResidents is the base of rates: cases per 10 000 residents.
	PerResidents = 1e4
	// MaxValue bounds input values, far above any count or rate, so that no
	// intermediate (x·10⁴, the squares of empirical Bayes) can overflow.
	MaxValue = 1e15
	// MaxWeight bounds a weight, for the same reason; weights are relative,
	// and the SPEC's are fractions.
	MaxWeight = 1e6
	// DefaultFloor is F, the base score ("基础分") of the rank-to-score
	// mapping: a region last on a comparison scores F, not 0.
	DefaultFloor = 60
	// DefaultTolerance is τ: a rise against the region's own mean of at most
	// τ (relative) is noise and does not cost it its self rank.
	DefaultTolerance = 0.05
)

// Direction says whether more is worse or better.
type Direction string

// The directions.
const (
	Negative Direction = "negative" // more is worse, e.g. cases
	Positive Direction = "positive" // more is better, e.g. the settlement rate
)

// Smoothing says how the cross-comparison treats small populations.
type Smoothing string

// The smoothings.
const (
	// NoSmoothing ranks peers by their raw rate (or value).
	NoSmoothing Smoothing = "none"
	// EmpiricalBayes ranks peers by Marshall's global empirical-Bayes rate,
	// which pulls the rates of small populations toward the city's.
	EmpiricalBayes Smoothing = "eb"
)

// DefaultSmoothing is the smoothing of SPEC §9.4 when none is set:
// empirical Bayes at community level, where populations are small, and none
// above. It applies to rates only, so it is none for an indicator that is
// not per capita at any level.
func DefaultSmoothing(level region.Level, perCapita bool) Smoothing {
	if level == region.Community && perCapita {
		return EmpiricalBayes
	}
	return NoSmoothing
}

// Mapping says how a rank becomes a score.
type Mapping string

// The mappings.
const (
	// LinearMapping: S = F + (100−F)·(n−r)/(n−1), and 100 when n = 1.
	LinearMapping Mapping = "linear"
	// StepMapping: S = max(F, 100 − (r−1)·Step).
	StepMapping Mapping = "step"
)

// Indicator is how one indicator is scored. Score uses the settings as
// given and applies no defaults: a zero Alpha means α = 0. Callers start
// from the constants above and DefaultSmoothing.
type Indicator struct {
	Code      string
	Direction Direction
	// Weight in the composite, 0 to MaxWeight. Weights need not sum to 1: the
	// composite divides by the sum of the weights of the indicators present.
	Weight float64
	// PerCapita compares peers by x/population × 10⁴ instead of x (the
	// default for counts; the caller decides, the kernel has no notion of
	// count).
	PerCapita bool
	// Smoothing of the cross-comparison; EmpiricalBayes needs PerCapita.
	Smoothing Smoothing
	// Window is W ≥ 1: each series holds W+1 values, x_{t−W} … x_t.
	Window int
	// Alpha is α in [0, 1]: s = α·S_self + (1−α)·S_cross.
	Alpha float64
	// Mapping turns a rank into a score.
	Mapping Mapping
	// Step is the points lost per rank with StepMapping, in (0, 100];
	// unused with LinearMapping.
	Step float64
	// Floor is F in [0, 100), the score of the last rank (linear) and the
	// least score (step); 0 is the plain mapping of rank to 0–100.
	Floor float64
	// Tolerance is τ ≥ 0: the self-comparison ranks by d⁺ = d when d > τ,
	// else 0, so that a relative rise of at most τ ties with no rise.
	Tolerance float64
	// MissingIsZero counts a period with no value as 0 — right for auto
	// counts, where no case recorded means none happened. Without it a
	// missing value is skipped: a missing x_t leaves the region without a
	// value for the indicator, and the mean μ is over the periods that have one.
	MissingIsZero bool
}

// Region is a peer region of the level.
type Region struct {
	Code string
	// Population is the number of residents; 0 means unknown. A per-capita
	// indicator has no value for a region with no population.
	Population int64
}

// Value is a number that may be absent: one period's value of an indicator
// in an input series, or an intermediate that does not always apply in a
// result. The zero Value is absent.
type Value struct {
	X     float64
	Valid bool
}

// Known is the present Value x.
func Known(x float64) Value { return Value{X: x, Valid: true} }

// Input is one level and one period: the indicators, the peer regions and,
// for every indicator and region, the series of values up to the period.
type Input struct {
	Indicators []Indicator
	Regions    []Region
	// Values[i][r] is the series of Indicators[i] for Regions[r]: W+1
	// values x_{t−W} … x_{t−1}, x_t, oldest first, where W is that
	// indicator's Window. A nil series has no value in any period, and a
	// nil Values[i] is a nil series for every region. len(Values) must be
	// len(Indicators), and each non-nil Values[i] must have len(Regions)
	// series. Present values must be finite, from 0 (SPEC §9.3) to
	// MaxValue.
	Values [][][]Value
}
