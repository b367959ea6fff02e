package demo

import (
	"testing"
	"time"

	"pingan/internal/incident"
)

func TestIncidentsGenerated(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Date(2026, 11, 27, 15, 0, 0, 0, loc)
	who := Reporters{Default: "admin", ByGrid: map[string]string{FuqianGrid1: "gw"}}
	incs, events, counters := Incidents(now, loc, who)
	again, _, _ := Incidents(now, loc, who)
	if len(incs) != len(again) || incs[100].ID != again[100].ID || incs[100].CaseNo != again[100].CaseNo {
		t.Fatal("generation is not repeatable")
	}
	if len(incs) < 5000 || len(incs) > 10000 {
		t.Fatalf("%d incidents for a year", len(incs))
	}
	perCase := map[string]int{}
	for _, e := range events {
		perCase[e.CaseID]++
	}
	seen := map[string]bool{}
	older := map[string]bool{} // the weeks around older key dates
	for _, d := range olderDays(now, loc) {
		older[d.Format(time.DateOnly)] = true
	}
	for _, inc := range incs {
		if !inc.Status.Valid() || !inc.Severity.Valid() || inc.Version != perCase[inc.ID] || seen[inc.CaseNo] || seen[inc.ID] {
			t.Fatalf("bad incident %+v (events %d)", inc, perCase[inc.ID])
		}
		seen[inc.CaseNo], seen[inc.ID] = true, true
		old := inc.CreatedAt.Before(now.AddDate(-1, 0, -1)) && !older[inc.CreatedAt.In(loc).Format(time.DateOnly)]
		if inc.CreatedAt.After(now) || old || inc.UpdatedAt.Before(inc.CreatedAt) {
			t.Fatalf("times out of range: %+v", inc)
		}
		if inc.RegionCode == FuqianGrid1 && inc.ReporterID != "gw" {
			t.Fatalf("府前 grid incident reported by %s", inc.ReporterID)
		}
	}
	// Old cases are mostly finished, the newest mostly open.
	closed := 0
	for _, inc := range incs[:1000] {
		if inc.Status == incident.Closed || inc.Status == incident.Rejected {
			closed++
		}
	}
	if closed < 800 {
		t.Fatalf("only %d of the oldest 1000 are closed", closed)
	}
	// The planted surges stand out of their township's usual days.
	for _, s := range Surges() {
		day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, -s.DaysAgo)
		inSurge, usual := 0, 0
		for _, inc := range incs {
			if inc.TownshipCode != s.Township || inc.Category != s.Category {
				continue
			}
			d := inc.CreatedAt.In(loc)
			switch {
			case !d.Before(day) && d.Before(day.AddDate(0, 0, 1)):
				inSurge++
			case d.Before(day.AddDate(0, 0, -7)) && !d.Before(day.AddDate(0, 0, -37)):
				usual++
			}
		}
		if inSurge < s.PerDay || float64(inSurge) < 4*float64(usual)/30 {
			t.Fatalf("surge %+v: %d that day, %d in the 30 days before", s, inSurge, usual)
		}
	}
	if len(counters) < 300 {
		t.Fatalf("%d case-number counters", len(counters))
	}
}
