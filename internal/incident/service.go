package incident

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"pingan/internal/access"
	"pingan/internal/audit"
	"pingan/internal/category"
	"pingan/internal/errs"
	"pingan/internal/intake"
	"pingan/internal/region"
	"pingan/internal/text"
)

// Limits on what a report may carry (the limits shared by both case kinds
// are intake's).
const (
	MaxDescription = 2000
	MaxPhotos      = intake.MaxPhotos
)

// Photos attaches uploaded photos to a case. Implemented by the store.
type Photos interface {
	// AttachPhotos gives the photos to the case, in the context's
	// transaction. Returns errs.FieldErrors naming photo_ids when a photo is
	// unknown, not the uploader's, or already attached.
	AttachPhotos(ctx context.Context, caseKind, caseID, uploaderID string, photoIDs []string) error
}

// Service holds the incident rules.
type Service struct {
	store      Store
	regions    region.Store
	categories category.Store
	photos     Photos
	log        audit.Log
	loc        *time.Location
	now        func() time.Time
	late       func(ctx context.Context, occurred time.Time) error
}

// OnLateReport sets what is done, in the report's transaction, for a report
// of an earlier day (the index of that day and month is recomputed).
func (s *Service) OnLateReport(fn func(ctx context.Context, occurred time.Time) error) { s.late = fn }

// NewService builds the service; loc is the city's time zone (case numbers
// carry the local date).
func NewService(store Store, regions region.Store, categories category.Store, photos Photos, log audit.Log,
	loc *time.Location, now func() time.Time) *Service {
	return &Service{store: store, regions: regions, categories: categories, photos: photos, log: log, loc: loc, now: now}
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

// CreateIncident validates and stores a report. Returns errs.FieldErrors,
// or errs.ErrForbidden when the grid lies outside the reporter's subtree.
func (s *Service) CreateIncident(ctx context.Context, p access.Principal, in NewIncident) (Incident, error) {
	now := s.now()
	grid, err := intake.Grid(ctx, s.regions, p, in.RegionCode)
	if err != nil {
		return Incident{}, err
	}
	if err := s.validate(ctx, in, now); err != nil {
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
	day := now.In(s.loc).Format("20060102")
	prefix := "SJ-" + inc.CountyCode + "-" + day
	n, err := s.store.NextCaseNumber(ctx, prefix)
	if err != nil {
		return Incident{}, err
	}
	inc.CaseNo = fmt.Sprintf("%s-%04d", prefix, n)
	ev := Event{ID: uuid.Must(uuid.NewV7()).String(), CaseID: inc.ID, ActorID: p.UserID, Action: "create", To: Reported,
		RequestID: audit.MetaFrom(ctx).RequestID, CreatedAt: now}
	// What the audit entry of a new report records.
	details, _ := json.Marshal(map[string]any{"case_no": inc.CaseNo, "category": inc.Category, "photos": len(inc.PhotoIDs),
		"region_code": inc.RegionCode, "severity": inc.Severity})
	err = s.log.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.CreateIncident(ctx, inc, ev); err != nil {
			return err
		}
		if len(inc.PhotoIDs) > 0 {
			if err := s.photos.AttachPhotos(ctx, "incident", inc.ID, p.UserID, inc.PhotoIDs); err != nil {
				return err
			}
		}
		if err := s.log.AppendAudit(ctx, audit.New(ctx, p, now, "incident.create", "incident", inc.ID, string(details)).In(grid.Path)); err != nil {
			return err
		}
		if s.late != nil && in.OccurredAt.In(s.loc).Format("20060102") != day {
			return s.late(ctx, in.OccurredAt) // an earlier day's index must count it
		}
		return nil
	})
	if err != nil {
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
	intake.Report{Location: in.Location, OccurredAt: in.OccurredAt, ClientCreatedAt: in.ClientCreatedAt,
		PhotoIDs: in.PhotoIDs}.Check(bad, now)
	return bad.Err()
}
