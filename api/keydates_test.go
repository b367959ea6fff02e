package api_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
)

// The key-date calendar (SPEC §10.2, §10.3): admins keep it, whoever reads
// warnings reads it.

// clearKeyDates empties the calendar, so that a test's list holds exactly
// the events it wrote, whatever the demo data carries.
func clearKeyDates(t *testing.T, e *env) {
	t.Helper()
	for _, table := range []string{"key_date_days", "key_dates"} {
		if _, err := e.app.DB.SQL().Exec("DELETE FROM " + table); err != nil {
			t.Fatal(err)
		}
	}
}

// localDay is the local day d days from today.
func localDay(e *env, d int) string {
	return e.clock.now().In(e.app.Ranking.Location()).AddDate(0, 0, d).Format(time.DateOnly)
}

func dateRange(start, end string) map[string]any { return map[string]any{"start": start, "end": end} }

// storedDays lists an event's stored dates, by start.
func storedDays(t *testing.T, e *env, id string) []any {
	t.Helper()
	rows, err := e.app.DB.SQL().Query("SELECT start_day, end_day FROM key_date_days WHERE key_date_id = ? ORDER BY start_day", id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := []any{}
	for rows.Next() {
		var s, en string
		if err := rows.Scan(&s, &en); err != nil {
			t.Fatal(err)
		}
		out = append(out, map[string]any{"start": s, "end": en})
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestKeyDateCalendar(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		clearKeyDates(t, e)
		admin, adminID := e.login(t, "demo-admin"), userID(t, e, "demo-admin")
		past, today, ahead := dateRange(localDay(e, -365), localDay(e, -359)), dateRange(localDay(e, 0), localDay(e, 6)),
			dateRange(localDay(e, 40), localDay(e, 46))

		// Created with its dates out of order: they come back by start, the
		// ones from today on also as upcoming.
		r := e.do(t, req{method: "POST", path: "/api/v1/key-dates", token: admin,
			body: map[string]any{"name": " 春节 ", "dates": []any{ahead, past, today}}})
		expect(t, r, 201, "")
		ev := r.json(t)
		id := ev["id"].(string)
		if ev["name"] != "春节" || ev["version"] != 1.0 || !reflect.DeepEqual(ev["dates"], []any{past, today, ahead}) ||
			!reflect.DeepEqual(ev["upcoming"], []any{today, ahead}) || r.Header.Get("Location") != "/api/v1/key-dates/"+id ||
			r.Header.Get("ETag") != `"1"` {
			t.Fatalf("created: %v %s", r.Header, r.Body)
		}
		if got := storedDays(t, e, id); !reflect.DeepEqual(got, []any{past, today, ahead}) {
			t.Fatalf("stored dates %v", got)
		}
		if n := audits(t, e, "key_date.create", id, adminID); n != 1 {
			t.Fatalf("key_date.create audited %d times by the admin, want 1", n)
		}
		r = e.do(t, req{method: "POST", path: "/api/v1/key-dates", token: admin,
			body: map[string]any{"name": "国庆节", "dates": []any{dateRange("2026-10-01", "2026-10-07")}}})
		expect(t, r, 201, "")
		national := r.json(t)["id"].(string)

		// Everyone who reads warnings reads the calendar, by name.
		for _, who := range []string{"demo-admin", "demo-supervisor", "demo-county-supervisor", "demo-mediator"} {
			r = e.do(t, req{method: "GET", path: "/api/v1/key-dates", token: e.login(t, who)})
			expect(t, r, 200, "")
			items := r.json(t)["items"].([]any)
			if len(items) != 2 || items[0].(map[string]any)["id"] != national || items[1].(map[string]any)["id"] != id ||
				!reflect.DeepEqual(items[0].(map[string]any)["upcoming"], []any{}) {
				t.Fatalf("%s lists %s", who, r.Body)
			}
		}
		sup := e.login(t, "demo-supervisor")
		g := e.do(t, req{method: "GET", path: "/api/v1/key-dates/" + id, token: sup})
		expect(t, g, 200, "")
		if g.Header.Get("ETag") != `"1"` || !reflect.DeepEqual(g.json(t)["dates"], []any{past, today, ahead}) {
			t.Fatalf("get: %v %s", g.Header, g.Body)
		}
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/key-dates/" + id, token: sup, header: map[string]string{"If-None-Match": `"1"`}}), 304, "")
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/key-dates/" + uuid.NewString(), token: sup}), 404, "not_found")

		// Renamed, then its dates replaced: each a new version, audited.
		r = e.do(t, req{method: "PATCH", path: "/api/v1/key-dates/" + id, token: admin, body: map[string]any{"name": "春节假期"}})
		expect(t, r, 200, "")
		if b := r.json(t); b["name"] != "春节假期" || b["version"] != 2.0 || !reflect.DeepEqual(b["dates"], []any{past, today, ahead}) ||
			r.Header.Get("ETag") != `"2"` {
			t.Fatalf("renamed: %s", r.Body)
		}
		r = e.do(t, req{method: "PATCH", path: "/api/v1/key-dates/" + id, token: admin, body: map[string]any{"dates": []any{past}}})
		expect(t, r, 200, "")
		if b := r.json(t); b["name"] != "春节假期" || b["version"] != 3.0 || !reflect.DeepEqual(b["dates"], []any{past}) ||
			!reflect.DeepEqual(b["upcoming"], []any{}) {
			t.Fatalf("dates replaced: %s", r.Body)
		}
		if got := storedDays(t, e, id); !reflect.DeepEqual(got, []any{past}) {
			t.Fatalf("stored dates after the patch %v", got)
		}
		// A patch that changes nothing (empty, or the same values) is no new
		// version and no audit entry.
		for _, body := range []map[string]any{{}, {"name": "春节假期", "dates": []any{past}}} {
			r = e.do(t, req{method: "PATCH", path: "/api/v1/key-dates/" + id, token: admin, body: body})
			expect(t, r, 200, "")
			if b := r.json(t); b["version"] != 3.0 || r.Header.Get("ETag") != `"3"` {
				t.Fatalf("no-op patch %v: %s", body, r.Body)
			}
		}
		if n := audits(t, e, "key_date.update", id, adminID); n != 2 {
			t.Fatalf("key_date.update audited %d times, want 2", n)
		}
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/key-dates/" + id, token: sup, header: map[string]string{"If-None-Match": `"1"`}}), 200, "")

		// A name is one event's: taken is 409, and nothing changes.
		for _, r := range []resp{
			e.do(t, req{method: "POST", path: "/api/v1/key-dates", token: admin, body: map[string]any{"name": "国庆节", "dates": []any{past}}}),
			e.do(t, req{method: "PATCH", path: "/api/v1/key-dates/" + id, token: admin, body: map[string]any{"name": "国庆节"}}),
		} {
			expect(t, r, 409, "conflict")
			if msg := r.json(t)["error"].(map[string]any)["message"]; msg != `name: "国庆节" is another event's already` {
				t.Fatalf("conflict message %q", msg)
			}
		}
		// With If-Match, an edit made meanwhile is not overwritten (412).
		r = e.do(t, req{method: "PATCH", path: "/api/v1/key-dates/" + id, token: admin, body: map[string]any{"name": "春节"},
			header: map[string]string{"If-Match": `"2"`}})
		expect(t, r, 412, "precondition_failed")
		if got := storedName(t, e, id); got != "春节假期" {
			t.Fatalf("name %q after a stale If-Match", got)
		}
		if n := countRows(t, e, "key_dates"); n != 2 {
			t.Fatalf("%d events, want 2", n)
		}
		expect(t, e.do(t, req{method: "PATCH", path: "/api/v1/key-dates/" + uuid.NewString(), token: admin, body: map[string]any{"name": "x"}}), 404, "not_found")
	})
}

func TestKeyDateWritesAreAdmins(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		clearKeyDates(t, e)
		admin := e.login(t, "demo-admin")
		r := e.do(t, req{method: "POST", path: "/api/v1/key-dates", token: admin,
			body: map[string]any{"name": "春节", "dates": []any{dateRange("2027-02-06", "2027-02-12")}}})
		expect(t, r, 201, "")
		id := r.json(t)["id"].(string)
		body := map[string]any{"name": "元宵节", "dates": []any{dateRange("2027-02-20", "2027-02-20")}}
		for _, who := range []string{"demo-supervisor", "demo-county-mediator", "demo-gridworker"} {
			tok := e.login(t, who)
			expect(t, e.do(t, req{method: "POST", path: "/api/v1/key-dates", token: tok, body: body}), 403, "permission_denied")
			expect(t, e.do(t, req{method: "PATCH", path: "/api/v1/key-dates/" + id, token: tok, body: body}), 403, "permission_denied")
		}
		// Grid workers do not read it either.
		gw := e.login(t, "demo-gridworker")
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/key-dates", token: gw}), 403, "permission_denied")
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/key-dates/" + id, token: gw}), 403, "permission_denied")
		var name string
		var version int
		if err := e.app.DB.SQL().QueryRow("SELECT name, version FROM key_dates WHERE id = ?", id).Scan(&name, &version); err != nil ||
			name != "春节" || version != 1 || countRows(t, e, "key_dates") != 1 {
			t.Fatalf("refused writes changed the calendar: %s v%d %v", name, version, err)
		}
		// A create needs its Idempotency-Key, and a repeat with it is the
		// same answer and one event.
		expectField(t, e.do(t, req{method: "POST", path: "/api/v1/key-dates", token: admin, body: body,
			header: map[string]string{"Idempotency-Key": ""}}), "Idempotency-Key", "header required, 1–255 characters")
		key := map[string]string{"Idempotency-Key": "kd-" + id}
		first := e.do(t, req{method: "POST", path: "/api/v1/key-dates", token: admin, body: body, header: key})
		expect(t, first, 201, "")
		again := e.do(t, req{method: "POST", path: "/api/v1/key-dates", token: admin, body: body, header: key})
		if again.Code != 201 || string(again.Body) != string(first.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("replay: %d %s", again.Code, again.Body)
		}
		if n := countRows(t, e, "key_dates"); n != 2 {
			t.Fatalf("%d events, want 2", n)
		}
	})
}

func TestKeyDateRefusesBadDates(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		clearKeyDates(t, e)
		admin := e.login(t, "demo-admin")
		many := []any{}
		for i := range 51 {
			d := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 2*i).Format(time.DateOnly)
			many = append(many, dateRange(d, d))
		}
		for name, c := range map[string]struct {
			body   map[string]any
			fields map[string]any
		}{
			"end before start": {map[string]any{"name": "春节", "dates": []any{dateRange("2027-02-12", "2027-02-06")}},
				map[string]any{"dates[0].end": "a day on or after start"}},
			"no such day": {map[string]any{"name": "春节", "dates": []any{dateRange("2026-02-16", "2026-02-22"), dateRange("2027-02-30", "2027-03-02")}},
				map[string]any{"dates[1].start": "a local day from 2000 to 2100, e.g. 2027-02-06"}},
			"neither a day": {map[string]any{"name": "春节", "dates": []any{dateRange("02/06/2027", "2027-02-30")}},
				map[string]any{"dates[0].start": "a local day from 2000 to 2100, e.g. 2027-02-06",
					"dates[0].end": "a local day from 2000 to 2100, e.g. 2027-02-12"}},
			"not a day": {map[string]any{"name": "春节", "dates": []any{dateRange("2027-02-06", "2027-02-12T00:00:00+08:00")}},
				map[string]any{"dates[0].end": "a local day from 2000 to 2100, e.g. 2027-02-12"}},
			"too long": {map[string]any{"name": "春节", "dates": []any{dateRange("2027-02-01", "2027-03-10")}},
				map[string]any{"dates[0].end": "at most 30 days after start"}},
			"same start twice": {map[string]any{"name": "春节", "dates": []any{dateRange("2027-02-06", "2027-02-07"), dateRange("2027-02-06", "2027-02-12")}},
				map[string]any{"dates[1].start": "a day no other date of the event starts on"}},
			"out of range": {map[string]any{"name": "春节", "dates": []any{dateRange("1999-02-16", "2000-02-18")}},
				map[string]any{"dates[0].start": "a local day from 2000 to 2100, e.g. 2027-02-06"}},
			"a number": {map[string]any{"name": "春节", "dates": []any{map[string]any{"start": 20270206, "end": "2027-02-12"}}},
				map[string]any{"dates[0].start": "a local day, e.g. 2027-02-06"}},
			"no name, no dates": {map[string]any{}, map[string]any{"name": "1 to 100 characters, e.g. 春节", "dates": "1 to 50 dates, each {start, end}"}},
			"blank name":        {map[string]any{"name": "  ", "dates": []any{dateRange("2027-02-06", "2027-02-12")}}, map[string]any{"name": "1 to 100 characters, e.g. 春节"}},
			"no dates":          {map[string]any{"name": "春节", "dates": []any{}}, map[string]any{"dates": "1 to 50 dates, each {start, end}"}},
			"too many dates":    {map[string]any{"name": "春节", "dates": many}, map[string]any{"dates": "at most 50 items"}},
			"unknown field":     {map[string]any{"name": "春节", "dates": []any{}, "version": 3}, map[string]any{"version": "unknown field"}},
			"unknown date field": {map[string]any{"name": "春节", "dates": []any{map[string]any{"start": "2027-02-06", "end": "2027-02-12", "year": 2027}}},
				map[string]any{"dates[0].year": "unknown field"}},
		} {
			r := e.do(t, req{method: "POST", path: "/api/v1/key-dates", token: admin, body: c.body})
			expect(t, r, 400, "invalid_argument")
			if got := fieldsOf(t, r); !reflect.DeepEqual(got, c.fields) {
				t.Errorf("%s: fields %v, want %v", name, got, c.fields)
			}
		}
		if n := countRows(t, e, "key_dates"); n != 0 {
			t.Fatalf("%d events written by refused requests", n)
		}

		// A patch is held to the same rules.
		r := e.do(t, req{method: "POST", path: "/api/v1/key-dates", token: admin,
			body: map[string]any{"name": "春节", "dates": []any{dateRange("2027-02-06", "2027-02-12")}}})
		expect(t, r, 201, "")
		id := r.json(t)["id"].(string)
		expectField(t, e.do(t, req{method: "PATCH", path: "/api/v1/key-dates/" + id, token: admin,
			body: map[string]any{"dates": []any{dateRange("2027-02-06", "2027-02-05")}}}), "dates[0].end", "a day on or after start")
		expectField(t, e.do(t, req{method: "PATCH", path: "/api/v1/key-dates/" + id, token: admin,
			body: map[string]any{"name": ""}}), "name", "1 to 100 characters, e.g. 春节")
		if got := storedDays(t, e, id); !reflect.DeepEqual(got, []any{dateRange("2027-02-06", "2027-02-12")}) {
			t.Fatalf("a refused patch changed the dates: %v", got)
		}
	})
}

// storedName is an event's name as stored.
func storedName(t *testing.T, e *env, id string) string {
	t.Helper()
	var name string
	if err := e.app.DB.SQL().QueryRow("SELECT name FROM key_dates WHERE id = ?", id).Scan(&name); err != nil {
		t.Fatal(err)
	}
	return name
}
