package dispute

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
	"pingan/internal/intake"
	"pingan/internal/text"
)

// event builds a timeline entry.
func (s *Service) event(ctx context.Context, p access.Principal, d Dispute, action string, from, to Status, note string,
	payload map[string]any, now time.Time) Event {
	ev := Event{ID: uuid.Must(uuid.NewV7()).String(), CaseID: d.ID, ActorID: p.UserID, Action: action, From: from, To: to,
		Note: note, RequestID: audit.MetaFrom(ctx).RequestID, CreatedAt: now}
	if len(payload) > 0 {
		b, _ := json.Marshal(payload)
		ev.Payload = string(b)
	}
	return ev
}

// Act is an action of SPEC §8.1 with what it carries; fields an action does
// not take must be empty.
type Act struct {
	Action        string
	AssigneeID    string
	HeldAt        *time.Time
	Method        string
	Attendees     []string
	Notes         string
	PhotoIDs      []string
	Agreement     string
	AmountSettled *int64
	Reason        string
	To            string
	Note          string
	Satisfaction  *int
}

// given names the fields of a that are set.
func (a Act) given() []string {
	var out []string
	add := func(name string, set bool) {
		if set {
			out = append(out, name)
		}
	}
	add("assignee_id", a.AssigneeID != "")
	add("held_at", a.HeldAt != nil)
	add("method", a.Method != "")
	add("attendees", a.Attendees != nil)
	add("notes", a.Notes != "")
	add("photo_ids", a.PhotoIDs != nil)
	add("agreement", a.Agreement != "")
	add("amount_settled", a.AmountSettled != nil)
	add("reason", a.Reason != "")
	add("to", a.To != "")
	add("note", a.Note != "")
	add("satisfaction", a.Satisfaction != nil)
	return out
}

// MaxAttendees bounds the names a mediation session records.
const MaxAttendees = 50

// timeForm is the form a time takes (SPEC §6).
const timeForm = "an RFC 3339 time with offset, e.g. 2026-11-27T09:30:00+08:00"

// check validates what a carries for its action.
func (a Act) check(now time.Time) error {
	takes, ok := fields[a.Action]
	if !ok {
		return errs.Invalid("action", "one of "+strings.Join(Actions(), ", "))
	}
	bad := errs.FieldErrors{}
	for _, f := range a.given() {
		if !slices.Contains(takes, f) {
			bad.Add(f, "not taken by "+a.Action)
		}
	}
	intake.CheckText(bad, "note", a.Note, false)
	switch a.Action {
	case "accept":
		if _, err := uuid.Parse(a.AssigneeID); a.AssigneeID != "" && err != nil {
			bad.Add("assignee_id", "a user id")
		}
	case "record_session":
		switch {
		case a.HeldAt == nil:
			bad.Add("held_at", "required: "+timeForm)
		case !intake.InWindow(*a.HeldAt, now):
			bad.Add("held_at", "must not be in the future or more than 90 days ago")
		}
		if a.Method != "onsite" && a.Method != "phone" && a.Method != "video" {
			bad.Add("method", "one of onsite, phone, video")
		}
		if len(a.Attendees) == 0 || len(a.Attendees) > MaxAttendees {
			bad.Add("attendees", fmt.Sprintf("from 1 to %d names", MaxAttendees))
		}
		for _, n := range a.Attendees[:min(len(a.Attendees), MaxAttendees)] {
			if l := utf8.RuneCountInString(strings.TrimSpace(n)); l == 0 || l > 64 || !text.Clean(n, false) {
				bad.Add("attendees", "names of 1 to 64 characters")
				break
			}
		}
		intake.CheckText(bad, "notes", a.Notes, true)
		intake.CheckPhotos(bad, "photo_ids", a.PhotoIDs)
	case "resolve":
		intake.CheckText(bad, "agreement", a.Agreement, true)
		intake.CheckPhotos(bad, "photo_ids", a.PhotoIDs)
		if a.AmountSettled != nil && (*a.AmountSettled < 0 || *a.AmountSettled > MaxAmount) {
			bad.Add("amount_settled", fmt.Sprintf("an integer number of fen, from 0 to %d", int64(MaxAmount)))
		}
	case "fail", "escalate", "reopen":
		intake.CheckText(bad, "reason", a.Reason, true)
	case "refer":
		switch a.To {
		case "litigation", "arbitration", "petition", "other_department":
		default:
			bad.Add("to", "one of litigation, arbitration, petition, other_department")
		}
	case "follow_up":
		if a.Satisfaction == nil || *a.Satisfaction < 1 || *a.Satisfaction > 5 {
			bad.Add("satisfaction", "required: an integer from 1 to 5")
		}
	}
	return bad.Err()
}

// Apply takes action a on the dispute if its version is still version.
// Returns errs.ErrNotFound outside p's sight, errs.ErrPrecondition for a
// stale version, a *errs.ConflictError with the allowed actions when the
// state (or a rule of time or level) does not allow it, errs.ErrForbidden
// when p may not take it, and errs.FieldErrors for what it carries.
func (s *Service) Apply(ctx context.Context, p access.Principal, id string, version int, a Act) (Dispute, error) {
	now := s.now()
	if err := a.check(now); err != nil {
		return Dispute{}, err
	}
	d, err := s.FindDispute(ctx, p, id)
	if err != nil {
		return Dispute{}, err
	}
	if d.Version != version {
		return Dispute{}, fmt.Errorf("dispute %s is at version %d: %w", id, d.Version, errs.ErrPrecondition)
	}
	t := transitions[a.Action]
	why := timely(d, a.Action, now)
	if !slices.Contains(t.from, d.Status) || why != "" {
		if why == "" {
			why = fmt.Sprintf("cannot %s a dispute that is %s", a.Action, d.Status)
		}
		return Dispute{}, &errs.ConflictError{Msg: why,
			Details: map[string]any{"status": string(d.Status), "level": string(d.Level), "allowed_actions": AllowedActions(p, d, now)}}
	}
	if !may(p, d, a.Action) {
		if handles(p, d) {
			return Dispute{}, fmt.Errorf("only the assigned mediator may %s this dispute: %w", a.Action, errs.ErrForbidden)
		}
		return Dispute{}, fmt.Errorf("this dispute is handled at %s level by %s; you may read it but not act on it: %w",
			d.Level, d.LevelCode, errs.ErrForbidden)
	}

	before := d
	payload := map[string]any{}
	var notices []Notice
	var photos []string
	d.Status = t.to
	switch a.Action {
	case "accept":
		assignee := p.UserID
		if a.AssigneeID != "" && a.AssigneeID != p.UserID {
			if err := s.checkAssignee(ctx, d, a.AssigneeID); err != nil {
				return Dispute{}, err
			}
			assignee = a.AssigneeID
			notices = append(notices, Notice{UserID: assignee, Kind: "assigned", CaseID: d.ID, CaseNo: d.CaseNo,
				Title: "矛盾纠纷已指派给您 " + d.CaseNo, DedupeKey: fmt.Sprintf("assigned:%s:%d", d.ID, version)})
		}
		d.AssigneeID = assignee
		payload["assignee_id"] = assignee
	case "record_session":
		payload["held_at"], payload["method"], payload["attendees"], payload["notes"] = a.HeldAt.UTC(), a.Method, a.Attendees, a.Notes
		photos = a.PhotoIDs
		if len(photos) > 0 {
			payload["photo_ids"] = photos
		}
	case "resolve":
		level := settledLevel(d, p)
		d.ResolvedLevel, d.ResolvedAt = level, &now
		d.Outcome = Outcome{Agreement: strings.TrimSpace(a.Agreement), AmountSettled: a.AmountSettled, PhotoIDs: a.PhotoIDs}
		d.FollowUps, d.LastFollowUpAt, d.ClosedAt = 0, nil, nil
		photos = a.PhotoIDs
		payload["settled_level"], payload["agreement"] = level, d.Outcome.Agreement
		if a.AmountSettled != nil {
			payload["amount_settled"] = *a.AmountSettled
		}
		if len(photos) > 0 {
			payload["photo_ids"] = photos
		}
	case "fail":
		d.Outcome.FailReason = strings.TrimSpace(a.Reason)
		payload["reason"] = d.Outcome.FailReason
	case "escalate":
		from := d.Level
		d.Level = next(from)
		d.LevelCode = d.codes()[d.Level]
		d.EnteredLevelAt, d.AssigneeID = now, ""
		payload["from_level"], payload["to_level"], payload["level_code"], payload["reason"] = from, d.Level, d.LevelCode, strings.TrimSpace(a.Reason)
		notices, err = s.levelNotices(ctx, d, "escalated", fmt.Sprintf("矛盾纠纷升级至%s %s", levelName[d.Level], d.CaseNo))
		if err != nil {
			return Dispute{}, err
		}
	case "refer":
		d.Outcome.ReferredTo, d.Outcome.ReferNote = a.To, strings.TrimSpace(a.Note)
		payload["to"] = a.To
	case "follow_up":
		d.FollowUps++
		d.LastFollowUpAt = &now
		d.Outcome.Satisfaction = a.Satisfaction
		payload["satisfaction"] = *a.Satisfaction
	case "close":
		d.ClosedAt = &now
	case "reopen":
		// Not settled any more: the case's state says so, while the facts
		// keep the earlier resolution where it happened.
		d.EnteredLevelAt, d.AssigneeID, d.ClosedAt = now, "", nil
		d.ResolvedLevel, d.ResolvedAt = "", nil
		payload["reason"] = strings.TrimSpace(a.Reason)
	}
	s.deadlines.advance(before, &d)
	d.Version, d.UpdatedAt = version+1, now
	note := strings.TrimSpace(a.Note)
	ev := s.event(ctx, p, d, a.Action, before.Status, d.Status, note, payload, now)
	change := facts(before, d, ev)
	details, _ := json.Marshal(map[string]any{"from": before.Status, "to": d.Status, "level": d.Level, "version": d.Version})
	err = s.log.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.UpdateDispute(ctx, d, version, ev, change); err != nil {
			return err
		}
		if len(photos) > 0 {
			if err := s.photos.AttachPhotos(ctx, "dispute", d.ID, p.UserID, photos); err != nil {
				return err
			}
			d.PhotoIDs = append(slices.Clone(d.PhotoIDs), photos...)
		}
		if err := s.notifier.NotifyDisputes(ctx, notices); err != nil {
			return err
		}
		return s.log.AppendAudit(ctx, audit.New(ctx, p, now, "dispute."+a.Action, "dispute", d.ID, string(details)).In(d.gridPath()))
	})
	if err != nil {
		return Dispute{}, err
	}
	return d, nil
}

// checkAssignee accepts a colleague as assignee: an active mediator who
// handles the case's level.
func (s *Service) checkAssignee(ctx context.Context, d Dispute, id string) error {
	u, err := s.users.FindUserByID(ctx, id)
	if errors.Is(err, errs.ErrNotFound) {
		return errs.Invalid("assignee_id", "not a mediator who handles this case's level")
	} else if err != nil {
		return err
	}
	r, err := s.regions.FindRegionByCode(ctx, u.RegionCode)
	if err != nil && !errors.Is(err, errs.ErrNotFound) {
		return err
	}
	colleague := access.Principal{UserID: u.ID, Role: u.Role, RegionCode: u.RegionCode, RegionPath: r.Path}
	if !u.Active || u.Role != access.Mediator || !handles(colleague, d) {
		return errs.Invalid("assignee_id", "not a mediator who handles this case's level")
	}
	return nil
}
