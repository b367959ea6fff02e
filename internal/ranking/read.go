package ranking

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"pingan/internal/access"
	"pingan/internal/errs"
	"pingan/internal/index"
	"pingan/internal/indicator"
	"pingan/internal/region"
)

// Ranking is the stored index of a level and period as a reader sees it.
type Ranking struct {
	// ComputedAt is when the period was last computed; the zero time when it
	// has not been (Items is then empty, and Job says whether it is coming).
	ComputedAt time.Time
	// Job is the period's pending or running job, if any: the first
	// computation on its way, or a recomputation after late data.
	Job   *Job
	Items []Item
}

// Item is one region in a rankings list, with its Detail.
type Item struct {
	Row
	Region       region.Region
	RankInParent int
	// Previous is the region's result of the period before, if any.
	Previous *Row
	// Indicators holds one entry per Detail.Score.Indicators, in its order.
	Indicators []ItemIndicator
}

// ItemIndicator is what a reader sees of an indicator beside its
// intermediates: its name and how its score moved.
type ItemIndicator struct {
	Code string
	// NameZH is the indicator's name now; "" if it no longer exists.
	NameZH string
	// Change is the indicator's score s now minus its score in the previous
	// period; absent when either period has no value for it.
	Change index.Value
}

// Rankings lists the stored results of a level and period in p's subtree
// (or parent's, which must lie in it: otherwise errs.ErrForbidden), by
// rank, with each region's rank among the regions of its parent, each
// indicator's name and change, when the period was computed and its
// pending job. Returns errs.FieldErrors for a bad period or level.
func (s *Service) Rankings(ctx context.Context, p access.Principal, level region.Level, period, parent string) (Ranking, error) {
	if !p.Is(access.Mediator, access.Supervisor, access.Admin) {
		return Ranking{}, fmt.Errorf("the index is read by mediators, supervisors and admins: %w", errs.ErrForbidden)
	}
	kind, _, err := indicator.ParsePeriodBy(period, s.loc, s.now())
	if err != nil {
		return Ranking{}, errs.Invalid("at", err.Error())
	}
	if !slices.Contains(Levels, level) {
		return Ranking{}, errs.Invalid("level", "county, township or community")
	}
	scope, err := access.ListScopeOf(ctx, s.regions, p, "parent", parent)
	if err != nil {
		return Ranking{}, err
	}
	var out Ranking
	switch j, err := s.store.FindActiveJob(ctx, kind, period); {
	case err == nil:
		out.Job = &j
	case !errors.Is(err, errs.ErrNotFound):
		return Ranking{}, err
	}
	// Only the details of the regions shown are read.
	shown := map[string]region.Region{}
	show := func(code string) bool {
		reg, err := s.regions.FindRegionByCode(ctx, code)
		if err != nil || !scope.Holds(reg.Path) {
			return false
		}
		shown[code] = reg
		return true
	}
	rows, err := s.store.FindResults(ctx, level, kind, period, show)
	if err != nil || len(rows) == 0 {
		return out, err
	}
	prev, err := s.store.FindResults(ctx, level, kind, indicator.Shift(kind, period, -1, s.loc),
		func(code string) bool { _, ok := shown[code]; return ok })
	if err != nil {
		return Ranking{}, err
	}
	inds, err := s.indicators.FindIndicators(ctx)
	if err != nil {
		return Ranking{}, err
	}
	names := make(map[string]string, len(inds))
	for _, i := range inds {
		names[i.Code] = i.NameZH
	}
	before := map[string]Row{}
	for _, r := range prev {
		before[r.RegionCode] = r
	}
	// Ranks within each parent, over every peer (not only those shown).
	byParent := map[string][]Row{}
	for _, r := range rows {
		byParent[r.ParentCode] = append(byParent[r.ParentCode], r)
		if r.ComputedAt.After(out.ComputedAt) {
			out.ComputedAt = r.ComputedAt
		}
	}
	inParent := map[string]int{}
	for _, group := range byParent {
		for _, r := range group {
			if r.Rank == 0 {
				continue
			}
			n := 1
			for _, o := range group {
				if o.Rank != 0 && o.Score > r.Score {
					n++
				}
			}
			inParent[r.RegionCode] = n
		}
	}
	for _, r := range rows {
		reg, ok := shown[r.RegionCode]
		if !ok {
			continue // ranks stay city-wide; the list shows the caller's part
		}
		it := Item{Row: r, Region: reg, RankInParent: inParent[r.RegionCode]}
		var was *Detail
		if b, ok := before[r.RegionCode]; ok {
			it.Previous, was = &b, &b.Detail
		}
		it.Indicators = itemIndicators(r.Detail, was, names)
		out.Items = append(out.Items, it)
	}
	return out, nil
}

// itemIndicators names each indicator of d and gives its change since
// prev (nil: no previous result), matching indicators by code: the
// indicators of two periods need not be the same.
func itemIndicators(d Detail, prev *Detail, names map[string]string) []ItemIndicator {
	out := make([]ItemIndicator, len(d.Score.Indicators))
	before := map[string]index.IndicatorScore{}
	if prev != nil {
		for n, c := range prev.Score.Indicators {
			if n < len(prev.Codes) && c.Present {
				before[prev.Codes[n]] = c
			}
		}
	}
	for n, c := range d.Score.Indicators {
		if n < len(d.Codes) {
			out[n].Code = d.Codes[n]
		}
		out[n].NameZH = names[out[n].Code]
		if b, ok := before[out[n].Code]; ok && c.Present {
			out[n].Change = index.Known(c.Score - b.Score)
		}
	}
	return out
}

// Series lists a region's results of a kind between two periods, for
// mediators, supervisors and admins whose subtree holds it.
func (s *Service) Series(ctx context.Context, p access.Principal, code, kind, from, to string) ([]Row, error) {
	if !p.Is(access.Mediator, access.Supervisor, access.Admin) {
		return nil, fmt.Errorf("the index is read by mediators, supervisors and admins: %w", errs.ErrForbidden)
	}
	bad := errs.FieldErrors{}
	for name, v := range map[string]string{"from": from, "to": to} {
		if k, _, err := indicator.ParsePeriodBy(v, s.loc, s.now()); err != nil {
			bad.Add(name, err.Error())
		} else if k != kind {
			bad.Add(name, "a period of the kind asked for: 2026-10 for months, 2026-10-15 for days")
		}
	}
	if err := bad.Err(); err != nil {
		return nil, err
	}
	if _, err := access.ListScope(ctx, s.regions, p, code); err != nil {
		return nil, err
	}
	return s.store.FindSeries(ctx, code, kind, from, to)
}
