package region

import (
	"errors"
	"strings"
	"testing"

	"pingan/internal/errs"
)

func TestParseFeatureCollection(t *testing.T) {
	rs, bad, err := ParseFeatureCollection([]byte(`{"type":"FeatureCollection","features":[
		{"type":"Feature","properties":{"code":"370502003901","name":"新区社区","level":"community","parent_code":"370502003","population":4200},
		 "geometry":{"type":"Polygon","coordinates":[[[118.50,37.40],[118.52,37.40],[118.52,37.42],[118.50,37.42],[118.50,37.40]]]}},
		{"type":"Feature","properties":{"code":"x","name":"","level":"planet","population":-1},"geometry":null}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].Code != "370502003901" || rs[0].Population != 4200 || rs[1].Code != "" {
		t.Fatalf("regions: %+v", rs)
	}
	c := rs[0].Centroid
	if c == nil || c.Lat < 37.4099 || c.Lat > 37.4101 || c.Lng < 118.5099 || c.Lng > 118.5101 {
		t.Fatalf("centroid: %+v", c)
	}
	if len(bad) != 1 || bad["features[1]"] == "" {
		t.Fatalf("bad: %v", bad)
	}
}

// FuzzParseFeatureCollection: any input parses or is refused with
// ErrInvalid; nothing panics, and every region returned is well formed.
func FuzzParseFeatureCollection(f *testing.F) {
	for _, seed := range []string{
		`{"type":"FeatureCollection","features":[]}`,
		`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"370502003901","name":"a","level":"grid","parent_code":"370502003","population":1},"geometry":null}]}`,
		`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"370502","name":"b","level":"county","parent_code":"370500","population":1e3},"geometry":{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]]]}}]}`,
		`{"type":"Feature"}`, `[]`, `null`, `{"type":"FeatureCollection","features":[null]}`,
	} {
		f.Add([]byte(seed))
	}
	// Decoders' own words, which a refusal must never repeat.
	leaks := []string{"json:", "Go value", "Go struct", "unmarshal", "unexpected end", "invalid character"}
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, bad, err := ParseFeatureCollection(data)
		if err != nil {
			if !errors.Is(err, errs.ErrInvalid) {
				t.Fatalf("error of another kind: %v", err)
			}
			for _, l := range leaks {
				if strings.Contains(err.Error(), l) {
					t.Fatalf("a decoder's text: %v", err)
				}
			}
			return
		}
		for k, msg := range bad {
			for _, l := range leaks {
				if strings.Contains(msg, l) {
					t.Fatalf("a decoder's text for %s: %s", k, msg)
				}
			}
		}
		for i, r := range rs {
			if r.Code == "" {
				continue
			}
			if !ValidCode(r.Code) || !r.Level.Valid() || r.Population < 0 || r.Name == "" {
				t.Fatalf("region %d accepted but malformed: %+v (bad %v)", i, r, bad)
			}
			if r.Boundary == nil {
				continue
			}
			// A boundary taken is one the checks can read: closed rings, in range.
			shape, err := ParseBoundary(r.Boundary)
			if err != nil || r.Centroid == nil {
				t.Fatalf("region %d accepted with a boundary that does not read back: %v (%s)", i, err, r.Boundary)
			}
			for _, poly := range shape.Polygons() {
				for _, ring := range poly {
					if len(ring) < 4 || ring[0] != ring[len(ring)-1] {
						t.Fatalf("region %d accepted with an open ring: %v", i, ring)
					}
				}
			}
		}
	})
}
