package config

import (
	"strings"
	"testing"
)

func TestPlacesSettings(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.CityBBox != nil || c.GridRadiusKM != 5 {
		t.Fatalf("defaults: bbox %v, radius %v", c.CityBBox, c.GridRadiusKM)
	}
	c, err = Load(env(map[string]string{"PINGAN_CITY_BBOX": " 118.07, 36.92,119.17,38.17", "PINGAN_GRID_RADIUS_KM": "2.5"}))
	if err != nil {
		t.Fatal(err)
	}
	if *c.CityBBox != (BBox{MinLng: 118.07, MinLat: 36.92, MaxLng: 119.17, MaxLat: 38.17}) || c.GridRadiusKM != 2.5 {
		t.Fatalf("set: bbox %v, radius %v", *c.CityBBox, c.GridRadiusKM)
	}
	for _, c := range []struct{ name, v, want string }{
		{"PINGAN_CITY_BBOX", "118.07,36.92,119.17", `PINGAN_CITY_BBOX: "118.07,36.92,119.17": want minLng,minLat,maxLng,maxLat in degrees, longitude first (e.g. 118.07,36.92,119.17,38.17)`},
		{"PINGAN_CITY_BBOX", "36.92,118.07,38.17,119.17", `PINGAN_CITY_BBOX: "36.92,118.07,38.17,119.17" lies outside longitude ±180 or latitude ±90; want minLng,minLat,maxLng,maxLat in degrees, longitude first (e.g. 118.07,36.92,119.17,38.17)`},
		{"PINGAN_CITY_BBOX", "119.17,36.92,118.07,38.17", `PINGAN_CITY_BBOX: "119.17,36.92,118.07,38.17": the minimum must be below the maximum; want minLng,minLat,maxLng,maxLat in degrees, longitude first (e.g. 118.07,36.92,119.17,38.17)`},
		{"PINGAN_CITY_BBOX", "118.07,36.92,119.17,NaN", `PINGAN_CITY_BBOX: "NaN" is not a number; want minLng,minLat,maxLng,maxLat in degrees, longitude first (e.g. 118.07,36.92,119.17,38.17)`},
		{"PINGAN_CITY_BBOX", "0x76,36.92,119.17,38.17", `PINGAN_CITY_BBOX: "0x76" is not a number; want minLng,minLat,maxLng,maxLat in degrees, longitude first (e.g. 118.07,36.92,119.17,38.17)`},
		{"PINGAN_GRID_RADIUS_KM", "0", `PINGAN_GRID_RADIUS_KM: "0" is not a number of kilometres above 0 and at most 1000 (e.g. 5)`},
		{"PINGAN_GRID_RADIUS_KM", "-3", `PINGAN_GRID_RADIUS_KM: "-3" is not a number of kilometres above 0 and at most 1000 (e.g. 5)`},
		{"PINGAN_GRID_RADIUS_KM", "5km", `PINGAN_GRID_RADIUS_KM: "5km" is not a number of kilometres above 0 and at most 1000 (e.g. 5)`},
		{"PINGAN_GRID_RADIUS_KM", "Inf", `PINGAN_GRID_RADIUS_KM: "Inf" is not a number of kilometres above 0 and at most 1000 (e.g. 5)`},
		{"PINGAN_GRID_RADIUS_KM", "1_0", `PINGAN_GRID_RADIUS_KM: "1_0" is not a number of kilometres above 0 and at most 1000 (e.g. 5)`},
		{"PINGAN_GRID_RADIUS_KM", "1e3", `PINGAN_GRID_RADIUS_KM: "1e3" is not a number of kilometres above 0 and at most 1000 (e.g. 5)`},
	} {
		_, err := Load(env(map[string]string{c.name: c.v}))
		if err == nil || err.Error() != c.want || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s=%s: %v\n want %s", c.name, c.v, err, c.want)
		}
	}
}
