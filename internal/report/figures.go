package report

import (
	"math"
	"sort"
	"time"

	"pingan/internal/region"
)

// The figures of a summary (SPEC §11.1) and how they are computed from the
// store's raw counts: breakdowns, nearest-rank percentiles, rates and the
// change between two periods. Pure: no database, no clock.

// Figures are a region's figures for the period and the previous one.
type Figures struct {
	Current, Previous Figure
	Change            Change
}

// Child is one child region's figures.
type Child struct {
	Region region.Region
	Figures
}

// Figure is every figure of SPEC §11.1 for one region and period.
type Figure struct {
	Reported  ReportedFigure
	Resolved  ResolvedFigure
	Deadlines DeadlineFigure
	FollowUps FollowUpFigure
	Open      OpenFigure
}

// ReportedFigure counts the cases reported in the period (by report time).
type ReportedFigure struct {
	Total, Incidents, Disputes int
	ByCategory                 []Count // Key: category code, Name: its Chinese name
	ByStatus                   []Count // Key: the current status
	ByLevel                    []Count // disputes only; Key: the current handling level
}

// Count is a number of cases of a kind with one value of a breakdown.
type Count struct {
	Kind, Key, Name string
	Count           int
}

// ResolvedFigure is about the resolutions in the period (by the time of
// resolution): how many, how long from report to the case's first
// acceptance and to resolution (in days, median and 90th percentile, over
// whole hours), 就地化解率 (disputes settled at community level ÷ all
// disputes settled) and the settled levels of disputes.
type ResolvedFigure struct {
	Count, Incidents, Disputes int
	DaysToAccept               Quantiles
	DaysToResolve              Quantiles
	CommunityResolutionRate    *float64 // nil when no dispute was settled
	ByLevel                    []Count  // disputes; Key: the settled level
}

// Quantiles are the median and 90th percentile in days (nearest rank over
// whole hours, in days to two decimals); nil when there is no value.
type Quantiles struct{ Median, P90 *float64 }

// DeadlineFigure is about the deadlines due in the period (SPEC §8.3): met
// on time, breached (met late, given up late or still running past due
// now), and the on-time rate met ÷ (met + breached), nil when both are 0.
type DeadlineFigure struct {
	Due, Met, Breached int
	OnTimeRate         *float64
}

// FollowUpFigure is about the follow-ups (回访) recorded in the period.
type FollowUpFigure struct {
	Count            int
	MeanSatisfaction *float64 // 1–5; nil when none gave one
}

// OpenFigure counts the cases open at AsOf (the end of the period, or now
// while it runs) and those of them past a deadline then.
type OpenFigure struct {
	AsOf           time.Time
	Count, Overdue int
}

// Change is the current period's figure minus the previous period's, for
// the headline figures; nil where either is nil.
type Change struct {
	Reported, Incidents, Disputes int
	Resolved                      int
	MedianDaysToAccept            *float64
	MedianDaysToResolve           *float64
	CommunityResolutionRate       *float64
	Met, Breached                 int
	OnTimeRate                    *float64
	FollowUps                     int
	MeanSatisfaction              *float64
	Open, Overdue                 int
}

// figure computes the figures of one region and period from its counts
// (nil: nothing happened there).
func figure(c *Counts, asOf time.Time, names map[string]string) Figure {
	var f Figure
	f.Open.AsOf = asOf
	if c == nil {
		return f
	}
	byCat, byStatus, byLevel := tally{}, tally{}, tally{}
	for _, r := range c.Reported {
		f.Reported.Total += r.N
		if r.Kind == "incident" {
			f.Reported.Incidents += r.N
		} else {
			f.Reported.Disputes += r.N
			byLevel.add(r.Kind, r.Level, r.N)
		}
		byCat.add(r.Kind, r.Category, r.N)
		byStatus.add(r.Kind, r.Status, r.N)
	}
	f.Reported.ByCategory = byCat.counts(func(k Count) string { return names[k.Kind+"/"+k.Key] })
	f.Reported.ByStatus = byStatus.counts(nil)
	f.Reported.ByLevel = byLevel.counts(nil)

	settled, community := 0, 0
	levels := tally{}
	for _, r := range c.Resolutions {
		f.Resolved.Count += r.N
		if r.Kind == "incident" {
			f.Resolved.Incidents += r.N
			continue
		}
		f.Resolved.Disputes += r.N
		settled += r.N
		if r.Level == string(region.Community) {
			community += r.N
		}
		levels.add(r.Kind, r.Level, r.N)
	}
	f.Resolved.ByLevel = levels.counts(nil)
	f.Resolved.CommunityResolutionRate = Rate(community, settled)
	f.Resolved.DaysToResolve = quantiles(c.Resolutions)
	f.Resolved.DaysToAccept = quantiles(c.Acceptances)

	f.Deadlines = DeadlineFigure{Due: c.Deadlines.Due, Met: c.Deadlines.Met, Breached: c.Deadlines.Breached,
		OnTimeRate: Rate(c.Deadlines.Met, c.Deadlines.Met+c.Deadlines.Breached)}
	f.FollowUps.Count = c.FollowUps
	if c.SatisfactionN > 0 {
		f.FollowUps.MeanSatisfaction = round2(float64(c.SatisfactionSum) / float64(c.SatisfactionN))
	}
	f.Open.Count, f.Open.Overdue = c.Open, c.Overdue
	return f
}

// Rate is num ÷ den to four decimals, nil when den is 0: the rates of the
// summary (就地化解率, on-time rate) as the index's rates are fractions.
func Rate(num, den int) *float64 {
	if den == 0 {
		return nil
	}
	v := math.Round(float64(num)/float64(den)*10000) / 10000
	return &v
}

func round2(v float64) *float64 {
	r := math.Round(v*100) / 100
	return &r
}

// quantiles are the median and 90th percentile, by nearest rank (the
// smallest value with at least that share of values at or below it), of
// the hours in hs, in days.
func quantiles(hs []Hours) Quantiles {
	by := map[int]int{}
	n := 0
	for _, h := range hs {
		by[h.Hours] += h.N
		n += h.N
	}
	if n == 0 {
		return Quantiles{}
	}
	keys := make([]int, 0, len(by))
	for k := range by {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	rank := func(p float64) *float64 {
		need := int(math.Ceil(p * float64(n)))
		seen := 0
		for _, k := range keys {
			seen += by[k]
			if seen >= need {
				return round2(float64(k) / 24)
			}
		}
		return round2(float64(keys[len(keys)-1]) / 24)
	}
	return Quantiles{Median: rank(0.5), P90: rank(0.9)}
}

// tally adds up counts by kind and key, for a breakdown in a stable order.
type tally map[[2]string]int

func (t tally) add(kind, key string, n int) { t[[2]string{kind, key}] += n }

func (t tally) counts(name func(Count) string) []Count {
	out := make([]Count, 0, len(t))
	for k, n := range t {
		c := Count{Kind: k[0], Key: k[1], Count: n}
		if name != nil {
			c.Name = name(c)
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Key < out[j].Key
	})
	return out
}

// change is cur − prev for the headline figures.
func change(cur, prev Figure) Change {
	return Change{
		Reported: cur.Reported.Total - prev.Reported.Total, Incidents: cur.Reported.Incidents - prev.Reported.Incidents,
		Disputes: cur.Reported.Disputes - prev.Reported.Disputes, Resolved: cur.Resolved.Count - prev.Resolved.Count,
		MedianDaysToAccept:      diff(cur.Resolved.DaysToAccept.Median, prev.Resolved.DaysToAccept.Median, 100),
		MedianDaysToResolve:     diff(cur.Resolved.DaysToResolve.Median, prev.Resolved.DaysToResolve.Median, 100),
		CommunityResolutionRate: diff(cur.Resolved.CommunityResolutionRate, prev.Resolved.CommunityResolutionRate, 10000),
		Met:                     cur.Deadlines.Met - prev.Deadlines.Met, Breached: cur.Deadlines.Breached - prev.Deadlines.Breached,
		OnTimeRate:       diff(cur.Deadlines.OnTimeRate, prev.Deadlines.OnTimeRate, 10000),
		FollowUps:        cur.FollowUps.Count - prev.FollowUps.Count,
		MeanSatisfaction: diff(cur.FollowUps.MeanSatisfaction, prev.FollowUps.MeanSatisfaction, 100),
		Open:             cur.Open.Count - prev.Open.Count, Overdue: cur.Open.Overdue - prev.Open.Overdue,
	}
}

// diff is a − b rounded to 1/scale, nil when either is nil.
func diff(a, b *float64, scale float64) *float64 {
	if a == nil || b == nil {
		return nil
	}
	v := math.Round((*a-*b)*scale) / scale
	return &v
}
