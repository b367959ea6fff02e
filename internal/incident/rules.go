package incident

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"pingan/internal/access"
	"pingan/internal/audit"
	"pingan/internal/errs"
	"pingan/internal/text"
)

// transitions is the state machine of SPEC §6.4: action → (from states, to).
var transitions = map[string]struct {
	from []Status
	to   Status
}{
	"accept":  {[]Status{Reported}, Accepted},
	"start":   {[]Status{Accepted}, InProgress},
	"resolve": {[]Status{Reported, Accepted, InProgress}, Resolved},
	"close":   {[]Status{Resolved}, Closed},
	"reject":  {[]Status{Reported, Accepted}, Rejected},
	"cancel":  {[]Status{Reported}, Cancelled},
}

// Actions lists every action name.
func Actions() []string {
	out := make([]string, 0, len(transitions))
	for a := range transitions {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// may is the action rule of SPEC §5: the command centre (supervisors and
// admins in scope) handles incidents; a reporter (grid worker or mediator)
// may cancel their report, and a grid worker may resolve their own low or
// medium report on the spot.
func may(p access.Principal, inc Incident, action string) bool {
	own := inc.ReporterID == p.UserID
	switch p.Role {
	case access.Admin:
		return true
	case access.Supervisor:
		return action != "cancel" || own
	case access.Mediator:
		return own && action == "cancel"
	case access.GridWorker:
		if !own {
			return false
		}
		onTheSpot := action == "resolve" && inc.Status == Reported && (inc.Severity == Low || inc.Severity == Medium)
		return action == "cancel" || onTheSpot
	}
	return false
}

// AllowedActions are the actions p may take on inc in its current state.
func AllowedActions(p access.Principal, inc Incident) []string {
	var out []string
	for _, a := range Actions() {
		t := transitions[a]
		for _, from := range t.from {
			if from == inc.Status && may(p, inc, a) {
				out = append(out, a)
				break
			}
		}
	}
	if out == nil {
		out = []string{}
	}
	return out
}

// FindIncident returns the incident if p may see it; errs.ErrNotFound
// otherwise, whether or not it exists.
func (s *Service) FindIncident(ctx context.Context, p access.Principal, id string) (Incident, error) {
	if _, err := uuid.Parse(id); err != nil {
		return Incident{}, fmt.Errorf("incident %q: %w", id, errs.ErrNotFound)
	}
	inc, err := s.store.FindIncidentByID(ctx, id)
	if err != nil {
		return Incident{}, err
	}
	if err := p.CheckCase(inc.scopeCase()); err != nil {
		return Incident{}, err
	}
	return inc, nil
}

// Query is a list request before scoping.
type Query struct {
	Region     string // a region code to narrow to; must be in scope
	ReporterMe bool
	Filter
}

// FindIncidents lists incidents in p's scope, newest first. Returns
// errs.ErrForbidden when q.Region lies outside it.
func (s *Service) FindIncidents(ctx context.Context, p access.Principal, q Query) ([]Incident, error) {
	f, err := s.scope(ctx, p, q)
	if err != nil {
		return nil, err
	}
	return s.store.FindIncidents(ctx, f)
}

// FindChanges lists incidents in p's scope changed after (afterAt, afterID),
// oldest change first (offline sync).
func (s *Service) FindChanges(ctx context.Context, p access.Principal, f ChangeFilter) ([]Incident, error) {
	scoped, err := s.scope(ctx, p, Query{Filter: f.Filter})
	if err != nil {
		return nil, err
	}
	f.Filter = scoped
	return s.store.FindChangedIncidents(ctx, f)
}

// scope turns a query into a store filter: the scope rule of SPEC §5 for
// the region asked for (or p's own scope).
func (s *Service) scope(ctx context.Context, p access.Principal, q Query) (Filter, error) {
	f := q.Filter
	if q.ReporterMe {
		f.ReporterID = p.UserID
	}
	var err error
	f.Scope, err = access.ListScope(ctx, s.regions, p, q.Region)
	return f, err
}

// Transition applies action to the incident if its version is still
// version. Returns errs.ErrNotFound outside p's sight, errs.ErrPrecondition
// for a stale version, a *errs.ConflictError with the allowed actions when
// the state does not allow it, errs.ErrForbidden when p may not take it, and
// errs.FieldErrors for a bad action or note.
func (s *Service) Transition(ctx context.Context, p access.Principal, id string, version int, action, note string) (Incident, error) {
	t, ok := transitions[action]
	if !ok {
		return Incident{}, errs.Invalid("action", "one of "+strings.Join(Actions(), ", "))
	}
	note = strings.TrimSpace(note)
	if utf8.RuneCountInString(note) > MaxDescription || !text.Clean(note, true) {
		return Incident{}, errs.Invalid("note", fmt.Sprintf("at most %d characters, no control characters", MaxDescription))
	}
	if action == "reject" && note == "" {
		return Incident{}, errs.Invalid("note", "a reason is required to reject")
	}
	inc, err := s.FindIncident(ctx, p, id)
	if err != nil {
		return Incident{}, err
	}
	if inc.Version != version {
		return Incident{}, fmt.Errorf("incident %s is at version %d: %w", id, inc.Version, errs.ErrPrecondition)
	}
	fromOK := false
	for _, from := range t.from {
		fromOK = fromOK || from == inc.Status
	}
	if !fromOK {
		return Incident{}, &errs.ConflictError{
			Msg:     fmt.Sprintf("cannot %s an incident that is %s", action, inc.Status),
			Details: map[string]any{"status": string(inc.Status), "allowed_actions": AllowedActions(p, inc)},
		}
	}
	if !may(p, inc, action) {
		return Incident{}, fmt.Errorf("you may not %s this incident: %w", action, errs.ErrForbidden)
	}
	gridPath, err := s.regions.FindRegionPath(ctx, inc.RegionCode)
	if err != nil {
		return Incident{}, err
	}
	now := s.now()
	ev := Event{ID: uuid.Must(uuid.NewV7()).String(), CaseID: inc.ID, ActorID: p.UserID, Action: action,
		From: inc.Status, To: t.to, Note: note, RequestID: audit.MetaFrom(ctx).RequestID, CreatedAt: now}
	details, _ := json.Marshal(map[string]any{"from": inc.Status, "to": t.to, "version": version + 1})
	err = s.log.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.UpdateIncidentStatus(ctx, inc.ID, version, t.to, now, ev, facts(inc, ev)); err != nil {
			return err
		}
		return s.log.AppendAudit(ctx, audit.New(ctx, p, now, "incident."+action, "incident", inc.ID, string(details)).In(gridPath))
	})
	if err != nil {
		return Incident{}, err
	}
	inc.Status, inc.Version, inc.UpdatedAt = t.to, version+1, now
	return inc, nil
}

// Timeline returns the incident's events if p may see it.
func (s *Service) Timeline(ctx context.Context, p access.Principal, id string) ([]Event, error) {
	if _, err := s.FindIncident(ctx, p, id); err != nil {
		return nil, err
	}
	return s.store.FindEvents(ctx, id)
}
