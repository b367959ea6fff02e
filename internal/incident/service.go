package incident

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"pingan/internal/access"
	"pingan/internal/audit"
	"pingan/internal/category"
	"pingan/internal/errs"
	"pingan/internal/idempotency"
	"pingan/internal/ranking"
	"pingan/internal/region"
	"pingan/internal/text"
)

// Limits on what a report may carry.
const (
	MaxDescription = 2000
	MaxPhotos      = 9
	// MaxBackdate is how far in the past occurred_at may lie (offline phones
	// queue reports for days, not years).
	MaxBackdate = 90 * 24 * time.Hour
	// clockSkew tolerates phone clocks slightly ahead of the server.
	clockSkew = 10 * time.Minute
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
	categories category.Store
	index      Index
	log        audit.Log
	loc        *time.Location
	now        func() time.Time
}

// NewService builds the service; loc is the city's time zone (case numbers
// carry the local date). Every dependency is required: it panics when
// index is nil.
func NewService(store Store, regions region.Store, categories category.Store, index Index, log audit.Log,
	loc *time.Location, now func() time.Time) *Service {
	if index == nil {
		panic("incident.NewService: no Index")
	}
	return &Service{store: store, regions: regions, categories: categories, index: index, log: log, loc: loc, now: now}
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

// createDetails is what the audit entry of a new report records.
type createDetails struct {
	CaseNo     string   `json:"case_no"`
	Category   string   `json:"category"`
	Photos     int      `json:"photos"`
	RegionCode string   `json:"region_code"`
	Severity   Severity `json:"severity"`
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
	grid, err := region.ReportGrid(ctx, s.regions, p, in.RegionCode)
	if err != nil {
		return Incident{}, err
	}
	if err := s.validate(ctx, in, now); err != nil {
		return Incident{}, err
	}
	codes := ancestorCodes(grid.Path)
	inc := Incident{
		ID: uuid.Must(uuid.NewV7()).String(), Category: in.Category, Severity: in.Severity, Status: Reported,
		Description: strings.TrimSpace(in.Description), Location: in.Location,
		RegionCode: grid.Code, CommunityCode: codes[region.Community], TownshipCode: codes[region.Township], CountyCode: codes[region.County],
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
	details, _ := json.Marshal(createDetails{CaseNo: inc.CaseNo, Category: inc.Category, Photos: len(inc.PhotoIDs),
		RegionCode: inc.RegionCode, Severity: inc.Severity})
	r := Report{
		Incident: inc,
		Event: Event{ID: uuid.Must(uuid.NewV7()).String(), CaseID: inc.ID, ActorID: p.UserID, Action: "create", To: Reported,
			RequestID: audit.MetaFrom(ctx).RequestID, CreatedAt: now},
		Audit:     audit.New(ctx, p, now, "incident.create", "incident", inc.ID, string(details)),
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
	c, err := s.categories.FindCategory(ctx, category.Incident, in.Category)
	switch {
	case errors.Is(err, errs.ErrNotFound) || (err == nil && !c.Active):
		bad.Add("category", "not an active incident category")
	case err != nil:
		return err
	}
	if !in.Severity.Valid() {
		bad.Add("severity", "one of low, medium, high, critical")
	}
	if n := utf8.RuneCountInString(strings.TrimSpace(in.Description)); n == 0 || n > MaxDescription || !text.Clean(in.Description, true) {
		bad.Add("description", fmt.Sprintf("required, at most %d characters, no control characters", MaxDescription))
	}
	loc := in.Location
	if (loc.Lat == nil) != (loc.Lng == nil) {
		bad.Add("location", "lat and lng go together")
	} else if loc.Lat != nil && (math.IsNaN(*loc.Lat) || *loc.Lat < -90 || *loc.Lat > 90 || *loc.Lng < -180 || *loc.Lng > 180) {
		bad.Add("location", "lat within ±90, lng within ±180")
	}
	if utf8.RuneCountInString(loc.Address) > 255 || !text.Clean(loc.Address, false) {
		bad.Add("location.address", "at most 255 characters, no control characters")
	}
	if in.OccurredAt.IsZero() {
		bad.Add("occurred_at", "required")
	} else if in.OccurredAt.After(now.Add(clockSkew)) || in.OccurredAt.Before(now.Add(-MaxBackdate)) {
		bad.Add("occurred_at", "must not be in the future or more than 90 days ago")
	}
	if c := in.ClientCreatedAt; c != nil && (c.After(now.Add(clockSkew)) || c.Before(now.Add(-MaxBackdate))) {
		bad.Add("client_created_at", "must not be in the future or more than 90 days ago")
	}
	if len(in.PhotoIDs) > MaxPhotos {
		bad.Add("photo_ids", fmt.Sprintf("at most %d photos", MaxPhotos))
	}
	seen := map[string]bool{}
	for _, id := range in.PhotoIDs {
		if _, err := uuid.Parse(id); err != nil || seen[id] {
			bad.Add("photo_ids", "photo ids must be distinct upload ids")
		}
		seen[id] = true
	}
	return bad.Err()
}

// ancestorCodes reads the codes of each level from a grid's path
// ("/city/county/township/community/grid/").
func ancestorCodes(path string) map[region.Level]string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	out := map[region.Level]string{}
	for i, code := range parts {
		if i < len(region.Levels) {
			out[region.Levels[i]] = code
		}
	}
	return out
}
