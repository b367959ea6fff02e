package dispute

import (
	"testing"
	"time"

	"pingan/internal/access"
	"pingan/internal/fact"
	"pingan/internal/region"
)

// TestFactsOfActions: what each kind of action adds to the facts, and how
// the running deadline ends (SPEC §4.3, §8.3).
func TestFactsOfActions(t *testing.T) {
	t0 := time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)
	dl := DefaultDeadlines()
	registered := Dispute{ID: "d1", Status: Registered, Level: region.Community, Risk: RiskLow, EnteredLevelAt: t0}
	registered.DueAt = dl.due(registered)
	at := func(d time.Duration) Event { return Event{ID: "e", CreatedAt: t0.Add(d)} }
	step := func(before Dispute, action string, to Status, when time.Duration, edit func(*Dispute)) (Dispute, fact.Change) {
		after := before
		after.Status = to
		if edit != nil {
			edit(&after)
		}
		dl.advance(before, &after)
		ev := at(when)
		ev.Action = action
		return after, facts(before, after, ev)
	}

	// Created: an accept deadline opens, due 24 h after entry.
	_, c := step(Dispute{}, "create", Registered, 0, func(d *Dispute) { *d = registered })
	if c.Opened == nil || c.Opened.Kind != fact.Accept || !c.Opened.DueAt.Equal(t0.Add(24*time.Hour)) || c.End != nil || len(c.Facts) != 0 {
		t.Fatalf("create: %+v", c)
	}
	// Accepted late: the accept deadline is met and breached; the resolve
	// deadline opens, due 30 days after the entry into the level.
	accepted, c := step(registered, "accept", Accepted, 30*time.Hour, nil)
	if c.End == nil || !c.End.Met || c.End.BreachedAt == nil || !c.End.BreachedAt.Equal(t0.Add(24*time.Hour)) {
		t.Fatalf("late accept ends %+v", c.End)
	}
	if c.Opened == nil || c.Opened.Kind != fact.Resolve || !c.Opened.DueAt.Equal(t0.Add(30*24*time.Hour)) {
		t.Fatalf("late accept opens %+v", c.Opened)
	}
	if len(c.Facts) != 1 || c.Facts[0].Kind != fact.Accepted || c.Facts[0].Level != region.Community {
		t.Fatalf("accept facts %+v", c.Facts)
	}
	// Started: the same step, no deadline changes, no fact.
	mediating, c := step(accepted, "start", Mediating, 31*time.Hour, nil)
	if !c.Empty() || mediating.DueAt == nil || !mediating.DueAt.Equal(*accepted.DueAt) {
		t.Fatalf("start: %+v due %v", c, mediating.DueAt)
	}
	// A changed configuration moves no deadline a case already has.
	longer := DefaultDeadlines()
	longer.Resolve[region.Community] = 90 * 24 * time.Hour
	again := mediating
	longer.advance(mediating, &again)
	if !again.DueAt.Equal(*mediating.DueAt) {
		t.Fatalf("the running deadline moved to %v", again.DueAt)
	}
	// Resolved in time by a township mediator: met, not breached; settled at township.
	township := access.Principal{Role: access.Mediator, RegionPath: "/370500/370502/370502003/"}
	_, c = step(mediating, "resolve", Resolved, 10*24*time.Hour, func(d *Dispute) { d.ResolvedLevel = settledLevel(*d, township) })
	if c.End == nil || !c.End.Met || c.End.BreachedAt != nil || c.Opened != nil {
		t.Fatalf("resolve: %+v", c)
	}
	if len(c.Facts) != 1 || c.Facts[0].Kind != fact.Resolved || c.Facts[0].Level != region.Township {
		t.Fatalf("resolve facts %+v", c.Facts)
	}
	// An admin standing in settles at the case's level.
	if l := settledLevel(mediating, access.Principal{Role: access.Admin, RegionPath: "/370500/"}); l != region.Community {
		t.Fatalf("admin settles at %s", l)
	}
	// Escalated before its deadline: ended, neither met nor breached; a new
	// accept deadline opens at the next level.
	_, c = step(mediating, "escalate", Registered, 5*24*time.Hour, func(d *Dispute) {
		d.Level, d.EnteredLevelAt = region.Township, t0.Add(5*24*time.Hour)
	})
	if c.End == nil || c.End.Met || c.End.BreachedAt != nil {
		t.Fatalf("early escalation ends %+v", c.End)
	}
	if c.Opened == nil || c.Opened.Kind != fact.Accept || c.Opened.Level != region.Township || len(c.Facts) != 1 ||
		c.Facts[0].Kind != fact.Escalated || c.Facts[0].Level != region.Township {
		t.Fatalf("escalation: %+v", c)
	}
	// Failed after its deadline: given up late, so breached, not met.
	_, c = step(mediating, "fail", Failed, 40*24*time.Hour, nil)
	if c.End == nil || c.End.Met || c.End.BreachedAt == nil || c.Opened != nil {
		t.Fatalf("late failure: %+v", c)
	}
	// A follow-up carries its satisfaction.
	resolved := mediating
	resolved.Status = Resolved
	five := 5
	_, c = step(resolved, "follow_up", Resolved, 20*24*time.Hour, func(d *Dispute) { d.Outcome.Satisfaction = &five })
	if len(c.Facts) != 1 || c.Facts[0].Kind != fact.FollowedUp || *c.Facts[0].Satisfaction != 5 || c.End != nil || c.Opened != nil {
		t.Fatalf("follow-up: %+v", c)
	}
	// Reopened: a new accept deadline from the reopening, nothing ended.
	_, c = step(resolved, "reopen", Registered, 25*24*time.Hour, func(d *Dispute) { d.EnteredLevelAt = t0.Add(25 * 24 * time.Hour) })
	if c.End != nil || c.Opened == nil || c.Opened.Kind != fact.Accept || !c.Opened.DueAt.Equal(t0.Add(26*24*time.Hour)) ||
		len(c.Facts) != 1 || c.Facts[0].Kind != fact.Reopened {
		t.Fatalf("reopen: %+v", c)
	}
}
