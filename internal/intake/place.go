package intake

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"

	"pingan/internal/deps"
	"pingan/internal/errs"
	"pingan/internal/region"
)

// DefaultGridRadiusKM is how far from its grid a case may lie when
// PINGAN_GRID_RADIUS_KM is not set.
const DefaultGridRadiusKM = 5

// Box is a longitude/latitude bounding box (PINGAN_CITY_BBOX).
type Box struct {
	MinLng, MinLat, MaxLng, MaxLat float64
}

// Contains reports whether p lies in b, edges included.
func (b Box) Contains(p region.Point) bool {
	return p.Lng >= b.MinLng && p.Lng <= b.MaxLng && p.Lat >= b.MinLat && p.Lat <= b.MaxLat
}

// Places checks that a case lies where it can (SPEC §6 "plausible
// input"): not at (0, 0), where a phone without a position fix puts it;
// inside the city — its bounding box when one is configured, otherwise the
// boundary imported for the city region, otherwise anywhere —; and within
// the radius of its grid — of the grid's boundary when it has one,
// otherwise of its centroid, otherwise anywhere. Both case kinds, and
// offline sync through them, use the one Places.
type Places struct {
	regions  region.Store
	city     *Box
	radiusKM float64

	mu     sync.Mutex
	shapes map[string]cachedShape
}

type cachedShape struct {
	raw   []byte
	shape region.Shape
	ok    bool
}

// NewPlaces builds the check. city is PINGAN_CITY_BBOX, nil to use the
// city's imported boundary; radiusKM is PINGAN_GRID_RADIUS_KM. A nil
// regions panics.
func NewPlaces(regions region.Store, city *Box, radiusKM float64) *Places {
	deps.Require("intake.NewPlaces", "regions", regions)
	return &Places{regions: regions, city: city, radiusKM: radiusKM, shapes: map[string]cachedShape{}}
}

// Check returns errs.FieldErrors naming "location" when loc's point lies
// where no case of grid can: at (0, 0), outside the city or farther than
// the radius from the grid. A location without a point, or with one that
// Report.Check refuses, passes here. Returns the store's error when the
// city cannot be read.
func (pl *Places) Check(ctx context.Context, grid region.Region, loc Location) error {
	if !wellFormed(loc) {
		return nil
	}
	p := region.Point{Lat: *loc.Lat, Lng: *loc.Lng}
	if p.Lat == 0 && p.Lng == 0 {
		return errs.Invalid("location", "(0, 0) is where a phone without a position fix puts itself: "+
			"send the place's lat and lng, or leave both out")
	}
	root, _, _ := strings.Cut(strings.Trim(grid.Path, "/"), "/")
	city, err := pl.regions.FindRegionByCode(ctx, root)
	if err != nil && !errors.Is(err, errs.ErrNotFound) {
		return err
	}
	if msg := pl.outsideCity(city, p); msg != "" {
		return errs.Invalid("location", msg+swapHint(pl, city, p))
	}
	if msg := pl.farFromGrid(grid, p); msg != "" {
		return errs.Invalid("location", msg)
	}
	return nil
}

func wellFormed(loc Location) bool {
	return loc.Lat != nil && loc.Lng != nil && !math.IsNaN(*loc.Lat) && !math.IsNaN(*loc.Lng) &&
		math.Abs(*loc.Lat) <= 90 && math.Abs(*loc.Lng) <= 180
}

// outsideCity says how p lies outside the city, or "" when it lies in it
// (or the city's area is not known).
func (pl *Places) outsideCity(city region.Region, p region.Point) string {
	name := city.Name
	if name == "" {
		name = "the city"
	}
	if b := pl.city; b != nil {
		if b.Contains(p) {
			return ""
		}
		return fmt.Sprintf("lat %g, lng %g lies outside %s (lng %g to %g, lat %g to %g)", p.Lat, p.Lng, name,
			b.MinLng, b.MaxLng, b.MinLat, b.MaxLat)
	}
	shape, ok := pl.shape(city)
	if !ok || shape.Contains(p) {
		return ""
	}
	return fmt.Sprintf("lat %g, lng %g lies %s outside the boundary of %s", p.Lat, p.Lng, km(shape.DistanceKM(p)), name)
}

// swapHint suggests swapped coordinates when they would lie in the city.
func swapHint(pl *Places, city region.Region, p region.Point) string {
	if pl.outsideCity(city, region.Point{Lat: p.Lng, Lng: p.Lat}) == "" && math.Abs(p.Lng) <= 90 {
		return " (are lat and lng swapped?)"
	}
	return ""
}

// farFromGrid says how far p lies from grid when that is beyond the
// radius, or "".
func (pl *Places) farFromGrid(grid region.Region, p region.Point) string {
	var d float64
	what := "boundary"
	if shape, ok := pl.shape(grid); ok {
		d = shape.DistanceKM(p)
	} else if grid.Centroid != nil {
		d, what = region.DistanceKM(*grid.Centroid, p), "centre"
	} else {
		return ""
	}
	if d <= pl.radiusKM {
		return ""
	}
	return fmt.Sprintf("lat %g, lng %g lies %s from the %s of grid %s (%s); a case lies within %g km of its grid",
		p.Lat, p.Lng, km(d), what, grid.Name, grid.Code, pl.radiusKM)
}

func km(d float64) string {
	if d < 10 {
		return fmt.Sprintf("%.1f km", d)
	}
	return fmt.Sprintf("%.0f km", d)
}

// maxShapes bounds the parsed boundaries kept; a region tree has a few
// thousand.
const maxShapes = 20_000

// shape is r's boundary, parsed once and kept while the stored text stays
// the same. A boundary that cannot be read counts as none (the import
// refuses such boundaries; this is for rows written otherwise).
func (pl *Places) shape(r region.Region) (region.Shape, bool) {
	if len(r.Boundary) == 0 {
		return region.Shape{}, false
	}
	pl.mu.Lock()
	c, hit := pl.shapes[r.Code]
	pl.mu.Unlock()
	// The store's cache hands out the same bytes each time: the same
	// backing array is the same boundary, with no comparison.
	if hit && len(c.raw) == len(r.Boundary) && (&c.raw[0] == &r.Boundary[0] || bytes.Equal(c.raw, r.Boundary)) {
		return c.shape, c.ok
	}
	s, err := region.ParseBoundary(r.Boundary)
	c = cachedShape{raw: r.Boundary, shape: s, ok: err == nil}
	pl.mu.Lock()
	if len(pl.shapes) >= maxShapes {
		clear(pl.shapes)
	}
	pl.shapes[r.Code] = c
	pl.mu.Unlock()
	return c.shape, c.ok
}

// Join merges the validation errors of several checks into one
// errs.FieldErrors (the first message for a field wins); any other error
// is returned as it is, before them.
func Join(checks ...error) error {
	bad := errs.FieldErrors{}
	for _, err := range checks {
		var fe errs.FieldErrors
		switch {
		case err == nil:
		case errors.As(err, &fe):
			for k, v := range fe {
				bad.Add(k, v)
			}
		default:
			return err
		}
	}
	return bad.Err()
}
