// Package workload is the workload report of SPEC §11.3: for each grid
// worker and mediator whose region lies in the caller's scope, what they did
// in a period of local days — reports filed and confirmations; disputes
// accepted, sessions held, settled, failed and escalated, the median days
// to settle, the on-time rate and the mean satisfaction of their
// settlements' follow-ups. Every figure is counted from the timeline
// (case_events: who did what, when) and the case facts (SPEC §4.3), never
// from a case's current status; docs/reports.md defines each one.
package workload

import (
	"context"
	"errors"
	"fmt"
	"time"

	"pingan/internal/access"
	"pingan/internal/deps"
	"pingan/internal/errs"
	"pingan/internal/report"
)

// Roles are the roles the report has rows for, in the order of its rows.
var Roles = []access.Role{access.GridWorker, access.Mediator}

// Query is a request of the API: the region ("" for the caller's scope),
// the period's local days (report.ParsePeriod's defaults), the role ("" for
// both), and the page: at most Limit people after After.
type Query struct {
	Region   string
	From, To string
	Role     string
	After    *Position
	Limit    int
}

// Position is a person's place in the report's order: by role (grid
// workers first), then by user id.
type Position struct {
	Role   access.Role
	UserID string
}

// Filter is what the store lists people by.
type Filter struct {
	Scope access.Scope
	Roles []access.Role
	After *Position
	Limit int
}

// Person is a grid worker or mediator with the name of their region.
type Person struct {
	ID, Username, Name string
	Role               access.Role
	RegionCode         string
	RegionName         string
	Active             bool
}

// Position is where p stands in the report's order.
func (p Person) Position() Position { return Position{Role: p.Role, UserID: p.ID} }

// Row is one person's figures: GridWorker for a grid worker, Mediator for a
// mediator, the other nil.
type Row struct {
	Person
	GridWorker *GridWorkerFigures
	Mediator   *MediatorFigures
}

// Report is the rows of a page and the period they count.
type Report struct {
	Period report.Period
	Rows   []Row
}

// Store reads people and what they did. Each method is a read of its own;
// none opens a transaction.
type Store interface {
	// FindPeople lists the people of f.Roles whose own region lies in
	// f.Scope, by role then id, after f.After, at most f.Limit.
	FindPeople(ctx context.Context, f Filter) ([]Person, error)
	// GridWorkerActivity is what the users ids did as reporters in
	// [start, end).
	GridWorkerActivity(ctx context.Context, ids []string, start, end time.Time) (GridWorkerActivity, error)
	// MediatorActivity is what the users ids did as mediators in
	// [start, end).
	MediatorActivity(ctx context.Context, ids []string, start, end time.Time) (MediatorActivity, error)
}

// Service answers the workload report.
type Service struct {
	store   Store
	regions access.Regions
	loc     *time.Location
	now     func() time.Time
}

// NewService builds the service; every dependency is required.
func NewService(store Store, regions access.Regions, loc *time.Location, now func() time.Time) *Service {
	deps.Require("workload.NewService", "store", store, "regions", regions, "loc", loc, "now", now)
	return &Service{store: store, regions: regions, loc: loc, now: now}
}

// canRead: reports are for mediators, supervisors and admins in their
// subtree (SPEC §5).
func canRead(p access.Principal) bool {
	return p.Is(access.Mediator, access.Supervisor, access.Admin)
}

// Workload is a page of the report for p. Returns errs.ErrForbidden for a
// grid worker or a region outside p's scope, errs.FieldErrors naming
// `from`, `to`, `role` or `region` for a bad parameter.
func (s *Service) Workload(ctx context.Context, p access.Principal, q Query) (Report, error) {
	if !canRead(p) {
		return Report{}, fmt.Errorf("reports are for mediators, supervisors and admins: %w", errs.ErrForbidden)
	}
	bad := errs.FieldErrors{}
	roles := Roles
	switch r := access.Role(q.Role); {
	case q.Role == "":
	case r == access.GridWorker || r == access.Mediator:
		roles = []access.Role{r}
	default:
		bad.Add("role", "grid_worker or mediator")
	}
	period, err := report.ParsePeriod(q.From, q.To, s.loc, s.now())
	var fe errs.FieldErrors
	switch {
	case errors.As(err, &fe):
		for k, v := range fe.Fields() {
			bad.Add(k, v)
		}
	case err != nil:
		return Report{}, err
	}
	if err := bad.Err(); err != nil {
		return Report{}, err
	}
	scope, err := access.ListScope(ctx, s.regions, p, q.Region)
	if err != nil {
		return Report{}, err
	}
	people, err := s.store.FindPeople(ctx, Filter{Scope: scope, Roles: roles, After: q.After, Limit: q.Limit})
	if err != nil {
		return Report{}, err
	}
	var workers, mediators []string
	for _, x := range people {
		if x.Role == access.GridWorker {
			workers = append(workers, x.ID)
		} else {
			mediators = append(mediators, x.ID)
		}
	}
	var gw GridWorkerActivity
	if len(workers) > 0 {
		if gw, err = s.store.GridWorkerActivity(ctx, workers, period.Start, period.End); err != nil {
			return Report{}, err
		}
	}
	var med MediatorActivity
	if len(mediators) > 0 {
		if med, err = s.store.MediatorActivity(ctx, mediators, period.Start, period.End); err != nil {
			return Report{}, err
		}
	}
	gwFigures, medFigures := gw.Figures(), med.Figures()
	out := Report{Period: period, Rows: make([]Row, len(people))}
	for i, x := range people {
		out.Rows[i] = Row{Person: x}
		if x.Role == access.GridWorker {
			f := gwFigures[x.ID]
			out.Rows[i].GridWorker = &f
		} else {
			f := medFigures[x.ID]
			out.Rows[i].Mediator = &f
		}
	}
	return out, nil
}
