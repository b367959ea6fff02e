package dispute

import (
	"encoding/json"
	"fmt"

	"pingan/internal/access"
	"pingan/internal/fact"
	"pingan/internal/region"
)

// factOf names the fact each action writes (SPEC §4.3); start and
// record_session write none.
var factOf = map[string]fact.Kind{
	"accept": fact.Accepted, "resolve": fact.Resolved, "fail": fact.Failed, "escalate": fact.Escalated,
	"refer": fact.Referred, "follow_up": fact.FollowedUp, "close": fact.Closed, "reopen": fact.Reopened,
}

// deadlineOf is the step a case in d's state runs against: accepting it
// while registered, resolving it once accepted; "" in the other states.
func deadlineOf(d Dispute) fact.DeadlineKind {
	switch d.Status {
	case Registered:
		return fact.Accept
	case Accepted, Mediating:
		return fact.Resolve
	}
	return ""
}

// sameStep reports whether a and b run against the same deadline: the
// same step begun at the same entry into the same level.
func sameStep(a, b Dispute) bool {
	return deadlineOf(a) == deadlineOf(b) && a.Level == b.Level && a.EnteredLevelAt.Equal(b.EnteredLevelAt)
}

// advance sets after's deadline: the running one when the step is the same
// as before's, a new one (SPEC §8.3, counted from the entry into the level)
// when a step begins, none once the case is no longer open. Keeping the
// running deadline means a changed configuration moves no deadline a case
// already has.
func (dl Deadlines) advance(before Dispute, after *Dispute) {
	if before.Status != "" && sameStep(before, *after) {
		after.DueAt = before.DueAt
		return
	}
	after.DueAt = dl.due(*after)
}

// facts is what the action recorded by ev, taking the case from before to
// after, adds to the case's facts: the fact of the action, the end of the
// deadline before ran against, and the deadline after runs against. after
// carries the settled level (ResolvedLevel) and the satisfaction of the
// action. For creation before is the zero Dispute.
func facts(before, after Dispute, ev Event) fact.Change {
	var c fact.Change
	at := ev.CreatedAt
	if k, ok := factOf[ev.Action]; ok {
		f := fact.Fact{ID: ev.ID, Case: after.factCase(), Kind: k, At: at, Level: after.Level}
		switch k {
		case fact.Resolved:
			f.Level = after.ResolvedLevel
		case fact.FollowedUp:
			f.Satisfaction = after.Outcome.Satisfaction
		}
		c.Facts = append(c.Facts, f)
	}
	if before.Status != "" && sameStep(before, after) {
		return c
	}
	if k := deadlineOf(before); k != "" && before.DueAt != nil {
		met := (k == fact.Accept && ev.Action == "accept") || (k == fact.Resolve && ev.Action == "resolve")
		e := fact.End(*before.DueAt, at, met)
		c.End = &e
	}
	if k := deadlineOf(after); k != "" && after.DueAt != nil {
		c.Opened = &fact.Deadline{ID: ev.ID, Case: after.factCase(), Kind: k, Level: after.Level, StartedAt: at, DueAt: *after.DueAt}
	}
	return c
}

// factCase is what every fact copies of d.
func (d Dispute) factCase() fact.Case {
	return fact.Case{ID: d.ID, Kind: "dispute", Category: d.Category, CountyCode: d.CountyCode,
		TownshipCode: d.TownshipCode, CommunityCode: d.CommunityCode, GridCode: d.RegionCode,
		ReporterID: d.ReporterID, ReportedAt: d.ReportedAt}
}

// settledLevel is the level that settles d when p resolves it (SPEC §4.3):
// the higher of the case's level and the level of the resolving mediator's
// scope, so a township mediator who settles a community case counts as
// township. An admin standing in settles at the case's level.
func settledLevel(d Dispute, p access.Principal) Level {
	if p.Role != access.Mediator {
		return d.Level
	}
	return fact.Higher(d.Level, scopeLevel(p.RegionPath))
}

// scopeLevel is the level of the region at path ("" for an empty path).
func scopeLevel(path string) Level {
	n := access.Depth(path)
	if n < 1 || n > len(region.Levels) {
		return ""
	}
	return region.Levels[n-1]
}

// Replay derives a dispute's facts from its timeline (events in order), as
// the live actions wrote them: the migration that introduced facts fills
// them so for older cases, and the demo data set for its own. d gives what
// never changes (id, category, places, report time, risk). A resolution
// whose event does not name its settled level is settled at
// settledBy(actor, case level); settledBy may return "" when the actor is
// unknown (the case's level then stands). Returns the facts and every
// deadline the case had, with how each ended.
func (dl Deadlines) Replay(d Dispute, events []Event, settledBy func(actorID string, caseLevel Level) Level) ([]fact.Fact, []fact.Deadline, error) {
	var (
		out       []fact.Fact
		deadlines []fact.Deadline
		state     = Dispute{ID: d.ID, Category: d.Category, CountyCode: d.CountyCode, TownshipCode: d.TownshipCode,
			CommunityCode: d.CommunityCode, RegionCode: d.RegionCode, CityCode: d.CityCode, ReporterID: d.ReporterID,
			ReportedAt: d.ReportedAt, Risk: d.Risk}
	)
	for _, ev := range events {
		var p struct {
			Level        Level  `json:"level"`
			ToLevel      Level  `json:"to_level"`
			SettledLevel Level  `json:"settled_level"`
			Satisfaction *int   `json:"satisfaction"`
			LevelCode    string `json:"level_code"`
		}
		if ev.Payload != "" {
			if err := json.Unmarshal([]byte(ev.Payload), &p); err != nil {
				return nil, nil, fmt.Errorf("dispute %s event %s: payload: %w", d.ID, ev.ID, err)
			}
		}
		before, after := state, state
		after.Status = ev.To
		switch ev.Action {
		case "create":
			after.Level, after.EnteredLevelAt = region.Community, ev.CreatedAt
			if p.Level != "" {
				after.Level = p.Level
			}
		case "escalate":
			after.Level, after.EnteredLevelAt = next(before.Level), ev.CreatedAt
			if p.ToLevel != "" {
				after.Level = p.ToLevel
			}
		case "reopen":
			after.EnteredLevelAt = ev.CreatedAt
		case "resolve":
			after.ResolvedLevel = p.SettledLevel
			if after.ResolvedLevel == "" {
				after.ResolvedLevel = fact.Higher(before.Level, settledBy(ev.ActorID, before.Level))
			}
		case "follow_up":
			after.Outcome.Satisfaction = p.Satisfaction
		}
		dl.advance(before, &after)
		c := facts(before, after, ev)
		out = append(out, c.Facts...)
		if c.End != nil && len(deadlines) > 0 {
			last := &deadlines[len(deadlines)-1]
			last.EndedAt = &c.End.At
			if c.End.Met {
				last.MetAt = &c.End.At
			}
			last.BreachedAt = c.End.BreachedAt
		}
		if c.Opened != nil {
			deadlines = append(deadlines, *c.Opened)
		}
		state = after
	}
	return out, deadlines, nil
}
