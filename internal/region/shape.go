package region

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// kmPerDegree is the length of one degree of latitude (and of longitude at
// the equator) on the mean Earth sphere, radius 6371.0088 km.
const kmPerDegree = 6371.0088 * math.Pi / 180

// Shape is a region's boundary read for geometry: a Polygon or a
// MultiPolygon in longitude/latitude, holes included. The zero Shape holds
// nothing.
type Shape struct {
	g orb.Geometry // orb.Polygon or orb.MultiPolygon
}

// ParseBoundary reads a boundary as regions keep it (Region.Boundary: a
// GeoJSON Polygon or MultiPolygon geometry). Returns an error whose text
// names what is wrong, in pingan's words, when it is anything else.
func ParseBoundary(raw []byte) (Shape, error) {
	g, problem := parseGeometry(raw)
	if problem != "" {
		return Shape{}, fmt.Errorf("boundary: %s", problem)
	}
	return Shape{g: g}, nil
}

// Empty reports whether s holds no polygon.
func (s Shape) Empty() bool { return s.g == nil }

// Contains reports whether p lies inside s (on an edge counts as inside;
// in a hole does not).
func (s Shape) Contains(p Point) bool {
	pt := orb.Point{p.Lng, p.Lat}
	switch g := s.g.(type) {
	case orb.Polygon:
		return planar.PolygonContains(g, pt)
	case orb.MultiPolygon:
		return planar.MultiPolygonContains(g, pt)
	}
	return false
}

// DistanceKM is how far p lies from s in kilometres: 0 inside, otherwise
// the distance to the nearest point of its edge. The nearest point is found
// on a plane tangent at p (longitudes shortened by cos(latitude)), which
// over the tens of kilometres of a city is within a fraction of a per cent;
// the distance to it is then measured on the sphere, so that a point far
// away (a phone in another province) still gets a true distance to a point
// of the edge.
func (s Shape) DistanceKM(p Point) float64 {
	if s.Empty() {
		return math.Inf(1)
	}
	if s.Contains(p) {
		return 0
	}
	scale := math.Cos(p.Lat*math.Pi/180) * kmPerDegree
	local := func(q orb.Point) orb.Point { return orb.Point{(q[0] - p.Lng) * scale, (q[1] - p.Lat) * kmPerDegree} }
	best, nearest := math.Inf(1), orb.Point{}
	for _, poly := range s.polygons() {
		for _, ring := range poly {
			for i := 1; i < len(ring); i++ {
				a, b := local(ring[i-1]), local(ring[i])
				if q := closest(a, b); q[0]*q[0]+q[1]*q[1] < best {
					best, nearest = q[0]*q[0]+q[1]*q[1], q
				}
			}
		}
	}
	return DistanceKM(p, Point{Lat: p.Lat + nearest[1]/kmPerDegree, Lng: p.Lng + nearest[0]/scale})
}

// closest is the point of the segment a–b nearest to the origin.
func closest(a, b orb.Point) orb.Point {
	d := orb.Point{b[0] - a[0], b[1] - a[1]}
	l := d[0]*d[0] + d[1]*d[1]
	if l == 0 {
		return a
	}
	t := math.Max(0, math.Min(1, -(a[0]*d[0]+a[1]*d[1])/l))
	return orb.Point{a[0] + t*d[0], a[1] + t*d[1]}
}

// Centroid is the centre of mass of s's area (which for a region that is
// not convex may lie outside it).
func (s Shape) Centroid() (Point, bool) {
	if s.Empty() {
		return Point{}, false
	}
	c, area := planar.CentroidArea(s.g)
	if area == 0 {
		return Point{}, false
	}
	return Point{Lat: c.Lat(), Lng: c.Lon()}, true
}

// Polygons lists s's polygons, each as its rings (the first the outline,
// the others holes), each ring closed, as [lng, lat] positions.
func (s Shape) Polygons() [][][][2]float64 {
	var out [][][][2]float64
	for _, poly := range s.polygons() {
		rings := make([][][2]float64, len(poly))
		for i, ring := range poly {
			rings[i] = make([][2]float64, len(ring))
			for j, q := range ring {
				rings[i][j] = [2]float64{q[0], q[1]}
			}
		}
		out = append(out, rings)
	}
	return out
}

func (s Shape) polygons() []orb.Polygon {
	switch g := s.g.(type) {
	case orb.Polygon:
		return []orb.Polygon{g}
	case orb.MultiPolygon:
		return g
	}
	return nil
}

// DistanceKM is the great-circle distance between two points in
// kilometres.
func DistanceKM(a, b Point) float64 {
	const rad = math.Pi / 180
	dLat, dLng := (b.Lat-a.Lat)*rad, (b.Lng-a.Lng)*rad
	h := math.Pow(math.Sin(dLat/2), 2) + math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Pow(math.Sin(dLng/2), 2)
	return 2 * kmPerDegree / rad * math.Asin(math.Min(1, math.Sqrt(h)))
}

// maxRingPositions bounds one ring, so that a boundary's cost is bounded
// however it is nested.
const maxRingPositions = 100_000

// rawGeometry is a GeoJSON geometry object before its coordinates are read.
type rawGeometry struct {
	Type        string          `json:"type"`
	Coordinates json.RawMessage `json:"coordinates"`
}

// parseGeometry reads a GeoJSON Polygon or MultiPolygon. The problem, when
// there is one, is pingan's own text naming the part at fault.
func parseGeometry(raw []byte) (orb.Geometry, string) {
	var g rawGeometry
	if err := json.Unmarshal(raw, &g); err != nil {
		return nil, `geometry must be an object {"type": "Polygon" or "MultiPolygon", "coordinates": [...]}`
	}
	switch g.Type {
	case "Polygon":
		var rings [][][]float64
		if json.Unmarshal(g.Coordinates, &rings) != nil {
			return nil, "geometry.coordinates of a Polygon must be an array of rings, each an array of [lng, lat] positions"
		}
		poly, problem := polygon(rings, "geometry.coordinates")
		if problem != "" {
			return nil, problem
		}
		return poly, ""
	case "MultiPolygon":
		var polys [][][][]float64
		if json.Unmarshal(g.Coordinates, &polys) != nil {
			return nil, "geometry.coordinates of a MultiPolygon must be an array of polygons, each an array of rings of [lng, lat] positions"
		}
		if len(polys) == 0 {
			return nil, "geometry.coordinates must hold at least one polygon"
		}
		mp := make(orb.MultiPolygon, len(polys))
		for i, rings := range polys {
			poly, problem := polygon(rings, fmt.Sprintf("geometry.coordinates[%d]", i))
			if problem != "" {
				return nil, problem
			}
			mp[i] = poly
		}
		return mp, ""
	}
	return nil, "geometry must be a Polygon or MultiPolygon"
}

// polygon checks the rings of one polygon: at least an outline, each ring
// closed (its last position repeats its first) with at least four positions,
// each position [lng, lat] (a third number, the altitude, is ignored) within
// range.
func polygon(rings [][][]float64, at string) (orb.Polygon, string) {
	if len(rings) == 0 {
		return nil, at + " must hold at least the outer ring"
	}
	poly := make(orb.Polygon, len(rings))
	for i, ring := range rings {
		where := fmt.Sprintf("%s[%d]", at, i)
		if len(ring) < 4 || len(ring) > maxRingPositions {
			return nil, fmt.Sprintf("%s is a ring of %d positions; a ring has 4 to %d", where, len(ring), maxRingPositions)
		}
		r := make(orb.Ring, len(ring))
		for j, pos := range ring {
			if len(pos) < 2 || len(pos) > 3 {
				return nil, fmt.Sprintf("%s[%d] must be a position [lng, lat]", where, j)
			}
			lng, lat := pos[0], pos[1]
			if lng < -180 || lng > 180 || lat < -90 || lat > 90 {
				return nil, fmt.Sprintf("%s[%d] is [%g, %g]: longitude must lie within ±180 and latitude within ±90", where, j, lng, lat)
			}
			r[j] = orb.Point{lng, lat}
		}
		if r[0] != r[len(r)-1] {
			return nil, fmt.Sprintf("%s is not closed: its last position must repeat its first", where)
		}
		poly[i] = r
	}
	return poly, ""
}
