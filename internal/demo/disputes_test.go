package demo

import (
	"strings"
	"testing"
	"time"

	"pingan/internal/dispute"
	"pingan/internal/fact"
	"pingan/internal/region"
)

func TestDisputesGenerated(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Date(2026, 11, 27, 15, 0, 0, 0, loc)
	who := Reporters{Default: "admin", ByGrid: map[string]string{FuqianGrid1: "gw"}}
	med := Mediators{Default: "admin", ByRegion: map[string]string{FuqianCommunity: "med", DongchengStreet: "town"}}
	ds, events, counters := Disputes(now, loc, who, med)
	again, _, _ := Disputes(now, loc, who, med)
	if len(ds) != len(again) || ds[100].ID != again[100].ID || ds[100].Parties[0].Phone != again[100].Parties[0].Phone {
		t.Fatal("generation is not repeatable")
	}
	if len(ds) < 1400 || len(ds) > 2600 {
		t.Fatalf("%d disputes for a year", len(ds))
	}
	type last struct {
		to dispute.Status
		n  int
	}
	timeline := map[string]last{}
	for _, e := range events {
		l := timeline[e.CaseID]
		timeline[e.CaseID] = last{e.To, l.n + 1}
	}
	states, levels, resolvedAt := map[dispute.Status]int{}, map[dispute.Level]int{}, map[dispute.Level]int{}
	numbers := 0
	overdue := 0
	for _, d := range ds {
		l := timeline[d.ID]
		if l.to != d.Status || d.Version != l.n || len(d.Parties) != 2 || !d.Risk.Valid() {
			t.Fatalf("dispute %s: status %s version %d, timeline ends %s after %d events", d.CaseNo, d.Status, d.Version, l.to, l.n)
		}
		if d.Status.Open() != (d.DueAt != nil) {
			t.Fatalf("dispute %s is %s with due_at %v", d.CaseNo, d.Status, d.DueAt)
		}
		if d.Overdue(now) {
			overdue++
		}
		if d.Level == region.Community && d.LevelCode != d.CommunityCode || d.Level == region.Township && d.LevelCode != d.TownshipCode {
			t.Fatalf("dispute %s at %s handled by %s", d.CaseNo, d.Level, d.LevelCode)
		}
		if d.Level == region.Community && d.CommunityCode == FuqianCommunity && d.AssigneeID != "" && d.AssigneeID != "med" {
			t.Fatalf("府前 dispute assigned to %s", d.AssigneeID)
		}
		states[d.Status]++
		levels[d.Level]++
		if d.ResolvedAt != nil {
			resolvedAt[d.ResolvedLevel]++
		}
	}
	for _, n := range counters {
		numbers += int(n)
	}
	if numbers != len(ds) {
		t.Fatalf("counters total %d for %d disputes", numbers, len(ds))
	}
	for _, s := range dispute.Statuses {
		if states[s] == 0 {
			t.Errorf("no dispute is %s: %v", s, states)
		}
	}
	for _, l := range dispute.Levels {
		if levels[l] == 0 {
			t.Errorf("no dispute at %s level: %v", l, levels)
		}
	}
	if overdue == 0 {
		t.Error("no dispute is overdue")
	}
	// The facts hold every kind of history statistics must survive: late
	// acceptances and resolutions, reopenings, community cases settled by
	// a township's mediator (SPEC §4.3).
	facts, deadlines, err := DisputeFacts(ds, events, dispute.DefaultDeadlines())
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, f := range facts {
		kinds[string(f.Kind)]++
		if f.Kind == fact.Resolved && f.Level == region.Township {
			kinds["resolved at township"]++
		}
	}
	for _, dl := range deadlines {
		if dl.MetAt != nil && dl.BreachedAt != nil {
			kinds["met late: "+string(dl.Kind)]++
		}
		if dl.EndedAt == nil && dl.DueAt.Before(now) {
			kinds["running past due"]++
		}
	}
	for _, k := range []string{"accepted", "resolved", "failed", "escalated", "referred", "followed_up", "closed", "reopened",
		"resolved at township", "met late: accept", "met late: resolve", "running past due"} {
		if kinds[k] == 0 {
			t.Errorf("no %s in the demo's facts: %v", k, kinds)
		}
	}
	level := map[string]dispute.Level{}
	for _, d := range ds {
		level[d.ID] = d.Level
	}
	townshipOfCommunity := 0
	for _, e := range events {
		if e.Action == "resolve" && level[e.CaseID] == region.Community && e.ActorID == "town" &&
			strings.Contains(e.Payload, `"settled_level":"township"`) {
			townshipOfCommunity++
		}
	}
	if townshipOfCommunity == 0 {
		t.Error("no community case settled by the township's mediator")
	}
	// Most are settled where they arose (就地化解).
	total := 0
	for _, n := range resolvedAt {
		total += n
	}
	if rate := float64(resolvedAt[region.Community]) / float64(total); rate < 0.8 || rate > 0.95 {
		t.Errorf("settled at community level: %.2f of %d (%v)", rate, total, resolvedAt)
	}
}
