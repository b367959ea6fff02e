package incident

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"pingan/internal/access"
	"pingan/internal/audit"
	"pingan/internal/category"
	"pingan/internal/deps"
	"pingan/internal/errs"
	"pingan/internal/idempotency"
	"pingan/internal/intake"
	"pingan/internal/ranking"
	"pingan/internal/region"
)

// Limits on what a report may carry (the limits shared by both case kinds
// are intake's).
const (
	MaxDescription = intake.MaxText
	MaxPhotos      = intake.MaxPhotos
)

// Photos attaches uploaded photos to a case. Implemented by the store.
type Photos interface {
	// AttachPhotos gives the photos to the case, in the context's
	// transaction. Returns errs.FieldErrors naming photo_ids when a photo is
	// unknown, not the uploader's, or already attached.
	AttachPhotos(ctx context.Context, caseKind, caseID, uploaderID string, photoIDs []string) error
}

// Index says which periods of the Ping'an index a report changes after
// they were computed (ranking.Service).
type Index interface {
	// LateJobs returns the recomputations to queue for a case that happened
	// at t and is reported now: none while t lies in the current day and
	// month, which are computed after they end.
	LateJobs(t time.Time) []ranking.Job
}

// Receipt makes the finished idempotency record of a request that reports
// inc, before inc is written, so that the record is written with it: the
// HTTP layer renders its response there and sends the same bytes once
// CreateIncident has returned.
type Receipt func(inc Incident) (idempotency.Record, error)

// Service holds the incident rules.
type Service struct {
	store      Store
	regions    region.Store
	places     *intake.Places
	categories category.Store
	index      Index
	log        audit.Log
	loc        *time.Location
	now        func() time.Time
}

// NewService builds the service; places checks where a report lies, loc
// is the city's time zone (case numbers carry the local date). Every
// dependency is required: it panics naming one that is nil.
func NewService(store Store, regions region.Store, places *intake.Places, categories category.Store, index Index, log audit.Log,
	loc *time.Location, now func() time.Time) *Service {
	deps.Require("incident.NewService", "store", store, "regions", regions, "places", places, "categories", categories,
		"index", index, "log", log, "loc", loc, "now", now)
	return &Service{store: store, regions: regions, places: places, categories: categories, index: index, log: log, loc: loc,
		now: now}
}

// NewIncident is what a report carries.
type NewIncident struct {
	Category        string
	Severity        Severity
	Description     string
	Location        Location
	OccurredAt      time.Time
	ClientCreatedAt *time.Time
	// RegionCode is the grid; a grid worker may leave it out (their own grid).
	RegionCode string
	PhotoIDs   []string
}

// CreateIncident validates a report and writes it with store.CreateReport:
// the incident, its first event, its photos, its audit entry, the index
// jobs of a late report and, when receipt is not nil, the request's
// idempotency record that receipt makes. It returns once all of it is
// committed. Returns errs.FieldErrors, errs.ErrForbidden when the grid lies
// outside the reporter's subtree, and the errors of CreateReport (a key
// already used, a photo taken, the database unavailable).
func (s *Service) CreateIncident(ctx context.Context, p access.Principal, in NewIncident, receipt Receipt) (Incident, error) {
	now := s.now()
	grid, err := intake.Grid(ctx, s.regions, p, in.RegionCode)
	if err != nil {
		return Incident{}, err
	}
	if err := intake.Join(s.validate(ctx, in, now), s.places.Check(ctx, grid, in.Location)); err != nil {
		return Incident{}, err
	}
	place := access.PlaceOf(grid.Path)
	inc := Incident{
		ID: uuid.Must(uuid.NewV7()).String(), Category: in.Category, Severity: in.Severity, Status: Reported,
		Description: strings.TrimSpace(in.Description), Location: in.Location,
		RegionCode: grid.Code, CommunityCode: place.Community, TownshipCode: place.Township, CountyCode: place.County,
		OccurredAt: in.OccurredAt, ReportedAt: now, ClientCreatedAt: in.ClientCreatedAt, ReporterID: p.UserID,
		PhotoIDs: in.PhotoIDs, Version: 1, CreatedAt: now, UpdatedAt: now,
	}
	if inc.PhotoIDs == nil {
		inc.PhotoIDs = []string{}
	}
	prefix := "SJ-" + inc.CountyCode + "-" + now.In(s.loc).Format("20060102")
	n, err := s.store.NextCaseNumber(ctx, prefix)
	if err != nil {
		return Incident{}, err
	}
	inc.CaseNo = fmt.Sprintf("%s-%04d", prefix, n)
	// What the audit entry of a new report records.
	details, _ := json.Marshal(map[string]any{"case_no": inc.CaseNo, "category": inc.Category, "photos": len(inc.PhotoIDs),
		"region_code": inc.RegionCode, "severity": inc.Severity})
	r := Report{
		Incident: inc,
		Event: Event{ID: uuid.Must(uuid.NewV7()).String(), CaseID: inc.ID, ActorID: p.UserID, Action: "create", To: Reported,
			RequestID: audit.MetaFrom(ctx).RequestID, CreatedAt: now},
		Audit:     audit.New(ctx, p, now, "incident.create", "incident", inc.ID, string(details)).In(grid.Path),
		Recompute: s.index.LateJobs(in.OccurredAt), // an earlier day's index must count it
	}
	if receipt != nil {
		rec, err := receipt(inc)
		if err != nil {
			return Incident{}, err
		}
		r.Receipt = &rec
	}
	if err := s.store.CreateReport(ctx, r); err != nil {
		return Incident{}, err
	}
	return inc, nil
}

func (s *Service) validate(ctx context.Context, in NewIncident, now time.Time) error {
	bad := errs.FieldErrors{}
	if err := intake.CheckCategory(ctx, s.categories, bad, category.Incident, in.Category); err != nil {
		return err
	}
	if !in.Severity.Valid() {
		bad.Add("severity", "one of low, medium, high, critical")
	}
	intake.CheckText(bad, "description", in.Description, true)
	// The API says "required" itself for an occurred_at left out, so a zero
	// one here was sent as 0001-01-01T00:00:00Z: it is refused for its
	// range like any other year 1, not taken for a missing one.
	occurred := in.OccurredAt
	if occurred.IsZero() {
		occurred = occurred.Add(time.Nanosecond)
	}
	intake.Report{Location: in.Location, OccurredAt: occurred, ClientCreatedAt: in.ClientCreatedAt,
		PhotoIDs: in.PhotoIDs}.Check(bad, now)
	return bad.Err()
}
