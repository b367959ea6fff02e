// Package dispute holds the disputes (矛盾纠纷) of the one-stop mediation
// workflow (SPEC §4.3, §8): their state machine, the handling levels from
// community up to city, deadlines, the parties' protected personal data and
// the settlement level that 就地化解率 counts.
package dispute

import (
	"context"
	"time"

	"pingan/internal/access"
	"pingan/internal/fact"
	"pingan/internal/intake"
	"pingan/internal/region"
)

// Status is a state of the mediation life cycle (SPEC §8.1).
type Status string

// The states.
const (
	Registered Status = "registered"
	Accepted   Status = "accepted"
	Mediating  Status = "mediating"
	Resolved   Status = "resolved"
	Failed     Status = "failed"
	Referred   Status = "referred"
	Closed     Status = "closed"
)

// Statuses lists every state.
var Statuses = []Status{Registered, Accepted, Mediating, Resolved, Failed, Referred, Closed}

// Valid reports whether s is a known state.
func (s Status) Valid() bool {
	for _, v := range Statuses {
		if v == s {
			return true
		}
	}
	return false
}

// Open reports whether a case in s is still waiting for someone: the
// states a deadline applies to.
func (s Status) Open() bool { return s == Registered || s == Accepted || s == Mediating }

// Level is where a dispute is handled: a region level from community up.
type Level = region.Level

// Levels lists the handling levels bottom up: escalation follows it.
var Levels = []Level{region.Community, region.Township, region.County, region.City}

// rank is a level's position in Levels (community 0), -1 for others.
func rank(l Level) int {
	for i, v := range Levels {
		if v == l {
			return i
		}
	}
	return -1
}

// next is the level above l, "" at city.
func next(l Level) Level {
	if r := rank(l); r >= 0 && r+1 < len(Levels) {
		return Levels[r+1]
	}
	return ""
}

// Risk grades how likely a dispute is to escalate into harm.
type Risk string

// The risk levels.
const (
	RiskLow    Risk = "low"
	RiskMedium Risk = "medium"
	RiskHigh   Risk = "high"
)

// Valid reports whether r is a known risk level.
func (r Risk) Valid() bool { return r == RiskLow || r == RiskMedium || r == RiskHigh }

// PartyRole is a party's side.
type PartyRole string

// The party roles.
const (
	Applicant  PartyRole = "applicant"
	Respondent PartyRole = "respondent"
	Other      PartyRole = "other"
)

// Party is one person in a dispute. Phone and IDNumber are plain inside the
// domain; the store encrypts them, and responses mask them.
type Party struct {
	Role     PartyRole
	Name     string
	Phone    string
	IDNumber string
}

// Location is where it happened.
type Location = intake.Location

// Dispute is one case of mediation.
type Dispute struct {
	ID          string
	CaseNo      string
	Category    string
	Description string
	Location    Location
	// RegionCode is the grid it was reported in; its ancestors are kept for
	// scoped lists, and for the code of the handling level.
	RegionCode      string
	CommunityCode   string
	TownshipCode    string
	CountyCode      string
	CityCode        string
	OccurredAt      time.Time
	ReportedAt      time.Time
	ClientCreatedAt *time.Time
	ReporterID      string
	PhotoIDs        []string
	Parties         []Party
	// Amount is the money at stake in fen, when known.
	Amount    *int64
	Risk      Risk
	Status    Status
	Level     Level
	LevelCode string // the region of Level that handles it
	// EnteredLevelAt is when it last entered its level (created,
	// escalated or reopened): deadlines count from there.
	EnteredLevelAt time.Time
	AssigneeID     string
	DueAt          *time.Time
	// ResolvedLevel is the level of the last resolution, "" until resolved.
	ResolvedLevel  Level
	ResolvedAt     *time.Time
	Outcome        Outcome
	FollowUps      int
	LastFollowUpAt *time.Time
	ClosedAt       *time.Time
	Version        int
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Outcome is how a dispute ended, as far as it has.
type Outcome struct {
	Agreement     string
	AmountSettled *int64   // fen
	PhotoIDs      []string // of the signed agreement
	FailReason    string
	ReferredTo    string
	ReferNote     string
	Satisfaction  *int // of the last follow-up
}

// Overdue reports whether d is open and past its deadline at now.
func (d Dispute) Overdue(now time.Time) bool {
	return d.Status.Open() && d.DueAt != nil && d.DueAt.Before(now)
}

// codes is the grid's ancestry by level.
// scopeCase is what the scope rule needs of the dispute.
func (d Dispute) scopeCase() access.Case {
	return access.Case{Kind: "dispute", ID: d.ID, ReporterID: d.ReporterID,
		Place: access.Place{County: d.CountyCode, Township: d.TownshipCode, Community: d.CommunityCode, Grid: d.RegionCode}}
}

// gridPath is the path of the dispute's grid.
func (d Dispute) gridPath() string {
	return "/" + d.CityCode + "/" + d.CountyCode + "/" + d.TownshipCode + "/" + d.CommunityCode + "/" + d.RegionCode + "/"
}

func (d Dispute) codes() map[Level]string {
	return map[Level]string{region.City: d.CityCode, region.County: d.CountyCode, region.Township: d.TownshipCode,
		region.Community: d.CommunityCode, region.Grid: d.RegionCode}
}

// Event is one entry of a dispute's timeline: who did what, from which state
// and level to which, with what the action carried.
type Event struct {
	ID        string
	CaseID    string
	ActorID   string
	Action    string
	From, To  Status
	Note      string
	Payload   string // JSON object
	RequestID string
	CreatedAt time.Time
}

// Filter selects disputes for FindDisputes.
type Filter struct {
	// Scope is the caller's part of the tree (access.ListScope).
	Scope    access.Scope
	Status   Status
	Level    Level
	Category string
	Risk     Risk
	// Overdue: open and past due at OverdueAt (true), or not (false).
	Overdue    *bool
	OverdueAt  time.Time
	AssigneeID string
	// PhoneHash finds disputes with a party of that phone (keyed hash).
	PhoneHash string
	From, To  time.Time // on created_at; zero: unbounded
	BeforeAt  time.Time // keyset cursor, created_at DESC, id DESC
	BeforeID  string
	Limit     int
}

// ChangeFilter selects disputes changed after a point, oldest change first,
// for offline sync: rows after (AfterAt, AfterID) in the order updated_at,
// id (a zero AfterAt: from the first).
type ChangeFilter struct {
	Scope   access.Scope
	AfterAt time.Time
	AfterID string
	Limit   int
}

// Store persists disputes. Implemented in internal/store.
type Store interface {
	// NextCaseNumber returns the next number of the sequence named prefix.
	NextCaseNumber(ctx context.Context, prefix string) (int64, error)
	// CreateDispute inserts the dispute, its parties, its first event and
	// its first facts (the accept deadline).
	CreateDispute(ctx context.Context, d Dispute, ev Event, c fact.Change) error
	// FindDisputeByID returns errs.ErrNotFound if there is none.
	FindDisputeByID(ctx context.Context, id string) (Dispute, error)
	// FindDisputes lists disputes newest first (without their parties).
	FindDisputes(ctx context.Context, f Filter) ([]Dispute, error)
	// FindParties returns the parties (decrypted) of each of the disputes,
	// by dispute id, in their order; a dispute without parties is absent.
	FindParties(ctx context.Context, ids []string) (map[string][]Party, error)
	// FindChangedDisputes lists disputes by (updated_at, id) ascending
	// (without their parties).
	FindChangedDisputes(ctx context.Context, f ChangeFilter) ([]Dispute, error)
	// UpdateDispute saves d's changing fields if its version is still
	// version (d.Version is the new one), appends ev and writes the facts
	// of c (ending the case's running deadline when c says so). Returns
	// errs.ErrPrecondition otherwise.
	UpdateDispute(ctx context.Context, d Dispute, version int, ev Event, c fact.Change) error
	// FindDisputeEvents lists a dispute's timeline in order.
	FindDisputeEvents(ctx context.Context, caseID string) ([]Event, error)
	// FindDueDisputes lists open disputes whose due_at is before the time,
	// oldest deadline first.
	FindDueDisputes(ctx context.Context, before time.Time, limit int) ([]Dispute, error)
	// MarkBreached writes the breach of the running deadlines of the cases
	// that were due before now (SPEC §4.3): the overdue scan's record.
	MarkBreached(ctx context.Context, caseIDs []string, now time.Time) error
	// CountResolutions counts the resolution facts of [from, to) in the
	// scope, in total and settled at community level.
	CountResolutions(ctx context.Context, scope access.Scope, from, to time.Time) (community, total int, err error)
	// RecentActions returns the times of actorID's audit entries of action
	// at or after since, newest first, at most limit: what a per-user limit
	// counts, in the database so that every instance shares it.
	RecentActions(ctx context.Context, actorID, action string, since time.Time, limit int) ([]time.Time, error)
}

// Bulk inserts already-built disputes (with parties), their events and the
// counters of their case numbers in one transaction: the demo data set uses
// it; requests never do.
type Bulk interface {
	BulkInsertDisputes(ctx context.Context, ds []Dispute, events []Event, facts []fact.Fact, deadlines []fact.Deadline,
		counters map[string]int64) error
}
