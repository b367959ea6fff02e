package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/mmcloughlin/geohash"

	"pingan/internal/demo"
	"pingan/internal/dispute"
	"pingan/internal/incident"
	"pingan/internal/region"
)

// heatData is the data set of the heat-map tests, in June 2010 (no other
// case is that old): geohash cells around two parents P and Q in 东营区's
// 府前社区 and one cell R in 广饶县, built so that every part of the
// small-cell rule shows at precision 8 (minimum 3):
//
//	P+"0": 3 incidents                  → a cell of 3
//	P+"1", P+"3": 1 incident each; P+"2": 1 dispute → merged: parent P, 3
//	Q+"0": 4 disputes                   → a cell of 4
//	Q+"5": 2 incidents                  → parent Q holds only 2: suppressed
//	no location: 1 incident             → unlocated
//	R+"0": 3 traffic incidents in 广饶县 → a cell of 3
//
// and 3 incidents at P+"0" just outside the period. All incidents are
// public_order but R's; all disputes neighbourhood.
type heatData struct {
	P, Q, R string
}

func seedHeatmap(t *testing.T, e *env) heatData {
	t.Helper()
	ctx := context.Background()
	loc := e.app.Config.Location
	in := time.Date(2010, 6, 15, 10, 0, 0, 0, loc)
	p := geohash.EncodeWithPrecision(37.4500, 118.5000, 7)
	d := heatData{P: p, Q: geohash.Neighbor(p, geohash.East), R: geohash.EncodeWithPrecision(37.0500, 118.4000, 7)}
	reporter := userID(t, e, "demo-gridworker")
	var incs []incident.Incident
	var ds []dispute.Dispute
	n := 0
	inc := func(cell string, at time.Time, category, grid, community, township, county string) {
		n++
		id, _ := uuid.NewV7()
		i := incident.Incident{ID: id.String(), CaseNo: fmt.Sprintf("SJ-HEAT-%04d", n), Category: category,
			Severity: incident.Low, Status: incident.Reported, Description: "热力图测试",
			RegionCode: grid, CommunityCode: community, TownshipCode: township, CountyCode: county,
			OccurredAt: at, ReportedAt: at, ReporterID: reporter, Version: 1, CreatedAt: at, UpdatedAt: at}
		if cell != "" {
			lat, lng := geohash.DecodeCenter(cell)
			i.Location = incident.Location{Lat: &lat, Lng: &lng, Address: "府前社区"}
		}
		incs = append(incs, i)
	}
	fuqian := func(cell string, at time.Time) {
		inc(cell, at, "public_order", demo.FuqianGrid1, demo.FuqianCommunity, demo.DongchengStreet, demo.DongyingDistrict)
	}
	dis := func(cell string) {
		n++
		id, _ := uuid.NewV7()
		lat, lng := geohash.DecodeCenter(cell)
		ds = append(ds, dispute.Dispute{ID: id.String(), CaseNo: fmt.Sprintf("JF-HEAT-%04d", n), Category: "neighbourhood",
			Description: "热力图测试", Location: dispute.Location{Lat: &lat, Lng: &lng, Address: "府前社区"},
			RegionCode: demo.FuqianGrid1, CommunityCode: demo.FuqianCommunity, TownshipCode: demo.DongchengStreet,
			CountyCode: demo.DongyingDistrict, CityCode: demo.CityCode, OccurredAt: in, ReportedAt: in, ReporterID: reporter,
			Risk: dispute.RiskLow, Status: dispute.Registered, Level: region.Community, LevelCode: demo.FuqianCommunity,
			EnteredLevelAt: in, Version: 1, CreatedAt: in, UpdatedAt: in})
	}
	for range 3 {
		fuqian(d.P+"0", in)
		inc(d.R+"0", in, "traffic", demo.GuangraoGrid1, demo.ZihedianCommunity, demo.GuangraoTownship, demo.GuangraoCounty)
	}
	fuqian(d.P+"1", in)
	fuqian(d.P+"3", in)
	dis(d.P + "2")
	for range 4 {
		dis(d.Q + "0")
	}
	fuqian(d.Q+"5", in)
	fuqian(d.Q+"5", in)
	fuqian("", in)
	// Outside June: the first instant of July, the last of May.
	fuqian(d.P+"0", time.Date(2010, 7, 1, 0, 0, 0, 0, loc))
	fuqian(d.P+"0", time.Date(2010, 7, 1, 0, 0, 0, 0, loc))
	fuqian(d.P+"0", time.Date(2010, 5, 31, 23, 59, 59, 0, loc))
	if err := e.app.DB.BulkInsertIncidents(ctx, incs, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.app.DB.BulkInsertDisputes(ctx, ds, nil, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	return d
}

// heatCell is a cell as a test reads it.
type heatCell struct {
	Geohash string
	Count   int
}

type heatAnswer struct {
	Type     string `json:"type"`
	Features []struct {
		Type     string `json:"type"`
		Geometry struct {
			Type        string         `json:"type"`
			Coordinates [][][2]float64 `json:"coordinates"`
		} `json:"geometry"`
		Properties struct {
			Geohash string `json:"geohash"`
			Count   int    `json:"count"`
		} `json:"properties"`
	} `json:"features"`
	Region     string  `json:"region"`
	From       string  `json:"from"`
	To         string  `json:"to"`
	Kind       *string `json:"kind"`
	Category   *string `json:"category"`
	Precision  int     `json:"precision"`
	Total      int     `json:"total"`
	Suppressed int     `json:"suppressed"`
	Unlocated  int     `json:"unlocated"`
}

// heatmap asks for the map and checks what every map must be: valid closed
// counter-clockwise polygons of each cell's box, [lng, lat], whose counts
// with suppressed and unlocated add up to total.
func (e *env) heatmap(t *testing.T, user, query string) heatAnswer {
	t.Helper()
	r := e.do(t, req{method: "GET", path: "/api/v1/reports/heatmap?" + query, token: e.login(t, user)})
	expect(t, r, http.StatusOK, "")
	if ct := r.Header.Get("Content-Type"); ct != "application/geo+json; charset=utf-8" {
		t.Fatalf("Content-Type %q", ct)
	}
	var a heatAnswer
	if err := json.Unmarshal(r.Body, &a); err != nil {
		t.Fatal(err)
	}
	if a.Type != "FeatureCollection" {
		t.Fatalf("type %q", a.Type)
	}
	sum := a.Suppressed + a.Unlocated
	for _, f := range a.Features {
		g := f.Properties.Geohash
		if f.Type != "Feature" || f.Geometry.Type != "Polygon" || len(f.Geometry.Coordinates) != 1 {
			t.Fatalf("%s: not a one-ring Polygon feature: %+v", g, f)
		}
		ring := f.Geometry.Coordinates[0]
		b := geohash.BoundingBox(g)
		want := [][2]float64{{b.MinLng, b.MinLat}, {b.MaxLng, b.MinLat}, {b.MaxLng, b.MaxLat}, {b.MinLng, b.MaxLat},
			{b.MinLng, b.MinLat}}
		if !reflect.DeepEqual(ring, want) {
			t.Fatalf("%s: ring %v, want the cell's box %v", g, ring, want)
		}
		area := 0.0 // the shoelace formula: positive for a counter-clockwise ring
		for i := 0; i+1 < len(ring); i++ {
			area += ring[i][0]*ring[i+1][1] - ring[i+1][0]*ring[i][1]
		}
		if len(ring) != 5 || ring[0] != ring[4] || area <= 0 {
			t.Fatalf("%s: not a closed counter-clockwise ring: %v", g, ring)
		}
		if f.Properties.Count < 3 {
			t.Fatalf("%s: a cell of %d cases", g, f.Properties.Count)
		}
		sum += f.Properties.Count
	}
	if sum != a.Total {
		t.Fatalf("cells + suppressed + unlocated = %d, total %d", sum, a.Total)
	}
	return a
}

func (a heatAnswer) cells() []heatCell {
	out := make([]heatCell, len(a.Features))
	for i, f := range a.Features {
		out[i] = heatCell{f.Properties.Geohash, f.Properties.Count}
	}
	return out
}

func TestHeatmapCells(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		d := seedHeatmap(t, e)
		const june = "from=2010-06-01&to=2010-06-30"
		byHash := func(cs ...heatCell) []heatCell {
			slices.SortFunc(cs, func(a, b heatCell) int { return strings.Compare(a.Geohash, b.Geohash) })
			return cs
		}

		// The city at precision 8: the merged parent first, then the cells.
		a := e.heatmap(t, "demo-supervisor", june+"&precision=8")
		want := append([]heatCell{{d.P, 3}}, byHash(heatCell{d.P + "0", 3}, heatCell{d.Q + "0", 4}, heatCell{d.R + "0", 3})...)
		if got := a.cells(); !reflect.DeepEqual(got, want) {
			t.Fatalf("cells %v, want %v", got, want)
		}
		if a.Total != 16 || a.Suppressed != 2 || a.Unlocated != 1 || a.Region != demo.CityCode || a.From != "2010-06-01" ||
			a.To != "2010-06-30" || a.Kind != nil || a.Category != nil || a.Precision != 8 {
			t.Fatalf("members: %+v", a)
		}
		// The total is every case reported in the period, as the tables hold them.
		loc := e.app.Config.Location
		var cases int
		err := e.app.DB.SQL().QueryRow(`SELECT (SELECT COUNT(*) FROM incidents WHERE created_at >= ? AND created_at < ?) +
			(SELECT COUNT(*) FROM disputes WHERE created_at >= ? AND created_at < ?)`,
			time.Date(2010, 6, 1, 0, 0, 0, 0, loc).UTC(), time.Date(2010, 7, 1, 0, 0, 0, 0, loc).UTC(),
			time.Date(2010, 6, 1, 0, 0, 0, 0, loc).UTC(), time.Date(2010, 7, 1, 0, 0, 0, 0, loc).UTC()).Scan(&cases)
		if err != nil || cases != a.Total {
			t.Fatalf("%d cases in June, total %d (%v)", cases, a.Total, err)
		}

		// Precision 7: every parent holds enough.
		a = e.heatmap(t, "demo-supervisor", june+"&precision=7")
		if got, want := a.cells(), byHash(heatCell{d.P, 6}, heatCell{d.Q, 6}, heatCell{d.R, 3}); !reflect.DeepEqual(got, want) ||
			a.Total != 16 || a.Suppressed != 0 || a.Unlocated != 1 {
			t.Fatalf("precision 7: %v, want %v: %+v", got, want, a)
		}

		// Disputes: the lone one at P+"2" is neither a cell nor, alone in P, a parent.
		a = e.heatmap(t, "demo-supervisor", june+"&precision=8&kind=dispute")
		if got := a.cells(); !reflect.DeepEqual(got, []heatCell{{d.Q + "0", 4}}) || a.Total != 5 || a.Suppressed != 1 ||
			a.Unlocated != 0 || *a.Kind != "dispute" {
			t.Fatalf("disputes: %v %+v", got, a)
		}
		// Public-order incidents: P's and Q's small cells hold 2 each.
		a = e.heatmap(t, "demo-supervisor", june+"&precision=8&kind=incident&category=public_order")
		if got := a.cells(); !reflect.DeepEqual(got, []heatCell{{d.P + "0", 3}}) || a.Total != 8 || a.Suppressed != 4 ||
			a.Unlocated != 1 || *a.Category != "public_order" {
			t.Fatalf("public order: %v %+v", got, a)
		}
		// A category without a kind reads the kinds that have it.
		a = e.heatmap(t, "demo-supervisor", june+"&precision=8&category=traffic")
		if got := a.cells(); !reflect.DeepEqual(got, []heatCell{{d.R + "0", 3}}) || a.Total != 3 {
			t.Fatalf("traffic: %v %+v", got, a)
		}
		// The default precision is 6; a lone case is never a cell of its own.
		a = e.heatmap(t, "demo-supervisor", june)
		if a.Precision != 6 || a.Total != 16 {
			t.Fatalf("default: %+v", a)
		}
		// (e.heatmap checks that no cell holds fewer than 3 at any precision.)
		for _, prec := range []string{"5", "6", "7", "8"} {
			for _, f := range e.heatmap(t, "demo-admin", june+"&precision="+prec).Features {
				if g := f.Properties.Geohash; g == d.P+"1" || g == d.P+"2" || g == d.P+"3" || g == d.Q+"5" {
					t.Fatalf("precision %s: a small cell shows: %+v", prec, f.Properties)
				}
			}
		}
		// Outside the data set's month there is nothing.
		a = e.heatmap(t, "demo-supervisor", "from=2010-08-01&to=2010-08-31")
		if len(a.Features) != 0 || a.Total != 0 {
			t.Fatalf("August: %+v", a)
		}
	})
}

func TestHeatmapScope(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		d := seedHeatmap(t, e)
		const june = "from=2010-06-01&to=2010-06-30&precision=8"
		// 东营区's supervisor sees 东营区 only: 广饶县's cell is not there.
		a := e.heatmap(t, "demo-county-supervisor", june)
		if got, want := a.cells(), []heatCell{{d.P, 3}, {d.P + "0", 3}, {d.Q + "0", 4}}; !reflect.DeepEqual(got, want) ||
			a.Total != 13 || a.Suppressed != 2 || a.Unlocated != 1 || a.Region != demo.DongyingDistrict {
			t.Fatalf("county: %v, want %v: %+v", got, want, a)
		}
		a = e.heatmap(t, "demo-county-supervisor", june+"&region="+demo.DongchengStreet)
		if a.Total != 13 || a.Region != demo.DongchengStreet {
			t.Fatalf("township: %+v", a)
		}
		a = e.heatmap(t, "demo-supervisor", june+"&region="+demo.GuangraoCounty)
		if got := a.cells(); !reflect.DeepEqual(got, []heatCell{{d.R + "0", 3}}) || a.Total != 3 {
			t.Fatalf("广饶县 for the city's supervisor: %v %+v", got, a)
		}
		a = e.heatmap(t, "demo-mediator", june)
		if a.Total != 13 || a.Region != demo.FuqianCommunity {
			t.Fatalf("mediator: %+v", a)
		}
		for _, c := range []struct{ user, query string }{
			{"demo-county-supervisor", june + "&region=" + demo.GuangraoCounty},
			{"demo-county-supervisor", june + "&region=" + demo.CityCode},
			{"demo-county-supervisor", "by=region&region=" + demo.GuangraoCounty},
			{"demo-gridworker", june},
			{"demo-gridworker", "by=region"},
		} {
			r := e.do(t, req{method: "GET", path: "/api/v1/reports/heatmap?" + c.query, token: e.login(t, c.user)})
			expect(t, r, http.StatusForbidden, "permission_denied")
		}
	})
}

type regionHeatAnswer struct {
	Type     string `json:"type"`
	Features []struct {
		Type       string          `json:"type"`
		Geometry   json.RawMessage `json:"geometry"`
		Properties struct {
			Code       string   `json:"code"`
			Name       string   `json:"name"`
			Count      int      `json:"count"`
			Population int64    `json:"population"`
			RatePer10k *float64 `json:"rate_per_10k"`
		} `json:"properties"`
	} `json:"features"`
	Region   string `json:"region"`
	By       string `json:"by"`
	Total    int    `json:"total"`
	Unlisted int    `json:"unlisted"`
}

func TestHeatmapByRegion(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		seedHeatmap(t, e)
		db := e.app.DB.SQL()
		// 淄河店社区 has no boundary and no population on record.
		if _, err := db.Exec("UPDATE regions SET boundary = NULL, population = 0 WHERE code = ?", demo.ZihedianCommunity); err != nil {
			t.Fatal(err)
		}
		var fuqianPop int64
		var fuqianBoundary string
		if err := db.QueryRow("SELECT population, boundary FROM regions WHERE code = ?", demo.FuqianCommunity).
			Scan(&fuqianPop, &fuqianBoundary); err != nil {
			t.Fatal(err)
		}
		var communities int
		if err := db.QueryRow("SELECT COUNT(*) FROM regions WHERE level = 'community'").Scan(&communities); err != nil {
			t.Fatal(err)
		}
		get := func(user, query string) regionHeatAnswer {
			t.Helper()
			r := e.do(t, req{method: "GET", path: "/api/v1/reports/heatmap?by=region&from=2010-06-01&to=2010-06-30" + query,
				token: e.login(t, user)})
			expect(t, r, http.StatusOK, "")
			var a regionHeatAnswer
			if err := json.Unmarshal(r.Body, &a); err != nil {
				t.Fatal(err)
			}
			return a
		}
		a := get("demo-supervisor", "")
		if a.Type != "FeatureCollection" || a.By != "region" || a.Total != 16 || a.Unlisted != 0 || len(a.Features) != communities {
			t.Fatalf("city: %d features of %d communities, %+v", len(a.Features), communities, a)
		}
		seen := 0
		for i, f := range a.Features {
			p := f.Properties
			if i > 0 && a.Features[i-1].Properties.Code >= p.Code {
				t.Fatalf("not by code: %s after %s", p.Code, a.Features[i-1].Properties.Code)
			}
			switch p.Code {
			case demo.FuqianCommunity:
				seen++
				want := 13.0 / float64(fuqianPop) * 10_000
				if p.Count != 13 || p.Population != fuqianPop || p.RatePer10k == nil || math.Abs(*p.RatePer10k-want) > 1e-9 ||
					p.Name != "府前社区" || string(f.Geometry) != fuqianBoundary {
					t.Fatalf("府前社区: %+v (rate want %v), geometry %.80s", p, want, f.Geometry)
				}
			case demo.ZihedianCommunity:
				seen++
				if p.Count != 3 || p.Population != 0 || p.RatePer10k != nil || string(f.Geometry) != "null" {
					t.Fatalf("淄河店社区: %+v, geometry %s", p, f.Geometry)
				}
			default:
				if p.Count != 0 || p.RatePer10k == nil || *p.RatePer10k != 0 || string(f.Geometry) == "null" {
					t.Fatalf("%s: %+v, geometry %.40s", p.Code, p, f.Geometry)
				}
			}
		}
		if seen != 2 {
			t.Fatalf("saw %d of the two communities with cases", seen)
		}
		a = get("demo-county-supervisor", "&kind=incident")
		for _, f := range a.Features {
			if !strings.HasPrefix(f.Properties.Code, demo.DongyingDistrict) {
				t.Fatalf("%s outside 东营区", f.Properties.Code)
			}
		}
		if a.Total != 8 || a.Region != demo.DongyingDistrict {
			t.Fatalf("county incidents: %+v", a)
		}
	})
}

func TestHeatmapBadQueries(t *testing.T) {
	e := newEnv(t, "sqlite")
	tok := e.login(t, "demo-supervisor")
	for _, c := range []struct{ query, field string }{
		{"precision=4", "precision"},
		{"precision=9", "precision"},
		{"precision=06", "precision"},
		{"precision=x", "precision"},
		{"by=region&precision=6", "precision"},
		{"kind=case", "kind"},
		{"category=nope", "category"},
		{"kind=incident&category=labour", "category"},
		{"kind=dispute&category=traffic", "category"},
		{"from=2010-13-01", "from"},
		{"from=2010-06-02&to=2010-06-01", "to"},
		{"to=yesterday", "to"},
		{"from=2010-01-01&to=2011-06-01", "to"},
		{"by=cell", "by"},
		{"region=999999", "region"},
		{"by=region&region=" + demo.FuqianGrid1, "region"},
		{"zoom=3", "zoom"},
		{"precision=6&precision=7", "precision"},
	} {
		r := e.do(t, req{method: "GET", path: "/api/v1/reports/heatmap?" + c.query, token: tok})
		expect(t, r, http.StatusBadRequest, "invalid_argument")
		fields, _ := r.json(t)["error"].(map[string]any)["details"].(map[string]any)["fields"].(map[string]any)
		if _, ok := fields[c.field]; !ok || len(fields) != 1 {
			t.Errorf("%s: fields %v, want %s", c.query, fields, c.field)
		}
	}
}

// TestHeatmapGzip: a map is gzipped for a client that accepts it.
func TestHeatmapGzip(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		seedHeatmap(t, e)
		tok := e.login(t, "demo-supervisor")
		for _, q := range []string{"by=region&from=2010-06-01&to=2010-06-30"} {
			r, wire, coded := e.gzipped(t, req{method: "GET", path: "/api/v1/reports/heatmap?" + q, token: tok})
			expect(t, r, http.StatusOK, "")
			if !coded || wire >= len(r.Body) {
				t.Fatalf("%s: gzipped %v, %d bytes on the wire for %d", q, coded, wire, len(r.Body))
			}
		}
	})
}

// TestHeatmapGeohashWritten: a case reported through the API (the group
// writer for incidents, the dispute insert) keeps the geohash of its
// location, and one reported without a location none; the heat map of
// today counts them.
func TestHeatmapGeohashWritten(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		inc := e.report(t, "demo-gridworker", nil)
		bare := e.report(t, "demo-gridworker", func(m map[string]any) { delete(m, "location") })
		r := e.do(t, req{method: "POST", path: "/api/v1/disputes", token: e.login(t, "demo-gridworker"), body: disputeBody(func(m map[string]any) {
			m["location"] = incidentBody(nil)["location"]
		})})
		expect(t, r, 201, "")
		dis := r.json(t)
		check := func(table string, c map[string]any) *string {
			t.Helper()
			var g *string
			if err := e.app.DB.SQL().QueryRow("SELECT geohash FROM "+table+" WHERE id = ?", c["id"]).Scan(&g); err != nil {
				t.Fatal(err)
			}
			loc, _ := c["location"].(map[string]any)
			lat, hasLat := loc["lat"].(float64)
			lng, _ := loc["lng"].(float64)
			switch {
			case !hasLat && g != nil:
				t.Fatalf("%s %s without a location has geohash %q", table, c["id"], *g)
			case hasLat && (g == nil || *g != geohash.EncodeWithPrecision(lat, lng, 8)):
				t.Fatalf("%s %s at %v,%v has geohash %v", table, c["id"], lat, lng, g)
			}
			return g
		}
		check("incidents", inc)
		check("disputes", dis)
		if check("incidents", bare) != nil {
			t.Fatal("a geohash without a location")
		}
		a := e.heatmap(t, "demo-supervisor", "precision=8")
		if a.Total != 3 || a.Unlocated != 1 || a.Suppressed != 2 {
			t.Fatalf("today: %+v", a)
		}
	})
}
