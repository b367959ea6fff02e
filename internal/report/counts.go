package report

import (
	"time"

	"pingan/internal/access"
)

// CountQuery is what the store counts for a summary: the cases and facts
// of the period [Start, End) in Scope, of the kinds in Kinds.
type CountQuery struct {
	Scope      access.Scope
	Kinds      []string // "incident", "dispute"
	Start, End time.Time
	// AsOf is when the cases still open are counted: the period's end, or
	// now when the period has not ended yet.
	AsOf time.Time
	// Now decides the deadlines still running: one past due at Now is
	// breached (fact.Deadline.Breached).
	Now time.Time
	// OpenIncident is the incident states that are open (reported,
	// accepted, in progress).
	OpenIncident []string
	// Child is the case column the figures are broken down by
	// (county_code … region_code), ChildPlaces, or "" for the scope as
	// one.
	Child string
	// Parts are the counts asked for; 0 is all of them.
	Parts Parts
	// Children are the codes of the child regions (with Child), which the
	// daily counts are read for.
	Children []string
}

// ChildPlaces as a CountQuery's Child breaks the figures down by
// community, keyed by "county/township/community" (the daily counts add
// them up to every level).
const ChildPlaces = "places"

// Parts selects counts of a CountQuery.
type Parts int

// The parts of the counts: the cases reported in the period by their
// current status and level, which move as the cases do; what happened in
// the period, counted from facts (SPEC §4.3), which no longer changes once
// the period has ended; and the cases open at AsOf, from facts too.
const (
	PartReported Parts = 1 << iota
	PartFacts
	PartOpen
	// PartFlows are a day's Flow, for the daily counts (not in AllParts).
	PartFlows
	AllParts = PartReported | PartFacts | PartOpen
)

// Has reports whether p asks for part (0 asks for every part).
func (p Parts) Has(part Parts) bool { return p == 0 || p&part != 0 }

// Counts are the raw figures of one region: what the summary's figures
// are computed from.
type Counts struct {
	Reported    []Reported // cases reported in the period
	Resolutions []Hours    // resolutions in the period, by hours from report
	Acceptances []Hours    // the same resolutions, by hours from report to the case's first acceptance
	Deadlines   Deadlines  // deadlines due in the period
	// FollowUps of the period; SatisfactionSum over SatisfactionN of them
	// that gave a satisfaction.
	FollowUps, SatisfactionSum, SatisfactionN int
	// Open cases at AsOf, and how many of them ran past a deadline then.
	Open, Overdue int
	// Flow is what moved the open cases in the period (PartFlows).
	Flow Flow
}

// Flow is what changed the open cases in a period: the cases open at a
// time t are the sum of Opened − Closed over every period before t, and
// those overdue the sum of Due − DueClosed. For incidents (which have no
// deadlines) Opened counts the cases reported and Closed those that ended
// (resolved, rejected, cancelled: an incident ends once). For disputes
// (open exactly while a deadline runs) Opened counts the deadlines begun,
// Closed those ended, Due those due (at the later of their due time and
// start, as the summary's deadlines due), and DueClosed the ended ones
// whose later of due time and end fell in the period: a deadline begun and
// due before t counts as overdue at t unless it also ended before t.
type Flow struct{ Opened, Closed, Due, DueClosed int }

// Reported is a number of cases reported in a period with the same kind,
// category, current status and (disputes) handling level.
type Reported struct {
	Kind, Category, Status, Level string
	N                             int
}

// Hours is a number of resolutions of a kind settled at a level (disputes)
// whose time from report took Hours whole hours (truncated).
type Hours struct {
	Kind, Level string
	Hours       int
	N           int
}

// Deadlines counts the deadlines due in a period: Met on time, Breached
// (met late, given up late, or still running past due), out of Due.
type Deadlines struct{ Due, Met, Breached int }

// Add adds o's counts to c: the lists are joined (every figure sums or
// ranks their entries, so an entry may repeat), the numbers added.
func (c *Counts) Add(o *Counts) {
	if o == nil {
		return
	}
	c.Reported = append(c.Reported, o.Reported...)
	c.Resolutions = append(c.Resolutions, o.Resolutions...)
	c.Acceptances = append(c.Acceptances, o.Acceptances...)
	c.Deadlines.Due += o.Deadlines.Due
	c.Deadlines.Met += o.Deadlines.Met
	c.Deadlines.Breached += o.Deadlines.Breached
	c.FollowUps += o.FollowUps
	c.SatisfactionSum += o.SatisfactionSum
	c.SatisfactionN += o.SatisfactionN
	c.Open += o.Open
	c.Overdue += o.Overdue
	c.Flow.Opened += o.Flow.Opened
	c.Flow.Closed += o.Flow.Closed
	c.Flow.Due += o.Flow.Due
	c.Flow.DueClosed += o.Flow.DueClosed
}

// Compact merges the entries of c's lists that have the same key (kind,
// category, status, level; kind, level, hours), so that a year of days
// adds up to one entry per key. The figures are the same.
func (c *Counts) Compact() {
	c.Reported = compact(c.Reported, func(r Reported) Reported { r.N = 0; return r },
		func(r *Reported, n int) { r.N += n }, func(r Reported) int { return r.N })
	c.Resolutions = compact(c.Resolutions, func(h Hours) Hours { h.N = 0; return h },
		func(h *Hours, n int) { h.N += n }, func(h Hours) int { return h.N })
	c.Acceptances = compact(c.Acceptances, func(h Hours) Hours { h.N = 0; return h },
		func(h *Hours, n int) { h.N += n }, func(h Hours) int { return h.N })
}

// compact merges the entries of list with the same key (the entry with
// its count zeroed), in the order each key first appears.
func compact[T comparable](list []T, key func(T) T, add func(*T, int), n func(T) int) []T {
	at := make(map[T]int, len(list))
	out := list[:0:0]
	for _, e := range list {
		k := key(e)
		if i, ok := at[k]; ok {
			add(&out[i], n(e))
			continue
		}
		at[k] = len(out)
		out = append(out, e)
	}
	return out
}
