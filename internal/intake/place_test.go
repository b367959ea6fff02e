package intake

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"pingan/internal/errs"
	"pingan/internal/region"
)

// square is a GeoJSON Polygon of the box, counter-clockwise and closed.
func square(minLng, minLat, maxLng, maxLat float64) []byte {
	return fmt.Appendf(nil, `{"type":"Polygon","coordinates":[[[%g,%g],[%g,%g],[%g,%g],[%g,%g],[%g,%g]]]}`,
		minLng, minLat, maxLng, minLat, maxLng, maxLat, minLng, maxLat, minLng, minLat)
}

// placesTree is a city with a boundary, a grid with one, a grid with a
// centroid only, a grid with neither, and a second city without any.
func placesTree() regions {
	return regions{
		"370500": {Code: "370500", Name: "东营市", Level: region.City, Path: "/370500/",
			Boundary: square(118.0, 36.9, 119.2, 38.2)},
		"370502003001001": {Code: "370502003001001", Name: "府前社区第1网格", Level: region.Grid,
			Path:     "/370500/370502/370502003/370502003001/370502003001001/",
			Boundary: square(118.57, 37.44, 118.59, 37.46), Centroid: &region.Point{Lat: 37.45, Lng: 118.58}},
		"370502003001002": {Code: "370502003001002", Name: "府前社区第2网格", Level: region.Grid,
			Path: "/370500/370502/370502003/370502003001/370502003001002/", Centroid: &region.Point{Lat: 37.45, Lng: 118.58}},
		"370502003001003": {Code: "370502003001003", Name: "府前社区第3网格", Level: region.Grid,
			Path: "/370500/370502/370502003/370502003001/370502003001003/"},
		"370600": {Code: "370600", Name: "烟台市", Level: region.City, Path: "/370600/"},
		"370602001001001": {Code: "370602001001001", Name: "芝罘网格", Level: region.Grid,
			Path: "/370600/370602/370602001/370602001001/370602001001001/"},
	}
}

func at(lat, lng float64) Location { return Location{Lat: &lat, Lng: &lng, Address: "x"} }

// TestPlacesCheck: the examples of issue #12 (Paris, (0, 0) and Beijing
// filed into a 府前社区 grid) and the other ways a point can be
// implausible, with the exact message each gets.
func TestPlacesCheck(t *testing.T) {
	tree := placesTree()
	g1, g2, g3, yantai := tree["370502003001001"], tree["370502003001002"], tree["370502003001003"], tree["370602001001001"]
	boundary := NewPlaces(tree, nil, DefaultGridRadiusKM)
	box := NewPlaces(tree, &Box{MinLng: 118.07, MinLat: 36.92, MaxLng: 119.17, MaxLat: 38.17}, 2)
	// 4 and 6 km east of the grid's eastern edge (118.59), at 37.45°N.
	east4, east6 := 118.59+4/(kmPerDegreeLng(37.45)), 118.59+6/(kmPerDegreeLng(37.45))
	for _, c := range []struct {
		name   string
		places *Places
		grid   region.Region
		loc    Location
		want   string // the message on "location", "" when accepted
	}{
		{"inside its grid", boundary, g1, at(37.45, 118.58), ""},
		{"no point", boundary, g1, Location{Address: "府前社区"}, ""},
		{"a point Report.Check refuses is left to it", boundary, g1, at(137, 118.58), "lat within ±90, lng within ±180"},
		{"Paris", boundary, g1, at(48.85, 2.35), "lat 48.85, lng 2.35 lies 8452 km outside the boundary of 东营市"},
		{"(0, 0)", boundary, g1, at(0, 0),
			"(0, 0) is where a phone without a position fix puts itself: send the place's lat and lng, or leave both out"},
		{"Beijing", boundary, g1, at(39.90, 116.40), "lat 39.9, lng 116.4 lies 234 km outside the boundary of 东营市"},
		{"lat and lng swapped", boundary, g1, at(118.58, 37.45),
			"lat within ±90, lng within ±180"},
		{"4 km from the grid's boundary", boundary, g1, at(37.45, east4), ""},
		{"6 km from the grid's boundary", boundary, g1, at(37.45, east6),
			fmt.Sprintf("lat 37.45, lng %g lies 6.0 km from the boundary of grid 府前社区第1网格 (370502003001001); a case lies within 5 km of its grid", east6)},
		{"a grid with a centroid only: 4 km", boundary, g2, at(37.45, 118.58+4/kmPerDegreeLng(37.45)), ""},
		{"a grid with a centroid only: 6 km", boundary, g2, at(37.45, 118.58+6/kmPerDegreeLng(37.45)),
			fmt.Sprintf("lat 37.45, lng %g lies 6.0 km from the centre of grid 府前社区第2网格 (370502003001002); a case lies within 5 km of its grid", 118.58+6/kmPerDegreeLng(37.45))},
		{"a grid with no shape: anywhere in the city", boundary, g3, at(38.1, 119.1), ""},
		{"a grid with no shape: not outside the city", boundary, g3, at(39.90, 116.40),
			"lat 39.9, lng 116.4 lies 234 km outside the boundary of 东营市"},
		{"a city with no boundary and no box: (0, 0) still refused", boundary, yantai, at(0, 0),
			"(0, 0) is where a phone without a position fix puts itself: send the place's lat and lng, or leave both out"},
		{"a city with no boundary and no box: elsewhere accepted", boundary, yantai, at(48.85, 2.35), ""},
		{"the box, when set, is the city", box, g1, at(37.45, 118.03), "lat 37.45, lng 118.03 lies outside 东营市 (lng 118.07 to 119.17, lat 36.92 to 38.17)"},
		{"Paris against the box", box, g1, at(48.85, 2.35), "lat 48.85, lng 2.35 lies outside 东营市 (lng 118.07 to 119.17, lat 36.92 to 38.17)"},
		{"the box's own radius", box, g1, at(37.45, east4),
			fmt.Sprintf("lat 37.45, lng %g lies 4.0 km from the boundary of grid 府前社区第1网格 (370502003001001); a case lies within 2 km of its grid", east4)},
	} {
		t.Run(c.name, func(t *testing.T) {
			bad := errs.FieldErrors{}
			Report{Location: c.loc, OccurredAt: testNow}.Check(bad, testNow)
			err := Join(bad.Err(), c.places.Check(context.Background(), c.grid, c.loc))
			want := errs.FieldErrors{}
			if c.want != "" {
				want["location"] = c.want
			}
			var got errs.FieldErrors
			if err != nil && !errors.As(err, &got) {
				t.Fatalf("error of another kind: %v", err)
			}
			if got == nil {
				got = errs.FieldErrors{}
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got  %v\nwant %v", got, want)
			}
		})
	}
}

var testNow = time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)

func kmPerDegreeLng(lat float64) float64 {
	return region.DistanceKM(region.Point{Lat: lat, Lng: 118}, region.Point{Lat: lat, Lng: 119})
}

// TestPlacesSwapHint: a point whose lat and lng, swapped, lie in the city
// says so. (Dongying's cannot be swapped into range, where Report.Check
// already refuses them; a city west of 90°E, such as Ürümqi, can.)
func TestPlacesSwapHint(t *testing.T) {
	tree := regions{
		"650100": {Code: "650100", Name: "乌鲁木齐市", Level: region.City, Path: "/650100/",
			Boundary: square(87.3, 43.6, 88.0, 44.1)},
		"650102001001001": {Code: "650102001001001", Name: "网格", Level: region.Grid,
			Path: "/650100/650102/650102001/650102001001/650102001001001/"},
	}
	err := NewPlaces(tree, nil, 5).Check(context.Background(), tree["650102001001001"], at(87.6, 43.8))
	want := errs.FieldErrors{"location": "lat 87.6, lng 43.8 lies 4913 km outside the boundary of 乌鲁木齐市 (are lat and lng swapped?)"}
	if !reflect.DeepEqual(err, error(want)) {
		t.Fatalf("got %v\nwant %v", err, want)
	}
}

// A city that cannot be read fails the check with the store's error.
type brokenRegions struct{ regions }

func (brokenRegions) FindRegionByCode(context.Context, string) (region.Region, error) {
	return region.Region{}, errors.New("database gone")
}

func TestPlacesStoreError(t *testing.T) {
	pl := NewPlaces(brokenRegions{placesTree()}, nil, 5)
	err := pl.Check(context.Background(), placesTree()["370502003001001"], at(37.45, 118.58))
	if err == nil || errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("err = %v, want the store's", err)
	}
}

func TestJoin(t *testing.T) {
	boom := errors.New("boom")
	for _, c := range []struct {
		in   []error
		want error
	}{
		{nil, nil},
		{[]error{nil, nil}, nil},
		{[]error{errs.Invalid("a", "1"), errs.FieldErrors{"a": "2", "b": "3"}}, errs.FieldErrors{"a": "1", "b": "3"}},
		{[]error{errs.Invalid("a", "1"), boom}, boom},
	} {
		if got := Join(c.in...); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Join(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}
