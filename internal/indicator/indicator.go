// Package indicator holds the indicators of the Ping'an index (SPEC §9.2)
// and the department data entered for them (§9.3): their definitions,
// defaults and rules, and the validation of entered values, one by one, in
// batches and from CSV or XLSX files, all or nothing.
package indicator

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"pingan/internal/index"
)

// Direction says whether more is worse (negative) or better (positive).
type Direction string

// The directions.
const (
	Negative Direction = "negative"
	Positive Direction = "positive"
)

// Source says where values come from.
type Source string

// The sources.
const (
	Auto   Source = "auto"   // computed from the platform's own cases
	Manual Source = "manual" // entered by departments
)

// The methods of auto indicators (SPEC §9.2).
const (
	Count                   = "count"                     // cases matching Filter
	ResolutionRate          = "resolution_rate"           // of the cases reported in the period, the share resolved by its end
	CommunityResolutionRate = "community_resolution_rate" // 就地化解率: of the disputes settled in the period, the share settled at community level
	OverdueCount            = "overdue_count"             // dispute deadlines due in the period that were breached
	MeanDaysToResolve       = "mean_days_to_resolve"      // days from report to resolution, over the resolutions of the period
	SatisfactionMean        = "satisfaction_mean"         // over the dispute follow-ups of the period
)

// Methods lists the auto methods.
var Methods = []string{Count, ResolutionRate, CommunityResolutionRate, OverdueCount, MeanDaysToResolve, SatisfactionMean}

// Filter narrows an auto indicator's cases.
type Filter struct {
	Case       string   // "incident" or "dispute"
	Categories []string // none: every category
}

// Period kinds.
const (
	Day   = "day"
	Month = "month"
)

// Indicator is one indicator and how it is scored.
type Indicator struct {
	Code      string
	NameZH    string
	NameEN    string
	Direction Direction
	Weight    float64
	Periods   []string // Day, Month
	Levels    []string // county, township, community
	Source    Source
	Method    string // auto only
	Filter    Filter // auto only
	PerCapita bool
	// Smoothing is "eb" or "none"; "" means eb at community level and none above.
	Smoothing string
	Window    int
	Alpha     float64
	Mapping   string // "linear" or "step"
	Step      float64
	// Floor is the base score F in [0, 100): the last rank scores F.
	Floor float64
	// Tolerance is τ ≥ 0: a relative rise against the region's own mean of
	// at most τ does not cost it its self rank.
	Tolerance float64
	Active    bool
	Version   int
	UpdatedAt time.Time
}

// Takes reports whether the indicator is computed for the period kind.
func (i Indicator) Takes(periodKind string) bool {
	for _, p := range i.Periods {
		if p == periodKind {
			return true
		}
	}
	return false
}

// Defaults are the indicators of SPEC §9.2.
func Defaults() []Indicator {
	both, month := []string{Day, Month}, []string{Month}
	levels := []string{"county", "township", "community"}
	d := func(code, zh, en string, dir Direction, w float64, periods []string, src Source, method string, f Filter, perCapita bool) Indicator {
		return Indicator{Code: code, NameZH: zh, NameEN: en, Direction: dir, Weight: w, Periods: periods, Levels: levels,
			Source: src, Method: method, Filter: f, PerCapita: perCapita, Window: index.DefaultWindow, Alpha: index.DefaultAlpha,
			Mapping: "linear", Floor: index.DefaultFloor, Tolerance: index.DefaultTolerance, Active: true, Version: 1}
	}
	return []Indicator{
		d("disputes", "矛盾纠纷发案", "Disputes reported", Negative, 0.20, both, Auto, Count, Filter{Case: "dispute"}, true),
		d("public_order", "刑事治安警情", "Public-order incidents", Negative, 0.15, both, Auto, Count,
			Filter{Case: "incident", Categories: []string{"public_order"}}, true),
		d("telecom_fraud", "电信诈骗发案", "Telecom fraud", Negative, 0.15, both, Auto, Count,
			Filter{Case: "incident", Categories: []string{"telecom_fraud"}}, true),
		d("safety_hazards", "安全隐患", "Safety hazards", Negative, 0.10, both, Auto, Count,
			Filter{Case: "incident", Categories: []string{"safety_hazard", "fire"}}, true),
		d("settlement_rate", "就地化解率", "Disputes settled in the community", Positive, 0.15, month, Auto,
			CommunityResolutionRate, Filter{Case: "dispute"}, false),
		d("overdue", "逾期未办结", "Overdue disputes", Negative, 0.10, both, Auto, OverdueCount, Filter{Case: "dispute"}, true),
		d("petitions", "信访量", "Petitions", Negative, 0.10, month, Manual, "", Filter{}, true),
		d("satisfaction", "群众满意度", "Satisfaction", Positive, 0.05, month, Auto, SatisfactionMean, Filter{Case: "dispute"}, false),
	}
}

var (
	codeRE      = regexp.MustCompile(`^[a-z][a-z0-9_]{1,63}$`)
	monthRE     = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])$`)
	periodDayRE = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$`)
)

// FirstPeriod is the earliest period there is: the index reads and writes
// nothing before January 2000 (SPEC §6 "plausible input").
const FirstPeriod = "2000-01"

// firstYear is FirstPeriod's year.
const firstYear = 2000

// PeriodForm is the form of a period, as errors say it.
const PeriodForm = "a month (2026-10) or a day (2026-10-15)"

// ParsePeriod reads "2026-10" (a month) or "2026-10-15" (a day), from
// FirstPeriod on, and returns its kind and its first instant in loc.
// Returns an error whose text says what is expected for anything else.
func ParsePeriod(s string, loc *time.Location) (kind string, start time.Time, err error) {
	switch {
	case monthRE.MatchString(s):
		kind = Month
		start, err = time.ParseInLocation("2006-01", s, loc)
	case periodDayRE.MatchString(s):
		kind = Day
		start, err = time.ParseInLocation("2006-01-02", s, loc)
		if err == nil && start.Format("2006-01-02") != s {
			err = errors.New("not a date")
		}
	default:
		return "", time.Time{}, errors.New(PeriodForm)
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("%s: %s is not a date", PeriodForm, s)
	}
	if start.Year() < firstYear {
		return "", time.Time{}, fmt.Errorf("%s from %s on", PeriodForm, FirstPeriod)
	}
	return kind, start, nil
}

// ParsePeriodBy is ParsePeriod that also refuses a period after the one
// that follows now's (next month, tomorrow): no data, cases or results can
// belong to one further ahead. Returns an error whose text says the range.
func ParsePeriodBy(s string, loc *time.Location, now time.Time) (kind string, start time.Time, err error) {
	kind, start, err = ParsePeriod(s, loc)
	if err != nil {
		return "", time.Time{}, err
	}
	if next := Shift(kind, PeriodOf(kind, now, loc), 1, loc); s > next {
		what := "next month"
		if kind == Day {
			what = "next day"
		}
		return "", time.Time{}, fmt.Errorf("%s from %s to the %s, %s", PeriodForm, FirstPeriod, what, next)
	}
	return kind, start, nil
}

// PeriodOf is the period of kind that holds t in loc.
func PeriodOf(kind string, t time.Time, loc *time.Location) string {
	if kind == Month {
		return t.In(loc).Format("2006-01")
	}
	return t.In(loc).Format("2006-01-02")
}

// Shift is the period n periods after p (before, for negative n).
func Shift(kind, p string, n int, loc *time.Location) string {
	_, start, err := ParsePeriod(p, loc)
	if err != nil {
		return ""
	}
	if kind == Month {
		return start.AddDate(0, n, 0).Format("2006-01")
	}
	return start.AddDate(0, 0, n).Format("2006-01-02")
}

// Bounds is the period's [start, end) in loc.
func Bounds(p string, loc *time.Location) (kind string, start, end time.Time, err error) {
	kind, start, err = ParsePeriod(p, loc)
	if err != nil {
		return "", time.Time{}, time.Time{}, err
	}
	if kind == Month {
		return kind, start, start.AddDate(0, 1, 0), nil
	}
	return kind, start, start.AddDate(0, 0, 1), nil
}

// Value is a department's entry for one indicator, region and period.
type Value struct {
	Indicator  string
	RegionCode string
	Period     string
	Value      float64
	Note       string
	EnteredBy  string
	UpdatedAt  time.Time
}

// Store persists indicators and values. Implemented in internal/store.
type Store interface {
	// FindIndicators lists every indicator by code.
	FindIndicators(ctx context.Context) ([]Indicator, error)
	// FindIndicator returns errs.ErrNotFound if there is none.
	FindIndicator(ctx context.Context, code string) (Indicator, error)
	// CreateIndicator returns errs.ErrConflict when the code is taken.
	CreateIndicator(ctx context.Context, i Indicator) error
	// UpdateIndicator saves i if its version is still version.
	UpdateIndicator(ctx context.Context, i Indicator, version int) error
	// UpsertValues writes values in the context's transaction and returns
	// the values they replaced (nil where there was none).
	UpsertValues(ctx context.Context, vs []Value) ([]*Value, error)
	// FindValues lists the values of the periods for the indicators.
	FindValues(ctx context.Context, indicators []string, periods []string) ([]Value, error)
}
