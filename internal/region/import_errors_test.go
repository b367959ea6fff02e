package region

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"pingan/internal/errs"
)

const okProps = `"properties":{"code":"370502003901","name":"新区社区","level":"community","parent_code":"370502003","population":4200}`

// TestParseFeatureCollectionErrors: every refusal is pingan's own text,
// naming the feature and the property or part of the geometry at fault
// (issue #12: a ring whose first and last points differ was imported, and
// a string population answered "json: cannot unmarshal string into Go
// value of type float64").
func TestParseFeatureCollectionErrors(t *testing.T) {
	one := func(feature string) string { return `{"type":"FeatureCollection","features":[` + feature + `]}` }
	geo := func(g string) string { return one(`{"type":"Feature",` + okProps + `,"geometry":` + g + `}`) }
	for _, c := range []struct {
		name, in, want string
	}{
		{"a ring that is not closed", geo(`{"type":"Polygon","coordinates":[[[118.5,37.4],[118.52,37.4],[118.52,37.42],[118.5,37.42]]]}`),
			"geometry.coordinates[0] is not closed: its last position must repeat its first"},
		{"a hole that is not closed", geo(`{"type":"Polygon","coordinates":[[[118.5,37.4],[118.6,37.4],[118.6,37.5],[118.5,37.4]],[[118.55,37.42],[118.56,37.42],[118.56,37.43],[118.55,37.425]]]}`),
			"geometry.coordinates[1] is not closed: its last position must repeat its first"},
		{"a multipolygon's ring not closed", geo(`{"type":"MultiPolygon","coordinates":[[[[118.5,37.4],[118.6,37.4],[118.6,37.5],[118.5,37.4]]],[[[119,37],[119.1,37],[119.1,37.1],[119,37.05]]]]}`),
			"geometry.coordinates[1][0] is not closed: its last position must repeat its first"},
		{"a ring of three positions", geo(`{"type":"Polygon","coordinates":[[[118.5,37.4],[118.6,37.4],[118.5,37.4]]]}`),
			"geometry.coordinates[0] is a ring of 3 positions; a ring has 4 to 100000"},
		{"a string coordinate", geo(`{"type":"Polygon","coordinates":[[["118.5",37.4],[118.6,37.4],[118.6,37.5],[118.5,37.4]]]}`),
			"geometry.coordinates of a Polygon must be an array of rings, each an array of [lng, lat] positions"},
		{"a position of one number", geo(`{"type":"Polygon","coordinates":[[[118.5],[118.6,37.4],[118.6,37.5],[118.5]]]}`),
			"geometry.coordinates[0][0] must be a position [lng, lat]"},
		{"latitude and longitude swapped", geo(`{"type":"Polygon","coordinates":[[[37.4,118.5],[37.4,118.6],[37.5,118.6],[37.4,118.5]]]}`),
			"geometry.coordinates[0][0] is [37.4, 118.5]: longitude must lie within ±180 and latitude within ±90"},
		{"no area", geo(`{"type":"Polygon","coordinates":[[[118.5,37.4],[118.6,37.4],[118.7,37.4],[118.5,37.4]]]}`),
			"geometry has no area"},
		{"a point", geo(`{"type":"Point","coordinates":[118.5,37.4]}`), "geometry must be a Polygon or MultiPolygon"},
		{"a geometry that is a string", geo(`"POLYGON((118 37, 119 37, 119 38, 118 37))"`),
			`geometry must be an object {"type": "Polygon" or "MultiPolygon", "coordinates": [...]}`},
		{"a string population", one(`{"type":"Feature","properties":{"code":"370502003901","name":"新区社区","level":"community","parent_code":"370502003","population":"4200"},"geometry":null}`),
			"properties.population must be a whole number from 0 to 1000000000"},
		{"a fractional population", one(`{"type":"Feature","properties":{"code":"370502003901","name":"新区社区","level":"community","parent_code":"370502003","population":42.5},"geometry":null}`),
			"properties.population must be a whole number from 0 to 1000000000"},
		{"no population", one(`{"type":"Feature","properties":{"code":"370502003901","name":"新区社区","level":"community","parent_code":"370502003"},"geometry":null}`),
			"properties.population must be a whole number from 0 to 1000000000"},
		{"a numeric code", one(`{"type":"Feature","properties":{"code":370502003901,"name":"新区社区","level":"community","parent_code":"370502003","population":1},"geometry":null}`),
			"properties.code must be a string of 6–32 letters or digits starting with a digit"},
		{"a name that is an array", one(`{"type":"Feature","properties":{"code":"370502003901","name":["新区"],"level":"community","parent_code":"370502003","population":1},"geometry":null}`),
			"properties.name must be a string of 1–100 characters, no control characters"},
		{"an unknown level", one(`{"type":"Feature","properties":{"code":"370502003901","name":"新区社区","level":"village","parent_code":"370502003","population":1},"geometry":null}`),
			"properties.level must be city, county, township, community or grid"},
		{"a numeric parent", one(`{"type":"Feature","properties":{"code":"370502003901","name":"新区社区","level":"community","parent_code":370502003,"population":1},"geometry":null}`),
			"properties.parent_code must be a region code (or null for the city)"},
		{"properties that are a list", one(`{"type":"Feature","properties":[1,2],"geometry":null}`),
			"properties must be an object with code, name, level, parent_code and population"},
		{"not a feature", one(`{"type":"Polygon","coordinates":[]}`),
			`is not a Feature object {"type": "Feature", "properties": {...}, "geometry": ...}`},
		{"a feature that is a number", one(`7`),
			`is not a Feature object {"type": "Feature", "properties": {...}, "geometry": ...}`},
	} {
		rs, bad, err := ParseFeatureCollection([]byte(c.in))
		if err != nil {
			t.Errorf("%s: the document was refused: %v", c.name, err)
			continue
		}
		if want := (errs.FieldErrors{"features[0]": c.want}); !reflect.DeepEqual(bad, want) {
			t.Errorf("%s:\n got  %v\n want %v", c.name, bad, want)
		}
		if len(rs) != 1 || rs[0].Code != "" {
			t.Errorf("%s: the bad feature came back as %+v", c.name, rs)
		}
	}
}

func TestParseFeatureCollectionDocumentErrors(t *testing.T) {
	for _, c := range []struct{ in, field, want string }{
		{`not json`, "body", `not valid JSON (at byte 2); want a GeoJSON FeatureCollection: {"type": "FeatureCollection", "features": [...]}`},
		{`[]`, "body", `want a GeoJSON FeatureCollection: {"type": "FeatureCollection", "features": [...]}`},
		{`{"type":"Feature"}`, "type", `must be "FeatureCollection"`},
		{`{"type":"FeatureCollection"}`, "features", "must be an array of Feature objects"},
		{`{"type":"FeatureCollection","features":{"a":1}}`, "features", "must be an array of Feature objects"},
		{`{"type":"FeatureCollection","features":[` + strings.Repeat(`null,`, MaxImportFeatures) + `null]}`, "features", "at most 5000 features per import"},
	} {
		_, _, err := ParseFeatureCollection([]byte(c.in))
		var fe errs.FieldErrors
		if !errors.As(err, &fe) || !reflect.DeepEqual(fe, errs.FieldErrors{c.field: c.want}) {
			t.Errorf("%.40s: %v\n want %s: %s", c.in, err, c.field, c.want)
		}
	}
}
