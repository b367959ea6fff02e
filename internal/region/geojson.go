package region

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"

	"pingan/internal/errs"
	"pingan/internal/text"
)

// MaxImportFeatures bounds one import.
const MaxImportFeatures = 5000

// ParseFeatureCollection reads a GeoJSON FeatureCollection whose features
// carry code, name, level, parent_code and population in their properties
// and an optional Polygon or MultiPolygon geometry. The centroid is computed
// from the geometry. The regions come back in feature order, bad ones as
// zero values; bad features are named in the errs.FieldErrors returned
// beside them ("features[3]"). An error of another kind means the document
// itself is unreadable.
func ParseFeatureCollection(data []byte) ([]Region, errs.FieldErrors, error) {
	fc, err := geojson.UnmarshalFeatureCollection(data)
	if err != nil {
		return nil, nil, errs.Invalid("body", "not a GeoJSON FeatureCollection: "+clip(err.Error()))
	}
	if len(fc.Features) > MaxImportFeatures {
		return nil, nil, errs.Invalid("features", fmt.Sprintf("at most %d features per import", MaxImportFeatures))
	}
	bad := errs.FieldErrors{}
	out := make([]Region, len(fc.Features))
	for i, f := range fc.Features {
		r, problem := featureRegion(f)
		if problem != "" {
			bad.Add(fmt.Sprintf("features[%d]", i), problem)
			continue
		}
		out[i] = r
	}
	return out, bad, nil
}

func featureRegion(f *geojson.Feature) (Region, string) {
	if f == nil {
		return Region{}, "is not a Feature object"
	}
	str := func(k string) string { s, _ := f.Properties[k].(string); return strings.TrimSpace(s) }
	r := Region{Code: str("code"), Name: str("name"), Level: Level(str("level")), ParentCode: str("parent_code")}
	switch {
	case !ValidCode(r.Code):
		return r, "properties.code must be 6–32 letters or digits starting with a digit"
	case r.Name == "" || utf8.RuneCountInString(r.Name) > 100 || !text.Clean(r.Name, false):
		return r, "properties.name is required (at most 100 characters, no control characters)"
	case !r.Level.Valid():
		return r, "properties.level must be city, county, township, community or grid"
	case r.ParentCode != "" && !ValidCode(r.ParentCode):
		return r, "properties.parent_code is not a valid code"
	}
	pop, ok := f.Properties["population"].(float64)
	if !ok || pop < 0 || pop > 1e9 || pop != math.Trunc(pop) {
		return r, "properties.population must be a whole number ≥ 0"
	}
	r.Population = int64(pop)
	if f.Geometry != nil {
		switch g := f.Geometry.(type) {
		case orb.Polygon, orb.MultiPolygon:
			if !validLngLat(g) {
				return r, "geometry has coordinates outside longitude/latitude range"
			}
			c, area := planar.CentroidArea(g)
			if area == 0 {
				return r, "geometry has no area"
			}
			r.Centroid = &Point{Lat: c.Lat(), Lng: c.Lon()}
			raw, err := json.Marshal(geojson.NewGeometry(g))
			if err != nil {
				return r, "geometry cannot be encoded"
			}
			r.Boundary = raw
		default:
			return r, "geometry must be a Polygon or MultiPolygon"
		}
	}
	return r, ""
}

func validLngLat(g orb.Geometry) bool {
	b := g.Bound()
	ok := func(p orb.Point) bool {
		return p.Lon() >= -180 && p.Lon() <= 180 && p.Lat() >= -90 && p.Lat() <= 90 &&
			!math.IsNaN(p.Lon()) && !math.IsNaN(p.Lat())
	}
	return ok(b.Min) && ok(b.Max)
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200]
	}
	return s
}
