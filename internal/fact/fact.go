// Package fact holds the case facts of SPEC §4.3: what statistics are made
// of. Besides its current state a case keeps, each written once, the
// moments it was accepted, resolved (with the level that settled it),
// closed, escalated, reopened and followed up, and every deadline it ever
// had with how it ended. A period's indicators (SPEC §9.2), warnings (§10)
// and reports (§11) count these, never today's status, due date or update
// time, so a past period recomputed later gives the same value unless a
// fact about that period arrived late.
//
// The package is pure: the case packages derive facts from their actions
// (and, for the migration, from their timelines) and the store writes them
// in the same transaction as the action.
package fact

import (
	"time"

	"pingan/internal/region"
)

// Kind names what happened to a case.
type Kind string

// The kinds of fact. Incidents have Accepted, Resolved, Closed, Rejected
// and Cancelled; disputes every kind but the last two.
const (
	Accepted   Kind = "accepted"
	Resolved   Kind = "resolved"
	Failed     Kind = "failed"
	Escalated  Kind = "escalated"
	Referred   Kind = "referred"
	FollowedUp Kind = "followed_up"
	Closed     Kind = "closed"
	Reopened   Kind = "reopened"
	Rejected   Kind = "rejected"
	Cancelled  Kind = "cancelled"
)

// Case is what every fact copies of its case, none of which ever changes:
// which case, what kind and category, where (down to the grid), who
// reported it and when; enough for the scope rule and every statistic.
type Case struct {
	ID, Kind, Category                      string // Kind "incident" or "dispute"
	CountyCode, TownshipCode, CommunityCode string
	GridCode                                string
	ReporterID                              string
	ReportedAt                              time.Time
}

// Fact is one moment of a case. Its ID is the ID of the timeline event that
// recorded it, so a fact is written once however often it is derived.
type Fact struct {
	ID   string
	Case Case
	Kind Kind
	At   time.Time
	// Level is the case's handling level after the action; for Resolved it
	// is the settled level (Settled). Empty for incidents.
	Level region.Level
	// Satisfaction (1–5) of a FollowedUp fact.
	Satisfaction *int
}

// DeadlineKind is the step a deadline is for (SPEC §8.3).
type DeadlineKind string

// The deadline kinds.
const (
	Accept  DeadlineKind = "accept"
	Resolve DeadlineKind = "resolve"
)

// Deadline is one time limit a case had: opened when its step began (the
// case entered a level, or was accepted), ended when the step ended. Its ID
// is the ID of the event that opened it.
type Deadline struct {
	ID        string
	Case      Case
	Kind      DeadlineKind
	Level     region.Level
	StartedAt time.Time
	DueAt     time.Time
	// MetAt is when the step was done (accepted, resolved), early or late.
	MetAt *time.Time
	// BreachedAt is DueAt once the deadline has passed with the step not
	// done: written by the overdue scan, or by the action that ends the
	// step late. Met late is still breached.
	BreachedAt *time.Time
	// EndedAt is when the deadline stopped running: met, or the step given
	// up (escalated, failed). Nil while it runs.
	EndedAt *time.Time
}

// Ending is how an action ends a case's running deadline.
type Ending struct {
	At         time.Time
	Met        bool
	BreachedAt *time.Time // the deadline's due time when At is after it
}

// End is the ending of a deadline due at due by an action at at; met when
// the action is the step the deadline was for.
func End(due, at time.Time, met bool) Ending {
	e := Ending{At: at, Met: met}
	if at.After(due) {
		d := due
		e.BreachedAt = &d
	}
	return e
}

// Change is what one action adds to a case's facts: the fact of the action
// (if it is one that statistics count), the end of the running deadline and
// the deadline that begins.
type Change struct {
	Facts  []Fact
	End    *Ending
	Opened *Deadline
}

// Empty reports whether the action added nothing.
func (c Change) Empty() bool { return len(c.Facts) == 0 && c.End == nil && c.Opened == nil }

// Higher is the higher of two handling levels (city above county above
// township above community); an unknown level counts lowest.
func Higher(a, b region.Level) region.Level {
	da, db := a.Depth(), b.Depth()
	if da < 0 || (db >= 0 && db < da) {
		return b
	}
	return a
}

// Breached reports whether a deadline counts as breached at now: its
// breach was written, or it is still running past its due time. An ended
// deadline that was not written as breached ended on time.
func (d Deadline) Breached(now time.Time) bool {
	return d.BreachedAt != nil || (d.EndedAt == nil && d.DueAt.Before(now))
}
