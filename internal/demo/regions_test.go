package demo

import (
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"pingan/internal/region"
)

func TestRegionsDeterministic(t *testing.T) {
	a, b := Regions(), Regions()
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two calls of Regions differ")
	}
	// Callers get their own copies.
	a[1].Centroid.Lat = 0
	if Regions()[1].Centroid.Lat == 0 {
		t.Fatal("Regions shares centroids between calls")
	}
}

func TestRegionsTree(t *testing.T) {
	rs := Regions()
	if len(rs) == 0 || rs[0].Code != CityCode || rs[0].Level != region.City || rs[0].ParentCode != "" ||
		rs[0].Path != "/"+CityCode+"/" || rs[0].Name != "东营市" {
		t.Fatalf("root = %+v", rs[0])
	}
	byCode := map[string]region.Region{}
	codeLen := map[region.Level]int{region.City: 6, region.County: 6, region.Township: 9, region.Community: 12, region.Grid: 15}
	for i, r := range rs {
		if !region.ValidCode(r.Code) {
			t.Errorf("%d: invalid code %q", i, r.Code)
		}
		if _, dup := byCode[r.Code]; dup {
			t.Errorf("duplicate code %s", r.Code)
		}
		if len(r.Code) != codeLen[r.Level] {
			t.Errorf("%s (%s): code length %d at level %s", r.Code, r.Name, len(r.Code), r.Level)
		}
		if r.Name == "" || r.Population <= 0 || r.Centroid == nil {
			t.Errorf("%s: name %q population %d centroid %v", r.Code, r.Name, r.Population, r.Centroid)
		}
		if i > 0 {
			p, ok := byCode[r.ParentCode]
			if !ok {
				t.Errorf("%s: parent %q not earlier in the slice", r.Code, r.ParentCode)
				continue
			}
			if r.Level != p.Level.Child() {
				t.Errorf("%s: level %s under %s", r.Code, r.Level, p.Level)
			}
			if r.Path != p.Path+r.Code+"/" {
				t.Errorf("%s: path %q, parent path %q", r.Code, r.Path, p.Path)
			}
			if r.Level.Depth() >= region.Township.Depth() && !strings.HasPrefix(r.Code, p.Code) {
				t.Errorf("%s does not extend parent code %s", r.Code, p.Code)
			}
			if r.Centroid != nil && p.Centroid != nil &&
				(math.Abs(r.Centroid.Lat-p.Centroid.Lat) > 0.5 || math.Abs(r.Centroid.Lng-p.Centroid.Lng) > 0.5) {
				t.Errorf("%s: centroid %v far from parent's %v", r.Code, *r.Centroid, *p.Centroid)
			}
		}
		if c := r.Centroid; c != nil && (c.Lat < 36.9 || c.Lat > 38.2 || c.Lng < 118.0 || c.Lng > 119.3) {
			t.Errorf("%s: centroid %v outside Dongying", r.Code, *c)
		}
		byCode[r.Code] = r
	}
}

func TestRegionsCountsAndPopulations(t *testing.T) {
	rs := Regions()
	perLevel := map[region.Level]int{}
	children := map[string]int{}
	childPop := map[string]int64{}
	for _, r := range rs {
		perLevel[r.Level]++
		if r.ParentCode != "" {
			children[r.ParentCode]++
			childPop[r.ParentCode] += r.Population
		}
	}
	want := map[region.Level][2]int{
		region.City: {1, 1}, region.County: {5, 5}, region.Township: {25, 35},
		region.Community: {100, 150}, region.Grid: {300, 500},
	}
	for l, rg := range want {
		if n := perLevel[l]; n < rg[0] || n > rg[1] {
			t.Errorf("%d regions at level %s, want %d–%d", n, l, rg[0], rg[1])
		}
	}
	fan := map[region.Level][2]int{region.County: {4, 6}, region.Township: {3, 5}, region.Community: {2, 4}}
	for _, r := range rs {
		if rg, ok := fan[r.Level]; ok {
			if n := children[r.Code]; n < rg[0] || n > rg[1] {
				t.Errorf("%s %s has %d children, want %d–%d", r.Code, r.Name, n, rg[0], rg[1])
			}
		}
		if childPop[r.Code] > r.Population {
			t.Errorf("%s %s: children's population %d exceeds %d", r.Code, r.Name, childPop[r.Code], r.Population)
		}
		if r.Level == region.Community && (r.Population < 2_000 || r.Population > 15_000) {
			t.Errorf("community %s %s population %d", r.Code, r.Name, r.Population)
		}
	}
}

func TestRegionsCounties(t *testing.T) {
	want := map[string]string{
		"370502": "东营区", "370503": "河口区", "370505": "垦利区", "370522": "利津县", "370523": "广饶县",
	}
	got := map[string]string{}
	for _, r := range Regions() {
		if r.Level == region.County {
			got[r.Code] = r.Name
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("counties = %v, want %v", got, want)
	}
}

// find returns the region named name whose parent is parent.
func find(t *testing.T, rs []region.Region, parent, name string) region.Region {
	t.Helper()
	i := slices.IndexFunc(rs, func(r region.Region) bool { return r.ParentCode == parent && r.Name == name })
	if i < 0 {
		t.Fatalf("no %s under %s", name, parent)
	}
	return rs[i]
}

func TestRegionsSeedNames(t *testing.T) {
	rs := Regions()
	dc := find(t, rs, DongyingDistrict, "东城街道")
	fq := find(t, rs, dc.Code, "府前社区")
	find(t, rs, dc.Code, "金融港社区")
	dz := find(t, rs, GuangraoCounty, "稻庄镇")
	zh := find(t, rs, dz.Code, "淄河店社区")
	find(t, rs, GuangraoCounty, "大王镇")
	find(t, rs, "370522", "明集乡")
	find(t, rs, "370503", "六合街道")
	if fq.Population != 11_000 || zh.Population != 9_800 {
		t.Errorf("府前社区 %d, 淄河店社区 %d: want the seed's 11000 and 9800", fq.Population, zh.Population)
	}
}

func TestRegionsConstants(t *testing.T) {
	byCode := map[string]region.Region{}
	for _, r := range Regions() {
		byCode[r.Code] = r
	}
	cases := []struct {
		code  string
		level region.Level
		name  string
		under string
	}{
		{CityCode, region.City, "东营市", CityCode},
		{DongyingDistrict, region.County, "东营区", CityCode},
		{GuangraoCounty, region.County, "广饶县", CityCode},
		{DongchengStreet, region.Township, "东城街道", DongyingDistrict},
		{FuqianCommunity, region.Community, "府前社区", DongchengStreet},
		{FuqianGrid1, region.Grid, "府前社区第1网格", FuqianCommunity},
		{ZihedianCommunity, region.Community, "淄河店社区", GuangraoCounty},
		{GuangraoGrid1, region.Grid, "", GuangraoCounty},
	}
	for _, c := range cases {
		r, ok := byCode[c.code]
		if !ok {
			t.Errorf("%s: no such region", c.code)
			continue
		}
		if r.Level != c.level || (c.name != "" && r.Name != c.name) {
			t.Errorf("%s = %s %s, want %s %s", c.code, r.Level, r.Name, c.level, c.name)
		}
		if !strings.Contains(r.Path, "/"+c.under+"/") {
			t.Errorf("%s (path %s) not under %s", c.code, r.Path, c.under)
		}
	}
}
