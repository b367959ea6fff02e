package dispute

import (
	"slices"
	"time"

	"pingan/internal/access"
	"pingan/internal/region"
)

// transitions is the state machine of SPEC §8.1: action → (from states, to).
// record_session and follow_up keep the state; escalate and reopen start
// over as registered (escalate at the next level).
var transitions = map[string]struct {
	from []Status
	to   Status
}{
	"accept":         {[]Status{Registered}, Accepted},
	"start":          {[]Status{Accepted}, Mediating},
	"record_session": {[]Status{Mediating}, Mediating},
	"resolve":        {[]Status{Mediating}, Resolved},
	"fail":           {[]Status{Mediating}, Failed},
	"escalate":       {[]Status{Registered, Accepted, Mediating, Failed}, Registered},
	"refer":          {[]Status{Failed}, Referred},
	"follow_up":      {[]Status{Resolved}, Resolved},
	"close":          {[]Status{Resolved, Referred}, Closed},
	"reopen":         {[]Status{Resolved, Closed}, Registered},
}

// Actions lists every action name, sorted.
func Actions() []string {
	out := make([]string, 0, len(transitions))
	for a := range transitions {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

// Rules of time (SPEC §8.1).
const (
	// FollowUpEvery is the least time between two follow-ups.
	FollowUpEvery = 7 * 24 * time.Hour
	// ReopenWithin is how long after its resolution (or closing) a case may
	// be reopened.
	ReopenWithin = 90 * 24 * time.Hour
)

// handles reports whether p may act on d at all (SPEC §5): an admin on any
// case in their subtree, whatever its level; a mediator whose scope holds the
// region of d's level, so at their level and below in their subtree, never
// on a case escalated above them.
func handles(p access.Principal, d Dispute) bool {
	if p.Role == access.Admin {
		return p.SeesCase(d.scopeCase())
	}
	if p.Role != access.Mediator {
		return false
	}
	if p.CityWide() {
		return true
	}
	codes := d.codes()
	for _, l := range []Level{region.County, region.Township, region.Community} {
		if rank(l) < rank(d.Level) {
			continue // a level below the case's: not an ancestor of its handling region
		}
		if codes[l] == p.RegionCode {
			return true
		}
	}
	return false
}

// may is the action rule: admins in scope, and mediators who handle the
// case's level; the mediation itself (start, sessions, resolve, fail) is
// the assignee's.
func may(p access.Principal, d Dispute, action string) bool {
	if !handles(p, d) {
		return false
	}
	switch action {
	case "start", "record_session", "resolve", "fail":
		return p.Role == access.Admin || d.AssigneeID == p.UserID
	}
	return true
}

// timely checks the conditions of time and level beyond the state: why an
// action the state allows cannot be taken now ("" when it can).
func timely(d Dispute, action string, now time.Time) string {
	switch action {
	case "escalate":
		if next(d.Level) == "" {
			return "a case at city level cannot be escalated further"
		}
	case "follow_up":
		if d.LastFollowUpAt != nil && now.Before(d.LastFollowUpAt.Add(FollowUpEvery)) {
			return "a follow-up was recorded less than 7 days ago"
		}
	case "close":
		if d.Status == Resolved && d.FollowUps == 0 {
			return "a resolved case is closed after at least one follow-up"
		}
	case "reopen":
		since := d.ResolvedAt
		if d.Status == Closed && d.ClosedAt != nil {
			since = d.ClosedAt
		}
		if since == nil || now.After(since.Add(ReopenWithin)) {
			return "a case may be reopened within 90 days"
		}
	}
	return ""
}

// AllowedActions are the actions p may take on d now.
func AllowedActions(p access.Principal, d Dispute, now time.Time) []string {
	out := []string{}
	for _, a := range Actions() {
		if slices.Contains(transitions[a].from, d.Status) && may(p, d, a) && timely(d, a, now) == "" {
			out = append(out, a)
		}
	}
	return out
}
