// Package report holds the period reports of SPEC §11 that supervisors
// read: the summary of a period with its change (§11.1). The heat map
// (internal/heatmap) and the workload (internal/workload) take their period
// from here, so every report reads `from` and `to` the same way.
package report

import (
	"time"

	"pingan/internal/errs"
)

// DayLayout is the form of a local day in a query: 2026-11-27.
const DayLayout = "2006-01-02"

// MaxDays is the longest period a report covers: a leap year. A longer one
// is a 400 naming `to`.
const MaxDays = 366

// Period is the local days From … To, both included, as the half-open
// instant range [Start, End) the queries compare times with.
type Period struct {
	From, To   string    // local days, as asked or defaulted
	Start, End time.Time // Start of From, start of the day after To, in loc
	Days       int       // number of days, ≥ 1
}

// ParsePeriod reads `from` and `to` (local days, both included) in loc.
// Without `to` the period ends today (now, in loc); without `from` it begins
// on the first day of to's month. Errors are errs.FieldErrors naming the
// parameter: not a day, `to` before `from`, longer than MaxDays.
func ParsePeriod(from, to string, loc *time.Location, now time.Time) (Period, error) {
	bad := errs.FieldErrors{}
	day := func(name, s string) (time.Time, bool) {
		t, err := time.ParseInLocation(DayLayout, s, loc)
		if err != nil || t.Format(DayLayout) != s || t.Year() < 2000 || t.Year() > 2100 {
			bad.Add(name, "a local day from 2000-01-01 to 2100-12-31, e.g. 2026-11-27")
			return time.Time{}, false
		}
		return t, true
	}
	var start, last time.Time
	okTo, okFrom := true, true
	if to == "" {
		n := now.In(loc)
		last = time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, loc)
		to = last.Format(DayLayout)
	} else {
		last, okTo = day("to", to)
	}
	if from == "" {
		if okTo {
			start = time.Date(last.Year(), last.Month(), 1, 0, 0, 0, 0, loc)
			from = start.Format(DayLayout)
		}
	} else {
		start, okFrom = day("from", from)
	}
	if err := bad.Err(); err != nil {
		return Period{}, err
	}
	if okTo && okFrom && last.Before(start) {
		return Period{}, errs.Invalid("to", "a local day on or after from ("+from+")")
	}
	end := last.AddDate(0, 0, 1)
	days := daysBetween(start, end)
	if days > MaxDays {
		return Period{}, errs.Invalid("to", "at most 366 days after from")
	}
	return Period{From: from, To: to, Start: start, End: end, Days: days}, nil
}

// Previous is the period of equal length that ends the day before p begins.
func (p Period) Previous() Period {
	end := p.Start
	start := end.AddDate(0, 0, -p.Days)
	return Period{From: start.Format(DayLayout), To: end.AddDate(0, 0, -1).Format(DayLayout), Start: start, End: end, Days: p.Days}
}

// daysBetween counts the local days from a to b (both midnights in one
// location), whatever the clock changes between them.
func daysBetween(a, b time.Time) int {
	ua := time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, time.UTC)
	ub := time.Date(b.Year(), b.Month(), b.Day(), 0, 0, 0, 0, time.UTC)
	return int(ub.Sub(ua).Hours() / 24)
}
