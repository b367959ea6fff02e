package report

import (
	"context"
	"fmt"
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
	days       Days // nil: every summary is counted from the cases and facts
	paths      access.Regions
	regions    Regions
	categories Categories
	loc        *time.Location
	now        func() time.Time
	// closed holds the fact-counted figures of periods that have ended
	// (see count).
	closed *lru.Cache[string, map[string]*Counts]
	// sums holds the sums of kept days last read (keptSums).
	sums *lru.Cache[string, map[string]*Counts]
	// budget bounds a CountDays run (CountBudget).
	budget time.Duration
}

// cachedCounts is how many closed periods' counts (each a region, or its
// children) are kept.
const cachedCounts = 64

// NewService returns the report service: paths for the scope rule
// (the store), regions for names (region.Service); loc is the city's time
// zone (local days), now its clock. A store that also keeps daily counts
// (Days, as internal/store does) answers from them where it can.
func NewService(store Store, paths access.Regions, regions Regions, categories Categories, loc *time.Location,
	now func() time.Time) *Service {
	closed, err := lru.New[string, map[string]*Counts](cachedCounts)
	if err != nil {
		panic("report.NewService: " + err.Error())
	}
	sums, err := lru.New[string, map[string]*Counts](cachedCounts)
	if err != nil {
		panic("report.NewService: " + err.Error())
	}
	days, _ := store.(Days)
	return &Service{store: store, days: days, paths: paths, regions: regions, categories: categories, loc: loc, now: now,
		closed: closed, sums: sums, budget: CountBudget}
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
		for _, c := range children {
			cq.Children = append(cq.Children, c.Code)
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

// count counts q for period p: the cases reported and the facts of the
// period from the daily counts where they answer (sum), the cases open at
// its end from the facts. Once a period has ended, every figure but the
// cases reported by current status and level is counted from facts that no
// longer change — a fact is written at the server's time of its action,
// and a deadline due in the past that still runs is breached whenever it
// is asked — so those counts are kept (an LRU of cachedCounts filters) and
// only the reported cases are counted again. Each instance keeps its own
// cache; they agree, since the kept counts cannot change.
func (s *Service) count(ctx context.Context, q CountQuery, p Period, now time.Time) (map[string]*Counts, error) {
	q.Start, q.End, q.AsOf = p.Start, p.End, asOf(p, now)
	if now.Before(p.End.Add(Settle)) {
		// Running, or ended so lately that a write of its last moments
		// may not have committed: counted whole, not kept.
		return s.factsAndOpen(ctx, q, now, PartReported|PartFacts)
	}
	key := fmt.Sprintf("%d|%s|%s|%s|%s|%d|%d|%s|%s", q.Scope.Depth, q.Scope.Code, q.Scope.Grid, q.Scope.Reporter,
		strings.Join(q.Kinds, ","), q.Start.UnixNano(), q.End.UnixNano(), q.Child, strings.Join(q.Children, ","))
	kept, ok := s.closed.Get(key)
	if !ok {
		var err error
		if kept, err = s.factsAndOpen(ctx, q, now, PartFacts); err != nil {
			return nil, err
		}
		s.closed.Add(key, kept)
	}
	live, err := s.sum(ctx, q, now, PartReported)
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

// factsAndOpen counts parts of q (sum) and the cases open at q.AsOf.
func (s *Service) factsAndOpen(ctx context.Context, q CountQuery, now time.Time, parts Parts) (map[string]*Counts, error) {
	out, err := s.sum(ctx, q, now, parts)
	if err != nil {
		return nil, err
	}
	open, ok, err := s.keptOpen(ctx, q)
	if err != nil {
		return nil, err
	}
	if !ok {
		oq := q
		oq.Parts = PartOpen
		if open, err = s.store.SummaryCounts(ctx, oq); err != nil {
			return nil, err
		}
	}
	for k, c := range open {
		if out[k] == nil {
			out[k] = &Counts{}
		}
		out[k].Add(c)
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
