package report

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"pingan/internal/access"
)

// Daily counts (SPEC §13.1 allows pre-aggregation; docs/reports.md, "Daily
// counts"). Once a local day has ended, the scheduler counts its figures —
// the cases reported that day by current status and level, the facts of
// that day, and its flows of open cases — once per case kind by community,
// adds them up to every township, county and the city, and keeps them
// (CountDays). A summary of a city's year then adds up 365 kept days per
// kind instead of reading a million cases, and the cases open at a past
// period's end are the sum of the flows of every day before (keptOpen).
//
// The facts of an ended day never change, so its kept facts stay true. The
// cases reported that day move on (their current status and level), so a
// day with a case changed after its count began (less Settle) is stale:
// the next run counts it again, and meanwhile a summary counts that day's
// cases reported from the case tables, as it does today's and any day not
// counted yet. So a summary answers the same numbers with or without the
// kept days (tests compare both).

// DayCounts are one region's counts of one local day and case kind.
type DayCounts struct {
	Day    string // local day, "2006-01-02"
	Depth  int    // access.CityDepth … access.CommunityDepth
	Region string // "" for the city
	Kind   string
	Counts *Counts
}

// CaseChange is when a case was reported and when it last changed.
type CaseChange struct{ ReportedAt, ChangedAt time.Time }

// Days keeps the daily counts. Implemented by internal/store.
type Days interface {
	// SummaryDays reads the kept counts of the days from..to (both
	// included) of the regions at depth and the kinds.
	SummaryDays(ctx context.Context, depth int, regions, kinds []string, from, to string) ([]DayCounts, error)
	// CountedDays lists the counted days from..to with when each count
	// began.
	CountedDays(ctx context.Context, from, to string) (map[string]time.Time, error)
	// SaveSummaryDay replaces a day's counts unless a later count is kept.
	SaveSummaryDay(ctx context.Context, day string, countedAt time.Time, rows []DayCounts) (bool, error)
	SummaryWatermark(ctx context.Context) (Watermark, error)
	// AdvanceSummaryWatermark moves the watermark forward, in its zone.
	AdvanceSummaryWatermark(ctx context.Context, w Watermark) error
	// ResetSummaryDays forgets every counted day and sets the watermark.
	ResetSummaryDays(ctx context.Context, w Watermark) error
	// CasesChangedSince lists the cases changed at or after since: when
	// each was reported and last changed.
	CasesChangedSince(ctx context.Context, since time.Time) ([]CaseChange, error)
	FirstReportedAt(ctx context.Context) (time.Time, bool, error)
	// SummaryOpen adds up the kept flows of every day up to through of
	// the regions at depth and the kinds: the cases open at its end.
	SummaryOpen(ctx context.Context, depth int, regions, kinds []string, through string) (map[string]OpenCount, error)
}

// Watermark is the time every case change more than Settle before which
// is in the counted days, and the time zone (its name) whose local days
// they are; zero before the first count.
type Watermark struct {
	At   time.Time
	Zone string
}

// OpenCount is a number of cases open at a time, and how many of them
// were overdue then.
type OpenCount struct{ Open, Overdue int }

// Settle bounds how long a write's transaction may take between the time
// it stamps on a case (updated_at) and its commit: a change stamped more
// than Settle before a count began is in that count. A request's
// database work times out long before (api.RequestTimeout, 10 s).
const Settle = 10 * time.Minute

// CountBudget bounds the days one CountDays run counts (the rest wait for
// the next run), so that the scheduler's other jobs are not held up by a
// long history.
const CountBudget = 20 * time.Second

// CountDays is the scheduler's job (run every 10 minutes on one
// instance): it counts again every ended day a case of which changed since
// the day was counted (stale), then the days not counted yet, newest
// first, for at most CountBudget; and moves the watermark on to when it
// began once no day is stale. Safe to run on several instances at once: a
// day's count is kept only if no later one is, and the watermark only
// moves forward. The period argument (the job's) is unused.
func (s *Service) CountDays(ctx context.Context, _ string) error {
	if s.days == nil {
		return nil
	}
	began := s.now()
	first, ok, err := s.days.FirstReportedAt(ctx)
	if err != nil || !ok {
		return err
	}
	today := localDay(began, s.loc)
	firstDay := localDay(first, s.loc)
	w, err := s.days.SummaryWatermark(ctx)
	if err != nil {
		return err
	}
	zone := s.loc.String()
	if w.Zone != "" && w.Zone != zone {
		// Counted as local days of another zone: counted again.
		w = Watermark{At: began, Zone: zone}
		if err := s.days.ResetSummaryDays(ctx, w); err != nil {
			return err
		}
	}
	counted, err := s.days.CountedDays(ctx, firstDay, today)
	if err != nil {
		return err
	}
	stale, err := s.stale(ctx, counted, w)
	if err != nil {
		return err
	}
	var todo []string
	for d := range stale {
		todo = append(todo, d)
	}
	slices.Sort(todo)
	slices.Reverse(todo)
	for d := dayBefore(today, s.loc); d >= firstDay; d = dayBefore(d, s.loc) {
		if !s.settled(d, began) {
			continue // a write of its last moments may not have committed yet
		}
		if at, ok := counted[d]; (!ok || !s.settled(d, at)) && !stale[d] {
			todo = append(todo, d)
		}
	}
	stop := time.Now().Add(s.budget)
	for i, d := range todo {
		if i == len(stale) {
			// Every stale day is counted again: the changes before this
			// run began are in the kept days.
			if err := s.days.AdvanceSummaryWatermark(ctx, Watermark{At: began, Zone: zone}); err != nil {
				return err
			}
		}
		if i > 0 && time.Now().After(stop) {
			return nil // the rest next time (each run counts one day at least)
		}
		if err := s.countDay(ctx, d); err != nil {
			return err
		}
	}
	if len(todo) == len(stale) {
		return s.days.AdvanceSummaryWatermark(ctx, Watermark{At: began, Zone: zone})
	}
	return nil
}

// keptZone reads the watermark and reports whether the counted days are
// local days of the service's zone (a server whose PINGAN_TZ changed
// counts from the cases until the scheduler has counted them again).
func (s *Service) keptZone(ctx context.Context) (Watermark, bool, error) {
	w, err := s.days.SummaryWatermark(ctx)
	if err != nil {
		return Watermark{}, false, err
	}
	return w, w.Zone == s.loc.String(), nil
}

// settled reports whether a count of day d that began at is final: it
// began Settle after the day's end, so that every write of the day had
// committed.
func (s *Service) settled(d string, at time.Time) bool {
	return !at.Before(dayStart(d, s.loc).AddDate(0, 0, 1).Add(Settle))
}

// stale lists the counted days (counted: each with when its count began)
// with a case that may have changed after it was counted: changed at or
// after the count began less Settle. The changes read are those since the
// watermark w less Settle (every change before is in the counted days);
// with no watermark yet, since the earliest count less Settle.
func (s *Service) stale(ctx context.Context, counted map[string]time.Time, w Watermark) (map[string]bool, error) {
	out := map[string]bool{}
	if len(counted) == 0 {
		return out, nil
	}
	since := w.At
	if since.IsZero() {
		for _, at := range counted {
			if since.IsZero() || at.Before(since) {
				since = at
			}
		}
	}
	changes, err := s.days.CasesChangedSince(ctx, since.Add(-Settle))
	if err != nil {
		return nil, err
	}
	for _, c := range changes {
		d := localDay(c.ReportedAt, s.loc)
		if at, ok := counted[d]; ok && !c.ChangedAt.Before(at.Add(-Settle)) {
			out[d] = true
		}
	}
	return out, nil
}

// countDay counts the ended local day d, once per kind by community, adds
// the communities up to their townships, counties and the city, and keeps
// the counts. The counts are histograms (numbers of cases by category and
// status, resolutions by hours), so they add up exactly.
func (s *Service) countDay(ctx context.Context, d string) error {
	began := s.now()
	start, err := time.ParseInLocation(time.DateOnly, d, s.loc)
	if err != nil {
		return err
	}
	end := start.AddDate(0, 0, 1)
	var rows []DayCounts
	for _, kind := range []string{"incident", "dispute"} {
		q := CountQuery{Scope: access.Scope{Depth: access.CityDepth}, Kinds: []string{kind}, Start: start, End: end,
			AsOf: end, Now: began, OpenIncident: openIncident, Child: ChildPlaces, Parts: PartReported | PartFacts | PartFlows}
		m, err := s.store.SummaryCounts(ctx, q)
		if err != nil {
			return fmt.Errorf("count the summary of %s: %w", d, err)
		}
		type place struct {
			depth  int
			region string
		}
		sums := map[place]*Counts{}
		add := func(depth int, region string, c *Counts) {
			k := place{depth, region}
			if sums[k] == nil {
				sums[k] = &Counts{}
			}
			sums[k].Add(c)
		}
		for places, c := range m {
			codes := strings.SplitN(places, "/", 3)
			if len(codes) != 3 {
				return fmt.Errorf("count the summary of %s: places %q", d, places)
			}
			add(access.CityDepth, "", c)
			add(access.CountyDepth, codes[0], c)
			add(access.TownshipDepth, codes[1], c)
			add(access.CommunityDepth, codes[2], c)
		}
		for k, c := range sums {
			c.Compact()
			rows = append(rows, DayCounts{Day: d, Depth: k.depth, Region: k.region, Kind: kind, Counts: c})
		}
	}
	_, err = s.days.SaveSummaryDay(ctx, d, began, rows)
	return err
}

// localDay is t's local day in loc.
func localDay(t time.Time, loc *time.Location) string { return t.In(loc).Format(time.DateOnly) }

// dayBefore is the local day before d.
func dayBefore(d string, loc *time.Location) string {
	t, err := time.ParseInLocation(time.DateOnly, d, loc)
	if err != nil {
		return ""
	}
	return t.AddDate(0, 0, -1).Format(time.DateOnly)
}

func dayStart(d string, loc *time.Location) time.Time {
	t, _ := time.ParseInLocation(time.DateOnly, d, loc)
	return t
}
