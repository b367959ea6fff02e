package demo

import (
	"sort"
	"time"

	"pingan/internal/warning"
)

// KeyDate is an event of the demo's key-date calendar (SPEC §10.2) and the
// rise planted around its past dates, so that the key-date detector has a
// pattern to find: PerWindow cases of a kind and category in one township
// during each past date.
type KeyDate struct {
	Name  string
	Dates []warning.DateRange
	// Township, CaseKind (warning.CaseIncident or warning.CaseDispute) and
	// Category (empty for disputes: they are counted as one series) of the
	// planted rise.
	Township, CaseKind, Category string
	PerWindow                    int
}

// SecurityEventName is the demo's event that always lies ahead: its dates
// fall SecurityEventAhead days after the demo's now, this year and in each
// of the three years before, so that a key_date warning is raised whatever
// day the demo is loaded.
const (
	SecurityEventName  = "重大活动安保期"
	SecurityEventAhead = 10
	SecurityEventDays  = 7
)

// KeyDates is the demo's calendar: the Spring Festival holidays (lunar, so
// stored per year) and National Day of the past years and the next, and
// the security period ahead of now, each with its planted rise.
func KeyDates(now time.Time, loc *time.Location) []KeyDate {
	today := dayOf(now, loc)
	var security []warning.DateRange
	for y := 3; y >= 0; y-- {
		start := today.AddDate(-y, 0, SecurityEventAhead)
		security = append(security, span(start, SecurityEventDays))
	}
	var national []warning.DateRange
	for y := 2023; y <= 2027; y++ {
		national = append(national, warning.DateRange{Start: time.Date(y, 10, 1, 0, 0, 0, 0, loc).Format(time.DateOnly),
			End: time.Date(y, 10, 7, 0, 0, 0, 0, loc).Format(time.DateOnly)})
	}
	return []KeyDate{
		// Family quarrels and wage claims come to a head around the Spring Festival.
		{Name: "春节", Dates: []warning.DateRange{{Start: "2024-02-10", End: "2024-02-16"}, {Start: "2025-01-29", End: "2025-02-04"},
			{Start: "2026-02-17", End: "2026-02-23"}, {Start: "2027-02-06", End: "2027-02-12"}},
			Township: GuangraoTownship, CaseKind: warning.CaseDispute, PerWindow: 8},
		// Holiday traffic on the roads to the Yellow River delta.
		{Name: "国庆节", Dates: national, Township: KenliStreet, CaseKind: warning.CaseIncident, Category: "traffic", PerWindow: 9},
		// Crowds in the city centre during a large event.
		{Name: SecurityEventName, Dates: security, Township: DongchengStreet, CaseKind: warning.CaseIncident,
			Category: "public_order", PerWindow: 9},
	}
}

// KenliStreet is 垦利街道 in 垦利区.
const KenliStreet = "370505001"

// HistoryDays is how many days back the generated history reaches: today
// and the 364 days before it.
const HistoryDays = 365

// olderDays are the days before the generated year that past key dates
// need, each date with the warning.KeyDateBefore days before it, oldest
// first: the only days older than a year that hold cases.
func olderDays(now time.Time, loc *time.Location) []time.Time {
	today := dayOf(now, loc)
	first := today.AddDate(0, 0, 1-HistoryDays)
	seen := map[string]time.Time{}
	for _, e := range KeyDates(now, loc) {
		for _, d := range pastDates(e, today, loc) {
			start, _ := time.ParseInLocation(time.DateOnly, d.Start, loc)
			end, _ := time.ParseInLocation(time.DateOnly, d.End, loc)
			for day := start.AddDate(0, 0, -warning.KeyDateBefore); !day.After(end) && day.Before(first); day = day.AddDate(0, 0, 1) {
				seen[day.Format(time.DateOnly)] = day
			}
		}
	}
	out := make([]time.Time, 0, len(seen))
	for _, d := range seen {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

// pastDates are the dates of e that ended before today.
func pastDates(e KeyDate, today time.Time, loc *time.Location) []warning.DateRange {
	var out []warning.DateRange
	for _, d := range e.Dates {
		if d.End < today.Format(time.DateOnly) {
			out = append(out, d)
		}
	}
	return out
}

// riseDays are the days the planted cases of e fall on: PerWindow spread
// over each past date, disputes only from its fourth day on (a dispute's
// occurred_at may lie up to three days before its report), and three in
// the four weeks before it, so that the window is compared with a rate,
// not with none.
func riseDays(e KeyDate, today time.Time, loc *time.Location) []time.Time {
	var out []time.Time
	for _, d := range pastDates(e, today, loc) {
		start, _ := time.ParseInLocation(time.DateOnly, d.Start, loc)
		end, _ := time.ParseInLocation(time.DateOnly, d.End, loc)
		from := 0
		if e.CaseKind == warning.CaseDispute {
			from = 3
		}
		n := int(end.Sub(start).Hours()/24) + 1 - from
		for k := 0; k < e.PerWindow; k++ {
			out = append(out, start.AddDate(0, 0, from+k%n))
		}
		for _, before := range []int{-25, -16, -7} { // the usual few of the weeks before
			out = append(out, start.AddDate(0, 0, before))
		}
	}
	return out
}

// span is the n days from start.
func span(start time.Time, n int) warning.DateRange {
	return warning.DateRange{Start: start.Format(time.DateOnly), End: start.AddDate(0, 0, n-1).Format(time.DateOnly)}
}

// dayOf is the local midnight of t's day.
func dayOf(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
}
