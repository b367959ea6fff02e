package indicator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"pingan/internal/access"
	"pingan/internal/audit"
	"pingan/internal/category"
	"pingan/internal/deps"
	"pingan/internal/errs"
	"pingan/internal/region"
	"pingan/internal/text"
)

// MaxBatch bounds one batch or import of values.
const MaxBatch = 5000

// MaxFilterCategories bounds the categories an auto indicator counts.
const MaxFilterCategories = 50

// Categories finds a case category by kind and code (category.Store
// satisfies it).
type Categories interface {
	// FindCategory returns errs.ErrNotFound if there is none.
	FindCategory(ctx context.Context, kind category.Kind, code string) (category.Category, error)
}

// Recomputer queues the recomputation of a period after late data, in the
// context's transaction (the index jobs).
type Recomputer interface {
	QueueRecompute(ctx context.Context, periodKind, period, reason string) error
}

// Service holds the indicator rules.
type Service struct {
	store      Store
	accounts   AccountStore
	regions    region.Store
	categories Categories
	log        audit.Log
	jobs       Recomputer
	loc        *time.Location
	now        func() time.Time
}

// NewService builds the service. Every dependency is required; a nil one
// panics, naming it.
func NewService(store Store, accounts AccountStore, regions region.Store, categories Categories, log audit.Log, jobs Recomputer,
	loc *time.Location, now func() time.Time) *Service {
	deps.Require("indicator.NewService", "store", store, "accounts", accounts, "regions", regions, "categories", categories,
		"log", log, "jobs", jobs, "loc", loc, "now", now)
	return &Service{store: store, accounts: accounts, regions: regions, categories: categories, log: log, jobs: jobs, loc: loc,
		now: now}
}

// LoadDefaults writes the default indicators that do not exist yet.
func LoadDefaults(ctx context.Context, store Store, now time.Time) error {
	have, err := store.FindIndicators(ctx)
	if err != nil {
		return err
	}
	for _, d := range Defaults() {
		if slices.ContainsFunc(have, func(i Indicator) bool { return i.Code == d.Code }) {
			continue
		}
		d.UpdatedAt = now
		if err := store.CreateIndicator(ctx, d); err != nil && !errors.Is(err, errs.ErrConflict) {
			return fmt.Errorf("default indicator %s: %w", d.Code, err)
		}
	}
	return nil
}

// Indicators lists every indicator.
func (s *Service) Indicators(ctx context.Context) ([]Indicator, error) {
	return s.store.FindIndicators(ctx)
}

// Indicator returns one indicator or errs.ErrNotFound.
func (s *Service) Indicator(ctx context.Context, code string) (Indicator, error) {
	return s.store.FindIndicator(ctx, code)
}

// Check validates an indicator's definition, all but whether its filter's
// categories exist (which the Service looks up).
func Check(i Indicator) error {
	bad := errs.FieldErrors{}
	check(i, bad)
	return bad.Err()
}

func check(i Indicator, bad errs.FieldErrors) {
	if !codeRE.MatchString(i.Code) {
		bad.Add("code", "2–64 lower-case letters, digits and underscores, starting with a letter")
	}
	if n := utf8.RuneCountInString(i.NameZH); n == 0 || n > 100 || !text.Clean(i.NameZH, false) {
		bad.Add("name_zh", "1–100 characters")
	}
	if utf8.RuneCountInString(i.NameEN) > 100 || !text.Clean(i.NameEN, false) {
		bad.Add("name_en", "at most 100 characters")
	}
	if i.Direction != Negative && i.Direction != Positive {
		bad.Add("direction", "negative or positive")
	}
	if math.IsNaN(i.Weight) || i.Weight < 0 || i.Weight > 100 {
		bad.Add("weight", "from 0 to 100")
	}
	if len(i.Periods) == 0 || slices.ContainsFunc(i.Periods, func(p string) bool { return p != Day && p != Month }) {
		bad.Add("periods", "day, month or both")
	}
	if len(i.Levels) == 0 || slices.ContainsFunc(i.Levels, func(l string) bool { return l != "county" && l != "township" && l != "community" }) {
		bad.Add("levels", "county, township, community")
	}
	switch i.Source {
	case Auto:
		if !slices.Contains(Methods, i.Method) {
			bad.Add("method", "one of "+strings.Join(Methods, ", "))
		}
		if i.Filter.Case != "incident" && i.Filter.Case != "dispute" {
			bad.Add("filter.case", "incident or dispute")
		}
		if i.Method != Count && i.Method != ResolutionRate && i.Method != MeanDaysToResolve && i.Filter.Case != "dispute" {
			bad.Add("filter.case", "this method applies to disputes")
		}
		if n := len(i.Filter.Categories); n > MaxFilterCategories {
			bad.Add("filter.categories", fmt.Sprintf("at most %d category codes (none: every category)", MaxFilterCategories))
		}
	case Manual:
		if i.Method != "" {
			bad.Add("method", "manual indicators have none")
		}
	default:
		bad.Add("source", "auto or manual")
	}
	if i.Smoothing != "" && i.Smoothing != "eb" && i.Smoothing != "none" {
		bad.Add("smoothing", "eb or none")
	}
	if i.Window < 1 || i.Window > 36 {
		bad.Add("window", "from 1 to 36 periods")
	}
	if math.IsNaN(i.Alpha) || i.Alpha < 0 || i.Alpha > 1 {
		bad.Add("alpha", "from 0 to 1")
	}
	if math.IsNaN(i.Floor) || i.Floor < 0 || i.Floor >= 100 {
		bad.Add("floor", "from 0 up to, not including, 100")
	}
	if math.IsNaN(i.Tolerance) || math.IsInf(i.Tolerance, 0) || i.Tolerance < 0 {
		bad.Add("tolerance", "a finite number ≥ 0")
	}
	switch i.Mapping {
	case "linear":
	case "step":
		if math.IsNaN(i.Step) || i.Step <= 0 || i.Step > 100 {
			bad.Add("step", "above 0, at most 100")
		}
	default:
		bad.Add("mapping", "linear or step")
	}
}

// checkFilter adds to bad each category of an auto indicator's filter that
// is not a category of the filter's case kind, or named twice. Its length
// is checked first (check), and it is looked up only when within it.
func (s *Service) checkFilter(ctx context.Context, i Indicator, bad errs.FieldErrors) error {
	f := i.Filter
	if i.Source != Auto || (f.Case != "incident" && f.Case != "dispute") || len(f.Categories) > MaxFilterCategories {
		return nil
	}
	for n, code := range f.Categories {
		field := fmt.Sprintf("filter.categories[%d]", n)
		if slices.Contains(f.Categories[:n], code) {
			bad.Add(field, "named twice")
			continue
		}
		_, err := s.categories.FindCategory(ctx, category.Kind(f.Case), code)
		switch {
		case errors.Is(err, errs.ErrNotFound):
			bad.Add(field, fmt.Sprintf("not a known %s category code", f.Case))
		case err != nil:
			return err
		}
	}
	return nil
}

// CreateIndicator adds an indicator (admins). Returns errs.FieldErrors and
// errs.ErrConflict.
func (s *Service) CreateIndicator(ctx context.Context, p access.Principal, i Indicator) (Indicator, error) {
	if err := checkAdmin(p); err != nil {
		return Indicator{}, err
	}
	i.Version, i.UpdatedAt = 1, s.now()
	bad := errs.FieldErrors{}
	check(i, bad)
	if err := s.checkFilter(ctx, i, bad); err != nil {
		return Indicator{}, err
	}
	if err := bad.Err(); err != nil {
		return Indicator{}, err
	}
	err := s.log.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.CreateIndicator(ctx, i); err != nil {
			return err
		}
		b, _ := json.Marshal(map[string]any{"weight": i.Weight, "direction": i.Direction, "source": i.Source})
		return s.log.AppendAudit(ctx, audit.New(ctx, p, i.UpdatedAt, "indicator.create", "indicator", i.Code, string(b)))
	})
	return i, err
}

// UpdateIndicator applies change to the indicator at version (admins).
// Returns errs.ErrPrecondition for a stale version.
func (s *Service) UpdateIndicator(ctx context.Context, p access.Principal, code string, version int, change func(*Indicator)) (Indicator, error) {
	if err := checkAdmin(p); err != nil {
		return Indicator{}, err
	}
	old, err := s.store.FindIndicator(ctx, code)
	if err != nil {
		return Indicator{}, err
	}
	if old.Version != version {
		return Indicator{}, fmt.Errorf("indicator %s is at version %d: %w", code, old.Version, errs.ErrPrecondition)
	}
	i := old
	change(&i)
	i.Code, i.Version, i.UpdatedAt = old.Code, old.Version+1, s.now()
	bad := errs.FieldErrors{}
	check(i, bad)
	// A filter is looked up when it changes: an unchanged one stands as
	// it was accepted.
	if i.Filter.Case != old.Filter.Case || !slices.Equal(i.Filter.Categories, old.Filter.Categories) {
		if err := s.checkFilter(ctx, i, bad); err != nil {
			return Indicator{}, err
		}
	}
	if err := bad.Err(); err != nil {
		return Indicator{}, err
	}
	err = s.log.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.UpdateIndicator(ctx, i, version); err != nil {
			return err
		}
		b, _ := json.Marshal(map[string]any{"old": map[string]any{"weight": old.Weight, "active": old.Active, "mapping": old.Mapping,
			"alpha": old.Alpha, "window": old.Window, "floor": old.Floor, "tolerance": old.Tolerance},
			"new": map[string]any{"weight": i.Weight, "active": i.Active, "mapping": i.Mapping, "alpha": i.Alpha,
				"window": i.Window, "floor": i.Floor, "tolerance": i.Tolerance}})
		return s.log.AppendAudit(ctx, audit.New(ctx, p, i.UpdatedAt, "indicator.update", "indicator", i.Code, string(b)))
	})
	return i, err
}

func checkAdmin(p access.Principal) error {
	if p.Role != access.Admin || !p.CityWide() {
		return fmt.Errorf("only a city-wide admin changes indicators: %w", errs.ErrForbidden)
	}
	return nil
}

// Entry is one value as entered, before checks.
type Entry struct {
	Row        int // the file's row (1 is the header), for imports
	Indicator  string
	RegionCode string
	Period     string
	Value      *float64
	Note       string
}

// Enter checks every entry and, only when all are good, upserts them in
// one transaction with an audit record each (holding the old value) and
// queues the recomputation of their periods. p must be a supervisor or admin
// whose subtree holds each region. Returns errs.FieldErrors naming every
// bad entry as "<prefix><n>.<field>" (prefix "items[" and "]" for a batch,
// "row " for an import), and the values written.
func (s *Service) Enter(ctx context.Context, p access.Principal, entries []Entry, name func(i int) string) ([]Value, error) {
	if !p.Is(access.Supervisor, access.Admin, access.Department) {
		return nil, fmt.Errorf("department data is entered by supervisors, admins and departments' service accounts: %w", errs.ErrForbidden)
	}
	if len(entries) == 0 || len(entries) > MaxBatch {
		return nil, errs.Invalid("items", fmt.Sprintf("from 1 to %d values", MaxBatch))
	}
	inds, err := s.store.FindIndicators(ctx)
	if err != nil {
		return nil, err
	}
	byCode := map[string]Indicator{}
	for _, i := range inds {
		byCode[i.Code] = i
	}
	now := s.now()
	bad := errs.FieldErrors{}
	out := make([]Value, 0, len(entries))
	seen := map[[3]string]int{}
	// Each region is looked up once, and the checks stop once more problems
	// are found than an answer names: a refused batch costs little.
	type found struct {
		r   region.Region
		err error
	}
	regions := map[string]found{}
	type period struct {
		kind string
		err  error
	}
	periods := map[string]period{}
	for n, e := range entries {
		if bad.More() {
			break
		}
		f := name(n)
		ind, ok := byCode[e.Indicator]
		switch {
		case !ok || !ind.Active:
			bad.Add(f+"indicator", "not an active indicator")
		case p.Role == access.Department && !slices.Contains(p.Indicators, e.Indicator):
			bad.Add(f+"indicator", "not one this service account may enter")
		}
		pk, parsed := periods[e.Period]
		if !parsed {
			pk.kind, _, pk.err = ParsePeriodBy(e.Period, s.loc, now)
			periods[e.Period] = pk
		}
		kind, perr := pk.kind, pk.err
		switch {
		case perr != nil:
			bad.Add(f+"period", perr.Error())
		case ok && !ind.Takes(kind):
			bad.Add(f+"period", fmt.Sprintf("%s is computed for %s periods", ind.Code, strings.Join(ind.Periods, " and ")))
		}
		got, looked := regions[e.RegionCode]
		if !looked && region.ValidCode(e.RegionCode) {
			got.r, got.err = s.regions.FindRegionByCode(ctx, e.RegionCode)
			regions[e.RegionCode] = got
		}
		r, rerr := got.r, got.err
		switch {
		case !region.ValidCode(e.RegionCode) || errors.Is(rerr, errs.ErrNotFound):
			bad.Add(f+"region_code", "not a known region")
		case rerr != nil:
			return nil, rerr
		case !p.Covers(r.Path):
			bad.Add(f+"region_code", "outside your scope")
		case ok && !slices.Contains(ind.Levels, string(r.Level)):
			bad.Add(f+"region_code", fmt.Sprintf("%s is ranked at %s level", ind.Code, strings.Join(ind.Levels, ", ")))
		}
		if e.Value == nil || math.IsNaN(*e.Value) || math.IsInf(*e.Value, 0) || *e.Value < 0 || *e.Value > 1e12 {
			bad.Add(f+"value", "a plain decimal number from 0 to 1000000000000 (e.g. 12 or 3.5)")
		}
		if utf8.RuneCountInString(e.Note) > 500 || !text.Clean(e.Note, true) {
			bad.Add(f+"note", "at most 500 characters")
		}
		key := [3]string{e.Indicator, e.RegionCode, e.Period}
		if m, dup := seen[key]; dup {
			bad.Add(f+"indicator", fmt.Sprintf("the same indicator, region and period as %s", strings.TrimSuffix(name(m), ".")))
		}
		seen[key] = n
		if e.Value != nil {
			out = append(out, Value{Indicator: e.Indicator, RegionCode: e.RegionCode, Period: e.Period, Value: *e.Value,
				Note: strings.TrimSpace(e.Note), EnteredBy: p.UserID, UpdatedAt: now})
		}
	}
	if err := bad.Err(); err != nil {
		return nil, err
	}
	err = s.log.InTx(ctx, func(ctx context.Context) error {
		old, err := s.store.UpsertValues(ctx, out)
		if err != nil {
			return err
		}
		periods := map[[2]string]bool{}
		for n, v := range out {
			var was any
			if old[n] != nil {
				was = old[n].Value
			}
			b, _ := json.Marshal(map[string]any{"indicator": v.Indicator, "region_code": v.RegionCode, "period": v.Period,
				"old": was, "new": v.Value})
			id := v.Indicator + "/" + v.RegionCode + "/" + v.Period
			path, err := s.regions.FindRegionPath(ctx, v.RegionCode)
			if err != nil {
				return err
			}
			if err := s.log.AppendAudit(ctx, audit.New(ctx, p, now, "indicator_value.upsert", "indicator_value", id, string(b)).In(path)); err != nil {
				return err
			}
			kind, _, _ := ParsePeriod(v.Period, s.loc)
			periods[[2]string{kind, v.Period}] = true
		}
		for kp := range periods {
			if err := s.jobs.QueueRecompute(ctx, kp[0], kp[1], "late_data"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
