package heatmap

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"pingan/internal/access"
	"pingan/internal/category"
	"pingan/internal/deps"
	"pingan/internal/errs"
	"pingan/internal/report"
)

// Categories finds the case categories, to check a category filter.
// Implemented by the store.
type Categories interface {
	// FindCategories lists the categories of kind ("" for all).
	FindCategories(ctx context.Context, kind category.Kind) ([]category.Category, error)
}

// Service draws heat maps for mediators, supervisors and admins, in their
// scope (SPEC §5).
type Service struct {
	store      Store
	regions    access.Regions
	categories Categories
	minCount   int
	loc        *time.Location
	now        func() time.Time
	// closed holds the cell counts of periods that have ended (see
	// cachedCounts).
	closed *lru.Cache[string, []Count]
}

// Bounds of the closed periods' cache: the maps held, and the cells one may
// have to be held (about 40 bytes a cell: at most about 26 MB in all).
const (
	cachedMaps     = 32
	cachedMaxCells = 20_000
)

// NewService builds the service. minCount is PINGAN_HEATMAP_MIN_COUNT (at
// least 2, so that no case is ever a cell of its own); loc is the city's
// time zone, whose local days the periods are made of. Every dependency is
// required; a nil one, or a minCount below 2, panics at start-up.
func NewService(store Store, regions access.Regions, categories Categories, minCount int, loc *time.Location,
	now func() time.Time) *Service {
	deps.Require("heatmap.NewService", "store", store, "regions", regions, "categories", categories, "loc", loc, "now", now)
	if minCount < 2 {
		panic(fmt.Sprintf("heatmap.NewService: minCount %d: a lone case would be a cell of its own", minCount))
	}
	closed, err := lru.New[string, []Count](cachedMaps)
	if err != nil {
		panic("heatmap.NewService: " + err.Error())
	}
	return &Service{store: store, regions: regions, categories: categories, minCount: minCount, loc: loc, now: now, closed: closed}
}

// cachedCounts is CountCells, kept for a period that has ended. Such a
// period's cells never change: a case's report time is the server's clock
// when it arrived (an offline report too), so no case joins a period once
// it is over, and a case's category, place and location are never edited
// or deleted. A dashboard asking again and again for last month's map
// (SPEC §13.1: 20 calls a second) then costs no database read. Periods
// still running are always read afresh. Each instance keeps its own cache;
// they agree, since the answer cannot change.
func (s *Service) cachedCounts(ctx context.Context, f Filter) ([]Count, error) {
	if f.End.After(s.now()) {
		return s.store.CountCells(ctx, f)
	}
	key := fmt.Sprintf("%d|%s|%s|%s|%s|%s|%d|%d|%d", f.Scope.Depth, f.Scope.Code, f.Scope.Grid, f.Scope.Reporter,
		strings.Join(f.Kinds, ","), f.Category, f.Start.UnixNano(), f.End.UnixNano(), f.Precision)
	if counts, ok := s.closed.Get(key); ok {
		return counts, nil
	}
	counts, err := s.store.CountCells(ctx, f)
	if err == nil && len(counts) <= cachedMaxCells {
		s.closed.Add(key, counts)
	}
	return counts, err
}

// Query is a heat map as asked for, every value as given ("" when not).
type Query struct {
	Region, From, To, Kind, Category, Precision string
	// By is "" (cells) or "region" (communities).
	By string
}

// canRead is SPEC §5's row for reports.
func canRead(p access.Principal) bool {
	return p.Is(access.Mediator, access.Supervisor, access.Admin)
}

// Find draws the map q asks for in p's scope. Returns errs.ErrForbidden
// for a grid worker or a region outside p's scope, errs.FieldErrors naming
// each bad parameter.
func (s *Service) Find(ctx context.Context, p access.Principal, q Query) (Map, error) {
	if !canRead(p) {
		return Map{}, fmt.Errorf("heat maps are for mediators, supervisors and admins: %w", errs.ErrForbidden)
	}
	f, m, err := s.read(ctx, q)
	if err != nil {
		return Map{}, err
	}
	if f.Scope, err = access.ListScope(ctx, s.regions, p, q.Region); err != nil {
		return Map{}, err
	}
	m.Region = f.Scope.Code
	if m.ByRegion {
		if f.Scope.Depth > access.CommunityDepth {
			return Map{}, errs.Invalid("region", "a community or a region above it, with by=region")
		}
		return s.byRegion(ctx, f, m)
	}
	counts, err := s.cachedCounts(ctx, f)
	if err != nil {
		return Map{}, err
	}
	m.Cells, m.Suppressed, m.Unlocated = Merge(counts, s.minCount)
	m.Total = m.Suppressed + m.Unlocated
	for _, c := range m.Cells {
		m.Total += c.Count
	}
	return m, nil
}

// read checks q's values, all of them, and gives the store's filter (less
// its scope) and the map's description.
func (s *Service) read(ctx context.Context, q Query) (Filter, Map, error) {
	bad := errs.FieldErrors{}
	f := Filter{Kinds: Kinds, Category: q.Category, Precision: DefaultPrecision}
	m := Map{Kind: q.Kind, Category: q.Category, ByRegion: q.By == "region"}
	switch q.Kind {
	case "":
	case "incident", "dispute":
		f.Kinds = []string{q.Kind}
	default:
		bad.Add("kind", "incident or dispute")
	}
	switch {
	case q.By != "" && q.By != "region":
		bad.Add("by", "region, or leave it out for geohash cells")
	case q.By == "region" && q.Precision != "":
		bad.Add("precision", "not with by=region: a map by region has no cells")
	case q.Precision != "":
		n, err := strconv.Atoi(q.Precision)
		if err != nil || n < MinPrecision || n > MaxPrecision || strconv.Itoa(n) != q.Precision {
			bad.Add("precision", fmt.Sprintf("a whole number from %d to %d (geohash characters)", MinPrecision, MaxPrecision))
		}
		f.Precision = n
	}
	period, err := report.ParsePeriod(q.From, q.To, s.loc, s.now())
	var fe errs.FieldErrors
	if errors.As(err, &fe) {
		for k, v := range fe.Fields() {
			bad.Add(k, v)
		}
	} else if err != nil {
		return f, m, err
	}
	if q.Category != "" && bad["kind"] == "" {
		kinds, err := s.categoryKinds(ctx, q.Category, f.Kinds)
		switch {
		case err != nil:
			return f, m, err
		case len(kinds) == 0:
			bad.Add("category", s.categoryForm(q.Kind))
		}
		f.Kinds = kinds
	}
	if err := bad.Err(); err != nil {
		return f, m, err
	}
	f.Start, f.End = period.Start, period.End
	m.From, m.To = period.From, period.To
	if !m.ByRegion {
		m.Precision = f.Precision
	}
	return f, m, nil
}

// categoryKinds gives the kinds among kinds that have a category with the
// code: the tables worth reading ("other" is a code of both kinds).
func (s *Service) categoryKinds(ctx context.Context, code string, kinds []string) ([]string, error) {
	all, err := s.categories.FindCategories(ctx, "")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, k := range kinds {
		if slices.ContainsFunc(all, func(c category.Category) bool { return c.Code == code && string(c.Kind) == k }) {
			out = append(out, k)
		}
	}
	return out, nil
}

// categoryForm is the form a category is expected in.
func (s *Service) categoryForm(kind string) string {
	if kind != "" {
		return "the code of a " + kind + " category (GET /api/v1/categories?kind=" + kind + ")"
	}
	return "the code of a category (GET /api/v1/categories)"
}

// byRegion counts f's cases per community in its scope.
func (s *Service) byRegion(ctx context.Context, f Filter, m Map) (Map, error) {
	communities, err := s.store.FindCommunities(ctx, f.Scope)
	if err != nil {
		return Map{}, err
	}
	counts, err := s.store.CountCommunities(ctx, f)
	if err != nil {
		return Map{}, err
	}
	by := map[string]int{}
	for _, c := range counts {
		by[c.Key] += c.N
		m.Total += c.N
	}
	m.Unlisted = m.Total
	m.Communities = make([]Community, len(communities))
	for i, r := range communities {
		c := Community{Code: r.Code, Name: r.Name, Count: by[r.Code], Population: r.Population, Boundary: r.Boundary}
		if r.Population > 0 {
			rate := float64(c.Count) / float64(r.Population) * 10_000
			c.RatePer10k = &rate
		}
		m.Unlisted -= c.Count
		m.Communities[i] = c
	}
	return m, nil
}

// Merge applies the small-cell rule to the counts of cells of one
// precision p (the key "" counting the cases without a location): a cell
// with at least min cases is shown; the cells with fewer are merged into
// their parent (precision p−1), which is shown with their sum when it
// reaches min — so a parent's count is of its cases outside its children
// that are shown — and otherwise dropped and counted in suppressed. One
// level only: a parent is never merged further. Parents come first, then
// the cells of precision p, each by geohash, so that a map drawing in order
// paints the finer cells over the coarser.
func Merge(counts []Count, min int) (cells []Cell, suppressed, unlocated int) {
	parents := map[string]int{}
	var fine []Cell
	for _, c := range counts {
		switch {
		case c.N <= 0:
		case c.Key == "":
			unlocated += c.N
		case c.N >= min:
			fine = append(fine, Cell{Geohash: c.Key, Count: c.N})
		default:
			parents[c.Key[:len(c.Key)-1]] += c.N
		}
	}
	for g, n := range parents {
		if n >= min {
			cells = append(cells, Cell{Geohash: g, Count: n})
		} else {
			suppressed += n
		}
	}
	byHash := func(a, b Cell) int { return strings.Compare(a.Geohash, b.Geohash) }
	slices.SortFunc(cells, byHash)
	slices.SortFunc(fine, byHash)
	return append(cells, fine...), suppressed, unlocated
}
