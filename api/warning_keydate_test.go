package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"pingan/internal/access"
	"pingan/internal/demo"
	"pingan/internal/warning"
)

// setClock puts the env's clock at t.
func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.off = time.Until(t)
	c.mu.Unlock()
}

// TestKeyDateWarning keeps a calendar with an event 14 days ahead whose
// window, in each of three past years, ran at twice the daily rate of the
// 28 days before it (SPEC §10.2): detection raises one blue warning ahead
// for the township and one for its county, once, and not a day earlier.
func TestKeyDateWarning(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		loc := e.app.Config.Location
		now := e.clock.now().In(loc)
		today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
		upcoming := today.AddDate(0, 0, 14)
		grid := firstGrid(t, e, demo.FuqianGrid1)
		var dates []warning.DateRange
		for k := 3; k >= 1; k-- {
			start := upcoming.AddDate(-k, 0, 0)
			e.clock.set(start.AddDate(0, 0, 4)) // reported as they happened
			for i := KeyDateBefore; i >= 1; i-- {
				plant(t, e, grid, "traffic", start.AddDate(0, 0, -i).Add(10*time.Hour), 1)
			}
			for i := range 3 {
				plant(t, e, grid, "traffic", start.AddDate(0, 0, i).Add(10*time.Hour), 2)
			}
			dates = append(dates, warning.DateRange{Start: start.Format(time.DateOnly), End: start.AddDate(0, 0, 2).Format(time.DateOnly)})
		}
		e.clock.set(now)
		dates = append(dates, warning.DateRange{Start: upcoming.Format(time.DateOnly), End: upcoming.AddDate(0, 0, 2).Format(time.DateOnly)})
		ev, err := e.app.Warnings.CreateKeyDate(ctx, access.System, warning.NewEvent{Name: "黄河口马拉松", Dates: dates})
		if err != nil {
			t.Fatal(err)
		}

		// 15 days ahead: not yet.
		if err := e.app.Warnings.Detect(ctx, today.AddDate(0, 0, -1).Format(time.DateOnly)); err != nil {
			t.Fatal(err)
		}
		if n := countRows(t, e, "warnings"); n != 0 {
			t.Fatalf("%d warnings 15 days ahead", n)
		}
		for range 2 {
			if err := e.app.Warnings.Detect(ctx, today.Format(time.DateOnly)); err != nil {
				t.Fatal(err)
			}
		}
		ws, err := e.app.Warnings.FindWarnings(ctx, access.System, warning.Query{Kind: warning.KindKeyDate, Filter: warning.Filter{Limit: 10}})
		if err != nil {
			t.Fatal(err)
		}
		if len(ws) != 2 || countRows(t, e, "warnings") != 2 {
			t.Fatalf("%d key-date warnings, want 2 (township and county): %+v", len(ws), ws)
		}
		var years []string
		for _, d := range dates[:3] {
			years = append(years, fmt.Sprintf("{%s 6 28 2}", d.Start))
		}
		for _, w := range ws {
			if w.RegionCode != demo.DongchengStreet && w.RegionCode != demo.DongyingDistrict {
				t.Errorf("warning for %s", w.RegionCode)
			}
			kd := w.Detail.KeyDate
			if w.Severity != warning.Blue || w.Status != warning.Open || w.FirstDay != dates[3].Start || w.LastDay != dates[3].End ||
				kd == nil || kd.EventID != ev.ID || kd.Name != "黄河口马拉松" || len(kd.Rises) != 1 {
				t.Fatalf("warning %+v detail %+v", w, kd)
			}
			r := kd.Rises[0]
			var got []string
			for _, y := range r.Years {
				ratio := "nil"
				if y.Ratio != nil {
					ratio = fmt.Sprint(*y.Ratio)
				}
				got = append(got, fmt.Sprintf("{%s %d %d %s}", y.Start, y.Window, y.Before, ratio))
			}
			if r.CaseKind != "incident" || r.Category != "traffic" || strings.Join(got, " ") != strings.Join(years, " ") {
				t.Fatalf("rise %+v: years %v, want %v", r, got, years)
			}
			if n := warningNotices(t, e, "demo-county-supervisor", w.ID); n != 1 {
				t.Fatalf("%d notices of %s", n, w.RegionCode)
			}
		}

		// Once the event has begun, a day before it detected again (a late
		// report, a catch-up) warns of it no more.
		if _, err := e.app.DB.SQL().ExecContext(ctx, "DELETE FROM warnings"); err != nil {
			t.Fatal(err)
		}
		e.clock.set(upcoming.Add(time.Hour))
		defer e.clock.set(now)
		if err := e.app.Warnings.Detect(ctx, upcoming.AddDate(0, 0, -1).Format(time.DateOnly)); err != nil {
			t.Fatal(err)
		}
		if n := countRows(t, e, "warnings"); n != 0 {
			t.Fatalf("%d warnings of an event that has begun", n)
		}
	})
}

// KeyDateBefore mirrors warning.KeyDateBefore for the test's history.
const KeyDateBefore = warning.KeyDateBefore
