package dispute

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"pingan/internal/access"
	"pingan/internal/errs"
	"pingan/internal/region"
)

// FindDispute returns the dispute if p may see it; errs.ErrNotFound
// otherwise, whether or not it exists.
func (s *Service) FindDispute(ctx context.Context, p access.Principal, id string) (Dispute, error) {
	if _, err := uuid.Parse(id); err != nil {
		return Dispute{}, fmt.Errorf("dispute %q: %w", id, errs.ErrNotFound)
	}
	d, err := s.store.FindDisputeByID(ctx, id)
	if err != nil {
		return Dispute{}, err
	}
	if err := p.CheckCase(d.scopeCase()); err != nil {
		return Dispute{}, err
	}
	return d, nil
}

// Query is a list request before scoping.
type Query struct {
	Region     string
	AssigneeMe bool
	Phone      string // exact phone of a party
	Filter
}

// FindDisputes lists disputes in p's scope, newest first. Returns
// errs.ErrForbidden when q.Region lies outside it. With q.Phone it is the
// search by a party's phone, with the rules and errors of findByPhone.
func (s *Service) FindDisputes(ctx context.Context, p access.Principal, q Query) ([]Dispute, error) {
	f := q.Filter
	if q.AssigneeMe {
		f.AssigneeID = p.UserID
	}
	if f.Overdue != nil {
		f.OverdueAt = s.now()
	}
	if q.Phone != "" {
		return s.findByPhone(ctx, p, q.Region, q.Phone, f)
	}
	var err error
	if f.Scope, err = access.ListScope(ctx, s.regions, p, q.Region); err != nil {
		return nil, err
	}
	return s.store.FindDisputes(ctx, f)
}

// FindDisputesMasked is FindDisputes with each dispute's parties, their
// phone and ID numbers masked whoever asks (SPEC §8.5: exports never hold
// unmasked values). The search by a party's phone is no part of it (each
// search is audited and rationed one by one): q.Phone is
// errs.FieldErrors on phone. Other errors as FindDisputes.
func (s *Service) FindDisputesMasked(ctx context.Context, p access.Principal, q Query) ([]Dispute, error) {
	if q.Phone != "" {
		return nil, errs.Invalid("phone", "the search by a party's phone is not exported")
	}
	ds, err := s.FindDisputes(ctx, p, q)
	if err != nil || len(ds) == 0 {
		return ds, err
	}
	ids := make([]string, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
	}
	parties, err := s.store.FindParties(ctx, ids)
	if err != nil {
		return nil, err
	}
	for i := range ds {
		ds[i].Parties = MaskParties(parties[ds[i].ID])
	}
	return ds, nil
}

// FindChanges lists the disputes in p's scope changed after the filter's
// point, oldest change first, without their parties (offline sync). The
// scope is p's own; f.Scope is ignored.
func (s *Service) FindChanges(ctx context.Context, p access.Principal, f ChangeFilter) ([]Dispute, error) {
	var err error
	if f.Scope, err = access.ListScope(ctx, s.regions, p, ""); err != nil {
		return nil, err
	}
	return s.store.FindChangedDisputes(ctx, f)
}

// Timeline returns the dispute's events if p may see it.
func (s *Service) Timeline(ctx context.Context, p access.Principal, id string) ([]Event, error) {
	if _, err := s.FindDispute(ctx, p, id); err != nil {
		return nil, err
	}
	return s.store.FindDisputeEvents(ctx, id)
}

// SettlementRate is 就地化解率 (SPEC §8.2) for the subtree of the region
// and the period [from, to): the resolutions of the period settled at
// community level over all of them (case facts, SPEC §4.3), with both
// counts; the rate is 0 when nothing was resolved.
func (s *Service) SettlementRate(ctx context.Context, r region.Region, from, to time.Time) (rate float64, community, total int, err error) {
	// The region's level, not its path, gives the depth: callers may name a
	// region by its code and level alone.
	scope := access.Scope{Code: r.Code, Path: r.Path, Depth: slices.Index(region.Levels, r.Level) + 1}
	community, total, err = s.store.CountResolutions(ctx, scope, from, to)
	if err != nil || total == 0 {
		return 0, community, total, err
	}
	return float64(community) / float64(total), community, total, nil
}
