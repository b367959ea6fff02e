package demo

import (
	"math"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	"pingan/internal/intake"
	"pingan/internal/region"
)

// edgeKM is how far outside a polygon a point rounded to 6 decimals (about
// 0.1 m) may fall and still count as on its edge.
const edgeKM = 0.001

// stored is a region's boundary as stored, on the test's plane.
func stored(t *testing.T, r region.Region) (region.Shape, poly) {
	t.Helper()
	s, err := region.ParseBoundary(r.Boundary)
	if err != nil {
		t.Fatalf("%s %s: %v", r.Code, r.Name, err)
	}
	ps := s.Polygons()
	if len(ps) != 1 || len(ps[0]) != 1 {
		t.Fatalf("%s: want one polygon without holes, got %v", r.Code, ps)
	}
	ring := ps[0][0]
	out := make(poly, len(ring)-1) // the ring is closed
	for i, q := range ring[:len(ring)-1] {
		out[i] = toPlane(region.Point{Lat: q[1], Lng: q[0]})
	}
	return s, out
}

// inside reports whether p lies in s or within edgeKM of its edge.
func inside(s region.Shape, p region.Point) bool {
	return s.Contains(p) || s.DistanceKM(p) <= edgeKM
}

// clipTo is the part of a inside convex b (Sutherland–Hodgman against each
// edge of b), for measuring overlaps.
func clipTo(a, b poly) poly {
	out := a
	for i := range b {
		e0, e1 := b[i], b[(i+1)%len(b)]
		in := out
		out = nil
		side := func(v vec) float64 { return e1.sub(e0).cross(v.sub(e0)) } // ≥ 0: left of the edge, inside
		for j := range in {
			p, q := in[j], in[(j+1)%len(in)]
			sp, sq := side(p), side(q)
			if sp >= 0 {
				out = append(out, p)
			}
			if (sp > 0 && sq < 0) || (sp < 0 && sq > 0) {
				t := sp / (sp - sq)
				out = append(out, vec{p.x + t*(q.x-p.x), p.y + t*(q.y-p.y)})
			}
		}
		if len(out) < 3 {
			return nil
		}
	}
	return out
}

func (p poly) perimeter() float64 {
	var l float64
	for i := range p {
		d := p[(i+1)%len(p)].sub(p[i])
		l += math.Hypot(d.x, d.y)
	}
	return l
}

func convex(p poly) bool {
	for i := range p {
		a, b, c := p[i], p[(i+1)%len(p)], p[(i+2)%len(p)]
		if b.sub(a).cross(c.sub(b)) <= 0 {
			return false
		}
	}
	return len(p) >= 3
}

func TestCityOutlineIsConvexAndHoldsTheCounties(t *testing.T) {
	outline := make(poly, len(cityOutline))
	for i, p := range cityOutline {
		outline[i] = toPlane(p)
	}
	if !convex(outline) {
		t.Fatal("the city's outline is not convex and counter-clockwise")
	}
	for _, c := range counties {
		if clipTo(poly{toPlane(region.Point{Lat: c.lat, Lng: c.lng}).sub(vec{1e-6, 0}),
			toPlane(region.Point{Lat: c.lat, Lng: c.lng}).sub(vec{-1e-6, 0}),
			toPlane(region.Point{Lat: c.lat, Lng: c.lng}).sub(vec{0, -1e-6})}, outline) == nil {
			t.Errorf("%s's centre lies outside the city", c.name)
		}
	}
}

// TestRegionsTileTheirParents: every region is a convex polygon holding its
// centroid; the children of a region lie inside it, do not overlap, and
// cover it (their areas add up to its area).
func TestRegionsTileTheirParents(t *testing.T) {
	rs := Regions()
	shapes, polys := map[string]region.Shape{}, map[string]poly{}
	children := map[string][]string{}
	for _, r := range rs {
		shapes[r.Code], polys[r.Code] = stored(t, r)
		if !convex(polys[r.Code]) {
			t.Errorf("%s %s is not a convex counter-clockwise polygon", r.Code, r.Name)
		}
		if !shapes[r.Code].Contains(*r.Centroid) {
			t.Errorf("%s %s: centroid %v outside its boundary", r.Code, r.Name, *r.Centroid)
		}
		if r.ParentCode != "" {
			children[r.ParentCode] = append(children[r.ParentCode], r.Code)
		}
	}
	for parent, kids := range children {
		// Rounding each corner to 6 decimals moves an edge by at most half a
		// millionth of a degree: the areas agree up to that along every edge.
		whole, sum, slack := polys[parent].area(), 0.0, 1e-6*polys[parent].perimeter()
		for i, k := range kids {
			sum += polys[k].area()
			slack += 1e-6 * polys[k].perimeter()
			for _, v := range polys[k] {
				if p := toPoint(v); !inside(shapes[parent], p) {
					t.Errorf("%s: corner %v lies %.4f km outside its parent %s", k, p, shapes[parent].DistanceKM(p), parent)
				}
			}
			for _, o := range kids[i+1:] {
				if overlap := clipTo(polys[k], polys[o]); overlap != nil && overlap.area() > 1e-6*polys[k].perimeter() {
					t.Errorf("%s and %s overlap by %.3g of their parent %s", k, o, overlap.area()/whole, parent)
				}
			}
		}
		if math.Abs(sum-whole) > slack {
			t.Errorf("the children of %s cover %.9f of it", parent, sum/whole)
		}
	}
}

// TestExamplePoint: the point of the README's example report, which the
// API tests and the ingest benchmark also use, lies in 府前社区第1网格 and
// so in its community, township and county.
func TestExamplePoint(t *testing.T) {
	byCode := map[string]region.Region{}
	for _, r := range Regions() {
		byCode[r.Code] = r
	}
	for _, code := range []string{FuqianGrid1, FuqianCommunity, DongchengStreet, DongyingDistrict, CityCode} {
		s, _ := stored(t, byCode[code])
		if !s.Contains(ExamplePoint) {
			t.Errorf("%v lies outside %s %s", ExamplePoint, code, byCode[code].Name)
		}
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`\\"lat\\":([0-9.]+),\\"lng\\":([0-9.]+)`).FindSubmatch(readme)
	if m == nil {
		t.Fatal("no example point in the README")
	}
	lat, _ := strconv.ParseFloat(string(m[1]), 64)
	lng, _ := strconv.ParseFloat(string(m[2]), 64)
	if s, _ := stored(t, byCode[FuqianGrid1]); !s.Contains(region.Point{Lat: lat, Lng: lng}) {
		t.Errorf("the README's example point %v, %v lies outside demo-gridworker's grid %s", lat, lng, FuqianGrid1)
	}
}

// TestGeneratedCasesLieInTheirGrids: every generated incident and dispute
// lies inside its grid.
func TestGeneratedCasesLieInTheirGrids(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Date(2026, 11, 27, 15, 0, 0, 0, loc)
	shapes := map[string]region.Shape{}
	for _, r := range Regions() {
		shapes[r.Code], _ = stored(t, r)
	}
	check := func(kind, id, grid string, lat, lng *float64) {
		if lat == nil || lng == nil {
			t.Errorf("%s %s has no point", kind, id)
			return
		}
		if p := (region.Point{Lat: *lat, Lng: *lng}); !inside(shapes[grid], p) {
			t.Errorf("%s %s at %v lies %.3f km outside its grid %s", kind, id, p, shapes[grid].DistanceKM(p), grid)
		}
	}
	who := Reporters{Default: "admin"}
	incs, _, _ := Incidents(now, loc, who)
	for _, inc := range incs {
		check("incident", inc.CaseNo, inc.RegionCode, inc.Location.Lat, inc.Location.Lng)
	}
	ds, _, _ := Disputes(now, loc, who, Mediators{Default: "admin"})
	for _, d := range ds {
		check("dispute", d.CaseNo, d.RegionCode, d.Location.Lat, d.Location.Lng)
	}
	if len(incs) < 5000 || len(ds) < 1000 {
		t.Fatalf("%d incidents, %d disputes", len(incs), len(ds))
	}
}

// TestGeneratedPartiesArePlausible: the demo's parties have the phone and
// ID numbers the API would accept (SPEC §6).
func TestGeneratedPartiesArePlausible(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	ds, _, _ := Disputes(time.Date(2026, 11, 27, 15, 0, 0, 0, loc), loc, Reporters{Default: "admin"}, Mediators{Default: "admin"})
	for _, d := range ds {
		for _, p := range d.Parties {
			if (p.Phone != "" && !intake.ValidPhone(p.Phone)) || (p.IDNumber != "" && !intake.ValidIDNumber(p.IDNumber)) {
				t.Fatalf("%s: party %+v", d.CaseNo, p)
			}
		}
	}
}
