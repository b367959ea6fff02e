package dispute

import (
	"context"
	"time"

	"pingan/internal/audit"
	"pingan/internal/category"
	"pingan/internal/deps"
	"pingan/internal/intake"
	"pingan/internal/ranking"
	"pingan/internal/region"
	"pingan/internal/user"
)

// Limits on what a dispute and its actions may carry.
const (
	MaxText    = intake.MaxText
	MaxPhotos  = intake.MaxPhotos
	MaxParties = 20
	// MaxAmount bounds money in fen (10 billion yuan).
	MaxAmount = 1_000_000_000_000
)

// Photos attaches uploaded photos to a case (the store).
type Photos interface {
	AttachPhotos(ctx context.Context, caseKind, caseID, uploaderID string, photoIDs []string) error
}

// KindNewCase is the kind of the notice that a new dispute waits in a
// mediator's queue (SPEC §7).
const KindNewCase = "new_case"

// Notice is a notification for one user about a dispute (SPEC §7).
type Notice struct {
	UserID, Kind, CaseID, CaseNo, Title, DedupeKey string
}

// Index is told of disputes that occurred in a period already computed (a
// late offline report), so that the index and early warning count them
// (ranking.Service).
type Index interface {
	// LateJobs returns the recomputations a case that occurred at t,
	// reported now, needs.
	LateJobs(t time.Time) []ranking.Job
	// QueueJobs queues jobs in the context's transaction.
	QueueJobs(ctx context.Context, jobs []ranking.Job) error
}

// Notifier writes notices in the context's transaction.
type Notifier interface {
	NotifyDisputes(ctx context.Context, ns []Notice) error
}

// Hasher is the keyed hash of phone numbers, for exact search.
type Hasher interface {
	Hash(plain string) string
}

// Service holds the mediation rules.
type Service struct {
	store      Store
	regions    region.Store
	places     *intake.Places
	categories category.Store
	users      user.Store
	photos     Photos
	log        audit.Log
	notifier   Notifier
	index      Index
	hasher     Hasher
	deadlines  Deadlines
	loc        *time.Location
	now        func() time.Time
}

// NewService builds the service. Every dependency is a parameter, so that
// leaving one out does not compile, and is required: a nil one (or
// deadlines without their tables) panics, naming it.
func NewService(store Store, regions region.Store, places *intake.Places, categories category.Store, users user.Store,
	photos Photos, log audit.Log, notifier Notifier, index Index, hasher Hasher, deadlines Deadlines, loc *time.Location,
	now func() time.Time) *Service {
	deps.Require("dispute.NewService", "store", store, "regions", regions, "places", places, "categories", categories,
		"users", users, "photos", photos, "log", log, "notifier", notifier, "index", index, "hasher", hasher,
		"deadlines", deadlines.Accept, "deadlines", deadlines.Resolve, "loc", loc, "now", now)
	return &Service{store: store, regions: regions, places: places, categories: categories, users: users, photos: photos,
		log: log, notifier: notifier, index: index, hasher: hasher, deadlines: deadlines, loc: loc, now: now}
}

// fields lists which of Act's fields each action takes (besides Action).
var fields = map[string][]string{
	"accept":         {"assignee_id", "note"},
	"start":          {"note"},
	"record_session": {"held_at", "method", "attendees", "notes", "photo_ids"},
	"resolve":        {"agreement", "photo_ids", "amount_settled"},
	"fail":           {"reason"},
	"escalate":       {"reason"},
	"refer":          {"to", "note"},
	"follow_up":      {"satisfaction", "note"},
	"close":          {"note"},
	"reopen":         {"reason"},
}

var levelName = map[Level]string{region.Community: "社区", region.Township: "镇街", region.County: "县区", region.City: "市级"}

// DueSoon is how long before its deadline a case raises a "due soon" notice.
const DueSoon = 2 * time.Hour
