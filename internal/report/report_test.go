package report

import (
	"errors"
	"testing"
	"time"

	"pingan/internal/errs"
)

func TestParsePeriod(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Date(2026, 11, 27, 15, 0, 0, 0, loc)
	for _, c := range []struct {
		from, to         string
		wantFrom, wantTo string
		days             int
		prevFrom, prevTo string
	}{
		{"", "", "2026-11-01", "2026-11-27", 27, "2026-10-05", "2026-10-31"},
		{"2026-10-01", "2026-10-31", "2026-10-01", "2026-10-31", 31, "2026-08-31", "2026-09-30"},
		{"", "2026-02-10", "2026-02-01", "2026-02-10", 10, "2026-01-22", "2026-01-31"},
		{"2026-11-27", "2026-11-27", "2026-11-27", "2026-11-27", 1, "2026-11-26", "2026-11-26"},
		{"2024-01-01", "2024-12-31", "2024-01-01", "2024-12-31", 366, "2022-12-31", "2023-12-31"},
	} {
		p, err := ParsePeriod(c.from, c.to, loc, now)
		if err != nil {
			t.Fatalf("%q..%q: %v", c.from, c.to, err)
		}
		prev := p.Previous()
		if p.From != c.wantFrom || p.To != c.wantTo || p.Days != c.days || prev.From != c.prevFrom || prev.To != c.prevTo ||
			prev.Days != c.days {
			t.Errorf("%q..%q: %+v, previous %+v", c.from, c.to, p, prev)
		}
		if !p.Start.Equal(time.Date(p.Start.Year(), p.Start.Month(), p.Start.Day(), 0, 0, 0, 0, loc)) ||
			!p.End.Equal(p.Start.AddDate(0, 0, c.days)) || !prev.End.Equal(p.Start) {
			t.Errorf("%q..%q: instants %s – %s, previous ends %s", c.from, c.to, p.Start, p.End, prev.End)
		}
	}
	for _, c := range []struct{ from, to, field string }{
		{"2026-02-30", "", "from"}, {"", "20261101", "to"}, {"1999-12-31", "2000-01-02", "from"},
		{"2026-11-02", "2026-11-01", "to"}, {"2025-01-01", "2026-01-02", "to"}, {"x", "y", "to"},
	} {
		_, err := ParsePeriod(c.from, c.to, loc, now)
		var fe errs.FieldErrors
		if !errors.As(err, &fe) || fe[c.field] == "" {
			t.Errorf("%q..%q: %v, want an error naming %s", c.from, c.to, err, c.field)
		}
	}
}

func TestQuantiles(t *testing.T) {
	f := func(v *float64) any {
		if v == nil {
			return nil
		}
		return *v
	}
	for _, c := range []struct {
		hs          []Hours
		median, p90 any
	}{
		{nil, nil, nil},
		{[]Hours{{Hours: 12, N: 1}}, 0.5, 0.5},
		{[]Hours{{Hours: 2, N: 1}, {Hours: 23, N: 1}}, 0.08, 0.96},
		{[]Hours{{Hours: 24, N: 1}, {Hours: 22, N: 1}, {Hours: 54, N: 1}}, 1.0, 2.25},
		// Ten values 1..10 hours: the 5th and the 9th.
		{[]Hours{{Hours: 1, N: 1}, {Hours: 2, N: 1}, {Hours: 3, N: 1}, {Hours: 4, N: 1}, {Hours: 5, N: 1}, {Hours: 6, N: 1},
			{Hours: 7, N: 1}, {Hours: 8, N: 1}, {Hours: 9, N: 1}, {Hours: 10, N: 1}}, 0.21, 0.38},
		// Counts, split over rows of the same hours.
		{[]Hours{{Hours: 48, N: 9}, {Hours: 240, N: 1}, {Hours: 48, Kind: "incident", N: 1}}, 2.0, 2.0},
	} {
		q := quantiles(c.hs)
		if f(q.Median) != c.median || f(q.P90) != c.p90 {
			t.Errorf("%v: median %v p90 %v, want %v %v", c.hs, f(q.Median), f(q.P90), c.median, c.p90)
		}
	}
}

func TestRate(t *testing.T) {
	if Rate(1, 0) != nil || *Rate(1, 3) != 0.3333 || *Rate(2, 3) != 0.6667 || *Rate(0, 5) != 0 || *Rate(5, 5) != 1 {
		t.Fatal("Rate")
	}
}
