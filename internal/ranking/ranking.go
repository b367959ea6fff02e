// Package ranking computes and keeps the Ping'an index (SPEC §9.6): for a
// day or month it gathers every indicator's values for each county,
// township and community — auto values from the platform's cases, manual
// ones from department data — scores them with internal/index, and stores
// the results, so that reads never recompute. Jobs say which periods to
// compute; a lease in the database makes exactly one instance run each.
package ranking

import (
	"context"
	"time"

	"pingan/internal/index"
	"pingan/internal/indicator"
	"pingan/internal/region"
)

// Levels are the levels ranked, top down.
var Levels = []region.Level{region.County, region.Township, region.Community}

// Aggregate is one community's numerator and denominator of an auto
// indicator for a period; upper levels add them up.
type Aggregate struct {
	CommunityCode, TownshipCode, CountyCode string
	Num, Den                                float64
}

// CategoryCount is how many cases of a category occurred in a community.
type CategoryCount struct {
	Aggregate
	Category string
}

// StoredValue is an indicator's value x for a region in a period, as the
// period's computation used it.
type StoredValue struct {
	Period     string
	Indicator  string
	Level      region.Level
	RegionCode string
	Value      float64
}

// Row is one region's stored result for a level and period.
type Row struct {
	Level      region.Level
	PeriodKind string
	Period     string
	RegionCode string
	ParentCode string
	Score      float64
	Rank       int // among the level's peers in the city; 0 when not scored
	Band       index.Band
	Complete   bool
	Detail     Detail
	ComputedAt time.Time
}

// Detail is what a stored result keeps beside its score: every
// intermediate (SPEC §9.4), and the codes of the indicators in its order.
type Detail struct {
	Codes []string
	Score index.RegionScore
}

// Job is a period to compute.
type Job struct {
	ID          string
	PeriodKind  string
	Period      string
	Status      string // pending, running, done, failed
	Reason      string // schedule, late_data, request, backfill
	RequestedBy string
	Owner       string
	LeaseUntil  *time.Time
	Attempts    int
	Error       string
	CreatedAt   time.Time
	FinishedAt  *time.Time
}

// Job states.
const (
	Pending = "pending"
	Running = "running"
	Done    = "done"
	Failed  = "failed"
)

// Backfill is the reason of the jobs that compute the past periods of a
// history with no results (SPEC §9.6). They run after every other pending
// job, oldest period first.
const Backfill = "backfill"

// Store persists results and jobs and reads what computing needs.
// Implemented in internal/store.
type Store interface {
	// Aggregates computes an auto indicator's per-community figures for
	// [from, to) from the case facts, as of now (SPEC §4.3, §9.2).
	Aggregates(ctx context.Context, ind indicator.Indicator, from, to, now time.Time) ([]Aggregate, error)
	// CountsByCategory counts the cases of a kind ("incident" or "dispute")
	// that occurred in [from, to), per community and category.
	CountsByCategory(ctx context.Context, caseKind string, from, to time.Time) ([]CategoryCount, error)
	// SaveValues replaces the stored values x of a period (every level and indicator).
	SaveValues(ctx context.Context, kind, period string, vs []StoredValue) error
	// FindStoredValues lists the stored values of the periods.
	FindStoredValues(ctx context.Context, kind string, periods []string) ([]StoredValue, error)
	// ReplaceResults swaps the stored results of a level and period for rows, in one transaction.
	ReplaceResults(ctx context.Context, level region.Level, kind, period string, rows []Row) error
	// FindResults lists the results of a level and period, by rank, with
	// the Detail of the regions detailed accepts (nil: of none): details
	// are large, and a reader shows only its subtree. Returns an error if
	// a stored detail cannot be read.
	FindResults(ctx context.Context, level region.Level, kind, period string,
		detailed func(regionCode string) bool) ([]Row, error)
	// FindSeries lists a region's results of a kind with from ≤ period ≤ to,
	// by period, without their Detail.
	FindSeries(ctx context.Context, regionCode, kind, from, to string) ([]Row, error)
	// QueueJob adds a pending job unless one other than a Backfill job is
	// pending for the period already; returns the job that stands for it.
	QueueJob(ctx context.Context, j Job) (Job, error)
	// CreateJob inserts a job; errs.ErrConflict when its id exists.
	CreateJob(ctx context.Context, j Job) error
	// AddJobs inserts the jobs whose ids do not exist yet, in one
	// transaction, and returns how many it inserted.
	AddJobs(ctx context.Context, jobs []Job) (int, error)
	// ClaimJob takes a pending job, or a running one whose lease lapsed,
	// for owner until the time: the oldest other than Backfill jobs first,
	// then the Backfill job of the oldest period. ok is false when there is
	// none. One indexed read when there is none, so that it can be polled.
	ClaimJob(ctx context.Context, owner string, now, until time.Time) (Job, bool, error)
	// FinishJob records the end of a job owner holds; errs.ErrConflict when
	// owner no longer holds it.
	FinishJob(ctx context.Context, id, owner, status, errText string, at time.Time) error
	// ReleaseJob puts a job owner holds back in the queue (pending), for
	// an instance that stops before it finishes; errs.ErrConflict when
	// owner no longer holds it.
	ReleaseJob(ctx context.Context, id, owner string) error
	// CountJobs counts the jobs of a reason: all of them, and those
	// finished (done or failed).
	CountJobs(ctx context.Context, reason string) (total, finished int, err error)
	// HasFinishedJob reports whether a job of the period finished done at
	// or after since.
	HasFinishedJob(ctx context.Context, kind, period string, since time.Time) (bool, error)
	// ActivePeriods lists the periods of a kind that have a pending or
	// running job.
	ActivePeriods(ctx context.Context, kind string) ([]string, error)
	// ComputedPeriods lists the periods of a kind that have results (at the
	// top level, Levels[0]).
	ComputedPeriods(ctx context.Context, kind string) ([]string, error)
	// FirstCaseAt is when the earliest incident or dispute occurred; ok is
	// false when there is none.
	FirstCaseAt(ctx context.Context) (at time.Time, ok bool, err error)
	// FindJob returns errs.ErrNotFound if there is none.
	FindJob(ctx context.Context, id string) (Job, error)
	// FindActiveJob returns the period's newest pending or running job;
	// errs.ErrNotFound if it has none.
	FindActiveJob(ctx context.Context, kind, period string) (Job, error)
}
