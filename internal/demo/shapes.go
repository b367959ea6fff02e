package demo

import (
	"encoding/json"
	"math"

	"pingan/internal/region"
)

// The demo regions' boundaries are generated: each region's children
// divide it among them as the cells of a Voronoi diagram — every point of
// the parent goes to the child whose seed lies nearest — so that children
// tile their parent exactly, with no gap and no overlap, whatever the
// seeds. The city's outline is convex, and a Voronoi cell of a convex
// region is convex, so every region at every level is a convex polygon,
// whose centroid lies inside it. Seeds are the counties' real centres, a
// fixed point for the chain of regions that the README and the tests
// report in (府前社区第1网格), and for the others a seeded random point of
// the parent moved a few times to its cell's centroid (Lloyd's method), so
// that cells come out of similar size, as real ones roughly are.
//
// Distances are measured on a plane where a degree of longitude is
// shortened by the cosine of Dongying's latitude, so that cells look on a
// map as they are on the ground.

// cityOutline is 东营市 drawn as a convex octagon around its real extent
// (about 118.07–119.17 E, 36.92–38.17 N), counter-clockwise.
var cityOutline = []region.Point{
	{Lat: 36.92, Lng: 118.30}, {Lat: 36.95, Lng: 118.70}, {Lat: 37.25, Lng: 118.95}, {Lat: 37.70, Lng: 119.17},
	{Lat: 38.05, Lng: 119.05}, {Lat: 38.17, Lng: 118.60}, {Lat: 37.85, Lng: 118.15}, {Lat: 37.40, Lng: 118.07},
}

// ExamplePoint is where the README's example report lies, inside
// 府前社区第1网格 (FuqianGrid1), 东城街道 and 东营区: the seed of all three.
var ExamplePoint = region.Point{Lat: 37.45, Lng: 118.58}

// lloydRounds is how often generated seeds move to their cell's centroid.
const lloydRounds = 3

// cosRef shortens longitudes on the plane: cos(37.5°).
var cosRef = math.Cos(37.5 * math.Pi / 180)

// vec is a point on the plane.
type vec struct{ x, y float64 }

func toPlane(p region.Point) vec { return vec{p.Lng * cosRef, p.Lat} }
func toPoint(v vec) region.Point { return region.Point{Lat: v.y, Lng: v.x / cosRef} }

func (a vec) sub(b vec) vec       { return vec{a.x - b.x, a.y - b.y} }
func (a vec) dot(b vec) float64   { return a.x*b.x + a.y*b.y }
func (a vec) cross(b vec) float64 { return a.x*b.y - a.y*b.x }

// poly is a convex polygon on the plane, counter-clockwise, its first
// vertex not repeated at the end.
type poly []vec

// area is p's area (positive when counter-clockwise).
func (p poly) area() float64 {
	var a float64
	for i := range p {
		a += p[i].cross(p[(i+1)%len(p)])
	}
	return a / 2
}

// centroid is p's centre of mass.
func (p poly) centroid() vec {
	var cx, cy, a float64
	for i := range p {
		c := p[i].cross(p[(i+1)%len(p)])
		cx += (p[i].x + p[(i+1)%len(p)].x) * c
		cy += (p[i].y + p[(i+1)%len(p)].y) * c
		a += c
	}
	return vec{cx / (3 * a), cy / (3 * a)}
}

// nearer keeps the part of p that is at least as near to s as to o
// (Sutherland–Hodgman against the bisector of s and o).
func (p poly) nearer(s, o vec) poly {
	n := o.sub(s)
	mid := vec{(s.x + o.x) / 2, (s.y + o.y) / 2}
	side := func(v vec) float64 { return v.sub(mid).dot(n) } // ≤ 0: nearer s
	var out poly
	for i := range p {
		a, b := p[i], p[(i+1)%len(p)]
		sa, sb := side(a), side(b)
		if sa <= 0 {
			out = append(out, a)
		}
		if (sa < 0 && sb > 0) || (sa > 0 && sb < 0) {
			t := sa / (sa - sb)
			out = append(out, vec{a.x + t*(b.x-a.x), a.y + t*(b.y-a.y)})
		}
	}
	return out
}

// cells divides parent among seeds: cell i holds the points of parent
// nearer to seeds[i] than to any other seed.
func cells(parent poly, seeds []vec) []poly {
	out := make([]poly, len(seeds))
	for i, s := range seeds {
		c := parent
		for j, o := range seeds {
			if j != i {
				c = c.nearer(s, o)
			}
		}
		out[i] = c
	}
	return out
}

// tile divides parent among len(draws) children: a child with a fixed seed
// keeps it, the others start at the point of parent their draw names
// (pointIn) and move lloydRounds times to the centroid of their cell.
func tile(parent poly, draws [][2]float64, fixed []*vec) []poly {
	seeds := make([]vec, len(draws))
	for i, d := range draws {
		if fixed[i] != nil {
			seeds[i] = *fixed[i]
		} else {
			seeds[i] = parent.pointIn(d[0], d[1])
		}
	}
	cs := cells(parent, seeds)
	for range lloydRounds {
		for i := range seeds {
			if fixed[i] == nil && len(cs[i]) >= 3 {
				seeds[i] = cs[i].centroid()
			}
		}
		cs = cells(parent, seeds)
	}
	return cs
}

// pointIn maps u, v in [0, 1) to a point of p, uniformly over its area: u
// picks a triangle of the fan from p's first vertex, weighted by area, and
// what is left of u, with v, a point of that triangle.
func (p poly) pointIn(u, v float64) vec {
	total := p.area()
	acc := 0.0
	for i := 1; i+1 < len(p); i++ {
		a, b, c := p[0], p[i], p[i+1]
		w := b.sub(a).cross(c.sub(a)) / 2 / total
		if u < acc+w || i+2 == len(p) {
			r := math.Min(1, math.Max(0, (u-acc)/w))
			sr := math.Sqrt(r)
			return vec{
				x: (1-sr)*a.x + sr*(1-v)*b.x + sr*v*c.x,
				y: (1-sr)*a.y + sr*(1-v)*b.y + sr*v*c.y,
			}
		}
		acc += w
	}
	return p[0]
}

// geoJSON is p as a GeoJSON Polygon geometry, longitude first, its ring
// closed, coordinates rounded to 6 decimals (about 0.1 m).
func (p poly) geoJSON() []byte {
	ring := make([][2]float64, 0, len(p)+1)
	for _, v := range p {
		pt := toPoint(v)
		ring = append(ring, [2]float64{round6(pt.Lng), round6(pt.Lat)})
	}
	ring = append(ring, ring[0])
	b, err := json.Marshal(map[string]any{"type": "Polygon", "coordinates": [][][2]float64{ring}})
	if err != nil {
		panic("demo: boundary: " + err.Error())
	}
	return b
}
