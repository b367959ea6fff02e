package warning

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"pingan/internal/region"
)

// The key-date comparison (SPEC §10.2): an event's window in a past year
// against the KeyDateBefore days before it.
const (
	KeyDateBefore    = 28  // days before a window it is compared with
	KeyDateRatio     = 1.5 // the window's daily rate over theirs must exceed this
	KeyDateMinCases  = 5   // … with at least this many cases in the window
	KeyDateMinYears  = 2   // … in at least this many past years
	maxKeyDateWindow = MaxEventDays
)

// detectKeyDates raises, for each event whose dates start within
// KeyDateAhead days after day, a blue key_date warning for every county and
// township where a case kind or category ran high around the event in past
// years.
func (s *Service) detectKeyDates(ctx context.Context, day string, start time.Time, places map[string]region.Region) error {
	events, err := s.store.FindKeyDates(ctx)
	if err != nil {
		return err
	}
	horizon := start.AddDate(0, 0, s.set.KeyDateAhead).Format(dayLayout)
	// Ahead of today, too: a day detected again later (a late report, a
	// catch-up) does not warn of an event that has begun.
	today := s.now().In(s.loc).Format(dayLayout)
	for _, e := range events {
		for _, d := range e.Dates {
			if d.Start <= day || d.Start <= today || d.Start > horizon {
				continue
			}
			if err := s.keyDate(ctx, e, d, day, places); err != nil {
				return fmt.Errorf("key date %s %s: %w", e.Name, d.Start, err)
			}
		}
	}
	return nil
}

// windowCounts are a past date's counts per series: in its window and in
// the days before it.
type windowCounts struct {
	date           DateRange
	window, before map[seriesKey]int
}

func (s *Service) keyDate(ctx context.Context, e Event, upcoming DateRange, day string, places map[string]region.Region) error {
	var past []windowCounts
	for _, d := range e.Dates {
		if d.End >= day {
			continue // not over yet
		}
		from, err := time.ParseInLocation(dayLayout, d.Start, s.loc)
		if err != nil {
			return err
		}
		to := from.AddDate(0, 0, min(days(d), maxKeyDateWindow))
		wc := windowCounts{date: d}
		if wc.window, err = s.counts(ctx, from, to); err != nil {
			return err
		}
		if wc.before, err = s.counts(ctx, from.AddDate(0, 0, -KeyDateBefore), from); err != nil {
			return err
		}
		past = append(past, wc)
	}
	if len(past) < KeyDateMinYears {
		return nil
	}
	// The rises of each region, by series.
	rises := map[string][]KeyDateRise{}
	seen := map[seriesKey]bool{}
	var keys []seriesKey
	for _, wc := range past {
		for k := range wc.window {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	slices.SortFunc(keys, func(a, b seriesKey) int {
		return strings.Compare(a.region+"/"+a.caseKind+"/"+a.category, b.region+"/"+b.caseKind+"/"+b.category)
	})
	for _, k := range keys {
		var years []KeyDateFigure
		for _, wc := range past {
			n, before := wc.window[k], wc.before[k]
			ratio := math.Inf(1)
			if before > 0 {
				ratio = (float64(n) / float64(days(wc.date))) / (float64(before) / KeyDateBefore)
			}
			if n >= KeyDateMinCases && ratio > KeyDateRatio {
				f := KeyDateFigure{Start: wc.date.Start, Window: n, Before: before}
				if before > 0 {
					r := math.Round(ratio*100) / 100
					f.Ratio = &r
				}
				years = append(years, f)
			}
		}
		if len(years) >= KeyDateMinYears {
			rises[k.region] = append(rises[k.region], KeyDateRise{CaseKind: k.caseKind, Category: k.category, Years: years})
		}
	}
	names, err := s.categoryNames(ctx)
	if err != nil {
		return err
	}
	codes := make([]string, 0, len(rises))
	for c := range rises {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	now := s.now()
	for _, code := range codes {
		r, ok := places[code]
		if !ok {
			continue
		}
		rs := rises[code]
		w := Warning{Kind: KindKeyDate, RegionCode: r.Code, RegionPath: r.Path, Level: string(r.Level), PeriodKind: "day",
			FirstDay: upcoming.Start, LastDay: upcoming.End, Observed: float64(len(rs)), Threshold: num(KeyDateRatio),
			Severity: Blue, Detail: Detail{KeyDate: &KeyDateDetail{EventID: e.ID, Name: e.Name, Start: upcoming.Start,
				End: upcoming.End, Rises: rs}}}
		w.Key = strings.Join([]string{KindKeyDate, r.Code, e.ID, upcoming.Start}, "/")
		w.Summary = keyDateSummary(r, e, upcoming, rs, names)
		err := s.log.InTx(ctx, func(ctx context.Context) error { return s.insert(ctx, w, now) })
		if err != nil {
			return err
		}
	}
	return nil
}

// counts are the cases of every county and township in [from, to), per
// series.
func (s *Service) counts(ctx context.Context, from, to time.Time) (map[seriesKey]int, error) {
	out := map[seriesKey]int{}
	for _, ck := range []string{CaseDispute, CaseIncident} {
		cs, err := s.store.CaseCounts(ctx, ck, from, to)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			cat := c.Category
			if ck == CaseDispute {
				cat = ""
			}
			out[seriesKey{c.TownshipCode, ck, cat}] += c.N
			out[seriesKey{c.CountyCode, ck, cat}] += c.N
		}
	}
	return out, nil
}

func keyDateSummary(r region.Region, e Event, d DateRange, rs []KeyDateRise, names map[string]string) string {
	top := rs[0]
	for _, x := range rs[1:] {
		if maxRatio(x) > maxRatio(top) {
			top = x
		}
	}
	what := caseName(top.CaseKind, top.Category, names)
	rise := fmt.Sprintf("升至前28天的 %.1f 倍", maxRatio(top))
	if maxRatio(top) == math.Inf(1) {
		rise = "前28天无案件而同期多发"
	}
	return fmt.Sprintf("%s (%s起): %s 往年同期 %s %s, 共 %d 类上升, 请提前部署", e.Name, d.Start, r.Name, what, rise, len(rs))
}

// maxRatio is a rise's highest ratio over its years; +Inf when a year had
// no case in the 28 days before its window.
func maxRatio(r KeyDateRise) float64 {
	m := 0.0
	for _, y := range r.Years {
		if y.Ratio == nil {
			return math.Inf(1)
		}
		m = max(m, *y.Ratio)
	}
	return m
}
