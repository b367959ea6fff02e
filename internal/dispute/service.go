package dispute

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"pingan/internal/access"
	"pingan/internal/audit"
	"pingan/internal/category"
	"pingan/internal/errs"
	"pingan/internal/pii"
	"pingan/internal/region"
	"pingan/internal/text"
	"pingan/internal/user"
)

// Limits on what a dispute and its actions may carry.
const (
	MaxText     = 2000
	MaxPhotos   = 9
	MaxParties  = 20
	MaxBackdate = 90 * 24 * time.Hour
	clockSkew   = 10 * time.Minute
	// MaxAmount bounds money in fen (10 billion yuan).
	MaxAmount = 1_000_000_000_000
)

// Photos attaches uploaded photos to a case (the store).
type Photos interface {
	AttachPhotos(ctx context.Context, caseKind, caseID, uploaderID string, photoIDs []string) error
}

// Notice is a notification for one user about a dispute (SPEC §7).
type Notice struct {
	UserID, Kind, CaseID, CaseNo, Title, DedupeKey string
}

// Notifier writes notices in the context's transaction.
type Notifier interface {
	NotifyDisputes(ctx context.Context, ns []Notice) error
}

// Hasher is the keyed hash of phone numbers, for exact search.
type Hasher interface {
	Hash(plain string) string
}

// Service holds the mediation rules.
type Service struct {
	store      Store
	regions    region.Store
	categories category.Store
	users      user.Store
	photos     Photos
	log        audit.Log
	notifier   Notifier
	hasher     Hasher
	deadlines  Deadlines
	loc        *time.Location
	now        func() time.Time
}

// Deps are what the service calls.
type Deps struct {
	Store      Store
	Regions    region.Store
	Categories category.Store
	Users      user.Store
	Photos     Photos
	Log        audit.Log
	Notifier   Notifier
	Hasher     Hasher
	Deadlines  Deadlines
	Loc        *time.Location
	Now        func() time.Time
}

// NewService builds the service.
func NewService(d Deps) *Service {
	return &Service{store: d.Store, regions: d.Regions, categories: d.Categories, users: d.Users, photos: d.Photos,
		log: d.Log, notifier: d.Notifier, hasher: d.Hasher, deadlines: d.Deadlines, loc: d.Loc, now: d.Now}
}

// NewDispute is what a registration carries.
type NewDispute struct {
	Category        string
	Description     string
	Location        Location
	OccurredAt      time.Time
	ClientCreatedAt *time.Time
	RegionCode      string // the grid; a grid worker may leave it out
	PhotoIDs        []string
	Parties         []Party
	Amount          *int64
	Risk            Risk
}

// CreateDispute validates and registers a dispute at the community level of
// its grid. Returns errs.FieldErrors, or errs.ErrForbidden when the grid
// lies outside the reporter's subtree.
func (s *Service) CreateDispute(ctx context.Context, p access.Principal, in NewDispute) (Dispute, error) {
	now := s.now()
	grid, err := region.ReportGrid(ctx, s.regions, p, in.RegionCode)
	if err != nil {
		return Dispute{}, err
	}
	if err := s.validate(ctx, in, now); err != nil {
		return Dispute{}, err
	}
	codes := map[Level]string{}
	for i, code := range strings.Split(strings.Trim(grid.Path, "/"), "/") {
		if i < len(region.Levels) {
			codes[region.Levels[i]] = code
		}
	}
	d := Dispute{
		ID: uuid.Must(uuid.NewV7()).String(), Category: in.Category, Description: strings.TrimSpace(in.Description),
		Location: in.Location, RegionCode: grid.Code, CommunityCode: codes[region.Community],
		TownshipCode: codes[region.Township], CountyCode: codes[region.County], CityCode: codes[region.City],
		OccurredAt: in.OccurredAt, ReportedAt: now, ClientCreatedAt: in.ClientCreatedAt, ReporterID: p.UserID,
		PhotoIDs: in.PhotoIDs, Parties: in.Parties, Amount: in.Amount, Risk: in.Risk, Status: Registered,
		Level: region.Community, LevelCode: codes[region.Community], EnteredLevelAt: now, Version: 1,
		CreatedAt: now, UpdatedAt: now,
	}
	if d.PhotoIDs == nil {
		d.PhotoIDs = []string{}
	}
	for i := range d.Parties {
		d.Parties[i].Name = strings.TrimSpace(d.Parties[i].Name)
		d.Parties[i].Phone = normalisePhone(d.Parties[i].Phone)
		d.Parties[i].IDNumber = strings.ToUpper(strings.TrimSpace(d.Parties[i].IDNumber))
	}
	d.DueAt = s.deadlines.due(d)
	prefix := "JF-" + d.CountyCode + "-" + now.In(s.loc).Format("20060102")
	n, err := s.store.NextCaseNumber(ctx, prefix)
	if err != nil {
		return Dispute{}, err
	}
	d.CaseNo = fmt.Sprintf("%s-%04d", prefix, n)
	ev := s.event(ctx, p, d, "create", "", Registered, "", map[string]any{"level": d.Level, "level_code": d.LevelCode}, now)
	details, _ := json.Marshal(map[string]any{"case_no": d.CaseNo, "region_code": d.RegionCode, "risk": d.Risk, "parties": len(d.Parties)})
	err = s.log.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.CreateDispute(ctx, d, ev); err != nil {
			return err
		}
		if len(d.PhotoIDs) > 0 {
			if err := s.photos.AttachPhotos(ctx, "dispute", d.ID, p.UserID, d.PhotoIDs); err != nil {
				return err
			}
		}
		return s.log.AppendAudit(ctx, audit.New(ctx, p, now, "dispute.create", "dispute", d.ID, string(details)))
	})
	if err != nil {
		return Dispute{}, err
	}
	return d, nil
}

func normalisePhone(s string) string {
	return strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(s))
}

func (s *Service) validate(ctx context.Context, in NewDispute, now time.Time) error {
	bad := errs.FieldErrors{}
	c, err := s.categories.FindCategory(ctx, category.Dispute, in.Category)
	switch {
	case errors.Is(err, errs.ErrNotFound) || (err == nil && !c.Active):
		bad.Add("category", "not an active dispute category")
	case err != nil:
		return err
	}
	if !in.Risk.Valid() {
		bad.Add("risk_level", "one of low, medium, high")
	}
	checkText(bad, "description", in.Description, true)
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
	if in.Amount != nil && (*in.Amount < 0 || *in.Amount > MaxAmount) {
		bad.Add("amount", "fen, from 0 to 1000000000000")
	}
	checkPhotos(bad, "photo_ids", in.PhotoIDs)
	if len(in.Parties) == 0 || len(in.Parties) > MaxParties {
		bad.Add("parties", fmt.Sprintf("from 1 to %d parties", MaxParties))
	}
	for i, pt := range in.Parties {
		f := fmt.Sprintf("parties[%d]", i)
		if pt.Role != Applicant && pt.Role != Respondent && pt.Role != Other {
			bad.Add(f+".role", "one of applicant, respondent, other")
		}
		if n := utf8.RuneCountInString(strings.TrimSpace(pt.Name)); n == 0 || n > 64 || !text.Clean(pt.Name, false) {
			bad.Add(f+".name", "required, at most 64 characters")
		}
		if ph := normalisePhone(pt.Phone); ph != "" && !validPhone(ph) {
			bad.Add(f+".phone", "a phone number of 7 to 15 digits, + allowed first")
		}
		if id := strings.ToUpper(strings.TrimSpace(pt.IDNumber)); id != "" && !validIDNumber(id) {
			bad.Add(f+".id_number", "18 characters: 17 digits and a digit or X")
		}
	}
	return bad.Err()
}

func checkText(bad errs.FieldErrors, field, s string, required bool) {
	n := utf8.RuneCountInString(strings.TrimSpace(s))
	if (required && n == 0) || n > MaxText || !text.Clean(s, true) {
		what := fmt.Sprintf("at most %d characters, no control characters", MaxText)
		if required {
			what = "required, " + what
		}
		bad.Add(field, what)
	}
}

func checkPhotos(bad errs.FieldErrors, field string, ids []string) {
	if len(ids) > MaxPhotos {
		bad.Add(field, fmt.Sprintf("at most %d photos", MaxPhotos))
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if _, err := uuid.Parse(id); err != nil || seen[id] {
			bad.Add(field, "photo ids must be distinct upload ids")
		}
		seen[id] = true
	}
}

func validPhone(s string) bool {
	digits := strings.TrimPrefix(s, "+")
	if len(digits) < 7 || len(digits) > 15 {
		return false
	}
	for _, r := range digits {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func validIDNumber(s string) bool {
	if len(s) != 18 {
		return false
	}
	for i, r := range s {
		if !(r >= '0' && r <= '9') && !(i == 17 && r == 'X') {
			return false
		}
	}
	return true
}

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

// levelNotices are notices for every active mediator of d's handling region.
func (s *Service) levelNotices(ctx context.Context, d Dispute, kind, title string) ([]Notice, error) {
	users, err := s.users.FindUsers(ctx, user.Filter{Role: access.Mediator, RegionCode: d.LevelCode, Limit: 200})
	if err != nil {
		return nil, err
	}
	var out []Notice
	for _, u := range users {
		if u.Active {
			out = append(out, Notice{UserID: u.ID, Kind: kind, CaseID: d.ID, CaseNo: d.CaseNo, Title: title,
				DedupeKey: fmt.Sprintf("%s:%s:%s:%d", kind, d.ID, d.Level, d.EnteredLevelAt.UnixMicro())})
		}
	}
	return out, nil
}

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
	if !visible(p, d) {
		return Dispute{}, fmt.Errorf("dispute %s: %w", id, errs.ErrNotFound)
	}
	return d, nil
}

// Reveal returns the dispute with its parties unmasked, for its assigned
// mediator or an admin only (errs.ErrForbidden for others who may see it),
// and records the reveal in the audit log.
func (s *Service) Reveal(ctx context.Context, p access.Principal, id string) (Dispute, error) {
	d, err := s.FindDispute(ctx, p, id)
	if err != nil {
		return Dispute{}, err
	}
	if !(p.Role == access.Admin || (p.Role == access.Mediator && d.AssigneeID == p.UserID)) {
		return Dispute{}, fmt.Errorf("only the assigned mediator or an admin may see the parties' full details: %w", errs.ErrForbidden)
	}
	err = s.log.InTx(ctx, func(ctx context.Context) error {
		return s.log.AppendAudit(ctx, audit.New(ctx, p, s.now(), "dispute.reveal", "dispute", d.ID,
			fmt.Sprintf(`{"parties":%d}`, len(d.Parties))))
	})
	if err != nil {
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
// errs.ErrForbidden when q.Region lies outside it.
func (s *Service) FindDisputes(ctx context.Context, p access.Principal, q Query) ([]Dispute, error) {
	f := q.Filter
	if q.AssigneeMe {
		f.AssigneeID = p.UserID
	}
	if q.Phone != "" {
		f.PhoneHash = s.hasher.Hash(normalisePhone(q.Phone))
	}
	if f.Overdue != nil {
		f.OverdueAt = s.now()
	}
	target := region.Region{Code: p.RegionCode, Path: p.RegionPath}
	if q.Region != "" {
		r, err := s.regions.FindRegionByCode(ctx, q.Region)
		if err != nil || !p.Covers(r.Path) || (p.Role == access.GridWorker && r.Code != p.RegionCode) {
			return nil, fmt.Errorf("region %s is outside your scope: %w", q.Region, errs.ErrForbidden)
		}
		target = r
	} else if p.Role == access.GridWorker {
		f.GridOrReporter = &[2]string{p.RegionCode, p.UserID}
		return s.store.FindDisputes(ctx, f)
	}
	switch len(strings.FieldsFunc(target.Path, func(r rune) bool { return r == '/' })) {
	case 0, 1:
	case 2:
		f.CountyCode = target.Code
	case 3:
		f.TownshipCode = target.Code
	case 4:
		f.CommunityCode = target.Code
	default:
		f.GridCode = target.Code
	}
	return s.store.FindDisputes(ctx, f)
}

// Timeline returns the dispute's events if p may see it.
func (s *Service) Timeline(ctx context.Context, p access.Principal, id string) ([]Event, error) {
	if _, err := s.FindDispute(ctx, p, id); err != nil {
		return nil, err
	}
	return s.store.FindDisputeEvents(ctx, id)
}

// SettlementRate is 就地化解率 (SPEC §8.2) for the subtree of the region
// and the period [from, to): disputes resolved at community level over all
// disputes resolved, with both counts; the rate is 0 when nothing was resolved.
func (s *Service) SettlementRate(ctx context.Context, r region.Region, from, to time.Time) (rate float64, community, total int, err error) {
	level := r.Level
	if level == region.City {
		level = ""
	}
	community, total, err = s.store.CountResolutions(ctx, level, r.Code, from, to)
	if err != nil || total == 0 {
		return 0, community, total, err
	}
	return float64(community) / float64(total), community, total, nil
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

// fields lists which of Act's fields each action takes (besides Action).
var fields = map[string][]string{
	"accept":         {"assignee_id", "note"},
	"start":          {"note"},
	"record_session": {"held_at", "method", "attendees", "notes", "photo_ids"},
	"resolve":        {"agreement", "photo_ids", "amount_settled"},
	"fail":           {"reason"},
	"escalate":       {"reason"},
	"refer":          {"to", "note"},
	"follow_up":      {"satisfaction", "note"},
	"close":          {"note"},
	"reopen":         {"reason"},
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
	checkText(bad, "note", a.Note, false)
	switch a.Action {
	case "accept":
		if _, err := uuid.Parse(a.AssigneeID); a.AssigneeID != "" && err != nil {
			bad.Add("assignee_id", "a user id")
		}
	case "record_session":
		if a.HeldAt == nil || a.HeldAt.After(now.Add(clockSkew)) || a.HeldAt.Before(now.Add(-MaxBackdate)) {
			bad.Add("held_at", "required, not in the future nor more than 90 days ago")
		}
		if a.Method != "onsite" && a.Method != "phone" && a.Method != "video" {
			bad.Add("method", "one of onsite, phone, video")
		}
		if len(a.Attendees) == 0 || len(a.Attendees) > 50 {
			bad.Add("attendees", "from 1 to 50 names")
		}
		for _, n := range a.Attendees {
			if l := utf8.RuneCountInString(strings.TrimSpace(n)); l == 0 || l > 64 || !text.Clean(n, false) {
				bad.Add("attendees", "names of 1 to 64 characters")
				break
			}
		}
		checkText(bad, "notes", a.Notes, true)
		checkPhotos(bad, "photo_ids", a.PhotoIDs)
	case "resolve":
		checkText(bad, "agreement", a.Agreement, true)
		checkPhotos(bad, "photo_ids", a.PhotoIDs)
		if a.AmountSettled != nil && (*a.AmountSettled < 0 || *a.AmountSettled > MaxAmount) {
			bad.Add("amount_settled", "fen, from 0 to 1000000000000")
		}
	case "fail", "escalate", "reopen":
		checkText(bad, "reason", a.Reason, true)
	case "refer":
		switch a.To {
		case "litigation", "arbitration", "petition", "other_department":
		default:
			bad.Add("to", "one of litigation, arbitration, petition, other_department")
		}
	case "follow_up":
		if a.Satisfaction == nil || *a.Satisfaction < 1 || *a.Satisfaction > 5 {
			bad.Add("satisfaction", "required, 1 to 5")
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
		level := d.Level
		d.ResolvedLevel, d.ResolvedAt = level, &now
		d.Outcome = Outcome{Agreement: strings.TrimSpace(a.Agreement), AmountSettled: a.AmountSettled, PhotoIDs: a.PhotoIDs}
		d.FollowUps, d.LastFollowUpAt, d.ClosedAt = 0, nil, nil
		photos = a.PhotoIDs
		payload["resolved_level"], payload["agreement"] = level, d.Outcome.Agreement
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
		// Not settled any more: it counts again when it is resolved again.
		d.EnteredLevelAt, d.AssigneeID, d.ClosedAt = now, "", nil
		d.ResolvedLevel, d.ResolvedAt = "", nil
		payload["reason"] = strings.TrimSpace(a.Reason)
	}
	d.DueAt = s.deadlines.due(d)
	d.Version, d.UpdatedAt = version+1, now
	note := strings.TrimSpace(a.Note)
	ev := s.event(ctx, p, d, a.Action, before.Status, d.Status, note, payload, now)
	details, _ := json.Marshal(map[string]any{"from": before.Status, "to": d.Status, "level": d.Level, "version": d.Version})
	err = s.log.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.UpdateDispute(ctx, d, version, ev); err != nil {
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
		return s.log.AppendAudit(ctx, audit.New(ctx, p, now, "dispute."+a.Action, "dispute", d.ID, string(details)))
	})
	if err != nil {
		return Dispute{}, err
	}
	return d, nil
}

var levelName = map[Level]string{region.Community: "社区", region.Township: "镇街", region.County: "县区", region.City: "市级"}

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

// DueSoon is how long before its deadline a case raises a "due soon" notice.
const DueSoon = 2 * time.Hour

// NotifyDue writes one "due_soon" notice per open case and deadline within
// DueSoon, and one "overdue" notice once it has passed, to its assignee or,
// without one, to the mediators of its level. Notices carry a key per case
// and deadline, so running this every minute notifies each only once.
// Returns how many cases it looked at.
func (s *Service) NotifyDue(ctx context.Context) (int, error) {
	now := s.now()
	due, err := s.store.FindDueDisputes(ctx, now.Add(DueSoon), 500)
	if err != nil {
		return 0, err
	}
	var notices []Notice
	for _, d := range due {
		kind, title := "due_soon", "矛盾纠纷即将超期 "+d.CaseNo
		if d.DueAt.Before(now) {
			kind, title = "overdue", "矛盾纠纷已超期 "+d.CaseNo
		}
		key := fmt.Sprintf("%s:%s:%d", kind, d.ID, d.DueAt.UnixMicro())
		if d.AssigneeID != "" {
			notices = append(notices, Notice{UserID: d.AssigneeID, Kind: kind, CaseID: d.ID, CaseNo: d.CaseNo, Title: title, DedupeKey: key})
			continue
		}
		ns, err := s.levelNotices(ctx, d, kind, title)
		if err != nil {
			return 0, err
		}
		for i := range ns {
			ns[i].DedupeKey = key
		}
		notices = append(notices, ns...)
	}
	if len(notices) == 0 {
		return len(due), nil
	}
	return len(due), s.log.InTx(ctx, func(ctx context.Context) error { return s.notifier.NotifyDisputes(ctx, notices) })
}

// MaskParties returns the parties with phone and ID numbers masked.
func MaskParties(ps []Party) []Party {
	out := make([]Party, len(ps))
	for i, p := range ps {
		out[i] = Party{Role: p.Role, Name: p.Name, Phone: pii.MaskPhone(p.Phone), IDNumber: pii.MaskID(p.IDNumber)}
	}
	return out
}
