package warning

import (
	"context"
	"log/slog"
	"time"

	"pingan/internal/audit"
	"pingan/internal/category"
	"pingan/internal/deps"
	"pingan/internal/region"
)

// Store keeps warnings and the key-date calendar and reads what detection
// counts. Implemented in internal/store.
type Store interface {
	// InsertWarning writes a new warning; errs.ErrConflict when its Key exists.
	InsertWarning(ctx context.Context, w Warning) error
	// UpdateWarning replaces the stored warning w.ID of version w.Version−1
	// with w; errs.ErrConflict when the stored version is another.
	UpdateWarning(ctx context.Context, w Warning) error
	// FindWarning returns errs.ErrNotFound if there is none.
	FindWarning(ctx context.Context, id string) (Warning, error)
	// LockWarning is FindWarning that, inside a transaction, locks the row.
	LockWarning(ctx context.Context, id string) (Warning, error)
	// FindWarnings lists warnings by f, newest first by (CreatedAt, ID).
	FindWarnings(ctx context.Context, f Filter) ([]Warning, error)
	// FindEpisode returns the warning of kind for a region, case kind and
	// category whose LastDay is since or later and FirstDay until or
	// earlier, the newest, locking its row inside a transaction; ok is
	// false when there is none.
	FindEpisode(ctx context.Context, kind, regionCode, caseKind, category, since, until string) (w Warning, ok bool, err error)
	// FindCategories lists the categories of a kind, for their names.
	FindCategories(ctx context.Context, kind category.Kind) ([]category.Category, error)
	// FindWatchers lists the active supervisors and mediators whose scope
	// holds a region of the given path (the region itself or one above it).
	FindWatchers(ctx context.Context, regionPath string) ([]string, error)

	// CaseCounts counts the cases of a kind that occurred in [from, to)
	// per township and category.
	CaseCounts(ctx context.Context, caseKind string, from, to time.Time) ([]Count, error)
	// BreachedCounts counts the deadlines due in [from, to) that were
	// breached by now (SPEC §4.3), per township.
	BreachedCounts(ctx context.Context, from, to, now time.Time) ([]Count, error)

	// FindKeyDates lists the key-date calendar by name.
	FindKeyDates(ctx context.Context) ([]Event, error)
	// FindKeyDate returns errs.ErrNotFound if there is none.
	FindKeyDate(ctx context.Context, id string) (Event, error)
	// InsertKeyDate writes a new event; errs.ErrConflict when its name is taken.
	InsertKeyDate(ctx context.Context, e Event) error
	// UpdateKeyDate replaces event e.ID of version e.Version−1 with e;
	// errs.ErrConflict when the stored version is another or the name is taken.
	UpdateKeyDate(ctx context.Context, e Event) error
}

// Count is how many cases (or breached deadlines) of a category a township
// had in an interval.
type Count struct {
	CountyCode, TownshipCode string
	Category                 string
	N                        int
}

// Regions finds regions and lists those of a level.
type Regions interface {
	region.Store
	FindRegionsAt(ctx context.Context, level region.Level) ([]region.Region, error)
}

// Index reads the index results that red-band and rank-fall warnings watch
// (ranking.Service).
type Index interface {
	// MonthResults lists every region's monthly result of a level and
	// month, by rank; none when the month was not computed.
	MonthResults(ctx context.Context, level region.Level, month string) ([]Result, error)
}

// Result is one region's index result for a period.
type Result struct {
	RegionCode string
	Score      *float64
	Band       string
	Rank       int // 0 when not scored
}

// Notice is one inbox entry about a warning.
type Notice struct {
	UserID    string
	WarningID string
	Title     string
	DedupeKey string
}

// Notifier writes notices to the inboxes, in the context's transaction.
type Notifier interface {
	NotifyWarnings(ctx context.Context, ns []Notice) error
}

// Settings are the detector's settings (PINGAN_WARNING_*).
type Settings struct {
	EARS Config
	// OverdueCount is the count of breached deadlines in a day at which a
	// township or county is warned.
	OverdueCount int
	// LookBack is how many days before a day's detection its series holds
	// (and a warning keeps); at least the EARS methods' history.
	LookBack int
	// LateDays bounds how far back a late report makes detection run again.
	LateDays int
	// KeyDateAhead is how many days before an event its warning is raised.
	KeyDateAhead int
}

// The detector's rhythm (SPEC §10.3): the day so far is detected every
// SameDayEvery, and each of the last CatchUpDays days once after it closed.
const (
	SameDayEvery = 10 * time.Minute
	CatchUpDays  = 7
)

// DefaultSettings are SPEC §10's.
func DefaultSettings() Settings {
	return Settings{EARS: DefaultConfig(), OverdueCount: 5, LookBack: 28, LateDays: 31, KeyDateAhead: 14}
}

// Service detects, keeps and serves warnings and the key-date calendar.
type Service struct {
	store    Store
	regions  Regions
	index    Index
	notifier Notifier
	log      audit.Log
	set      Settings
	loc      *time.Location
	now      func() time.Time
	logger   *slog.Logger
}

// NewService builds the service. Every dependency is required; a nil one
// panics, naming it.
func NewService(store Store, regions Regions, index Index, notifier Notifier, log audit.Log, set Settings,
	loc *time.Location, now func() time.Time, logger *slog.Logger) *Service {
	deps.Require("warning.NewService", "store", store, "regions", regions, "index", index, "notifier", notifier,
		"log", log, "loc", loc, "now", now, "logger", logger)
	return &Service{store: store, regions: regions, index: index, notifier: notifier, log: log, set: set, loc: loc,
		now: now, logger: logger}
}
