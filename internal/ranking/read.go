package ranking

import (
	"context"
	"fmt"
	"slices"

	"pingan/internal/access"
	"pingan/internal/errs"
	"pingan/internal/indicator"
	"pingan/internal/region"
)

// Item is one region in a rankings list, with its Detail.
type Item struct {
	Row
	Region       region.Region
	RankInParent int
	// Previous is the region's result of the period before, if any.
	Previous *Row
}

// Rankings lists the stored results of a level and period in p's subtree
// (or parent's, which must lie in it: otherwise errs.ErrForbidden), by
// rank, with each region's rank among the regions of its parent.
func (s *Service) Rankings(ctx context.Context, p access.Principal, level region.Level, period, parent string) ([]Item, error) {
	if !p.Is(access.Mediator, access.Supervisor, access.Admin) {
		return nil, fmt.Errorf("the index is read by mediators, supervisors and admins: %w", errs.ErrForbidden)
	}
	kind, _, err := indicator.ParsePeriod(period, s.loc)
	if err != nil {
		return nil, errs.Invalid("at", "a month (2026-10) or a day (2026-10-15)")
	}
	if !slices.Contains(Levels, level) {
		return nil, errs.Invalid("level", "county, township or community")
	}
	scope, err := access.ListScope(ctx, s.regions, p, parent)
	if err != nil {
		return nil, err
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
	if err != nil {
		return nil, err
	}
	prev, err := s.store.FindResults(ctx, level, kind, indicator.Shift(kind, period, -1, s.loc), nil)
	if err != nil {
		return nil, err
	}
	before := map[string]Row{}
	for _, r := range prev {
		before[r.RegionCode] = r
	}
	// Ranks within each parent, over every peer (not only those shown).
	byParent := map[string][]Row{}
	for _, r := range rows {
		byParent[r.ParentCode] = append(byParent[r.ParentCode], r)
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
	var out []Item
	for _, r := range rows {
		reg, ok := shown[r.RegionCode]
		if !ok {
			continue // ranks stay city-wide; the list shows the caller's part
		}
		it := Item{Row: r, Region: reg, RankInParent: inParent[r.RegionCode]}
		if b, ok := before[r.RegionCode]; ok {
			it.Previous = &b
		}
		out = append(out, it)
	}
	return out, nil
}

// Series lists a region's results of a kind between two periods, for
// mediators, supervisors and admins whose subtree holds it.
func (s *Service) Series(ctx context.Context, p access.Principal, code, kind, from, to string) ([]Row, error) {
	if !p.Is(access.Mediator, access.Supervisor, access.Admin) {
		return nil, fmt.Errorf("the index is read by mediators, supervisors and admins: %w", errs.ErrForbidden)
	}
	if _, err := access.ListScope(ctx, s.regions, p, code); err != nil {
		return nil, err
	}
	return s.store.FindSeries(ctx, code, kind, from, to)
}
