package region

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/paulmach/orb/geojson"

	"pingan/internal/errs"
	"pingan/internal/text"
)

// MaxImportFeatures bounds one import.
const MaxImportFeatures = 5000

// ParseFeatureCollection reads a GeoJSON FeatureCollection whose features
// carry code, name, level, parent_code and population in their properties
// and an optional Polygon or MultiPolygon geometry, each ring closed. The
// centroid is computed from the geometry. The regions come back in feature
// order, bad ones as zero values; bad features are named in the
// errs.FieldErrors returned beside them ("features[3]", with the property
// at fault in the message). An error of another kind (errs.ErrInvalid)
// means the document itself is unreadable. Every message is pingan's own,
// never a decoder's.
func ParseFeatureCollection(data []byte) ([]Region, errs.FieldErrors, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, nil, errs.Invalid("body", notJSON(err, `a GeoJSON FeatureCollection: {"type": "FeatureCollection", "features": [...]}`))
	}
	if str(doc["type"]) != "FeatureCollection" {
		return nil, nil, errs.Invalid("type", `must be "FeatureCollection"`)
	}
	var features []json.RawMessage
	if err := json.Unmarshal(doc["features"], &features); err != nil || features == nil {
		return nil, nil, errs.Invalid("features", "must be an array of Feature objects")
	}
	if len(features) > MaxImportFeatures {
		return nil, nil, errs.Invalid("features", fmt.Sprintf("at most %d features per import", MaxImportFeatures))
	}
	bad := errs.FieldErrors{}
	out := make([]Region, len(features))
	for i, f := range features {
		r, problem := featureRegion(f)
		if problem != "" {
			bad.Add(fmt.Sprintf("features[%d]", i), problem)
			continue
		}
		out[i] = r
	}
	return out, bad, nil
}

// notJSON says why data could not be read as the JSON object want.
func notJSON(err error, want string) string {
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return fmt.Sprintf("not valid JSON (at byte %d); want %s", syntax.Offset, want)
	}
	return "want " + want
}

// str is a raw JSON string's value; "" for anything else.
func str(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// isNull reports whether a member is absent or null.
func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// featureRegion reads one feature; the problem names the property at
// fault.
func featureRegion(raw json.RawMessage) (Region, string) {
	var f map[string]json.RawMessage
	if json.Unmarshal(raw, &f) != nil || f == nil || str(f["type"]) != "Feature" {
		return Region{}, `is not a Feature object {"type": "Feature", "properties": {...}, "geometry": ...}`
	}
	var props map[string]json.RawMessage
	if json.Unmarshal(f["properties"], &props) != nil || props == nil {
		return Region{}, "properties must be an object with code, name, level, parent_code and population"
	}
	prop := func(k string) (string, bool) {
		if isNull(props[k]) {
			return "", true
		}
		var s string
		if json.Unmarshal(props[k], &s) != nil {
			return "", false
		}
		return strings.TrimSpace(s), true
	}
	var r Region
	var ok [4]bool
	r.Code, ok[0] = prop("code")
	r.Name, ok[1] = prop("name")
	var level string
	level, ok[2] = prop("level")
	r.Level = Level(level)
	r.ParentCode, ok[3] = prop("parent_code")
	switch {
	case !ok[0] || !ValidCode(r.Code):
		return Region{}, "properties.code must be a string of 6–32 letters or digits starting with a digit"
	case !ok[1] || r.Name == "" || utf8.RuneCountInString(r.Name) > 100 || !text.Clean(r.Name, false):
		return Region{}, "properties.name must be a string of 1–100 characters, no control characters"
	case !ok[2] || !r.Level.Valid():
		return Region{}, "properties.level must be city, county, township, community or grid"
	case !ok[3] || (r.ParentCode != "" && !ValidCode(r.ParentCode)):
		return Region{}, "properties.parent_code must be a region code (or null for the city)"
	}
	var pop float64
	if json.Unmarshal(props["population"], &pop) != nil || isNull(props["population"]) || pop < 0 || pop > 1e9 || pop != math.Trunc(pop) {
		return Region{}, "properties.population must be a whole number from 0 to 1000000000"
	}
	r.Population = int64(pop)
	if isNull(f["geometry"]) {
		return r, ""
	}
	g, problem := parseGeometry(f["geometry"])
	if problem != "" {
		return Region{}, problem
	}
	shape := Shape{g: g}
	c, has := shape.Centroid()
	if !has {
		return Region{}, "geometry has no area"
	}
	r.Centroid = &c
	b, err := json.Marshal(geojson.NewGeometry(g))
	if err != nil {
		return Region{}, "geometry cannot be encoded"
	}
	r.Boundary = b
	return r, ""
}
