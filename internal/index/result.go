package index

import (
	"cmp"
	"slices"
)

// Result is the index of one level and one period.
type Result struct {
	// Regions holds one entry per Input.Regions, in the same order.
	Regions []RegionScore
	// Indicators holds one entry per Input.Indicators, in the same order.
	Indicators []IndicatorSummary
}

// IndicatorSummary is what one indicator's scores share across the peers.
type IndicatorSummary struct {
	Code string
	// Peers is n, the number of regions with a value for the indicator.
	Peers int
	// CityRate is the empirical-Bayes prior mean m, per 10⁴ residents
	// (Σx/Σpop); valid only with EmpiricalBayes.
	CityRate Value
	// PriorVariance is the empirical-Bayes A, in (per 10⁴)²; valid only
	// with EmpiricalBayes.
	PriorVariance Value
}

// RegionScore is one region's composite and its parts.
type RegionScore struct {
	Code string
	// Scored is false when no indicator has a value for the region (or every
	// indicator it has weighs 0): it then has no score, rank or band and is
	// listed after the ranked regions.
	Scored bool
	// Score is the composite Σwᵢsᵢ/Σwᵢ over the indicators present, 0–100;
	// the indicators' Contribution add up to it.
	Score float64
	// Rank among the scored peers by Score, highest first; ties share the
	// lowest rank (1, 1, 1, 4, 5). 0 when not Scored.
	Rank int
	Band Band
	// Complete is true when every indicator has a value for the region;
	// otherwise Missing lists the codes of those that have none, in the
	// order of Input.Indicators.
	Complete bool
	Missing  []string
	// Indicators holds one entry per Input.Indicators, in the same order,
	// present or not; the indicator's code is Result.Indicators[i].Code.
	Indicators []IndicatorScore
}

// IndicatorScore is one indicator of one region with every intermediate of
// SPEC §9.4. It holds no pointer (the code is in Result.Indicators), so
// the garbage collector never scans the 16 000 of a community-level index.
type IndicatorScore struct {
	// Present is false when the region has no value x_t (or, per capita, no
	// population); every other field is then zero.
	Present bool
	// Value is x_t.
	Value float64
	// Rate is q = x_t / population × 10⁴; valid only per capita.
	Rate Value
	// RateSmoothed is the empirical-Bayes rate per 10⁴; valid only with
	// EmpiricalBayes.
	RateSmoothed Value
	// Mu is μ, the mean of the previous W periods; absent when none of them
	// has a value (possible only without MissingIsZero).
	Mu Value
	// D is the relative change against μ, signed so that positive is worse:
	// (x−μ)/max(μ,ε) for negative indicators, (μ−x)/max(μ,ε) for positive
	// ones; 0 when Mu is absent.
	D float64
	// RankSelf ranks d⁺ ascending (D when D > the tolerance τ, else 0);
	// RankCross ranks the rate (the smoothed rate, or the value) from best
	// to worst. Both 1…Peers.
	RankSelf, RankCross int
	// ScoreSelf and ScoreCross are the ranks mapped to Floor–100; Score is
	// α·ScoreSelf + (1−α)·ScoreCross.
	ScoreSelf, ScoreCross, Score float64
	// Weight is the indicator's weight as scored.
	Weight float64
	// Contribution is Weight·Score/Σw, the indicator's share of the
	// region's composite (Σw over the indicators present): the
	// contributions of a region add up to its Score (to rounding). 0 when
	// the region has no composite (RegionScore.Scored is false).
	Contribution float64
}

// Band is the colour class of a composite score (SPEC §9.4 step 6).
type Band string

// The bands, with their closed lower bounds: [90, 100] green, [80, 90) blue,
// [70, 80) yellow, [0, 70) red.
const (
	Green  Band = "green"  // 平安
	Blue   Band = "blue"   // 良好
	Yellow Band = "yellow" // 一般
	Red    Band = "red"    // 较差
)

// BandOf is the band of a composite score. The bounds are compared with the
// unrounded score, so 89.99999 is blue.
func BandOf(score float64) Band {
	switch {
	case score >= 90:
		return Green
	case score >= 80:
		return Blue
	case score >= 70:
		return Yellow
	}
	return Red
}

// Label is the band's Chinese name, or "" for an unknown band.
func (b Band) Label() string {
	switch b {
	case Green:
		return "平安"
	case Blue:
		return "良好"
	case Yellow:
		return "一般"
	case Red:
		return "较差"
	}
	return ""
}

// Ranked returns the regions in the order of a rankings list: by rank, ties
// by code, then the regions without a score by code.
func (r Result) Ranked() []RegionScore {
	out := slices.Clone(r.Regions)
	slices.SortFunc(out, func(a, b RegionScore) int {
		if a.Scored != b.Scored {
			if a.Scored {
				return -1
			}
			return 1
		}
		if c := cmp.Compare(a.Rank, b.Rank); c != 0 {
			return c
		}
		return cmp.Compare(a.Code, b.Code)
	})
	return out
}

// Change is how a region moved since the previous period (SPEC §9.4 step 6).
// Both fields are positive for an improvement.
type Change struct {
	// Score is the current composite minus the previous one.
	Score float64
	// Rank is the previous rank minus the current one: 3 means the region
	// climbed three places.
	Rank int
}

// ChangeFrom is s's change since prev, the same region's score in the
// previous period; ok is false when either has no score.
func (s RegionScore) ChangeFrom(prev RegionScore) (c Change, ok bool) {
	if !s.Scored || !prev.Scored {
		return Change{}, false
	}
	return Change{Score: s.Score - prev.Score, Rank: prev.Rank - s.Rank}, true
}

// ChangesFrom matches r's regions with prev's by code and returns their
// changes, one per r.Regions in the same order; an entry is nil when the
// region is not in prev or either period has no score for it.
func (r Result) ChangesFrom(prev Result) []*Change {
	before := make(map[string]int, len(prev.Regions))
	for i, p := range prev.Regions {
		before[p.Code] = i
	}
	out := make([]*Change, len(r.Regions))
	for i, s := range r.Regions {
		j, found := before[s.Code]
		if !found {
			continue
		}
		if c, ok := s.ChangeFrom(prev.Regions[j]); ok {
			out[i] = &c
		}
	}
	return out
}
