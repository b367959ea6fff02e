package warning

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"pingan/internal/access"
	"pingan/internal/audit"
	"pingan/internal/errs"
)

// Limits of the key-date calendar.
const (
	MaxEventName = 100 // characters
	MaxDates     = 50  // dates of one event
	MaxEventDays = 31  // the longest window of one date, in days
)

// dayLayout is a local day's form.
const dayLayout = "2006-01-02"

func validDay(s string) bool {
	t, err := time.Parse(dayLayout, s)
	return err == nil && t.Format(dayLayout) == s && t.Year() >= 2000 && t.Year() <= 2100
}

// NewEvent is a key date as an admin enters it.
type NewEvent struct {
	Name  string
	Dates []DateRange
}

// EventPatch changes an event: the fields given (nil ones stay).
type EventPatch struct {
	Name  *string
	Dates *[]DateRange // replaces every date
	// Version is the version the admin read (If-Match); 0 for any.
	Version int
}

// canReadCalendar: everyone who reads warnings reads the calendar.
func canReadCalendar(p access.Principal) bool { return canRead(p) }

// FindKeyDates lists the calendar (SPEC §10.3) for mediators, supervisors
// and admins.
func (s *Service) FindKeyDates(ctx context.Context, p access.Principal) ([]Event, error) {
	if !canReadCalendar(p) {
		return nil, fmt.Errorf("the key-date calendar is for mediators, supervisors and admins: %w", errs.ErrForbidden)
	}
	return s.store.FindKeyDates(ctx)
}

// FindKeyDate returns one event; errs.ErrNotFound when there is none.
func (s *Service) FindKeyDate(ctx context.Context, p access.Principal, id string) (Event, error) {
	if !canReadCalendar(p) {
		return Event{}, fmt.Errorf("the key-date calendar is for mediators, supervisors and admins: %w", errs.ErrForbidden)
	}
	return s.store.FindKeyDate(ctx, id)
}

// CreateKeyDate adds an event to the calendar (admins), audited as
// key_date.create. Returns errs.FieldErrors naming name or dates[i].start /
// dates[i].end, errs.ErrConflict when the name is taken.
func (s *Service) CreateKeyDate(ctx context.Context, p access.Principal, in NewEvent) (Event, error) {
	if !p.Is(access.Admin) {
		return Event{}, fmt.Errorf("admins keep the key-date calendar: %w", errs.ErrForbidden)
	}
	e := Event{ID: uuid.Must(uuid.NewV7()).String(), Name: strings.TrimSpace(in.Name), Dates: in.Dates, Version: 1}
	if err := checkEvent(e); err != nil {
		return Event{}, err
	}
	sortDates(e.Dates)
	e.CreatedAt, e.UpdatedAt = s.now(), s.now()
	return e, s.log.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.InsertKeyDate(ctx, e); err != nil {
			return nameTaken(e.Name, err)
		}
		return s.auditEvent(ctx, p, "key_date.create", e)
	})
}

// UpdateKeyDate changes an event (admins), audited as key_date.update.
// Errors as CreateKeyDate's, and errs.ErrNotFound.
func (s *Service) UpdateKeyDate(ctx context.Context, p access.Principal, id string, patch EventPatch) (Event, error) {
	if !p.Is(access.Admin) {
		return Event{}, fmt.Errorf("admins keep the key-date calendar: %w", errs.ErrForbidden)
	}
	var out Event
	err := s.log.InTx(ctx, func(ctx context.Context) error {
		e, err := s.store.FindKeyDate(ctx, id)
		if err != nil {
			return err
		}
		if patch.Version != 0 && e.Version != patch.Version {
			return fmt.Errorf("the key date is at version %d, not %d: read it again: %w", e.Version, patch.Version, errs.ErrPrecondition)
		}
		was := e
		was.Dates = slices.Clone(e.Dates)
		if patch.Name != nil {
			e.Name = strings.TrimSpace(*patch.Name)
		}
		if patch.Dates != nil {
			e.Dates = *patch.Dates
		}
		if err := checkEvent(e); err != nil {
			return err
		}
		sortDates(e.Dates)
		if e.Name == was.Name && slices.Equal(e.Dates, was.Dates) {
			out = e // nothing changes: no new version, no audit entry
			return nil
		}
		e.Version++
		e.UpdatedAt = s.now()
		if e.Name != was.Name {
			all, err := s.store.FindKeyDates(ctx)
			if err != nil {
				return err
			}
			for _, other := range all {
				if other.ID != e.ID && other.Name == e.Name {
					return nameTaken(e.Name, errs.ErrConflict)
				}
			}
		}
		if err := s.store.UpdateKeyDate(ctx, e); err != nil {
			return err
		}
		out = e
		return s.auditEvent(ctx, p, "key_date.update", e)
	})
	return out, err
}

// nameTaken says which name a conflict is about; other errors pass
// unchanged.
func nameTaken(name string, err error) error {
	if errors.Is(err, errs.ErrConflict) {
		return fmt.Errorf("name: %q is another event's already: %w", name, errs.ErrConflict)
	}
	return err
}

func (s *Service) auditEvent(ctx context.Context, p access.Principal, action string, e Event) error {
	details, err := json.Marshal(map[string]any{"name": e.Name, "dates": len(e.Dates)})
	if err != nil {
		return err
	}
	return s.log.AppendAudit(ctx, audit.New(ctx, p, s.now(), action, "key_date", e.ID, string(details)))
}

// checkEvent names every bad field of an event.
func checkEvent(e Event) error {
	bad := errs.FieldErrors{}
	if e.Name == "" || utf8.RuneCountInString(e.Name) > MaxEventName {
		bad.Add("name", fmt.Sprintf("1 to %d characters, e.g. 春节", MaxEventName))
	}
	if len(e.Dates) == 0 || len(e.Dates) > MaxDates {
		bad.Add("dates", fmt.Sprintf("1 to %d dates, each {start, end}", MaxDates))
		return bad.Err()
	}
	seen := map[string]bool{}
	for i, d := range e.Dates {
		field := fmt.Sprintf("dates[%d]", i)
		startOK, endOK := validDay(d.Start), validDay(d.End)
		if !startOK {
			bad.Add(field+".start", "a local day from 2000 to 2100, e.g. 2027-02-06")
		}
		if !endOK {
			bad.Add(field+".end", "a local day from 2000 to 2100, e.g. 2027-02-12")
		}
		switch {
		case !startOK || !endOK:
		case d.End < d.Start:
			bad.Add(field+".end", "a day on or after start")
		case days(d) > MaxEventDays:
			bad.Add(field+".end", fmt.Sprintf("at most %d days after start", MaxEventDays-1))
		case seen[d.Start]:
			bad.Add(field+".start", "a day no other date of the event starts on")
		}
		seen[d.Start] = true
	}
	return bad.Err()
}

// days is a date range's length in days, both ends counted.
func days(d DateRange) int {
	a, _ := time.Parse(dayLayout, d.Start)
	b, _ := time.Parse(dayLayout, d.End)
	return int(b.Sub(a).Hours()/24) + 1
}

func sortDates(ds []DateRange) {
	slices.SortFunc(ds, func(a, b DateRange) int { return strings.Compare(a.Start, b.Start) })
}
