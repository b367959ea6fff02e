package dispute

import (
	"testing"
	"time"

	"pingan/internal/region"
)

const day = 24 * time.Hour

// TestDefaultDeadlines: SPEC §8.3's numbers — accept within 24 h (high
// risk 2 h), resolve within 30 days (township and above 60).
func TestDefaultDeadlines(t *testing.T) {
	d := DefaultDeadlines()
	accept := map[Risk]time.Duration{RiskLow: 24 * time.Hour, RiskMedium: 24 * time.Hour, RiskHigh: 2 * time.Hour}
	resolve := map[Level]time.Duration{region.Community: 30 * day, region.Township: 60 * day, region.County: 60 * day, region.City: 60 * day}
	if len(d.Accept) != len(accept) || len(d.Resolve) != len(resolve) {
		t.Fatalf("defaults %v", d)
	}
	for r, want := range accept {
		if got := d.Accept[r]; got != want {
			t.Errorf("accept %s: %v, want %v", r, got, want)
		}
	}
	for l, want := range resolve {
		if got := d.Resolve[l]; got != want {
			t.Errorf("resolve %s: %v, want %v", l, got, want)
		}
	}
}

// TestDue: due_at counts from the entry into the level — the accept limit
// of the case's risk while registered, the resolve limit of its level once
// accepted — and is nil when the case waits for no one (SPEC §8.3).
func TestDue(t *testing.T) {
	entered := time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)
	custom, err := ParseDeadlines("accept.high=1h,accept.low=48h,resolve.community=20d,resolve.county=45d")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		dl     Deadlines
		status Status
		level  Level
		risk   Risk
		want   time.Duration // after entered; -1: no deadline
	}{
		{"registered, low risk", DefaultDeadlines(), Registered, region.Community, RiskLow, 24 * time.Hour},
		{"registered, medium risk", DefaultDeadlines(), Registered, region.Community, RiskMedium, 24 * time.Hour},
		{"registered, high risk", DefaultDeadlines(), Registered, region.Community, RiskHigh, 2 * time.Hour},
		{"registered at city, high risk: accepting does not depend on the level", DefaultDeadlines(), Registered, region.City, RiskHigh, 2 * time.Hour},
		{"registered at township, low risk", DefaultDeadlines(), Registered, region.Township, RiskLow, 24 * time.Hour},
		{"accepted at community", DefaultDeadlines(), Accepted, region.Community, RiskHigh, 30 * day},
		{"accepted at township", DefaultDeadlines(), Accepted, region.Township, RiskLow, 60 * day},
		{"accepted at county", DefaultDeadlines(), Accepted, region.County, RiskLow, 60 * day},
		{"accepted at city", DefaultDeadlines(), Accepted, region.City, RiskMedium, 60 * day},
		{"mediating at community", DefaultDeadlines(), Mediating, region.Community, RiskLow, 30 * day},
		{"mediating at township", DefaultDeadlines(), Mediating, region.Township, RiskHigh, 60 * day},
		{"resolved", DefaultDeadlines(), Resolved, region.Community, RiskHigh, -1},
		{"failed", DefaultDeadlines(), Failed, region.Township, RiskHigh, -1},
		{"referred", DefaultDeadlines(), Referred, region.County, RiskLow, -1},
		{"closed", DefaultDeadlines(), Closed, region.City, RiskLow, -1},
		{"configured: high risk", custom, Registered, region.Community, RiskHigh, time.Hour},
		{"configured: low risk", custom, Registered, region.Community, RiskLow, 48 * time.Hour},
		{"configured: medium risk keeps the default", custom, Registered, region.Community, RiskMedium, 24 * time.Hour},
		{"configured: community", custom, Mediating, region.Community, RiskLow, 20 * day},
		{"configured: county", custom, Accepted, region.County, RiskLow, 45 * day},
		{"configured: township keeps the default", custom, Accepted, region.Township, RiskLow, 60 * day},
	} {
		d := at(c.level, c.status)
		d.Risk, d.EnteredLevelAt = c.risk, entered
		got := c.dl.due(d)
		switch {
		case c.want < 0 && got != nil:
			t.Errorf("%s: due %v, want none", c.name, *got)
		case c.want >= 0 && (got == nil || !got.Equal(entered.Add(c.want))):
			t.Errorf("%s: due %v, want %v", c.name, got, entered.Add(c.want))
		}
	}
}

// TestOverdue: a case is late when it is open and its deadline has passed;
// at the deadline itself it is not late yet.
func TestOverdue(t *testing.T) {
	now := time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)
	due := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	for _, c := range []struct {
		name   string
		status Status
		due    *time.Time
		want   bool
	}{
		{"registered, due a second ago", Registered, due(-time.Second), true},
		{"accepted, due 1 ns ago", Accepted, due(-1), true},
		{"mediating, due 30 days ago", Mediating, due(-30 * day), true},
		{"registered, due now", Registered, due(0), false},
		{"mediating, due in an hour", Mediating, due(time.Hour), false},
		{"registered, no deadline", Registered, nil, false},
		{"resolved with a past deadline", Resolved, due(-day), false},
		{"failed with a past deadline", Failed, due(-day), false},
		{"referred with a past deadline", Referred, due(-day), false},
		{"closed with a past deadline", Closed, due(-day), false},
	} {
		d := at(region.Community, c.status)
		d.DueAt = c.due
		if got := d.Overdue(now); got != c.want {
			t.Errorf("%s: Overdue = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestParseDeadlines: PINGAN_DISPUTE_DEADLINES overrides any limit by risk
// (accept) or handling level (resolve) with a positive Go duration or a
// whole number of days; anything else is refused whole.
func TestParseDeadlines(t *testing.T) {
	for _, c := range []struct {
		in      string
		accept  map[Risk]time.Duration  // overrides expected on top of the defaults
		resolve map[Level]time.Duration // idem
		bad     bool
	}{
		{in: ""},
		{in: " , ,"},
		{in: "accept.high=1h", accept: map[Risk]time.Duration{RiskHigh: time.Hour}},
		{in: "accept.low=48h", accept: map[Risk]time.Duration{RiskLow: 48 * time.Hour}},
		{in: "accept.medium=90m", accept: map[Risk]time.Duration{RiskMedium: 90 * time.Minute}},
		{in: "accept.medium=1h30m", accept: map[Risk]time.Duration{RiskMedium: 90 * time.Minute}},
		{in: "resolve.community=480h", resolve: map[Level]time.Duration{region.Community: 20 * day}},
		{in: "resolve.county=45d", resolve: map[Level]time.Duration{region.County: 45 * day}},
		{in: "resolve.township=1d", resolve: map[Level]time.Duration{region.Township: day}},
		{in: "resolve.city=90d", resolve: map[Level]time.Duration{region.City: 90 * day}},
		{in: "accept.high=1h,accept.low=48h,resolve.community=20d,resolve.county=45d",
			accept:  map[Risk]time.Duration{RiskHigh: time.Hour, RiskLow: 48 * time.Hour},
			resolve: map[Level]time.Duration{region.Community: 20 * day, region.County: 45 * day}},
		{in: " accept.high=1h , resolve.city=70d ,",
			accept: map[Risk]time.Duration{RiskHigh: time.Hour}, resolve: map[Level]time.Duration{region.City: 70 * day}},

		{in: "accept.critical=1h", bad: true},
		{in: "accept.HIGH=1h", bad: true},
		{in: "resolve.grid=1d", bad: true},
		{in: "resolve.province=1d", bad: true},
		{in: "resolve.high=1d", bad: true},
		{in: "accept.community=1h", bad: true},
		{in: "due.high=1h", bad: true},
		{in: "accept.high", bad: true},
		{in: "accept=1h", bad: true},
		{in: "=1h", bad: true},
		{in: "accept.high=", bad: true},
		{in: "accept.high=0s", bad: true},
		{in: "accept.high=-1h", bad: true},
		{in: "resolve.city=0d", bad: true},
		{in: "resolve.city=-3d", bad: true},
		{in: "resolve.city=1.5d", bad: true},
		{in: "resolve.city=d", bad: true},
		{in: "resolve.city=3 d", bad: true},
		{in: "resolve.city=03d", bad: true},
		{in: "accept.high=1x", bad: true},
		{in: "accept.high=1h,resolve.grid=1d", bad: true},
		// Beyond MaxDeadline, or so many days that they overflow a duration.
		{in: "resolve.city=300000d", bad: true},
		{in: "resolve.city=3651d", bad: true},
		{in: "accept.low=87601h", bad: true},
		{in: "resolve.city=3650d", resolve: map[Level]time.Duration{region.City: 3650 * day}},
	} {
		got, err := ParseDeadlines(c.in)
		if c.bad {
			if err == nil {
				t.Errorf("%q: accepted: %v", c.in, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		want := DefaultDeadlines()
		for r, v := range c.accept {
			want.Accept[r] = v
		}
		for l, v := range c.resolve {
			want.Resolve[l] = v
		}
		if len(got.Accept) != len(want.Accept) || len(got.Resolve) != len(want.Resolve) {
			t.Errorf("%q: %v, want %v", c.in, got, want)
			continue
		}
		for r, v := range want.Accept {
			if got.Accept[r] != v {
				t.Errorf("%q: accept %s = %v, want %v", c.in, r, got.Accept[r], v)
			}
		}
		for l, v := range want.Resolve {
			if got.Resolve[l] != v {
				t.Errorf("%q: resolve %s = %v, want %v", c.in, l, got.Resolve[l], v)
			}
		}
	}
	// Overrides are the parsed value's own: the defaults stay as they are.
	if _, err := ParseDeadlines("accept.high=1m,resolve.community=1d"); err != nil {
		t.Fatal(err)
	}
	if d := DefaultDeadlines(); d.Accept[RiskHigh] != 2*time.Hour || d.Resolve[region.Community] != 30*day {
		t.Fatalf("parsing changed the defaults: %v", d)
	}
}
