package api_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"pingan/internal/access"
	"pingan/internal/demo"
	"pingan/internal/incident"
	"pingan/internal/region"
	"pingan/internal/user"
	"pingan/internal/warning"
)

// plant reports n incidents of a category in a grid, occurred at the local
// time at (through the service, as an admin: the surge's history).
func plant(t *testing.T, e *env, grid region.Region, category string, at time.Time, n int) {
	t.Helper()
	lat, lng := grid.Centroid.Lat, grid.Centroid.Lng
	for i := range n {
		_, err := e.app.Incidents.CreateIncident(context.Background(), access.System, incident.NewIncident{
			Category: category, Severity: incident.Low, Description: fmt.Sprintf("planted %d", i),
			Location: incident.Location{Lat: &lat, Lng: &lng}, OccurredAt: at, RegionCode: grid.Code}, nil)
		if err != nil {
			t.Fatal(err)
		}
	}
}

// firstGrid is the first grid below a region.
func firstGrid(t *testing.T, e *env, code string) region.Region {
	t.Helper()
	ctx := context.Background()
	for {
		r, err := e.app.DB.FindRegionByCode(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		if r.Level == region.Grid {
			return r
		}
		kids, err := e.app.DB.FindRegions(ctx, region.Filter{Parent: code, Limit: 1})
		if err != nil || len(kids) == 0 {
			t.Fatalf("no region below %s: %v", code, err)
		}
		code = kids[0].Code
	}
}

// warningNotices counts a user's notifications about a warning.
func warningNotices(t *testing.T, e *env, username, id string) int {
	t.Helper()
	var n int64
	err := e.app.DB.SQL().QueryRowContext(context.Background(),
		"SELECT COUNT(*) FROM notifications WHERE user_id = ? AND kind = 'warning' AND case_kind = 'warning' AND case_id = ?",
		e.userID(t, username), id).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// TestSurgeWarning plants a surge of public-order incidents in 东城街道 (SPEC
// §10.1): the day's last report arrives late, from a phone, and raises the
// warning for that day; the township's mediator and the county's and city's
// supervisors are told at once (inbox and stream), a community mediator and
// another county's supervisor are not; detection again, twice at once, or
// on a second instance raises nothing more; the surge going on updates the
// warning and tells them once more only when its severity rises.
func TestSurgeWarning(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		loc := e.app.Config.Location
		now := e.clock.now().In(loc)
		todayStart := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
		yesterday := todayStart.AddDate(0, 0, -1)
		day := func(t time.Time) string { return t.Format(time.DateOnly) }
		grid := firstGrid(t, e, demo.FuqianGrid1)
		// Another township of 东营区, busy and steady, so that the county as a
		// whole does not surge.
		towns, err := e.app.DB.FindRegions(ctx, region.Filter{Parent: demo.DongyingDistrict, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var other region.Region
		for _, r := range towns {
			if r.Code != demo.DongchengStreet {
				other = firstGrid(t, e, r.Code)
				break
			}
		}
		for i := 14; i >= 1; i-- {
			noon := yesterday.AddDate(0, 0, -i).Add(12 * time.Hour)
			plant(t, e, grid, "public_order", noon, []int{0, 6}[i%2])
			plant(t, e, other, "public_order", noon, []int{15, 25}[i%2])
		}
		plant(t, e, grid, "public_order", yesterday.Add(12*time.Hour), 10)
		plant(t, e, other, "public_order", yesterday.Add(12*time.Hour), 20)
		// The planted history is the past, not news: the jobs its reports
		// queued as late reports (index and detection of each day) go.
		if _, err := e.app.DB.SQL().ExecContext(ctx, "DELETE FROM index_jobs"); err != nil {
			t.Fatal(err)
		}

		if err := e.app.Warnings.Detect(ctx, day(yesterday)); err != nil {
			t.Fatal(err)
		}
		if n := countRows(t, e, "warnings"); n != 0 {
			t.Fatalf("%d warnings before the surge is complete", n)
		}

		stream, _ := openStream(t, newServer(t, e), e.login(t, "demo-township-mediator"), "")
		// The 11th report of yesterday comes late from a grid worker's phone.
		r := e.do(t, req{method: "POST", path: "/api/v1/incidents", token: e.login(t, "demo-gridworker"), body: map[string]any{
			"category": "public_order", "severity": "low", "description": "夜间聚集滋事",
			"location":    map[string]any{"lat": grid.Centroid.Lat, "lng": grid.Centroid.Lng},
			"occurred_at": yesterday.Add(20 * time.Hour).Format(time.RFC3339)}})
		expect(t, r, 201, "")
		if err := e.app.Ranking.RunPending(ctx); err != nil {
			t.Fatal(err)
		}
		sup := e.login(t, "demo-county-supervisor")
		list := e.do(t, req{method: "GET", path: "/api/v1/warnings", token: sup})
		expect(t, list, 200, "")
		items := list.json(t)["items"].([]any)
		if len(items) != 1 {
			t.Fatalf("%d warnings, want 1: %s", len(items), list.Body)
		}
		w := items[0].(map[string]any)
		id := w["id"].(string)
		for k, want := range map[string]any{"kind": "surge", "region_code": demo.DongchengStreet, "level": "township",
			"case_kind": "incident", "category": "public_order", "first_day": day(yesterday), "last_day": day(yesterday),
			"observed": 11.0, "severity": "yellow", "status": "open", "method": "poisson"} {
			if w[k] != want {
				t.Errorf("%s = %v, want %v", k, w[k], want)
			}
		}
		series := w["series"].([]any)
		if len(series) != 29 || fmt.Sprint(series[28]) != fmt.Sprintf("map[count:11 day:%s]", day(yesterday)) ||
			fmt.Sprint(series[27]) != fmt.Sprintf("map[count:6 day:%s]", day(yesterday.AddDate(0, 0, -1))) {
			t.Fatalf("series %v", series)
		}
		if w["summary"] != fmt.Sprintf("东城街道 %s 治安事件 11 件, 基线 %.1f", day(yesterday), w["expected"]) || w["expected"] != 24.0/7 {
			t.Errorf("summary %q", w["summary"])
		}
		if p, ok := w["p"].(float64); !ok || p >= 0.001 {
			t.Fatalf("p = %v", w["p"])
		}
		for user, want := range map[string]int{"demo-township-mediator": 1, "demo-county-supervisor": 1, "demo-supervisor": 1,
			"demo-county-mediator": 1, "demo-city-mediator": 1, "demo-mediator": 0, "demo-guangrao-mediator": 0, "demo-admin": 0} {
			if got := warningNotices(t, e, user, id); got != want {
				t.Errorf("%s has %d notices of the warning, want %d", user, got, want)
			}
		}
		ev := stream.next(t, 10*time.Second)
		if !containsAll(ev.data, `"kind":"warning"`, `"case_kind":"warning"`, `"case_id":"`+id+`"`, "黄色预警") {
			t.Fatalf("stream event %+v", ev)
		}
		// Another county's supervisor neither lists nor reads it.
		if _, err := e.app.Users.CreateUser(ctx, access.System, user.NewUser{Username: "guangrao-supervisor",
			Password: demo.Password, Name: "广饶县督导", Role: access.Supervisor, RegionCode: demo.GuangraoCounty}); err != nil {
			t.Fatal(err)
		}
		gr := e.login(t, "guangrao-supervisor")
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/warnings/" + id, token: gr}), 404, "not_found")
		if got := e.do(t, req{method: "GET", path: "/api/v1/warnings", token: gr}).json(t)["items"].([]any); len(got) != 0 {
			t.Fatalf("广饶县 lists %v", got)
		}

		// Detection again, twice at once, and on a second instance: nothing new.
		second := e.app.Warnings
		if e.app.DB.Dialect() == "mysql" {
			second = reopen(t, e, e.app.Config.JWTKeys).app.Warnings
		}
		var wg sync.WaitGroup
		errc := make(chan error, 3)
		for _, s := range []*warning.Service{e.app.Warnings, e.app.Warnings, second} {
			wg.Go(func() { errc <- s.Detect(ctx, day(yesterday)) })
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			if err != nil {
				t.Fatal(err)
			}
		}
		again, err := e.app.DB.FindWarning(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if n := countRows(t, e, "warnings"); n != 1 || again.Version != 1 || warningNotices(t, e, "demo-township-mediator", id) != 1 {
			t.Fatalf("after detecting again: %d warnings, version %d, %d notices", n, again.Version,
				warningNotices(t, e, "demo-township-mediator", id))
		}

		// The surge goes on today: the same warning, now orange, told once more.
		at := todayStart.Add(time.Minute)
		if a := now.Add(-time.Minute); a.After(at) {
			at = a
		}
		plant(t, e, grid, "public_order", at, 12)
		plant(t, e, other, "public_order", at, 20)
		for range 2 {
			if err := e.app.Warnings.Detect(ctx, day(todayStart)); err != nil {
				t.Fatal(err)
			}
		}
		got := e.do(t, req{method: "GET", path: "/api/v1/warnings/" + id, token: sup}).json(t)
		if got["summary"] != fmt.Sprintf("自 %s 起持续: 东城街道 %s 治安事件 12 件, 基线 %.1f", day(yesterday)[5:], day(todayStart), got["expected"]) {
			t.Errorf("summary %q", got["summary"])
		}
		if got["severity"] != "orange" || got["last_day"] != day(todayStart) || got["first_day"] != day(yesterday) ||
			got["observed"] != 12.0 || len(got["series"].([]any)) != 30 {
			t.Fatalf("after today's pass: %v", got)
		}
		if n := countRows(t, e, "warnings"); n != 1 || warningNotices(t, e, "demo-township-mediator", id) != 2 {
			t.Fatalf("%d warnings, %d notices after the rise", n, warningNotices(t, e, "demo-township-mediator", id))
		}
	})
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// TestSurgeEpisodeInAnyOrder: days are detected in any order (a catch-up
// after downtime, a late report for an earlier day); two alarming days in a
// row are one episode whichever is detected first — one warning, its first
// day the earlier, its figures the later day's, its watchers told once.
func TestSurgeEpisodeInAnyOrder(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		loc := e.app.Config.Location
		now := e.clock.now().In(loc)
		yesterday := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, -1)
		before := yesterday.AddDate(0, 0, -1)
		grid := firstGrid(t, e, demo.FuqianGrid1)
		for i := 15; i >= 2; i-- {
			plant(t, e, grid, "public_order", yesterday.AddDate(0, 0, -i).Add(12*time.Hour), []int{0, 6}[i%2])
		}
		plant(t, e, grid, "public_order", before.Add(12*time.Hour), 11)
		plant(t, e, grid, "public_order", yesterday.Add(12*time.Hour), 12)
		for _, d := range []time.Time{yesterday, before, yesterday, before} {
			if err := e.app.Warnings.Detect(ctx, d.Format(time.DateOnly)); err != nil {
				t.Fatal(err)
			}
		}
		ws, err := e.app.Warnings.FindWarnings(ctx, access.System, warning.Query{Filter: warning.Filter{Limit: 10}})
		if err != nil {
			t.Fatal(err)
		}
		var township []warning.Warning
		for _, w := range ws {
			if w.RegionCode == demo.DongchengStreet {
				township = append(township, w)
			}
		}
		if len(township) != 1 {
			t.Fatalf("%d warnings for 东城街道, want 1: %+v", len(township), township)
		}
		w := township[0]
		if w.FirstDay != before.Format(time.DateOnly) || w.LastDay != yesterday.Format(time.DateOnly) || w.Observed != 12 ||
			len(w.Series) != 30 || w.Series[28].Count != 11 || w.Series[29].Count != 12 {
			t.Fatalf("episode %s…%s observed %v series %v", w.FirstDay, w.LastDay, w.Observed, w.Series)
		}
		// Yesterday, detected first, is orange (Poisson and C3); the day
		// before adds a yellow day to it: no rise, no second notice.
		if n := warningNotices(t, e, "demo-township-mediator", w.ID); w.Severity != warning.Orange || n != 1 {
			t.Fatalf("severity %s, %d notices of one episode", w.Severity, n)
		}
	})
}
