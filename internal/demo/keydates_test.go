package demo

import (
	"slices"
	"testing"
	"time"

	"pingan/internal/dispute"
	"pingan/internal/warning"
)

func TestCalendarDates(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Date(2026, 11, 30, 8, 45, 0, 0, loc)
	want := map[string][]warning.DateRange{
		"春节": {{Start: "2024-02-10", End: "2024-02-16"}, {Start: "2025-01-29", End: "2025-02-04"},
			{Start: "2026-02-17", End: "2026-02-23"}, {Start: "2027-02-06", End: "2027-02-12"}},
		"国庆节": {{Start: "2023-10-01", End: "2023-10-07"}, {Start: "2024-10-01", End: "2024-10-07"},
			{Start: "2025-10-01", End: "2025-10-07"}, {Start: "2026-10-01", End: "2026-10-07"}, {Start: "2027-10-01", End: "2027-10-07"}},
		SecurityEventName: {{Start: "2023-12-10", End: "2023-12-16"}, {Start: "2024-12-10", End: "2024-12-16"},
			{Start: "2025-12-10", End: "2025-12-16"}, {Start: "2026-12-10", End: "2026-12-16"}},
	}
	cal := Calendar(now, loc)
	if len(cal) != len(want) {
		t.Fatalf("%d events, want %d", len(cal), len(want))
	}
	again := Calendar(now, loc)
	for i, e := range cal {
		if !slices.Equal(e.Dates, want[e.Name]) {
			t.Errorf("%s: %v, want %v", e.Name, e.Dates, want[e.Name])
		}
		if e.ID != again[i].ID || e.Version != 1 {
			t.Errorf("%s: id %s then %s, version %d", e.Name, e.ID, again[i].ID, e.Version)
		}
	}
	// The security period lies SecurityEventAhead days ahead of any now,
	// within the detector's horizon (warning.DefaultSettings().KeyDateAhead).
	for _, now := range []time.Time{time.Date(2027, 2, 28, 23, 30, 0, 0, loc), time.Date(2028, 7, 1, 0, 5, 0, 0, loc)} {
		for _, e := range Calendar(now, loc) {
			if e.Name != SecurityEventName {
				continue
			}
			next := now.AddDate(0, 0, SecurityEventAhead).Format(time.DateOnly)
			if got := e.Dates[len(e.Dates)-1]; got.Start != next || len(e.Dates) != 4 || SecurityEventAhead > warning.DefaultSettings().KeyDateAhead {
				t.Errorf("now %s: security period %v, want the last from %s", now, e.Dates, next)
			}
		}
	}
}

// TestKeyDateRisesQualify counts, from the generated cases, each planted
// series in every past date of its event and in the warning.KeyDateBefore
// days before, as the detector does (SPEC §10.2): at least
// warning.KeyDateMinCases in the window and a daily rate above
// warning.KeyDateRatio times that of the days before, in every past year
// (the detector needs warning.KeyDateMinYears).
func TestKeyDateRisesQualify(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	who := Reporters{Default: "admin"}
	for _, now := range []time.Time{time.Date(2026, 11, 30, 8, 45, 0, 0, loc), time.Date(2027, 4, 12, 14, 5, 0, 0, loc)} {
		incs, _, _ := Incidents(now, loc, who)
		ds, _, _ := Disputes(now, loc, who, Mediators{Default: "admin"})
		type occurrence struct {
			township, kind, category string
			at                       time.Time
		}
		var all []occurrence
		for _, inc := range incs {
			all = append(all, occurrence{inc.TownshipCode, warning.CaseIncident, inc.Category, inc.OccurredAt})
		}
		for _, d := range ds {
			all = append(all, occurrence{d.TownshipCode, warning.CaseDispute, "", d.OccurredAt})
		}
		for _, e := range KeyDates(now, loc) {
			past := pastDates(e, dayOf(now, loc), loc)
			qualified := 0
			for _, d := range past {
				start, _ := time.ParseInLocation(time.DateOnly, d.Start, loc)
				end, _ := time.ParseInLocation(time.DateOnly, d.End, loc)
				end = end.AddDate(0, 0, 1)
				before := start.AddDate(0, 0, -warning.KeyDateBefore)
				window, earlier := 0, 0
				for _, o := range all {
					if o.township != e.Township || o.kind != e.CaseKind || o.category != e.Category {
						continue
					}
					switch {
					case !o.at.Before(start) && o.at.Before(end):
						window++
					case !o.at.Before(before) && o.at.Before(start):
						earlier++
					}
				}
				days := end.Sub(start).Hours() / 24
				ratio := (float64(window) / days) / (float64(earlier) / warning.KeyDateBefore)
				t.Logf("now %s, %s %s: %d in the window, %d in the %d days before, ratio %.1f", now.Format(time.DateOnly),
					e.Name, d.Start, window, earlier, warning.KeyDateBefore, ratio)
				if earlier == 0 {
					t.Errorf("%s %s: no case in the days before to compare with", e.Name, d.Start)
				}
				if window >= warning.KeyDateMinCases && ratio > warning.KeyDateRatio {
					qualified++
				}
			}
			if len(past) < warning.KeyDateMinYears || qualified != len(past) {
				t.Errorf("now %s, %s: %d of %d past dates rose", now.Format(time.DateOnly), e.Name, qualified, len(past))
			}
		}
	}
}

func TestOverdueBacklog(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Date(2026, 11, 30, 8, 45, 0, 0, loc)
	ds, _, _ := Disputes(now, loc, Reporters{Default: "admin"}, Mediators{Default: "admin"})
	day := dayOf(now, loc).AddDate(0, 0, 1-OverdueBacklog.DaysAgo)
	n := 0
	for _, d := range ds {
		if d.TownshipCode == OverdueBacklog.Township && d.Status == dispute.Registered && d.DueAt != nil &&
			!d.DueAt.Before(day) && d.DueAt.Before(day.AddDate(0, 0, 1)) && d.DueAt.Before(now) {
			n++
		}
	}
	if n < warning.DefaultSettings().OverdueCount || day.Before(dayOf(now, loc).AddDate(0, 0, -warning.CatchUpDays)) {
		t.Fatalf("%d disputes of %s past their deadline on %s", n, OverdueBacklog.Township, day.Format(time.DateOnly))
	}
}

func TestIndexJobs(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Date(2026, 1, 5, 8, 0, 0, 0, loc)
	js := IndexJobs(now, loc, "admin")
	var got []string
	for i, j := range js {
		got = append(got, j.Period)
		if j.PeriodKind != "month" || j.Status != "pending" || !j.CreatedAt.Before(now) || i > 0 && !js[i-1].CreatedAt.Before(j.CreatedAt) {
			t.Errorf("job %+v", j)
		}
	}
	if !slices.Equal(got, []string{"2025-10", "2025-11", "2025-12"}) {
		t.Fatalf("months %v", got)
	}
}
