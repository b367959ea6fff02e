// Package incident holds the incidents (事件) grid workers report and the
// command centre handles (SPEC §4.3, §6.4): their rules, states and
// timeline. Disputes, the other kind of case, have a package of their own.
package incident

import (
	"context"
	"time"

	"pingan/internal/access"
	"pingan/internal/audit"
	"pingan/internal/fact"
	"pingan/internal/idempotency"
	"pingan/internal/intake"
	"pingan/internal/ranking"
)

// Severity grades an incident.
type Severity string

// The severities.
const (
	Low      Severity = "low"
	Medium   Severity = "medium"
	High     Severity = "high"
	Critical Severity = "critical"
)

// Valid reports whether s is a known severity.
func (s Severity) Valid() bool { return s == Low || s == Medium || s == High || s == Critical }

// Status is a state of the incident life cycle.
type Status string

// The states (SPEC §6.4).
const (
	Reported   Status = "reported"
	Accepted   Status = "accepted"
	InProgress Status = "in_progress"
	Resolved   Status = "resolved"
	Closed     Status = "closed"
	Rejected   Status = "rejected"
	Cancelled  Status = "cancelled"
)

// Statuses lists every state.
var Statuses = []Status{Reported, Accepted, InProgress, Resolved, Closed, Rejected, Cancelled}

// Valid reports whether s is a known state.
func (s Status) Valid() bool {
	for _, v := range Statuses {
		if v == s {
			return true
		}
	}
	return false
}

// Location is where it happened.
type Location = intake.Location

// Incident is one reported case.
type Incident struct {
	ID          string
	CaseNo      string
	Category    string
	Severity    Severity
	Status      Status
	Description string
	Location    Location
	// RegionCode is the grid; its ancestors are kept for scoped lists.
	RegionCode      string
	CommunityCode   string
	TownshipCode    string
	CountyCode      string
	OccurredAt      time.Time
	ReportedAt      time.Time
	ClientCreatedAt *time.Time
	ReporterID      string
	PhotoIDs        []string
	Version         int
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// scopeCase is what the scope rule needs of the incident.
func (i Incident) scopeCase() access.Case {
	return access.Case{Kind: "incident", ID: i.ID, ReporterID: i.ReporterID,
		Place: access.Place{County: i.CountyCode, Township: i.TownshipCode, Community: i.CommunityCode, Grid: i.RegionCode}}
}

// Event is one entry of a case's timeline.
type Event struct {
	ID        string
	CaseID    string
	ActorID   string
	Action    string
	From, To  Status
	Note      string
	RequestID string
	CreatedAt time.Time
}

// Filter selects incidents for FindIncidents.
type Filter struct {
	// Scope is the caller's part of the tree (access.ListScope).
	Scope      access.Scope
	ReporterID string
	Status     Status
	Category   string
	Severity   Severity
	From, To   time.Time // on created_at; zero: unbounded
	// Before is the keyset cursor: rows strictly before (BeforeAt, BeforeID)
	// in the order created_at DESC, id DESC.
	BeforeAt time.Time
	BeforeID string
	Limit    int
}

// ChangeFilter selects incidents changed since a point, oldest change first,
// for offline sync.
type ChangeFilter struct {
	Filter
	AfterAt time.Time
	AfterID string
}

// Store persists incidents. Implemented in internal/store.
type Store interface {
	// NextCaseNumber returns the next number of the sequence named prefix
	// (one per county and day), outside any transaction.
	NextCaseNumber(ctx context.Context, prefix string) (int64, error)
	// CreateReport writes a new report: everything Report holds, all or
	// nothing. Outside a transaction the report may share one transaction
	// with other reports written at the same moment (group commit); either
	// way CreateReport returns only after COMMIT, so a report it accepted is
	// durable. Inside a transaction of the context (a Transactor's InTx) it
	// writes in that transaction, which commits later or not at all; after
	// an error there the caller must roll it back (InTx does).
	//
	// Returns, with nothing written, an error wrapping
	// idempotency.ErrKeyTaken (an errs.ErrConflict) when the receipt's key
	// already has a record, and errs.FieldErrors naming photo_ids when a
	// photo is unknown, not the reporter's upload, or attached to a case
	// already. Returns errs.ErrUnavailable when the database cannot be
	// reached, or at once when ctx ends first: the report may then still
	// commit, with its receipt, so a retry with the same key finds the
	// receipt or nothing.
	CreateReport(ctx context.Context, r Report) error
	// FindIncidentByID returns errs.ErrNotFound if there is none.
	FindIncidentByID(ctx context.Context, id string) (Incident, error)
	// FindIncidents lists incidents newest first.
	FindIncidents(ctx context.Context, f Filter) ([]Incident, error)
	// FindChangedIncidents lists incidents by (updated_at, id) ascending.
	FindChangedIncidents(ctx context.Context, f ChangeFilter) ([]Incident, error)
	// UpdateIncidentStatus moves the incident to status if its version is
	// still version, and appends ev and the facts it adds (SPEC §4.3).
	// Returns errs.ErrPrecondition otherwise.
	UpdateIncidentStatus(ctx context.Context, id string, version int, status Status, at time.Time, ev Event, facts []fact.Fact) error
	// FindEvents lists a case's timeline in order.
	FindEvents(ctx context.Context, caseID string) ([]Event, error)
}

// Report is what a new report writes, together (Store.CreateReport).
type Report struct {
	// Incident is the new case. The photos it lists are attached to it: each
	// must be an upload of its reporter not attached to any case yet.
	Incident Incident
	// Event is the first entry of its timeline.
	Event Event
	// Audit is the audit entry of the report.
	Audit audit.Entry
	// Recompute lists the index jobs a report of an earlier day needs (the
	// periods it falls in have been computed already); a job is left out
	// when one of its period is pending already.
	Recompute []ranking.Job
	// Receipt, when not nil, is the request's idempotency record, finished:
	// the response to replay for a repeat of the request.
	Receipt *idempotency.Record
}

// Bulk inserts already-built incidents, their events and the counters of
// their case numbers in one transaction: the demo data set and benchmarks
// use it; requests never do.
type Bulk interface {
	BulkInsertIncidents(ctx context.Context, incs []Incident, events []Event, facts []fact.Fact, counters map[string]int64) error
}
