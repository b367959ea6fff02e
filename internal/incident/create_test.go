package incident_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"pingan/internal/access"
	"pingan/internal/audit"
	"pingan/internal/category"
	"pingan/internal/errs"
	"pingan/internal/idempotency"
	"pingan/internal/incident"
	"pingan/internal/intake"
	"pingan/internal/ranking"
	"pingan/internal/region"
)

// fakes answers what CreateIncident reads and records what it writes; the
// embedded interfaces are nil, so any other call fails the test by panicking.
type fakes struct {
	incident.Store
	late    []ranking.Job
	lateAt  []time.Time
	reports []incident.Report
	fail    error // returned by CreateReport
}

type regions struct{ region.Store }

type categories struct{ category.Store }

// auditLog is a log the service never writes to directly (the report's
// entry goes through CreateReport); any call fails the test by panicking.
type auditLog struct{ audit.Log }

const gridPath = "/370500/370502/370502003/370502003001/370502003001001/"

func (regions) FindRegionByCode(_ context.Context, code string) (region.Region, error) {
	if code != "370502003001001" {
		return region.Region{}, errs.ErrNotFound
	}
	return region.Region{Code: code, Level: region.Grid, Path: gridPath}, nil
}

func (categories) FindCategory(_ context.Context, kind category.Kind, code string) (category.Category, error) {
	return category.Category{Code: code, Kind: kind, Active: true}, nil
}

func (f *fakes) NextCaseNumber(context.Context, string) (int64, error) { return 7, nil }

func (f *fakes) CreateReport(_ context.Context, r incident.Report) error {
	if f.fail != nil {
		return f.fail
	}
	f.reports = append(f.reports, r)
	return nil
}

// LateJobs is the index's answer.
func (f *fakes) LateJobs(t time.Time) []ranking.Job {
	f.lateAt = append(f.lateAt, t)
	return f.late
}

// service is the service over f; it writes no audit entry of its own.
func service(f *fakes, loc *time.Location, now time.Time) *incident.Service {
	return incident.NewService(f, regions{}, intake.NewPlaces(regions{}, nil, intake.DefaultGridRadiusKM), categories{}, f,
		auditLog{}, loc, func() time.Time { return now })
}

func TestCreateIncidentWritesOneReport(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	now := time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)
	p := access.Principal{UserID: "u1", Role: access.GridWorker, RegionCode: "370502003001001", RegionPath: gridPath}
	occurred := now.Add(-72 * time.Hour)
	in := incident.NewIncident{Category: "public_order", Severity: incident.Low, Description: " 路灯坏了 ",
		OccurredAt: occurred, PhotoIDs: []string{"0193f1b2-0000-7000-8000-000000000001"}}
	late := []ranking.Job{{ID: "j1", PeriodKind: "day", Period: "2026-11-24", Reason: "late_data"}}
	receipt := func(seen *[]incident.Incident) incident.Receipt {
		return func(inc incident.Incident) (idempotency.Record, error) {
			*seen = append(*seen, inc)
			return idempotency.Record{KeyHash: "k", Done: true, Status: 201, Body: []byte(inc.CaseNo)}, nil
		}
	}

	t.Run("with a receipt", func(t *testing.T) {
		f := &fakes{late: late}
		s := service(f, loc, now)
		var seen []incident.Incident
		inc, err := s.CreateIncident(context.Background(), p, in, receipt(&seen))
		if err != nil {
			t.Fatal(err)
		}
		if len(f.reports) != 1 || len(seen) != 1 {
			t.Fatalf("%d reports written, receipt made %d times; want 1 and 1", len(f.reports), len(seen))
		}
		r := f.reports[0]
		if inc.CaseNo != "SJ-370502-20261127-0007" || inc.Description != "路灯坏了" || inc.CommunityCode != "370502003001" ||
			r.Incident.ID != inc.ID || seen[0].CaseNo != inc.CaseNo {
			t.Fatalf("incident %+v, written %+v, receipt of %+v", inc, r.Incident, seen[0])
		}
		if r.Event.CaseID != inc.ID || r.Event.Action != "create" || r.Event.To != incident.Reported ||
			r.Audit.Action != "incident.create" || r.Audit.EntityID != inc.ID || r.Audit.ActorID != "u1" {
			t.Fatalf("event %+v, audit %+v", r.Event, r.Audit)
		}
		if r.Receipt == nil || string(r.Receipt.Body) != inc.CaseNo {
			t.Fatalf("receipt %+v, want the record the callback made", r.Receipt)
		}
		if len(f.lateAt) != 1 || !f.lateAt[0].Equal(occurred) || fmt.Sprint(r.Recompute) != fmt.Sprint(late) {
			t.Fatalf("index asked about %v, recompute %v", f.lateAt, r.Recompute)
		}
	})

	t.Run("without a receipt", func(t *testing.T) {
		f := &fakes{}
		s := service(f, loc, now)
		if _, err := s.CreateIncident(context.Background(), p, in, nil); err != nil {
			t.Fatal(err)
		}
		if len(f.reports) != 1 || f.reports[0].Receipt != nil || f.reports[0].Recompute != nil {
			t.Fatalf("reports %+v", f.reports)
		}
	})

	t.Run("errors", func(t *testing.T) {
		f := &fakes{}
		s := service(f, loc, now)
		broken := errors.New("cannot render")
		if _, err := s.CreateIncident(context.Background(), p, in, func(incident.Incident) (idempotency.Record, error) {
			return idempotency.Record{}, broken
		}); !errors.Is(err, broken) || len(f.reports) != 0 {
			t.Fatalf("receipt failed: %v, %d reports written", err, len(f.reports))
		}
		f.fail = fmt.Errorf("write: %w", idempotency.ErrKeyTaken)
		var seen []incident.Incident
		if _, err := s.CreateIncident(context.Background(), p, in, receipt(&seen)); !errors.Is(err, idempotency.ErrKeyTaken) {
			t.Fatalf("key taken: %v", err)
		}
		bad := in
		bad.Severity = "apocalyptic"
		var fe errs.FieldErrors
		if _, err := s.CreateIncident(context.Background(), p, bad, receipt(&seen)); !errors.As(err, &fe) || len(seen) != 1 {
			t.Fatalf("invalid report: %v, receipt made %d times (want only for the valid one)", err, len(seen))
		}
	})

	t.Run("the index is required", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Fatal("NewService accepted no index")
			}
		}()
		incident.NewService(&fakes{}, regions{}, intake.NewPlaces(regions{}, nil, 5), categories{}, nil, nil, loc, time.Now)
	})
}
