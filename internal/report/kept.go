package report

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"pingan/internal/access"
)

// Reading the daily counts (days.go): a summary's parts from the kept days
// where they answer and from the cases and facts for the rest (sum), the
// sums of kept days kept in memory (keptSums), and the cases open at a
// past period's end from the kept flows (keptOpen).

// keptRegions are the depth and codes of the kept rows that answer q (the
// region's own, or its children's), and whether kept rows can answer it:
// not for a grid worker's scope, a grid, or a community's grids.
func keptRegions(q CountQuery) (int, []string, bool) {
	s := q.Scope
	if s.Reporter != "" || s.Grid != "" || s.Depth > access.CommunityDepth {
		return 0, nil, false
	}
	depth := max(s.Depth, access.CityDepth)
	if q.Child == "" {
		if depth == access.CityDepth {
			return depth, []string{""}, true
		}
		return depth, []string{s.Code}, true
	}
	if depth+1 > access.CommunityDepth {
		return 0, nil, false
	}
	return depth + 1, q.Children, true
}

// sum counts the parts (PartReported, PartFacts) of q's period
// [q.Start, q.End) from the kept days where they answer, and from the
// cases and facts for the rest: days not counted or not ended, and for
// the cases reported, days changed since they were counted.
func (s *Service) sum(ctx context.Context, q CountQuery, now time.Time, parts Parts) (map[string]*Counts, error) {
	depth, regions, ok := keptRegions(q)
	if !ok || s.days == nil {
		q.Parts = parts
		return s.store.SummaryCounts(ctx, q)
	}
	w, zoned, err := s.keptZone(ctx)
	if err != nil {
		return nil, err
	}
	if !zoned {
		q.Parts = parts
		return s.store.SummaryCounts(ctx, q)
	}
	var days []string
	for t := q.Start; t.Before(q.End); t = t.AddDate(0, 0, 1) {
		days = append(days, localDay(t, s.loc))
	}
	first, last := days[0], days[len(days)-1]
	counted, err := s.days.CountedDays(ctx, first, last)
	if err != nil {
		return nil, err
	}
	stale := map[string]bool{}
	if parts.Has(PartReported) {
		if stale, err = s.stale(ctx, counted, w); err != nil {
			return nil, err
		}
	}
	// Each day's parts from the kept rows, and the rest counted live.
	kept, live := make([]Parts, len(days)), make([]Parts, len(days))
	anyKept := false
	for i, d := range days {
		start, _ := time.ParseInLocation(time.DateOnly, d, s.loc)
		if at, ok := counted[d]; ok && s.settled(d, at) && !now.Before(start.AddDate(0, 0, 1)) {
			kept[i] = parts &^ PartReported
			if !stale[d] {
				kept[i] = parts
			}
		}
		live[i] = parts &^ kept[i]
		anyKept = anyKept || kept[i] != 0
	}
	out := map[string]*Counts{}
	if anyKept {
		sums, err := s.keptSums(ctx, q, depth, regions, days, kept, counted)
		if err != nil {
			return nil, err
		}
		// The sums are shared (cached): copied, their lists clipped so that
		// adding to them copies too.
		for k, c := range sums {
			cc := *c
			cc.Reported, cc.Resolutions, cc.Acceptances = slices.Clip(c.Reported), slices.Clip(c.Resolutions), slices.Clip(c.Acceptances)
			out[k] = &cc
		}
	}
	at := func(key string) *Counts {
		if out[key] == nil {
			out[key] = &Counts{}
		}
		return out[key]
	}
	// Runs of days with the same live parts are counted in one call.
	for i := 0; i < len(days); {
		j := i
		for j < len(days) && live[j] == live[i] {
			j++
		}
		if live[i] != 0 {
			lq := q
			lq.Parts = live[i]
			lq.Start = dayStart(days[i], s.loc)
			lq.End = dayStart(days[j-1], s.loc).AddDate(0, 0, 1)
			lq.Start, lq.End = maxTime(lq.Start, q.Start), minTime(lq.End, q.End)
			m, err := s.store.SummaryCounts(ctx, lq)
			if err != nil {
				return nil, err
			}
			for k, c := range m {
				at(k).Add(c)
			}
		}
		i = j
	}
	return out, nil
}

// keptSums adds up the kept rows of the days (kept: each day's parts
// from the rows, counted: when each was counted), compacted. The sums of
// the last keptSumsCached such reads are kept in memory, keyed by the days,
// their parts and their counts' times, so a summary asked again reads no
// rows until one of its days is counted again.
func (s *Service) keptSums(ctx context.Context, q CountQuery, depth int, regions, days []string, kept []Parts,
	counted map[string]time.Time) (map[string]*Counts, error) {
	var key strings.Builder
	fmt.Fprintf(&key, "%d|%s|%s|%s|", depth, strings.Join(regions, ","), strings.Join(q.Kinds, ","), q.Child)
	first, last := "", ""
	for i, d := range days {
		if kept[i] == 0 {
			continue
		}
		if first == "" {
			first = d
		}
		last = d
		fmt.Fprintf(&key, "%s:%d:%d,", d, kept[i], counted[d].UnixMicro())
	}
	if sums, ok := s.sums.Get(key.String()); ok {
		return sums, nil
	}
	rows, err := s.days.SummaryDays(ctx, depth, regions, q.Kinds, first, last)
	if err != nil {
		return nil, err
	}
	index := make(map[string]int, len(days))
	for i, d := range days {
		index[d] = i
	}
	out := map[string]*Counts{}
	for _, r := range rows {
		i, ok := index[r.Day]
		if !ok || kept[i] == 0 {
			continue
		}
		k := r.Region
		if q.Child == "" {
			k = ""
		}
		c := *r.Counts
		if kept[i]&PartReported == 0 {
			c.Reported = nil
		}
		if kept[i]&PartFacts == 0 {
			c = Counts{Reported: c.Reported}
		}
		if out[k] == nil {
			out[k] = &Counts{}
		}
		out[k].Add(&c)
	}
	for _, c := range out {
		c.Compact()
	}
	s.sums.Add(key.String(), out)
	return out, nil
}

// keptOpen counts the cases open at the end of q's period (q.AsOf, a
// local midnight) from the kept days' flows, when every day from the first
// report up to that end is counted; ok is false otherwise (and for what
// keptRegions does not answer).
func (s *Service) keptOpen(ctx context.Context, q CountQuery) (map[string]*Counts, bool, error) {
	depth, regions, ok := keptRegions(q)
	if !ok || s.days == nil || !q.AsOf.Equal(q.End) {
		return nil, false, nil
	}
	if _, zoned, err := s.keptZone(ctx); err != nil || !zoned {
		return nil, false, err
	}
	first, found, err := s.days.FirstReportedAt(ctx)
	if err != nil || !found {
		return nil, false, err
	}
	firstDay, through := localDay(first, s.loc), localDay(q.AsOf.AddDate(0, 0, -1), s.loc)
	if through < firstDay {
		return map[string]*Counts{}, true, nil // nothing was reported before
	}
	counted, err := s.days.CountedDays(ctx, firstDay, through)
	if err != nil {
		return nil, false, err
	}
	for d := through; d >= firstDay; d = dayBefore(d, s.loc) {
		if at, ok := counted[d]; !ok || !s.settled(d, at) {
			return nil, false, nil
		}
	}
	open, err := s.days.SummaryOpen(ctx, depth, regions, q.Kinds, through)
	if err != nil {
		return nil, false, err
	}
	out := make(map[string]*Counts, len(open))
	for region, o := range open {
		key := region
		if q.Child == "" {
			key = ""
		}
		if out[key] == nil {
			out[key] = &Counts{}
		}
		out[key].Open += o.Open
		out[key].Overdue += o.Overdue
	}
	return out, true, nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
