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
	owner      string // this instance, for job leases
}

// NewService builds the service. Every dependency is required; a nil one
// panics, naming it.
func NewService(store Store, indicators indicator.Store, regions Regions, log audit.Log, loc *time.Location,
	now func() time.Time, logger *slog.Logger) *Service {
	deps.Require("ranking.NewService", "store", store, "indicators", indicators, "regions", regions, "log", log, "loc", loc,
		"now", now, "logger", logger)
	return &Service{store: store, indicators: indicators, regions: regions, log: log, loc: loc, now: now, logger: logger,
		owner: uuid.Must(uuid.NewV7()).String()}
}

// Location is the city's time zone, in which periods are local days and months.
func (s *Service) Location() *time.Location { return s.loc }

// scheduleSpace names the ids of scheduled jobs.
var scheduleSpace = uuid.MustParse("6f1d3a52-27a4-4c43-9d0e-5b1f8f3a9e11")

// JobLease is how long a claimed job is this instance's before another may
// take it over (the instance died).
const JobLease = 5 * time.Minute
