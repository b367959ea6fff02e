package warning

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"pingan/internal/category"
	"pingan/internal/errs"
	"pingan/internal/indicator"
	"pingan/internal/region"
)

// Detect runs the detectors for a period (SPEC §10): for a local day
// ("2026-11-29") the surges and overdue deadlines of that day in every
// county and township and the key dates ahead of it; for a month
// ("2026-10") the red bands and rank falls its index shows. A day that has
// not ended is read as it stands (the same-day pass). Safe to repeat: a
// warning is raised once per episode, updated while it runs, and notified
// once per warning and rise in severity.
func (s *Service) Detect(ctx context.Context, period string) error {
	kind, start, err := indicator.ParsePeriod(period, s.loc)
	if err != nil {
		return fmt.Errorf("detect %q: %w", period, err)
	}
	if kind == indicator.Month {
		return s.detectIndex(ctx, period)
	}
	places, err := s.places(ctx)
	if err != nil {
		return err
	}
	if err := s.detectSurges(ctx, period, start, places); err != nil {
		return err
	}
	if err := s.detectOverdue(ctx, period, start, places); err != nil {
		return err
	}
	return s.detectKeyDates(ctx, period, start, places)
}

// places are the counties and townships detection watches, by code.
func (s *Service) places(ctx context.Context) (map[string]region.Region, error) {
	out := map[string]region.Region{}
	for _, l := range []region.Level{region.County, region.Township} {
		rs, err := s.regions.FindRegionsAt(ctx, l)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			out[r.Code] = r
		}
	}
	return out, nil
}

// seriesKey names one daily series: a region, a case kind and a category
// ("" for disputes as a whole).
type seriesKey struct{ region, caseKind, category string }

// dailySeries counts every county's and township's cases per day for the
// days [first, first+n), disputes as one series and incidents per category.
func (s *Service) dailySeries(ctx context.Context, first time.Time, n int) (map[seriesKey][]float64, error) {
	out := map[seriesKey][]float64{}
	add := func(k seriesKey, i, v int) {
		y, ok := out[k]
		if !ok {
			y = make([]float64, n)
			out[k] = y
		}
		y[i] += float64(v)
	}
	for i := range n {
		from := first.AddDate(0, 0, i)
		to := from.AddDate(0, 0, 1)
		for _, ck := range []string{CaseDispute, CaseIncident} {
			counts, err := s.store.CaseCounts(ctx, ck, from, to)
			if err != nil {
				return nil, err
			}
			for _, c := range counts {
				cat := c.Category
				if ck == CaseDispute {
					cat = ""
				}
				add(seriesKey{c.TownshipCode, ck, cat}, i, c.N)
				add(seriesKey{c.CountyCode, ck, cat}, i, c.N)
			}
		}
	}
	return out, nil
}

func (s *Service) detectSurges(ctx context.Context, day string, start time.Time, places map[string]region.Region) error {
	n := s.set.LookBack + 1
	first := start.AddDate(0, 0, -s.set.LookBack)
	series, err := s.dailySeries(ctx, first, n)
	if err != nil {
		return err
	}
	names, err := s.categoryNames(ctx)
	if err != nil {
		return err
	}
	keys := make([]seriesKey, 0, len(series))
	for k := range series {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b seriesKey) int {
		return strings.Compare(a.region+"/"+a.caseKind+"/"+a.category, b.region+"/"+b.caseKind+"/"+b.category)
	})
	for _, k := range keys {
		r, ok := places[k.region]
		if !ok {
			continue
		}
		y := series[k]
		a, ok := Assess(y, n-1, s.set.EARS)
		if !ok || !a.Alarm {
			continue
		}
		w := Warning{Kind: KindSurge, RegionCode: r.Code, RegionPath: r.Path, Level: string(r.Level), CaseKind: k.caseKind,
			Category: k.category, PeriodKind: indicator.Day, FirstDay: day, LastDay: day, Method: string(s.set.EARS.Primary.Method),
			Observed: y[n-1], Severity: a.Severity, Series: daySeries(first, y)}
		for _, m := range a.Methods {
			w.Methods = append(w.Methods, string(m))
		}
		pt := a.Primary
		if !a.Primary.Alarm && len(a.Methods) > 0 {
			pt = map[Method]Point{Poisson: a.Poisson, C3: a.C3}[a.Methods[0]]
			w.Method = string(a.Methods[0])
		}
		w.Expected, w.Threshold, w.Statistic = num(pt.Mean), pt.Upper, pt.Statistic
		w.P = a.Poisson.P
		w.Summary = surgeSummary(r, caseName(k.caseKind, k.category, names), w)
		if err := s.raise(ctx, w); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) detectOverdue(ctx context.Context, day string, start time.Time, places map[string]region.Region) error {
	if s.set.OverdueCount <= 0 {
		return nil
	}
	counts, err := s.store.BreachedCounts(ctx, start, start.AddDate(0, 0, 1), s.now())
	if err != nil {
		return err
	}
	by := map[string]int{}
	for _, c := range counts {
		by[c.TownshipCode] += c.N
		by[c.CountyCode] += c.N
	}
	codes := make([]string, 0, len(by))
	for c := range by {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	for _, code := range codes {
		r, ok := places[code]
		n := by[code]
		if !ok || n < s.set.OverdueCount {
			continue
		}
		sev := Yellow
		switch {
		case n >= 4*s.set.OverdueCount:
			sev = Red
		case n >= 2*s.set.OverdueCount:
			sev = Orange
		}
		w := Warning{Kind: KindOverdue, RegionCode: r.Code, RegionPath: r.Path, Level: string(r.Level), CaseKind: CaseDispute,
			PeriodKind: indicator.Day, FirstDay: day, LastDay: day, Observed: float64(n),
			Threshold: num(float64(s.set.OverdueCount)), Severity: sev, Series: []DayCount{{Day: day, Count: n}}}
		w.Summary = fmt.Sprintf("%s %s 超期矛盾纠纷 %d 件 (预警线 %d)", r.Name, day, n, s.set.OverdueCount)
		if err := s.raise(ctx, w); err != nil {
			return err
		}
	}
	return nil
}

// raise writes w as a new warning, or as the update of its running
// episode: the warning of the same kind, region, case kind and category
// whose days reach the day before w's or the day after it (days are
// detected in any order: a catch-up, a late report) and which is not
// closed; its row is locked meanwhile, so an acknowledgement waits.
// The watchers are notified of a new warning and of a rise in severity,
// once each (the notices' keys), in the same transaction.
func (s *Service) raise(ctx context.Context, w Warning) error {
	since := indicator.Shift(w.PeriodKind, w.FirstDay, -1, s.loc)
	until := indicator.Shift(w.PeriodKind, w.LastDay, 1, s.loc)
	now := s.now()
	return s.log.InTx(ctx, func(ctx context.Context) error {
		ep, ok, err := s.store.FindEpisode(ctx, w.Kind, w.RegionCode, w.CaseKind, w.Category, since, until)
		if err != nil {
			return err
		}
		if ok && ep.Status != Closed {
			return s.update(ctx, ep, w, now)
		}
		w.Key = strings.Join([]string{w.Kind, w.RegionCode, w.CaseKind, w.Category, w.FirstDay}, "/")
		return s.insert(ctx, w, now)
	})
}

// insert writes w as a new open warning under its Key and notifies its
// watchers; a Key that exists (raised before, and closed since, or by
// another runner at the same time) is left alone.
func (s *Service) insert(ctx context.Context, w Warning, now time.Time) error {
	w.ID = uuid.Must(uuid.NewV7()).String()
	w.Status, w.Version, w.CreatedAt, w.UpdatedAt = Open, 1, now, now
	if err := s.store.InsertWarning(ctx, w); err != nil {
		if errors.Is(err, errs.ErrConflict) {
			return nil
		}
		return err
	}
	return s.notify(ctx, w)
}

// update folds what detection saw now into a running episode.
func (s *Service) update(ctx context.Context, ep, w Warning, now time.Time) error {
	next := ep
	rose := w.Severity.Rank() > ep.Severity.Rank()
	if rose {
		next.Severity = w.Severity
	}
	next.FirstDay = min(ep.FirstDay, w.FirstDay)
	if w.LastDay >= ep.LastDay { // the latest day's figures are the warning's
		next.LastDay, next.Method, next.Methods, next.Observed = w.LastDay, w.Method, w.Methods, w.Observed
		next.Expected, next.Threshold, next.Statistic, next.P = w.Expected, w.Threshold, w.Statistic, w.P
		next.Detail, next.Summary = w.Detail, w.Summary
	}
	if next.Kind == KindSurge && next.FirstDay < next.LastDay && w.LastDay >= ep.LastDay {
		next.Summary = fmt.Sprintf("自 %s 起持续: %s", next.FirstDay[5:], w.Summary)
	}
	next.Series = mergeSeries(ep.Series, w.Series)
	if sameWarning(ep, next) {
		return nil
	}
	next.Version++
	next.UpdatedAt = now
	if err := s.store.UpdateWarning(ctx, next); err != nil {
		return err
	}
	if rose {
		return s.notify(ctx, next)
	}
	return nil
}

// sameWarning reports whether an update would change nothing a reader sees.
func sameWarning(a, b Warning) bool {
	return a.Severity == b.Severity && a.FirstDay == b.FirstDay && a.LastDay == b.LastDay && a.Observed == b.Observed && a.Summary == b.Summary &&
		slices.Equal(a.Series, b.Series) && slices.Equal(a.Methods, b.Methods) && eqPtr(a.Statistic, b.Statistic) &&
		eqPtr(a.P, b.P) && eqPtr(a.Expected, b.Expected) && eqPtr(a.Threshold, b.Threshold)
}

func eqPtr(a, b *float64) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

// notify tells the watchers of w's region about it, once per warning and
// severity.
func (s *Service) notify(ctx context.Context, w Warning) error {
	users, err := s.store.FindWatchers(ctx, w.RegionPath)
	if err != nil || len(users) == 0 {
		return err
	}
	title := severityName[w.Severity] + "预警: " + w.Summary
	if r := []rune(title); len(r) > 200 {
		title = string(r[:199]) + "…"
	}
	ns := make([]Notice, len(users))
	for i, u := range users {
		ns[i] = Notice{UserID: u, WarningID: w.ID, Title: title, DedupeKey: "warning:" + w.ID + ":" + string(w.Severity)}
	}
	return s.notifier.NotifyWarnings(ctx, ns)
}

var severityName = map[Severity]string{Blue: "蓝色", Yellow: "黄色", Orange: "橙色", Red: "红色"}

// mergeSeries keeps the days of old that fresh does not hold and takes
// fresh's counts for the rest, by day.
func mergeSeries(old, fresh []DayCount) []DayCount {
	by := map[string]int{}
	for _, d := range old {
		by[d.Day] = d.Count
	}
	for _, d := range fresh {
		by[d.Day] = d.Count
	}
	out := make([]DayCount, 0, len(by))
	for d, n := range by {
		out = append(out, DayCount{Day: d, Count: n})
	}
	slices.SortFunc(out, func(a, b DayCount) int { return strings.Compare(a.Day, b.Day) })
	return out
}

// daySeries labels counts with their local days from first.
func daySeries(first time.Time, y []float64) []DayCount {
	out := make([]DayCount, len(y))
	for i, v := range y {
		out[i] = DayCount{Day: first.AddDate(0, 0, i).Format(dayLayout), Count: int(v)}
	}
	return out
}

// categoryNames are the Chinese names of the incident categories, by code.
func (s *Service) categoryNames(ctx context.Context) (map[string]string, error) {
	cs, err := s.store.FindCategories(ctx, category.Incident)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(cs))
	for _, c := range cs {
		out[c.Code] = c.NameZH
	}
	return out, nil
}

// caseName is what a series counts, in words: 矛盾纠纷, or 事件 of a
// category by its name (its code when it has none).
func caseName(caseKind, code string, names map[string]string) string {
	if caseKind != CaseIncident {
		return "矛盾纠纷"
	}
	if n := names[code]; n != "" {
		return n + "事件"
	}
	return "事件(" + code + ")"
}

func surgeSummary(r region.Region, what string, w Warning) string {
	exp := 0.0
	if w.Expected != nil {
		exp = *w.Expected
	}
	return fmt.Sprintf("%s %s %s %d 件, 基线 %.1f", r.Name, w.LastDay, what, int(w.Observed), exp)
}

func num(v float64) *float64 {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return nil
	}
	return &v
}
