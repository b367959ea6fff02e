package report

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"pingan/internal/access"
	"pingan/internal/category"
	"pingan/internal/errs"
	"pingan/internal/region"

	"golang.org/x/sync/errgroup"
)

// Store counts the raw figures. Implemented by internal/store.
type Store interface {
	SummaryCounts(ctx context.Context, q CountQuery) (map[string]*Counts, error)
}

// Regions finds a region and its children for the summary's names.
// Implemented by region.Service.
type Regions interface {
	FindRegion(ctx context.Context, p access.Principal, code string) (region.Region, error)
	FindRegions(ctx context.Context, p access.Principal, f region.Filter) ([]region.Region, error)
}

// Categories names the categories. Implemented by category.Service.
type Categories interface {
	FindCategories(ctx context.Context, kind category.Kind) ([]category.Category, error)
}

// Service answers the period summary.
type Service struct {
	store      Store
	paths      access.Regions
	regions    Regions
	categories Categories
	loc        *time.Location
	now        func() time.Time
	// closed holds the fact-counted figures of periods that have ended
	// (see count).
	closed *lru.Cache[string, map[string]*Counts]
}

// cachedCounts is how many closed periods' counts (each a region, or its
// children) are kept.
const cachedCounts = 64

// NewService returns the report service: paths for the scope rule
// (the store), regions for names (region.Service); loc is the city's time
// zone (local days), now its clock.
func NewService(store Store, paths access.Regions, regions Regions, categories Categories, loc *time.Location,
	now func() time.Time) *Service {
	closed, err := lru.New[string, map[string]*Counts](cachedCounts)
	if err != nil {
		panic("report.NewService: " + err.Error())
	}
	return &Service{store: store, paths: paths, regions: regions, categories: categories, loc: loc, now: now, closed: closed}
}

// Location is the time zone the periods are read in.
func (s *Service) Location() *time.Location { return s.loc }

// Query asks for a summary: the region (a code in the caller's scope, ""
// for the caller's own), the period's local days, the case kind
// ("incident", "dispute" or "" for both) and whether to break it down by
// the region's children.
type Query struct {
	Region   string
	From, To string
	Kind     string
	ByChild  bool
}

// CanRead reports whether p may read reports: mediators, supervisors and
// admins, in their subtree (SPEC §5, §11).
func CanRead(p access.Principal) bool {
	return p.Is(access.Mediator, access.Supervisor, access.Admin)
}

// Summary is the period summary of SPEC §11.1 for a region: the figures of
// the period, of the previous period of equal length, and the change.
type Summary struct {
	Region         region.Region
	Kind           string
	Period         Period
	PreviousPeriod Period
	Figures
	// Children are the same figures for each child region (ByChild), in
	// code order; nil otherwise.
	Children []Child
}

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

// childColumn is the case column of the regions one level below depth.
var childColumn = map[int]string{access.CityDepth: "county_code", access.CountyDepth: "township_code",
	access.TownshipDepth: "community_code", access.CommunityDepth: "region_code"}

// openIncident are the incident states that are open.
var openIncident = []string{"reported", "accepted", "in_progress"}

// Summary computes the summary q asks for, for p. Errors: errs.ErrForbidden
// for a grid worker or a region outside p's scope; errs.FieldErrors for a
// bad region, period or kind, or by child of a grid (which has none).
func (s *Service) Summary(ctx context.Context, p access.Principal, q Query) (Summary, error) {
	if !CanRead(p) {
		return Summary{}, fmt.Errorf("reports are for mediators, supervisors and admins: %w", errs.ErrForbidden)
	}
	now := s.now()
	bad := errs.FieldErrors{}
	kinds := []string{"incident", "dispute"}
	switch q.Kind {
	case "":
	case "incident", "dispute":
		kinds = []string{q.Kind}
	default:
		bad.Add("kind", "incident or dispute")
	}
	period, err := ParsePeriod(q.From, q.To, s.loc, now)
	if fe, ok := err.(errs.FieldErrors); ok {
		for f, m := range fe {
			bad.Add(f, m)
		}
	} else if err != nil {
		return Summary{}, err
	}
	if err := bad.Err(); err != nil {
		return Summary{}, err
	}
	scope, err := access.ListScope(ctx, s.paths, p, q.Region)
	if err != nil {
		return Summary{}, err
	}
	reg, err := s.regions.FindRegion(ctx, p, scope.Code)
	if err != nil {
		return Summary{}, err
	}
	cq := CountQuery{Scope: scope, Kinds: kinds, Now: now, OpenIncident: openIncident}
	var children []region.Region
	if q.ByChild {
		cq.Child = childColumn[scope.Depth]
		if cq.Child == "" {
			return Summary{}, errs.Invalid("by", "child is for a city, county, township or community; a grid has no children")
		}
		children, err = s.regions.FindRegions(ctx, p, region.Filter{Scope: scope, Parent: scope.Code, Limit: maxChildren})
		if err != nil {
			return Summary{}, err
		}
	}
	names, err := s.categoryNames(ctx)
	if err != nil {
		return Summary{}, err
	}
	prev := period.Previous()
	// The periods are counted side by side (each is several grouped scans
	// the database runs one core each), and with by=child the region's own
	// figures too.
	var cur, old map[string]*Counts
	var curOwn, oldOwn *Counts
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { cur, err = s.count(gctx, cq, period, now); return err })
	g.Go(func() (err error) { old, err = s.count(gctx, cq, prev, now); return err })
	if q.ByChild {
		// The region's own figures are counted once more without the
		// breakdown, so that its percentiles are exact, not merged from
		// its children's.
		own := cq
		own.Child = ""
		g.Go(func() (err error) { curOwn, err = s.one(gctx, own, period, now); return err })
		g.Go(func() (err error) { oldOwn, err = s.one(gctx, own, prev, now); return err })
	}
	if err := g.Wait(); err != nil {
		return Summary{}, err
	}
	out := Summary{Region: reg, Kind: q.Kind, Period: period, PreviousPeriod: prev}
	figures := func(key string) Figures {
		f := Figures{Current: figure(cur[key], asOf(period, now), names), Previous: figure(old[key], asOf(prev, now), names)}
		f.Change = change(f.Current, f.Previous)
		return f
	}
	if !q.ByChild {
		out.Figures = figures("")
		return out, nil
	}
	cur[""], old[""] = curOwn, oldOwn
	out.Figures = figures("")
	out.Children = make([]Child, 0, len(children))
	for _, c := range children {
		out.Children = append(out.Children, Child{Region: c, Figures: figures(c.Code)})
	}
	return out, nil
}

// maxChildren bounds the children of one region (a township has tens of
// communities, a city a handful of counties).
const maxChildren = 10000

// count counts q for period p. Once a period has ended, every figure but
// the cases reported by current status and level is counted from facts
// that no longer change — a fact is written at the server's time of its
// action, and a deadline due in the past that still runs is breached
// whenever it is asked — so those counts are kept (an LRU of cachedCounts
// filters) and only the reported cases are counted again, from their
// covering index. A period still running is counted whole every time.
// Each instance keeps its own cache; they agree, since the kept counts
// cannot change.
func (s *Service) count(ctx context.Context, q CountQuery, p Period, now time.Time) (map[string]*Counts, error) {
	q.Start, q.End, q.AsOf = p.Start, p.End, asOf(p, now)
	if now.Before(p.End) {
		q.Parts = AllParts
		return s.store.SummaryCounts(ctx, q)
	}
	key := fmt.Sprintf("%d|%s|%s|%s|%s|%d|%d|%s", q.Scope.Depth, q.Scope.Code, q.Scope.Grid, q.Scope.Reporter,
		strings.Join(q.Kinds, ","), q.Start.UnixNano(), q.End.UnixNano(), q.Child)
	kept, ok := s.closed.Get(key)
	if !ok {
		fq := q
		fq.Parts = PartFacts
		var err error
		if kept, err = s.store.SummaryCounts(ctx, fq); err != nil {
			return nil, err
		}
		s.closed.Add(key, kept)
	}
	q.Parts = PartReported
	live, err := s.store.SummaryCounts(ctx, q)
	if err != nil {
		return nil, err
	}
	// The kept counts are shared: copied, never changed.
	out := make(map[string]*Counts, len(kept)+len(live))
	for k, c := range kept {
		cc := *c
		out[k] = &cc
	}
	for k, c := range live {
		if out[k] == nil {
			out[k] = &Counts{}
		}
		out[k].Reported = c.Reported
	}
	return out, nil
}

func (s *Service) one(ctx context.Context, q CountQuery, p Period, now time.Time) (*Counts, error) {
	m, err := s.count(ctx, q, p, now)
	if err != nil {
		return nil, err
	}
	return m[""], nil
}

// asOf is when the open cases of period p are counted: its end, or now
// while it runs.
func asOf(p Period, now time.Time) time.Time {
	if now.Before(p.End) {
		return now
	}
	return p.End
}

func (s *Service) categoryNames(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	for _, k := range []category.Kind{category.Incident, category.Dispute} {
		cs, err := s.categories.FindCategories(ctx, k)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			out[string(k)+"/"+c.Code] = c.NameZH
		}
	}
	return out, nil
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
