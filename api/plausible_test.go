package api_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"pingan/internal/demo"
	"pingan/internal/intake"
	"pingan/internal/region"
)

// Tests of issue #12 part 5, "implausible data accepted": each example of
// the issue, and the other places of its class, answers 400 naming the
// field and the form, and writes nothing.

// expectFields checks a 400 invalid_argument whose details name exactly
// these fields with these messages.
func expectFields(t *testing.T, r resp, want map[string]string) {
	t.Helper()
	expect(t, r, 400, "invalid_argument")
	e := r.json(t)["error"].(map[string]any)
	got := map[string]string{}
	fields, _ := e["details"].(map[string]any)["fields"].(map[string]any)
	for k, v := range fields {
		got[k], _ = v.(string)
	}
	if e["message"] != "the request has invalid fields" || !reflect.DeepEqual(got, want) {
		t.Fatalf("fields %v, want %v (%s)", got, want, r.Body)
	}
}

// writes counts the rows a refused request must not have added.
func writes(t *testing.T, e *env) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"incidents", "disputes", "dispute_parties", "case_events", "audit_log", "users",
		"indicator_values", "index_jobs", "regions", "idempotency_keys"} {
		out[table] = countRows(t, e, table)
	}
	return out
}

// unchanged fails when a table gained or lost rows since before, apart
// from the idempotency records that answers to keyed requests are (a
// refusal is stored as its key's answer).
func unchanged(t *testing.T, e *env, before map[string]int) {
	t.Helper()
	after := writes(t, e)
	delete(after, "idempotency_keys")
	b := map[string]int{}
	for k, v := range before {
		if k != "idempotency_keys" {
			b[k] = v
		}
	}
	if !reflect.DeepEqual(after, b) {
		t.Fatalf("something was written: %v, before %v", after, b)
	}
}

const (
	outsideParis   = "lat 48.85, lng 2.35 lies 8490 km outside the boundary of 东营市"
	outsideBeijing = "lat 39.9, lng 116.4 lies 270 km outside the boundary of 东营市"
	atZero         = "(0, 0) is where a phone without a position fix puts itself: send the place's lat and lng, or leave both out"
)

// TestImplausibleLocations: issue #12's reports at Paris, at (0, 0) and in
// Beijing filed into a 府前社区 grid, as incidents, as disputes and through
// offline sync; and a point in the city but far from its grid.
func TestImplausibleLocations(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		gw := e.login(t, "demo-gridworker")
		where := func(lat, lng float64) func(m map[string]any) {
			return func(m map[string]any) {
				m["location"] = map[string]any{"lat": lat, "lng": lng, "address": "府前社区"}
			}
		}
		// The south of the city: the middle of 广饶县's first grid, 29 km from
		// the edge of 府前社区第1网格.
		far := gridPoint(t, demo.GuangraoGrid1)
		for _, c := range []struct {
			name     string
			lat, lng float64
			want     string
		}{
			{"Paris", 48.85, 2.35, outsideParis},
			{"(0, 0)", 0, 0, atZero},
			{"Beijing", 39.90, 116.40, outsideBeijing},
			{"in the city, far from the grid", far.Lat, far.Lng,
				fmt.Sprintf("lat %g, lng %g lies 29 km from the boundary of grid 府前社区第1网格 (%s); a case lies within 5 km of its grid",
					far.Lat, far.Lng, demo.FuqianGrid1)},
		} {
			t.Run(c.name, func(t *testing.T) {
				before := writes(t, e)
				expectFields(t, e.do(t, req{method: "POST", path: "/api/v1/incidents", token: gw, body: incidentBody(where(c.lat, c.lng))}),
					map[string]string{"location": c.want})
				expectFields(t, e.do(t, req{method: "POST", path: "/api/v1/disputes", token: gw, body: disputeBody(where(c.lat, c.lng))}),
					map[string]string{"location": c.want})
				unchanged(t, e, before)
				// Offline: the operation fails alone, the next one goes through.
				results := syncResults(t, e.do(t, req{method: "POST", path: "/api/v1/sync", token: gw, body: map[string]any{
					"operations": []map[string]any{
						{"idempotency_key": newKey(), "method": "POST", "path": "/api/v1/incidents", "body": incidentBody(where(c.lat, c.lng))},
						{"idempotency_key": newKey(), "method": "POST", "path": "/api/v1/incidents", "body": incidentBody(nil)},
					}}}))
				if len(results) != 2 || results[0].Status != 400 || !strings.Contains(string(results[0].Body), c.want) ||
					results[1].Status != 201 {
					t.Fatalf("sync: %+v", results)
				}
				if n := countRows(t, e, "incidents"); n != before["incidents"]+1 {
					t.Fatalf("sync wrote %d incidents, want 1", n-before["incidents"])
				}
			})
		}
		// Where demo-gridworker really is, and with no point at all.
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/incidents", token: gw, body: incidentBody(where(37.45, 118.58))}), 201, "")
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/disputes", token: gw, body: disputeBody(where(37.45, 118.58))}), 201, "")
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/incidents", token: gw,
			body: incidentBody(func(m map[string]any) { m["location"] = map[string]any{"address": "府前社区"} })}), 201, "")
		// Everything wrong at once is named at once.
		expectFields(t, e.do(t, req{method: "POST", path: "/api/v1/incidents", token: gw, body: incidentBody(func(m map[string]any) {
			where(0, 0)(m)
			m["severity"] = "apocalyptic"
		})}), map[string]string{"location": atZero, "severity": "one of low, medium, high, critical"})
	})
}

// TestCityBoundingBox: PINGAN_CITY_BBOX, when set, is the city's area, and
// PINGAN_GRID_RADIUS_KM how far from its grid a case may lie.
func TestCityBoundingBox(t *testing.T) {
	e := newEnvWith(t, "sqlite", map[string]string{"PINGAN_CITY_BBOX": "118.07,36.92,119.17,38.17", "PINGAN_GRID_RADIUS_KM": "1"})
	gw := e.login(t, "demo-gridworker")
	at := func(lat, lng float64) map[string]any {
		return incidentBody(func(m map[string]any) { m["location"] = map[string]any{"lat": lat, "lng": lng} })
	}
	expectFields(t, e.do(t, req{method: "POST", path: "/api/v1/incidents", token: gw, body: at(39.90, 116.40)}),
		map[string]string{"location": "lat 39.9, lng 116.4 lies outside 东营市 (lng 118.07 to 119.17, lat 36.92 to 38.17)"})
	// 3 km due east of the grid's easternmost corner (the grid is convex:
	// that corner is its nearest point): inside 5 km, outside 1.
	corner := easternmost(t, demo.FuqianGrid1)
	r := e.do(t, req{method: "POST", path: "/api/v1/incidents", token: gw,
		body: at(corner.Lat, corner.Lng+3/region.DistanceKM(corner, region.Point{Lat: corner.Lat, Lng: corner.Lng + 1}))})
	expect(t, r, 400, "invalid_argument")
	if !strings.Contains(string(r.Body), "lies 3.0 km from the boundary of grid 府前社区第1网格") ||
		!strings.Contains(string(r.Body), "a case lies within 1 km of its grid") {
		t.Fatalf("radius: %s", r.Body)
	}
	expect(t, e.do(t, req{method: "POST", path: "/api/v1/incidents", token: gw, body: at(37.45, 118.58)}), 201, "")
}

// inGridOf is an edit that moves a report's point to the middle of the
// grid of the demo grid worker who: a report must lie near its grid, and
// incidentBody's point lies in demo-gridworker's.
func inGridOf(t *testing.T, who string) func(m map[string]any) {
	grid := map[string]string{"demo-gridworker": demo.FuqianGrid1, "demo-gridworker-2": demo.GuangraoGrid1}[who]
	if grid == "" {
		t.Fatalf("%s is no demo grid worker", who)
	}
	p := gridPoint(t, grid)
	return func(m map[string]any) {
		m["location"] = map[string]any{"lat": p.Lat, "lng": p.Lng, "address": "网格内"}
	}
}

// gridPoint is the centroid of a demo grid, a point inside it.
func gridPoint(t *testing.T, code string) struct{ Lat, Lng float64 } {
	t.Helper()
	for _, r := range demo.Regions() {
		if r.Code == code {
			return struct{ Lat, Lng float64 }{r.Centroid.Lat, r.Centroid.Lng}
		}
	}
	t.Fatalf("no demo region %s", code)
	return struct{ Lat, Lng float64 }{}
}

// easternmost is the corner of a demo region's boundary farthest east.
func easternmost(t *testing.T, code string) region.Point {
	t.Helper()
	for _, r := range demo.Regions() {
		if r.Code != code {
			continue
		}
		shape, err := region.ParseBoundary(r.Boundary)
		if err != nil {
			t.Fatal(err)
		}
		var best region.Point
		for _, q := range shape.Polygons()[0][0] {
			if q[0] > best.Lng {
				best = region.Point{Lat: q[1], Lng: q[0]}
			}
		}
		return best
	}
	t.Fatalf("no demo region %s", code)
	return region.Point{}
}

// TestPartyAndUserNumbers: issue #12's ID number with a wrong check digit,
// and phones that are no mainland mobile or landline number, for dispute
// parties and for accounts.
func TestPartyAndUserNumbers(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		gw, admin := e.login(t, "demo-gridworker"), e.login(t, "demo-admin")
		party := func(phone, id string) map[string]any {
			return disputeBody(func(m map[string]any) {
				m["parties"] = []map[string]any{{"role": "applicant", "name": "张三", "phone": phone, "id_number": id}}
			})
		}
		before := writes(t, e)
		expectFields(t, e.do(t, req{method: "POST", path: "/api/v1/disputes", token: gw, body: party("13912345678", "370502198001011235")}),
			map[string]string{"parties[0].id_number": intake.IDNumberForm})
		for _, phone := range []string{"12345", "+1 415 555 0100", "139****4321", "12912345678", "0546-82212"} {
			expectFields(t, e.do(t, req{method: "POST", path: "/api/v1/disputes", token: gw, body: party(phone, "")}),
				map[string]string{"parties[0].phone": intake.PhoneForm})
			expectFields(t, e.do(t, req{method: "POST", path: "/api/v1/users", token: admin, body: map[string]any{
				"username": "new-user", "password": "correct-horse", "name": "新用户", "role": "mediator",
				"region_code": demo.FuqianCommunity, "phone": phone}}),
				map[string]string{"phone": intake.PhoneForm})
		}
		unchanged(t, e, before)

		// The same 17 digits with their real check digit, a landline, a
		// mobile written with +86 and spaces: accepted, kept normalised.
		r := e.do(t, req{method: "POST", path: "/api/v1/disputes", token: gw, body: disputeBody(func(m map[string]any) {
			m["parties"] = []map[string]any{
				{"role": "applicant", "name": "张三", "phone": "0546-822 1234", "id_number": "370502198001011239"},
				{"role": "respondent", "name": "李四", "phone": "+86 139 1234 5678"},
			}
		})})
		expect(t, r, 201, "")
		id := r.json(t)["id"].(string)
		rv := e.do(t, req{method: "GET", path: "/api/v1/disputes/" + id + "?reveal=parties", token: admin})
		expect(t, rv, 200, "")
		ps := rv.json(t)["parties"].([]any)
		p0, p1 := ps[0].(map[string]any), ps[1].(map[string]any)
		if p0["phone"] != "05468221234" || p0["id_number"] != "370502198001011239" || p1["phone"] != "13912345678" {
			t.Fatalf("stored parties %v", ps)
		}
		u := e.do(t, req{method: "POST", path: "/api/v1/users", token: admin, body: map[string]any{
			"username": "new-user", "password": "correct-horse", "name": "新用户", "role": "mediator",
			"region_code": demo.FuqianCommunity, "phone": "+86 139-1234-5678"}})
		expect(t, u, 201, "")
		if got := u.json(t)["phone"]; got != "139****5678" {
			t.Fatalf("user phone %v", got)
		}
		uid := u.json(t)["id"].(string)
		stored, err := e.app.DB.FindUserByID(t.Context(), uid)
		if err != nil || stored.Phone != "13912345678" {
			t.Fatalf("stored user phone %q %v", stored.Phone, err)
		}
		expectFields(t, e.do(t, req{method: "PATCH", path: "/api/v1/users/" + uid, token: admin, body: map[string]any{"phone": "110"}}),
			map[string]string{"phone": intake.PhoneForm})
	})
}

// TestPeriodBoundsOverTheAPI: issue #12's department value for 0000-01,
// and the same bounds on rankings reads and recomputes.
func TestPeriodBoundsOverTheAPI(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		sup, admin := e.login(t, "demo-supervisor"), e.login(t, "demo-admin")
		now := e.clock.now().In(e.app.Config.Location)
		nextMonth := time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, now.Location()).Format("2006-01")
		later := time.Date(now.Year(), now.Month()+2, 1, 0, 0, 0, 0, now.Location()).Format("2006-01")
		before := writes(t, e)
		for _, c := range []struct{ period, want string }{
			{"0000-01", "a month (2026-10) or a day (2026-10-15) from 2000-01 on"},
			{"1999-12", "a month (2026-10) or a day (2026-10-15) from 2000-01 on"},
			{later, "a month (2026-10) or a day (2026-10-15) from 2000-01 to the next month, " + nextMonth},
		} {
			expectFields(t, e.do(t, req{method: "POST", path: "/api/v1/indicator-values", token: sup,
				body: map[string]any{"indicator": "petitions", "region_code": demo.DongyingDistrict, "period": c.period, "value": 3}}),
				map[string]string{"period": c.want})
		}
		unchanged(t, e, before)
		r := e.do(t, req{method: "GET", path: "/api/v1/index/rankings?level=county&period=month&at=" + later, token: sup})
		expectFields(t, r, map[string]string{"at": "a month (2026-10) or a day (2026-10-15) from 2000-01 to the next month, " + nextMonth})
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/index/rankings?level=county&period=month&at=0000-01", token: sup}), 400, "invalid_argument")
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/index/recompute", token: admin,
			body: map[string]any{"period": "month", "at": "0000-01"}}), 400, "invalid_argument")
		expect(t, e.do(t, req{method: "GET", path: "/api/v1/index/series?region=" + demo.DongyingDistrict + "&period=month&from=2026-01&to=" + later,
			token: sup}), 400, "invalid_argument")
		unchanged(t, e, before)
		// The next month is the last one taken.
		expect(t, e.do(t, req{method: "POST", path: "/api/v1/indicator-values", token: sup,
			body: map[string]any{"indicator": "petitions", "region_code": demo.DongyingDistrict, "period": nextMonth, "value": 3}}), 200, "")
	})
}

// TestImportNumbersArePlain: issue #12's CSV value 1_000, read as 1000,
// and the other ways a number slipped in.
func TestImportNumbersArePlain(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		const head = "indicator,region_code,period,value\n"
		e.login(t, "demo-supervisor")
		before := writes(t, e)
		for _, v := range []string{"1_000", "0x10", "Inf", "NaN", `"1,000"`} {
			expectFields(t, ivImport(t, e, "text/csv", []byte(head+"petitions,370502,2026-09,"+v+"\n")),
				map[string]string{"row 2.value": "a plain decimal number from 0 to 1000000000000 (e.g. 12 or 3.5)"})
		}
		expectFields(t, ivImport(t, e, "text/csv", []byte(head+"petitions,370502,2026-09,1,000\n")),
			map[string]string{"file": "row 2 has 5 cells, the header names 4 columns (write 1000, not 1,000)"})
		expectFields(t, ivImport(t, e, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
			xlsxOf(t, [][]any{{"indicator", "region_code", "period", "value"}, {"petitions", "370502", "2026-09", "1_000"}})),
			map[string]string{"row 2.value": "a plain decimal number from 0 to 1000000000000 (e.g. 12 or 3.5)"})
		unchanged(t, e, before)
		expect(t, ivImport(t, e, "text/csv", []byte(head+"petitions,370502,2026-09,1000\n")), 200, "")
	})
}

// TestRegionImportInOwnWords: issue #12's ring whose first and last points
// differ, and the decoder's text that a string population got.
func TestRegionImportInOwnWords(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		admin := e.login(t, "demo-admin")
		comm := demo.DongchengStreet + "901"
		before := writes(t, e)
		open := `{"type":"Polygon","coordinates":[[[118.50,37.40],[118.52,37.40],[118.52,37.42],[118.50,37.42]]]}`
		expectFields(t, e.do(t, req{method: "POST", path: "/api/v1/regions/import", token: admin,
			body: collection(feature(comm, "新区社区", "community", demo.DongchengStreet, 4200, open))}),
			map[string]string{"features[0]": "geometry.coordinates[0] is not closed: its last position must repeat its first"})
		expectFields(t, e.do(t, req{method: "POST", path: "/api/v1/regions/import", token: admin,
			body: collection(feature(comm, "新区社区", "community", demo.DongchengStreet, `"4200"`, square))}),
			map[string]string{"features[0]": "properties.population must be a whole number from 0 to 1000000000"})
		expectFields(t, e.do(t, req{method: "POST", path: "/api/v1/regions/import", token: admin,
			body: collection(feature(comm, "新区社区", "community", demo.DongchengStreet, 4200,
				`{"type":"Polygon","coordinates":[[["118.5",37.4],[118.6,37.4],[118.6,37.5],["118.5",37.4]]]}`))}),
			map[string]string{"features[0]": "geometry.coordinates of a Polygon must be an array of rings, each an array of [lng, lat] positions"})
		expectFields(t, e.do(t, req{method: "POST", path: "/api/v1/regions/import", token: admin, body: `{"type":"FeatureCollection","features":"none"}`}),
			map[string]string{"features": "must be an array of Feature objects"})
		unchanged(t, e, before)
	})
}
