package ranking

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"pingan/internal/audit"
	"pingan/internal/deps"
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
	owner      string          // this instance, for job leases
	wake       chan struct{}   // a job was queued here: run it now (Run)
	tasks      map[string]Task // other jobs the runner runs, by kind (NewService)
}

// NewService builds the service; its runner also runs the jobs of tasks
// (Task). Every dependency is required; a nil one panics, naming it, and so
// does a task without a kind of its own or Run.
func NewService(store Store, indicators indicator.Store, regions Regions, log audit.Log, loc *time.Location,
	now func() time.Time, logger *slog.Logger, tasks ...Task) *Service {
	deps.Require("ranking.NewService", "store", store, "indicators", indicators, "regions", regions, "log", log, "loc", loc,
		"now", now, "logger", logger)
	s := &Service{store: store, indicators: indicators, regions: regions, log: log, loc: loc, now: now, logger: logger,
		owner: uuid.Must(uuid.NewV7()).String(), wake: make(chan struct{}, 1),
		tasks: map[string]Task{}}
	for _, t := range tasks {
		s.addTask(t)
	}
	return s
}

// Location is the city's time zone, in which periods are local days and months.
func (s *Service) Location() *time.Location { return s.loc }

// scheduleSpace names the ids of scheduled jobs, backfillSpace those of
// the backfill's: one id per period, so that instances queueing at once
// insert each once.
var (
	scheduleSpace = uuid.MustParse("6f1d3a52-27a4-4c43-9d0e-5b1f8f3a9e11")
	backfillSpace = uuid.MustParse("2c7b9e04-5d1a-4f6e-8a3b-91d0c4e7f258")
)

// The runner's timing (SPEC §9.6).
const (
	// JobLease is how long a claimed job is this instance's before another
	// may take it over (the instance died).
	JobLease = 5 * time.Minute
	// PollEvery is how often Run looks for queued jobs: a job queued by
	// another instance (or a report's late job) starts within about this.
	PollEvery = time.Second
	// QueueEvery is how often Run queues the scheduled periods and the
	// backfill; FirstQueue is how long after it starts it does so first.
	QueueEvery = time.Minute
	FirstQueue = 5 * time.Second
	// BackfillYears bounds how far back the backfill reaches, whatever the
	// date of the earliest case (a bulk load with a mistyped year must not
	// queue centuries of days).
	BackfillYears = 10
)
