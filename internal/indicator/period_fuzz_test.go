package indicator

import (
	"testing"
	"time"
)

// FuzzPeriod: a period (2026-10, 2026-10-15) parses to its kind and first
// instant, prints back as itself, and bounds one whole day or month that
// ends where the next period starts; anything else is an error. In the
// city's zone (which kept summer time in 1986–91) and in UTC.
func FuzzPeriod(f *testing.F) {
	for _, s := range []string{"2026-10", "2026-10-15", "2026-02-29", "2028-02-29", "2026-13", "2026-00", "0000-01",
		"2026-1", "1988-04-10", "1988-09-11", "2026-10-32", "2026-04-31", "9999-12", "9999-12-31", "2026-10-15T00:00:00Z", " 2026-10", "2026/10", "２０２６-10"} {
		f.Add(s)
	}
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, p string) {
		for _, loc := range []*time.Location{shanghai, time.UTC} {
			kind, start, err := ParsePeriod(p, loc)
			_, bStart, end, berr := Bounds(p, loc)
			if (err == nil) != (berr == nil) || err == nil && !bStart.Equal(start) {
				t.Fatalf("%q: ParsePeriod %v %v, Bounds %v %v", p, start, err, bStart, berr)
			}
			if err != nil {
				if kind != "" || !start.IsZero() || Shift(Month, p, 1, loc) != "" || Shift(Day, p, 1, loc) != "" {
					t.Fatalf("%q refused (%v) yet gave %q %v", p, err, kind, start)
				}
				continue
			}
			if kind != Month && kind != Day {
				t.Fatalf("%q: kind %q", p, kind)
			}
			if PeriodOf(kind, start, loc) != p || PeriodOf(kind, end.Add(-time.Nanosecond), loc) != p {
				t.Fatalf("%q in %s: [%v, %v) is not the period", p, loc, start, end)
			}
			h, m, s := start.In(loc).Clock()
			if h != 0 || m != 0 || s != 0 || start.Nanosecond() != 0 || kind == Month && start.In(loc).Day() != 1 {
				t.Fatalf("%q in %s starts at %v", p, loc, start)
			}
			next := Shift(kind, p, 1, loc)
			_, nextStart, nerr := ParsePeriod(next, loc)
			if nerr == nil && !nextStart.Equal(end) {
				t.Fatalf("%q in %s ends at %v, the next period %q starts at %v", p, loc, end, next, nextStart)
			}
			if nerr == nil && Shift(kind, next, -1, loc) != p {
				t.Fatalf("%q: one on and one back is %q", p, Shift(kind, next, -1, loc))
			}
			if hours := end.Sub(start).Hours(); kind == Day && (hours < 23 || hours > 25) || kind == Month && (hours < 28*24-1 || hours > 31*24+1) {
				t.Fatalf("%q in %s lasts %v h", p, loc, hours)
			}
		}
	})
}
