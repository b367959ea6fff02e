package ranking

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/google/uuid"

	"pingan/internal/access"
	"pingan/internal/audit"
	"pingan/internal/errs"
	"pingan/internal/index"
	"pingan/internal/indicator"
	"pingan/internal/region"
)

// Regions lists the regions of a level, with populations.
type Regions interface {
	region.Store
	FindRegionsAt(ctx context.Context, level region.Level) ([]region.Region, error)
}

// Service computes, stores and reads the index.
type Service struct {
	store      Store
	indicators indicator.Store
	regions    Regions
	log        audit.Log
	loc        *time.Location
	now        func() time.Time
	logger     *slog.Logger
	owner      string // this instance, for job leases
}

// NewService builds the service.
func NewService(store Store, indicators indicator.Store, regions Regions, log audit.Log, loc *time.Location,
	now func() time.Time, logger *slog.Logger) *Service {
	return &Service{store: store, indicators: indicators, regions: regions, log: log, loc: loc, now: now, logger: logger,
		owner: uuid.Must(uuid.NewV7()).String()}
}

// Location is the city's time zone, in which periods are local days and months.
func (s *Service) Location() *time.Location { return s.loc }

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
				Mapping: index.Mapping(ind.Mapping), Step: ind.Step, MissingIsZero: ind.Source == indicator.Auto && counts(ind.Method)})
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
			detail, _ := json.Marshal(Detail{Codes: codes, Score: rs})
			rows[r] = Row{Level: level, PeriodKind: kind, Period: period, RegionCode: reg.Code, ParentCode: reg.ParentCode,
				Score: rs.Score, Rank: rs.Rank, Band: rs.Band, Complete: rs.Complete, Detail: string(detail), ComputedAt: now}
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
			} else if aggs, err = s.store.Aggregates(ctx, ind, from, to); err != nil {
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

// QueueRecompute asks for the period to be computed again (late data, a
// request), in the context's transaction. A pending job for the period
// already covers it.
func (s *Service) QueueRecompute(ctx context.Context, kind, period, reason string) error {
	_, err := s.queue(ctx, kind, period, reason, "")
	return err
}

func (s *Service) queue(ctx context.Context, kind, period, reason, by string) (Job, error) {
	return s.store.QueueJob(ctx, Job{ID: uuid.Must(uuid.NewV7()).String(), PeriodKind: kind, Period: period, Status: Pending,
		Reason: reason, RequestedBy: by, CreatedAt: s.now()})
}

// QueueLate queues the recomputation of the day and month that hold t when
// they have passed (a report sent late from an offline phone), in the
// context's transaction.
func (s *Service) QueueLate(ctx context.Context, t time.Time) error {
	now := s.now()
	for _, kind := range []string{indicator.Day, indicator.Month} {
		p := indicator.PeriodOf(kind, t, s.loc)
		if p == indicator.PeriodOf(kind, now, s.loc) {
			continue // the current period is computed after it ends
		}
		if err := s.QueueRecompute(ctx, kind, p, "late_data"); err != nil {
			return err
		}
	}
	return nil
}

// RequestRecompute queues a period for an admin (POST /index/recompute):
// the answer is the job, at once. Returns errs.FieldErrors for a bad period.
func (s *Service) RequestRecompute(ctx context.Context, p access.Principal, period string) (Job, error) {
	if p.Role != access.Admin {
		return Job{}, fmt.Errorf("admins recompute the index: %w", errs.ErrForbidden)
	}
	kind, start, err := indicator.ParsePeriod(period, s.loc)
	if err != nil {
		return Job{}, errs.Invalid("period", "a month (2026-10) or a day (2026-10-15)")
	}
	if !start.Before(s.now()) {
		return Job{}, errs.Invalid("period", "has not begun yet")
	}
	var j Job
	err = s.log.InTx(ctx, func(ctx context.Context) error {
		var err error
		if j, err = s.queue(ctx, kind, period, "request", p.UserID); err != nil {
			return err
		}
		return s.log.AppendAudit(ctx, audit.New(ctx, p, s.now(), "index.recompute", "index_job", j.ID, `{"period":"`+period+`"}`))
	})
	return j, err
}

// Job returns a job for admins.
func (s *Service) Job(ctx context.Context, p access.Principal, id string) (Job, error) {
	if p.Role != access.Admin {
		return Job{}, fmt.Errorf("admins follow index jobs: %w", errs.ErrForbidden)
	}
	if _, err := uuid.Parse(id); err != nil {
		return Job{}, fmt.Errorf("job %q: %w", id, errs.ErrNotFound)
	}
	return s.store.FindJob(ctx, id)
}

// scheduleSpace names the ids of scheduled jobs.
var scheduleSpace = uuid.MustParse("6f1d3a52-27a4-4c43-9d0e-5b1f8f3a9e11")

// JobLease is how long a claimed job is this instance's before another may
// take it over (the instance died).
const JobLease = 5 * time.Minute

// Tick is the scheduler's step, run every minute by every instance: it
// queues the daily index of yesterday and the day before and the monthly
// index of the last two months, once each,
// then runs the pending jobs it can claim. The claim is a conditional
// UPDATE, so each job runs on exactly one instance.
func (s *Service) Tick(ctx context.Context) error {
	now := s.now().In(s.loc)
	today := indicator.PeriodOf(indicator.Day, now, s.loc)
	month := indicator.PeriodOf(indicator.Month, now, s.loc)
	// The last two of each, so that the latest also shows its change.
	var due [][2]string
	for n := 2; n >= 1; n-- {
		due = append(due, [2]string{indicator.Day, indicator.Shift(indicator.Day, today, -n, s.loc)},
			[2]string{indicator.Month, indicator.Shift(indicator.Month, month, -n, s.loc)})
	}
	for _, kp := range due {
		// One id per scheduled period: instances ticking at once insert it once.
		id := uuid.NewSHA1(scheduleSpace, []byte(kp[0]+"/"+kp[1])).String()
		err := s.store.CreateJob(ctx, Job{ID: id, PeriodKind: kp[0], Period: kp[1], Status: Pending, Reason: "schedule", CreatedAt: now})
		if err != nil && !errors.Is(err, errs.ErrConflict) {
			return err
		}
	}
	return s.RunPending(ctx)
}

// RunPending runs jobs until none is left to claim.
func (s *Service) RunPending(ctx context.Context) error {
	for ctx.Err() == nil {
		now := s.now()
		j, ok, err := s.store.ClaimJob(ctx, s.owner, now, now.Add(JobLease))
		if err != nil || !ok {
			return err
		}
		start := time.Now()
		status, text := Done, ""
		if err := s.Compute(ctx, j.Period); err != nil {
			status, text = Failed, err.Error()
			if len(text) > 500 {
				text = text[:500]
			}
			s.logger.Warn("index job failed", slog.String("job", j.ID), slog.String("period", j.Period), slog.String("error", text))
		} else {
			s.logger.Info("index computed", slog.String("job", j.ID), slog.String("period", j.Period),
				slog.Float64("ms", float64(time.Since(start).Microseconds())/1000))
		}
		if err := s.store.FinishJob(ctx, j.ID, s.owner, status, text, s.now()); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// Detail is what a stored result keeps beside its score: every
// intermediate (SPEC §9.4), and the codes of the indicators in its order.
type Detail struct {
	Codes []string          `json:"codes"`
	Score index.RegionScore `json:"score"`
}

// Item is one region in a rankings list.
type Item struct {
	Row
	Region       region.Region
	RankInParent int
	Detail       Detail
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
	scope := p.RegionPath
	if parent != "" {
		r, err := s.regions.FindRegionByCode(ctx, parent)
		if err != nil || !p.Covers(r.Path) {
			return nil, fmt.Errorf("region %s is outside your scope: %w", parent, errs.ErrForbidden)
		}
		scope = r.Path
	}
	rows, err := s.store.FindResults(ctx, level, kind, period)
	if err != nil {
		return nil, err
	}
	prev, err := s.store.FindResults(ctx, level, kind, indicator.Shift(kind, period, -1, s.loc))
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
		reg, err := s.regions.FindRegionByCode(ctx, r.RegionCode)
		if err != nil {
			continue
		}
		if !p.Covers(reg.Path) || len(reg.Path) < len(scope) || reg.Path[:len(scope)] != scope {
			continue
		}
		it := Item{Row: r, Region: reg, RankInParent: inParent[r.RegionCode]}
		if err := json.Unmarshal([]byte(r.Detail), &it.Detail); err != nil {
			return nil, fmt.Errorf("result of %s: %v", r.RegionCode, err)
		}
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
	r, err := s.regions.FindRegionByCode(ctx, code)
	if errors.Is(err, errs.ErrNotFound) || (err == nil && !p.Covers(r.Path)) {
		return nil, fmt.Errorf("region %s is outside your scope: %w", code, errs.ErrForbidden)
	} else if err != nil {
		return nil, err
	}
	return s.store.FindSeries(ctx, code, kind, from, to)
}
