// Package warning is early warning 预警 (SPEC §10): surges in the daily
// counts of disputes and of each incident category per county and township
// (EARS C1, C2, C3 and a Poisson test), overdue deadlines, red bands, rank
// falls and key dates; the warnings they raise, their lifecycle (open →
// acknowledged → closed) and the notices that push them to the people who
// must act.
//
// ears.go is pure arithmetic on a series, shared by the server's detector
// and the offline `pingan detect`; the rest reads counts, index results
// and the key-date calendar through Store and keeps the warnings.
package warning

import (
	"time"

	"pingan/internal/access"
)

// Kinds of warning (SPEC §10.1, §10.2).
const (
	KindSurge    = "surge"     // a daily count above its baseline (EARS, Poisson)
	KindOverdue  = "overdue"   // breached deadlines in a day reached the configured count
	KindRedBand  = "red_band"  // in the index's red band three months running
	KindRankFall = "rank_fall" // fell in the index's ranking month on month
	KindKeyDate  = "key_date"  // an upcoming key date around which cases rose in past years
)

// Kinds lists every kind, for validation and documentation.
var Kinds = []string{KindSurge, KindOverdue, KindRedBand, KindRankFall, KindKeyDate}

// Severity is a warning's level of alarm, lowest first.
type Severity string

// Severities (SPEC §10.1): blue (ahead of a key date), yellow (one method
// alarms), orange (C2 and Poisson both, or C3), red (three days running,
// p < 10⁻⁶, or a red band three periods running).
const (
	Blue   Severity = "blue"
	Yellow Severity = "yellow"
	Orange Severity = "orange"
	Red    Severity = "red"
)

// Severities lists them lowest first.
var Severities = []Severity{Blue, Yellow, Orange, Red}

// Rank orders severities: 1 for blue … 4 for red, 0 for none or unknown.
func (s Severity) Rank() int {
	switch s {
	case Blue:
		return 1
	case Yellow:
		return 2
	case Orange:
		return 3
	case Red:
		return 4
	}
	return 0
}

// Statuses of a warning (SPEC §10.3).
const (
	Open         = "open"
	Acknowledged = "acknowledged"
	Closed       = "closed"
)

// Statuses lists them in lifecycle order.
var Statuses = []string{Open, Acknowledged, Closed}

// Case kinds a surge counts.
const (
	CaseIncident = "incident"
	CaseDispute  = "dispute"
)

// DayCount is one local day's count in a warning's series.
type DayCount struct {
	Day   string // local day, 2006-01-02
	Count int
}

// Warning is one raised warning (SPEC §10.3): what it saw and where it is
// in its lifecycle. A running episode updates its warning instead of
// raising another (Key).
type Warning struct {
	ID         string
	Key        string // the episode: kind, region, case kind, category and first period; unique
	Kind       string // KindSurge …
	RegionCode string
	RegionPath string // "/370500/370502/…/", for the scope rule
	Level      string // county, township or community
	CaseKind   string // CaseIncident, CaseDispute, or "" for red band and rank fall
	Category   string // an incident category's code; "" for disputes as a whole and the kinds without
	PeriodKind string // "day" or "month"
	FirstDay   string // the first local day (or month, 2006-01) of the episode
	LastDay    string // the latest
	Method     string // the method whose figures Expected…Statistic are (C2, C1, C3, poisson); "" for the other kinds
	Methods    []string
	Observed   float64  // the count (or score, rank) of the latest day or period
	Expected   *float64 // the baseline mean, or the figure compared against
	Threshold  *float64 // the alarm's upper bound, or the configured count
	Statistic  *float64 // the method's statistic
	P          *float64 // the Poisson test's p
	Severity   Severity
	Status     string
	Series     []DayCount // the counts of the days before and during the episode
	Detail     Detail
	Summary    string // one line in Chinese, the notification's title

	AckedBy   string
	AckedAt   *time.Time
	ClosedBy  string
	ClosedAt  *time.Time
	CloseNote string

	Version   int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Detail is what a warning of a kind other than surge keeps beside its
// figures.
type Detail struct {
	// Periods are the index periods a red band or rank fall read, oldest first.
	Periods []PeriodFigure `json:"periods,omitempty"`
	// Peers is how many regions of the level were ranked (rank fall).
	Peers int `json:"peers,omitempty"`
	// KeyDate is the upcoming event of a key-date warning and what ran high
	// around it in past years.
	KeyDate *KeyDateDetail `json:"key_date,omitempty"`
}

// PeriodFigure is a region's index result for one period.
type PeriodFigure struct {
	Period string   `json:"period"`
	Score  *float64 `json:"score"`
	Band   string   `json:"band"`
	Rank   int      `json:"rank"`
}

// KeyDateDetail names the event and the case kinds and categories that
// rose around it in past years.
type KeyDateDetail struct {
	EventID string        `json:"event_id"`
	Name    string        `json:"name"`
	Start   string        `json:"start"`
	End     string        `json:"end"`
	Rises   []KeyDateRise `json:"rises"`
}

// KeyDateRise is one case kind and category's figures around an event in
// the past years that qualified.
type KeyDateRise struct {
	CaseKind string          `json:"case_kind"`
	Category string          `json:"category"` // "" for disputes as a whole
	Years    []KeyDateFigure `json:"years"`
}

// KeyDateFigure compares an event's window in one past year with the 28
// days before it: Ratio is the window's daily rate over theirs, rounded to
// two places; nil when the 28 days had no case (any rise qualifies then).
type KeyDateFigure struct {
	Start  string   `json:"start"`
	Window int      `json:"window"` // cases in the window
	Before int      `json:"before"` // cases in the 28 days before it
	Ratio  *float64 `json:"ratio"`
}

// Filter selects warnings for a list.
type Filter struct {
	Scope      access.Scope // the caller's (access.ListScope)
	Status     string
	RegionPath string // rows in this subtree ("" for the scope alone)
	Kind       string
	Severity   Severity
	From, To   string // LastDay ≥ From, FirstDay ≤ To (local days); "" for no bound
	// Keyset cursor: rows before (CreatedAt, ID), newest first.
	BeforeAt *time.Time
	BeforeID string
	Limit    int
}

// Event is a named key date (SPEC §10.3): its dates in every year it
// happened, and upcoming ones.
type Event struct {
	ID        string
	Name      string
	Dates     []DateRange
	Version   int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// DateRange is one year's dates of an event: local days, End ≥ Start.
type DateRange struct {
	Start string // 2006-01-02
	End   string
}
