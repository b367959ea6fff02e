package warning

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"pingan/internal/access"
	"pingan/internal/audit"
	"pingan/internal/errs"
)

// Actions on a warning (SPEC §10.3).
const (
	ActionAck   = "ack"
	ActionClose = "close"
)

// MaxNote bounds a closing note, in characters.
const MaxNote = 500

// Query is a list request of the API.
type Query struct {
	Region   string // a region code in the caller's scope; "" for the whole scope
	Status   string
	Kind     string
	Severity Severity
	From, To string // local days
	Filter          // the cursor and limit (Scope, RegionPath and the rest are set by FindWarnings)
}

// readers may read warnings: mediators, supervisors and admins in their
// subtree (SPEC §5).
func canRead(p access.Principal) bool {
	return p.Is(access.Mediator, access.Supervisor, access.Admin)
}

// FindWarnings lists the warnings in p's scope (narrowed to q.Region)
// matching q, newest first. Returns errs.ErrForbidden for a grid worker or a
// region outside the scope, errs.FieldErrors for a bad filter.
func (s *Service) FindWarnings(ctx context.Context, p access.Principal, q Query) ([]Warning, error) {
	if !canRead(p) {
		return nil, fmt.Errorf("warnings are for mediators, supervisors and admins: %w", errs.ErrForbidden)
	}
	bad := errs.FieldErrors{}
	if q.Status != "" && !contains(Statuses, q.Status) {
		bad.Add("status", "one of "+strings.Join(Statuses, ", "))
	}
	if q.Kind != "" && !contains(Kinds, q.Kind) {
		bad.Add("kind", "one of "+strings.Join(Kinds, ", "))
	}
	if q.Severity != "" && q.Severity.Rank() == 0 {
		bad.Add("severity", "one of blue, yellow, orange, red")
	}
	for _, d := range []struct{ name, v string }{{"from", q.From}, {"to", q.To}} {
		if d.v != "" && !validDay(d.v) {
			bad.Add(d.name, "a local day, e.g. 2026-11-27")
		}
	}
	if q.From != "" && q.To != "" && validDay(q.From) && validDay(q.To) && q.To < q.From {
		bad.Add("to", "a local day on or after from")
	}
	if err := bad.Err(); err != nil {
		return nil, err
	}
	scope, err := access.ListScope(ctx, s.regions, p, q.Region)
	if err != nil {
		return nil, err
	}
	f := q.Filter
	f.Scope, f.Status, f.Kind, f.Severity, f.From, f.To = scope, q.Status, q.Kind, q.Severity, q.From, q.To
	return s.store.FindWarnings(ctx, f)
}

// FindWarning returns a warning in p's scope; errs.ErrNotFound when there is
// none or it lies outside, errs.ErrForbidden for a grid worker.
func (s *Service) FindWarning(ctx context.Context, p access.Principal, id string) (Warning, error) {
	if !canRead(p) {
		return Warning{}, fmt.Errorf("warnings are for mediators, supervisors and admins: %w", errs.ErrForbidden)
	}
	w, err := s.store.FindWarning(ctx, id)
	if err != nil {
		return Warning{}, err
	}
	if err := p.CheckObject("warning", id, w.RegionPath); err != nil {
		return Warning{}, err
	}
	return w, nil
}

// AllowedActions are the actions a warning's status allows.
func AllowedActions(w Warning) []string {
	switch w.Status {
	case Open:
		return []string{ActionAck, ActionClose}
	case Acknowledged:
		return []string{ActionClose}
	}
	return []string{}
}

// Ack acknowledges an open warning for p (a mediator, supervisor or admin
// in its scope), audited as warning.ack. version is the version p read (an
// If-Match), 0 for any. Returns errs.ErrNotFound outside the scope,
// errs.ErrForbidden for other roles, errs.ErrPrecondition when the warning
// is at another version, and an errs.ConflictError with the allowed
// actions when the warning is not open.
func (s *Service) Ack(ctx context.Context, p access.Principal, id string, version int) (Warning, error) {
	return s.act(ctx, p, id, ActionAck, "", version)
}

// Close closes an open or acknowledged warning with a note (1 to MaxNote
// characters), audited as warning.close. Errors as Ack's, and
// errs.FieldErrors naming "note".
func (s *Service) Close(ctx context.Context, p access.Principal, id, note string, version int) (Warning, error) {
	note = strings.TrimSpace(note)
	if note == "" || utf8.RuneCountInString(note) > MaxNote {
		return Warning{}, errs.Invalid("note", fmt.Sprintf("1 to %d characters saying how the warning was dealt with", MaxNote))
	}
	return s.act(ctx, p, id, ActionClose, note, version)
}

func (s *Service) act(ctx context.Context, p access.Principal, id, action, note string, version int) (Warning, error) {
	if !canRead(p) {
		return Warning{}, fmt.Errorf("warnings are acted on by mediators, supervisors and admins: %w", errs.ErrForbidden)
	}
	var out Warning
	err := s.log.InTx(ctx, func(ctx context.Context) error {
		w, err := s.store.LockWarning(ctx, id)
		if err != nil {
			return err
		}
		if err := p.CheckObject("warning", id, w.RegionPath); err != nil {
			return err
		}
		if version != 0 && w.Version != version {
			return fmt.Errorf("the warning is at version %d, not %d: read it again: %w", w.Version, version, errs.ErrPrecondition)
		}
		if !contains(AllowedActions(w), action) {
			return &errs.ConflictError{Msg: fmt.Sprintf("a warning that is %s cannot take %q", w.Status, action),
				Details: map[string]any{"status": w.Status, "allowed_actions": AllowedActions(w)}}
		}
		now := s.now()
		switch action {
		case ActionAck:
			w.Status, w.AckedBy, w.AckedAt = Acknowledged, p.UserID, &now
		case ActionClose:
			w.Status, w.ClosedBy, w.ClosedAt, w.CloseNote = Closed, p.UserID, &now, note
		}
		w.Version++
		w.UpdatedAt = now
		if err := s.store.UpdateWarning(ctx, w); err != nil {
			return err
		}
		details, err := json.Marshal(map[string]any{"status": w.Status, "kind": w.Kind, "severity": w.Severity})
		if err != nil {
			return err
		}
		if err := s.log.AppendAudit(ctx, audit.New(ctx, p, now, "warning."+action, "warning", id, string(details)).In(w.RegionPath)); err != nil {
			return err
		}
		out = w
		return nil
	})
	if err != nil {
		var conflict *errs.ConflictError
		if errors.As(err, &conflict) || errors.Is(err, errs.ErrNotFound) || errors.Is(err, errs.ErrPrecondition) {
			return Warning{}, err
		}
		return Warning{}, fmt.Errorf("%s warning %s: %w", action, id, err)
	}
	return out, nil
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
