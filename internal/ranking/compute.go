package ranking

import (
	"context"
	"fmt"
	"slices"

	"pingan/internal/errs"
	"pingan/internal/index"
	"pingan/internal/indicator"
	"pingan/internal/region"
)

// counts are the methods whose periods without cases count as 0.
func counts(method string) bool { return method == indicator.Count || method == indicator.OverdueCount }

// Compute scores every level for the period ("2026-10" or "2026-10-15")
// and stores the results, replacing earlier ones.
func (s *Service) Compute(ctx context.Context, period string) error {
	kind, _, err := indicator.ParsePeriod(period, s.loc)
	if err != nil {
		return errs.Invalid("period", err.Error())
	}
	all, err := s.indicators.FindIndicators(ctx)
	if err != nil {
		return err
	}
	var inds []indicator.Indicator
	for _, i := range all {
		if i.Active && i.Takes(kind) {
			inds = append(inds, i)
		}
	}
	// The values of past periods as their own computation stored them: a
	// period's window then costs a read of those, not a pass over their cases.
	w := 0
	for _, ind := range inds {
		w = max(w, ind.Window)
	}
	var past []string
	for k := 1; k <= w; k++ {
		past = append(past, indicator.Shift(kind, period, -k, s.loc))
	}
	storedRows, err := s.store.FindStoredValues(ctx, kind, past)
	if err != nil {
		return err
	}
	stored := storedValues{}
	for _, v := range storedRows {
		stored.add(v)
	}
	// values[i][level][code] is the series of indicator i, oldest first.
	values := make([]map[region.Level]map[string][]index.Value, len(inds))
	counted := map[[2]string][]CategoryCount{} // (case kind, period) → counts, shared by the count indicators
	for n, ind := range inds {
		if values[n], err = s.series(ctx, ind, kind, period, counted, stored); err != nil {
			return fmt.Errorf("indicator %s: %w", ind.Code, err)
		}
	}
	var keep []StoredValue
	for n, ind := range inds {
		for level, codes := range values[n] {
			for code, series := range codes {
				if x := series[len(series)-1]; x.Valid {
					keep = append(keep, StoredValue{Period: period, Indicator: ind.Code, Level: level, RegionCode: code, Value: x.X})
				}
			}
		}
	}
	if err := s.store.SaveValues(ctx, kind, period, keep); err != nil {
		return err
	}
	now := s.now()
	for _, level := range Levels {
		regions, err := s.regions.FindRegionsAt(ctx, level)
		if err != nil {
			return err
		}
		in := index.Input{Regions: make([]index.Region, len(regions)), Values: make([][][]index.Value, len(inds))}
		for r, reg := range regions {
			in.Regions[r] = index.Region{Code: reg.Code, Population: reg.Population}
		}
		for n, ind := range inds {
			perCapita := ind.PerCapita
			sm := index.Smoothing(ind.Smoothing)
			if sm == "" {
				sm = index.DefaultSmoothing(level, perCapita)
			}
			if !perCapita {
				sm = index.NoSmoothing
			}
			in.Indicators = append(in.Indicators, index.Indicator{Code: ind.Code, Direction: index.Direction(ind.Direction),
				Weight: ind.Weight, PerCapita: perCapita, Smoothing: sm, Window: ind.Window, Alpha: ind.Alpha,
				Mapping: index.Mapping(ind.Mapping), Step: ind.Step, Floor: ind.Floor, Tolerance: ind.Tolerance,
				MissingIsZero: ind.Source == indicator.Auto && counts(ind.Method)})
			in.Values[n] = make([][]index.Value, len(regions))
			for r, reg := range regions {
				in.Values[n][r] = values[n][level][reg.Code]
			}
		}
		res, err := index.Score(in)
		if err != nil {
			return fmt.Errorf("score %s level: %w", level, err)
		}
		codes := make([]string, len(inds))
		for n, ind := range inds {
			codes[n] = ind.Code
		}
		rows := make([]Row, len(regions))
		for r, reg := range regions {
			rs := res.Regions[r]
			rows[r] = Row{Level: level, PeriodKind: kind, Period: period, RegionCode: reg.Code, ParentCode: reg.ParentCode,
				Score: rs.Score, Rank: rs.Rank, Band: rs.Band, Complete: rs.Complete, Detail: Detail{Codes: codes, Score: rs},
				ComputedAt: now}
		}
		if err := s.store.ReplaceResults(ctx, level, kind, period, rows); err != nil {
			return err
		}
	}
	return nil
}

// series gathers one indicator's values for the W+1 periods up to period,
// per level and region: auto values from the cases, department values
// where there is no auto value (自动抓取优先、部门填报补充).
func (s *Service) series(ctx context.Context, ind indicator.Indicator, kind, period string,
	counted map[[2]string][]CategoryCount, stored storedValues) (map[region.Level]map[string][]index.Value, error) {
	w := ind.Window
	periods := make([]string, w+1)
	for k := range periods {
		periods[k] = indicator.Shift(kind, period, k-w, s.loc)
	}
	out := map[region.Level]map[string][]index.Value{}
	at := func(level region.Level, code string) []index.Value {
		if out[level] == nil {
			out[level] = map[string][]index.Value{}
		}
		v := out[level][code]
		if v == nil {
			v = make([]index.Value, w+1)
			out[level][code] = v
		}
		return v
	}
	manual, err := s.indicators.FindValues(ctx, []string{ind.Code}, periods)
	if err != nil {
		return nil, err
	}
	byPeriod := map[string]int{}
	for k, p := range periods {
		byPeriod[p] = k
	}
	// Past periods computed before (with this indicator) come from their
	// stored values; only the others are gathered from cases and entries.
	fromStore := map[int]bool{}
	for k, p := range periods {
		if k == w {
			continue
		}
		if byLevel, ok := stored[[2]string{p, ind.Code}]; ok {
			fromStore[k] = true
			for level, codes := range byLevel {
				for code, x := range codes {
					at(level, code)[k] = index.Known(x)
				}
			}
		}
	}
	if ind.Source == indicator.Auto {
		for k, p := range periods {
			if fromStore[k] {
				continue
			}
			_, from, to, err := indicator.Bounds(p, s.loc)
			if err != nil {
				return nil, err
			}
			var aggs []Aggregate
			if ind.Method == indicator.Count {
				key := [2]string{ind.Filter.Case, p}
				cs, ok := counted[key]
				if !ok {
					if cs, err = s.store.CountsByCategory(ctx, ind.Filter.Case, from, to); err != nil {
						return nil, err
					}
					counted[key] = cs
				}
				for _, c := range cs {
					if len(ind.Filter.Categories) == 0 || slices.Contains(ind.Filter.Categories, c.Category) {
						aggs = append(aggs, c.Aggregate)
					}
				}
			} else if aggs, err = s.store.Aggregates(ctx, ind, from, to, s.now()); err != nil {
				return nil, err
			}
			sums := map[region.Level]map[string][2]float64{}
			add := func(level region.Level, code string, a Aggregate) {
				if sums[level] == nil {
					sums[level] = map[string][2]float64{}
				}
				t := sums[level][code]
				sums[level][code] = [2]float64{t[0] + a.Num, t[1] + a.Den}
			}
			for _, a := range aggs {
				add(region.County, a.CountyCode, a)
				add(region.Township, a.TownshipCode, a)
				add(region.Community, a.CommunityCode, a)
			}
			for level, codes := range sums {
				for code, t := range codes {
					switch {
					case counts(ind.Method):
						at(level, code)[k] = index.Known(t[0])
					case t[1] > 0:
						at(level, code)[k] = index.Known(t[0] / t[1])
					}
				}
			}
		}
	}
	for _, v := range manual {
		k, ok := byPeriod[v.Period]
		if !ok || fromStore[k] {
			continue
		}
		r, err := s.regions.FindRegionByCode(ctx, v.RegionCode)
		if err != nil {
			continue // a region removed since: its value no longer ranks
		}
		series := at(r.Level, v.RegionCode)
		if !series[k].Valid { // the auto value, where there is one, stands
			series[k] = index.Known(v.Value)
		}
	}
	return out, nil
}

// storedValues holds past periods' values: (period, indicator) → level →
// region → x.
type storedValues map[[2]string]map[region.Level]map[string]float64

func (sv storedValues) add(v StoredValue) {
	key := [2]string{v.Period, v.Indicator}
	if sv[key] == nil {
		sv[key] = map[region.Level]map[string]float64{}
	}
	if sv[key][v.Level] == nil {
		sv[key][v.Level] = map[string]float64{}
	}
	sv[key][v.Level][v.RegionCode] = v.Value
}
