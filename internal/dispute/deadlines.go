package dispute

import (
	"fmt"
	"strings"
	"time"

	"pingan/internal/region"
)

// Deadlines are the time limits of SPEC §8.3, per risk (to accept a case
// that entered a level) and per level (to resolve it, counted from the same
// entry).
type Deadlines struct {
	Accept  map[Risk]time.Duration
	Resolve map[Level]time.Duration
}

// DefaultDeadlines: accept within 24 h (high risk 2 h); resolve within 30
// days at community level and 60 above.
func DefaultDeadlines() Deadlines {
	const day = 24 * time.Hour
	return Deadlines{
		Accept: map[Risk]time.Duration{RiskLow: day, RiskMedium: day, RiskHigh: 2 * time.Hour},
		Resolve: map[Level]time.Duration{region.Community: 30 * day, region.Township: 60 * day,
			region.County: 60 * day, region.City: 60 * day},
	}
}

// ParseDeadlines reads overrides of the defaults such as
// "accept.high=1h,resolve.community=480h" (Go durations; "d" for days is
// accepted too: "resolve.county=45d"). The empty string is the defaults.
func ParseDeadlines(s string) (Deadlines, error) {
	d := DefaultDeadlines()
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		key, val, ok := strings.Cut(item, "=")
		kind, name, ok2 := strings.Cut(key, ".")
		if !ok || !ok2 {
			return Deadlines{}, fmt.Errorf("%q: want accept.<risk>=DURATION or resolve.<level>=DURATION", item)
		}
		dur, err := parseDuration(val)
		if err != nil || dur <= 0 || dur > MaxDeadline {
			return Deadlines{}, fmt.Errorf("%q: not a positive duration of at most 3650d", item)
		}
		switch {
		case kind == "accept" && Risk(name).Valid():
			d.Accept[Risk(name)] = dur
		case kind == "resolve" && rank(Level(name)) >= 0:
			d.Resolve[Level(name)] = dur
		default:
			return Deadlines{}, fmt.Errorf("%q: risks are low, medium, high; levels community, township, county, city", item)
		}
	}
	return d, nil
}

// MaxDeadline bounds a configured deadline: ten years is beyond any
// mediation, and more days than that could overflow a duration.
const MaxDeadline = 3650 * 24 * time.Hour

func parseDuration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		if _, err := fmt.Sscanf(days, "%d", &n); err != nil || fmt.Sprint(n) != days || n > 3650 {
			return 0, fmt.Errorf("bad days %q", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// due is the deadline of d's current step: accepting it after it entered
// its level, then resolving it; nil once it is no longer open.
func (dl Deadlines) due(d Dispute) *time.Time {
	var t time.Time
	switch d.Status {
	case Registered:
		t = d.EnteredLevelAt.Add(dl.Accept[d.Risk])
	case Accepted, Mediating:
		t = d.EnteredLevelAt.Add(dl.Resolve[d.Level])
	default:
		return nil
	}
	return &t
}
