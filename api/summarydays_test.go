package api_test

import (
	"context"
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"pingan/internal/access"
	"pingan/internal/demo"
	"pingan/internal/report"
)

// The period summary's daily counts (docs/reports.md, "Daily counts"): a
// summary answers the same from the kept days as from the cases and facts,
// a case changed after its day was counted shows at once, and a day's
// count is replaced only by a later one.
func TestSummaryDailyCounts(t *testing.T) {
	for _, backend := range []string{"sqlite", "mysql"} {
		t.Run(backend, func(t *testing.T) {
			e := factsEnv(t, backend, map[string]string{"PINGAN_DISPUTE_DEADLINES": "accept.low=2h,resolve.community=24h"})
			d3 := summaryData(t, e)
			ctx := context.Background()
			loc := e.app.Ranking.Location()
			day := func(d int) string { return summaryDay(e, d, 0).Format("2006-01-02") }
			last := summaryDay(e, 1, 0).AddDate(0, 1, -1).Format("2006-01-02")
			sup := e.login(t, "demo-supervisor")
			queries := []string{
				"from=" + day(4) + "&to=" + day(5),
				"by=child&from=" + day(4) + "&to=" + day(5),
				"kind=dispute&from=" + day(4) + "&to=" + day(5),
				"kind=incident&by=child&from=" + day(2) + "&to=" + day(5),
				"from=" + day(1) + "&to=" + last, // runs through today
				"by=child&region=" + demo.DongyingDistrict + "&from=" + day(1) + "&to=" + day(5),
				"by=child&region=370502003&from=" + day(3) + "&to=" + day(5),
				"kind=dispute&region=" + demo.FuqianCommunity + "&from=" + day(1) + "&to=" + last,
				"by=child&region=" + demo.FuqianCommunity + "&from=" + day(2) + "&to=" + day(5), // its grids: never kept
			}
			// Each phase asks a service of its own, so that no figure comes
			// from the memory of an earlier phase (the closed periods' cache).
			supervisor := access.Principal{UserID: userID(t, e, "demo-supervisor"), Role: access.Supervisor, RegionCode: "370500",
				RegionPath: "/370500/"}
			bodies := func() []string {
				svc := report.NewService(e.app.DB, e.app.DB, e.app.Regions, e.app.Categories, loc, e.clock.now)
				out := make([]string, len(queries))
				for i, q := range queries {
					v, err := url.ParseQuery(q)
					if err != nil {
						t.Fatal(err)
					}
					sum, err := svc.Summary(ctx, supervisor, report.Query{Region: v.Get("region"), From: v.Get("from"), To: v.Get("to"),
						Kind: v.Get("kind"), ByChild: v.Get("by") == "child"})
					if err != nil {
						t.Fatalf("%s: %v", q, err)
					}
					b, err := json.Marshal(sum)
					if err != nil {
						t.Fatal(err)
					}
					// A period running through today is counted as of now,
					// which moves on with the test's clock.
					out[i] = asOfNow.ReplaceAllString(string(b), `"$1":"now"`)
				}
				return out
			}
			api := func(q string) string {
				r := e.do(t, req{method: "GET", path: "/api/v1/reports/summary?" + q, token: sup})
				expect(t, r, 200, "")
				return asOfNow.ReplaceAllString(string(r.Body), `"$1":"now"`)
			}
			counted := func() map[string]time.Time {
				m, err := e.app.DB.CountedDays(ctx, "0000-00-00", "9999-99-99")
				if err != nil {
					t.Fatal(err)
				}
				return m
			}

			// Before any count every day is counted from the cases and facts.
			before := bodies()
			if len(counted()) != 0 {
				t.Fatal("days counted before the first run")
			}
			if err := e.app.Reports.CountDays(ctx, ""); err != nil {
				t.Fatal(err)
			}
			// Every ended day from the first report on is counted, today not.
			first, ok, err := e.app.DB.FirstReportedAt(ctx)
			if err != nil || !ok {
				t.Fatalf("first report: %v %v", ok, err)
			}
			today := e.clock.now().In(loc).Format("2006-01-02")
			days, want := counted(), 0
			for d := first.In(loc); d.Format("2006-01-02") < today; d = d.AddDate(0, 0, 1) {
				if _, ok := days[d.Format("2006-01-02")]; !ok {
					t.Fatalf("day %s was not counted (counted: %v)", d.Format("2006-01-02"), days)
				}
				want++
			}
			if len(days) != want || want < 4 {
				t.Fatalf("counted %d days %v, want the %d from %s to the day before %s", len(days), days, want, first, today)
			}
			var rows int
			if err := e.app.DB.SQL().QueryRow("SELECT COUNT(*) FROM summary_days WHERE depth = 1 AND region_code = ''").Scan(&rows); err != nil || rows == 0 {
				t.Fatalf("%d city rows kept (%v)", rows, err)
			}
			after := bodies()
			for i := range queries {
				if after[i] != before[i] {
					t.Fatalf("%s: from the kept days\n%s\nfrom the cases\n%s", queries[i], after[i], before[i])
				}
			}

			// The kept days are what answers: a status changed behind the
			// server's back (updated_at unchanged) does not show, one changed
			// through the API does at once (its day is counted from the cases
			// until the next run counts it again).
			var id, status string
			if err := e.app.DB.SQL().QueryRow("SELECT id, status FROM incidents WHERE status = 'reported' AND created_at >= ? AND created_at < ?",
				summaryDay(e, 4, 0).UTC(), summaryDay(e, 6, 0).UTC()).Scan(&id, &status); err != nil {
				t.Fatal(err)
			}
			if _, err := e.app.DB.SQL().Exec("UPDATE incidents SET status = 'closed' WHERE id = ?", id); err != nil {
				t.Fatal(err)
			}
			if got := bodies(); got[0] != before[0] {
				t.Fatalf("a change without updated_at showed: the kept days were not read\n%s", got[0])
			}
			if _, err := e.app.DB.SQL().Exec("UPDATE incidents SET status = ? WHERE id = ?", status, id); err != nil {
				t.Fatal(err)
			}
			// The open cases at a past period's end are the kept flows' sum:
			// 100 more opened on the first day shows as 100 more open.
			if _, err := e.app.DB.SQL().Exec("UPDATE summary_days SET opened = opened + 100 WHERE depth = 1 AND case_kind = 'incident' AND day = ?",
				first.In(loc).Format("2006-01-02")); err != nil {
				t.Fatal(err)
			}
			tampered := mustJSON(t, bodies()[0])
			cur, prev := tampered["Current"].(map[string]any)["Open"], tampered["Previous"].(map[string]any)["Open"]
			wantCur, wantPrev := mustJSON(t, before[0])["Current"].(map[string]any)["Open"], mustJSON(t, before[0])["Previous"].(map[string]any)["Open"]
			if cur.(map[string]any)["Count"].(float64) != wantCur.(map[string]any)["Count"].(float64)+100 ||
				prev.(map[string]any)["Count"].(float64) != wantPrev.(map[string]any)["Count"].(float64)+100 {
				t.Fatalf("open with 100 more kept: %v and %v, want 100 more than %v and %v", cur, prev, wantCur, wantPrev)
			}
			if _, err := e.app.DB.SQL().Exec("UPDATE summary_days SET opened = opened - 100 WHERE depth = 1 AND case_kind = 'incident' AND day = ?",
				first.In(loc).Format("2006-01-02")); err != nil {
				t.Fatal(err)
			}
			d3Day := day(4)
			countedAt := counted()[d3Day]
			beforeAPI := api(queries[2])
			moved := strings.Replace(beforeAPI, `"key":"registered","count":1}`, `"key":"accepted","count":1}`, 1)
			if moved == beforeAPI {
				t.Fatalf("no registered dispute in %s", beforeAPI)
			}
			dpMust(t, e, "demo-township-mediator", d3, map[string]any{"action": "accept"})
			if got := api(queries[2]); got != moved {
				t.Fatalf("after D3's acceptance:\n got %s\nwant %s", got, moved)
			}
			dpAdvance(e, time.Minute)
			if err := e.app.Reports.CountDays(ctx, ""); err != nil {
				t.Fatal(err)
			}
			if at := counted()[d3Day]; !at.After(countedAt) {
				t.Fatalf("D3's day counted at %s again, before at %s: not counted again", at, countedAt)
			}
			if got := api(queries[2]); got != moved {
				t.Fatalf("after D3's day was counted again:\n got %s\nwant %s", got, moved)
			}

			// A count that began earlier than the kept one is not kept.
			at := counted()[d3Day]
			saved, err := e.app.DB.SaveSummaryDay(ctx, d3Day, at.Add(-time.Second), []report.DayCounts{
				{Day: d3Day, Depth: 1, Kind: "incident", Counts: &report.Counts{FollowUps: 99}}})
			if err != nil || saved {
				t.Fatalf("an older count saved: %v %v", saved, err)
			}
			if got := counted()[d3Day]; !got.Equal(at) {
				t.Fatalf("counted_at moved to %s", got)
			}
			if got := api(queries[2]); got != moved {
				t.Fatalf("after an older count:\n got %s\nwant %s", got, moved)
			}
			// The watermark moves forward only.
			w, err := e.app.DB.SummaryWatermark(ctx)
			if err != nil || w.At.IsZero() || w.Zone != loc.String() {
				t.Fatalf("watermark %v %v", w, err)
			}
			if err := e.app.DB.AdvanceSummaryWatermark(ctx, report.Watermark{At: w.At.Add(-time.Hour), Zone: w.Zone}); err != nil {
				t.Fatal(err)
			}
			if got, _ := e.app.DB.SummaryWatermark(ctx); !got.At.Equal(w.At) {
				t.Fatalf("watermark went back from %s to %s", w.At, got.At)
			}
			// Days of another zone are not read: a server whose zone
			// changed counts from the cases until they are counted again.
			// (100 more opened kept on the first day would show, were they
			// read.)
			ref := bodies()
			for _, st := range []string{"UPDATE summary_watermark SET zone = 'UTC'",
				"UPDATE summary_days SET opened = opened + 100 WHERE depth = 1 AND case_kind = 'incident'"} {
				if _, err := e.app.DB.SQL().Exec(st); err != nil {
					t.Fatal(err)
				}
			}
			if got := bodies(); !slices.Equal(got, ref) {
				t.Fatalf("with the days of another zone:\n%s\nwant\n%s", got, ref)
			}
			if err := e.app.Reports.CountDays(ctx, ""); err != nil {
				t.Fatal(err)
			}
			if got, _ := e.app.DB.SummaryWatermark(ctx); got.Zone != loc.String() || len(counted()) == 0 {
				t.Fatalf("after a change of zone: watermark %v, %d days counted", got, len(counted()))
			}
		})
	}
}

// asOfNow is the open cases' time of a period still running: now, to the
// microsecond.
var asOfNow = regexp.MustCompile(`"(as_of|AsOf)":"[^"]*\.[0-9]+Z"`)

func mustJSON(t *testing.T, body string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	return m
}
