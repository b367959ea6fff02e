// Package demo builds the demo data set of SPEC §3.3: a repeatable,
// seeded picture of Dongying city for first start and for tests.
package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"

	"pingan/internal/region"
)

// Codes of demo regions that other code (demo accounts, generated cases,
// tests) refers to by name.
const (
	// CityCode is 东营市, the root of the demo tree.
	CityCode = "370500"
	// DongyingDistrict is 东营区.
	DongyingDistrict = "370502"
	// GuangraoCounty is 广饶县.
	GuangraoCounty = "370523"
	// DongchengStreet is 东城街道 in 东营区.
	DongchengStreet = "370502003"
	// FuqianCommunity is 府前社区 in 东城街道.
	FuqianCommunity = "370502003001"
	// FuqianGrid1 is 府前社区第1网格, the first grid of 府前社区.
	FuqianGrid1 = "370502003001001"
	// GuangraoTownship is 稻庄镇 in 广饶县.
	GuangraoTownship = "370523101"
	// ZihedianCommunity is 淄河店社区 in 稻庄镇, 广饶县.
	ZihedianCommunity = "370523101001"
	// GuangraoGrid1 is 淄河店社区第1网格, a grid in 广饶县.
	GuangraoGrid1 = "370523101001001"
)

// county is one row of the named data: a county and its townships.
type county struct {
	code       string
	name       string
	population int64
	lat, lng   float64
	townships  []township
}

// township is a township of a county. Its code is the county code plus
// suffix, after the GB/T 2260 habit (街道 0xx, 镇 1xx, 乡 2xx); the
// suffixes are plausible, not authoritative. Communities ending in 村 are
// villages and number from 201, the others from 001.
type township struct {
	suffix      string
	name        string
	population  int64
	communities []string
}

// counties is the named part of the tree: the five real counties of
// Dongying with realistic populations and approximate centroids.
var counties = []county{
	{"370502", "东营区", 880_000, 37.46, 118.58, []township{
		{"001", "文汇街道", 150_000, []string{"育才社区", "向阳社区", "淄博路社区", "文汇社区", "锦华社区"}},
		{"002", "黄河路街道", 120_000, []string{"黄河路社区", "明珠社区", "安泰社区", "利民社区"}},
		{"003", "东城街道", 190_000, []string{"府前社区", "金融港社区", "丽景社区", "新安社区", "东湖社区"}},
		{"004", "辛店街道", 110_000, []string{"辛店社区", "广南社区", "油建社区", "胜采社区"}},
		{"005", "胜利街道", 90_000, []string{"胜利社区", "运输社区", "胜东社区", "滨河社区"}},
		{"100", "牛庄镇", 60_000, []string{"牛庄社区", "刘家村", "大王庄村", "前进村"}},
	}},
	{"370503", "河口区", 250_000, 37.89, 118.53, []township{
		{"001", "河口街道", 70_000, []string{"河口社区", "海宁社区", "海盛社区", "河滨社区", "新兴社区"}},
		{"002", "六合街道", 35_000, []string{"六合社区", "城东社区", "东兴社区", "孤北村"}},
		{"100", "义和镇", 30_000, []string{"义和社区", "西渔村", "东坝村", "甜水村"}},
		{"101", "仙河镇", 40_000, []string{"仙河社区", "孤东社区", "五号桩社区"}},
		{"102", "孤岛镇", 30_000, []string{"孤岛社区", "垦东村", "合作村", "新林村"}},
		{"103", "新户镇", 20_000, []string{"新户社区", "太平村", "英雄滩村"}},
	}},
	{"370505", "垦利区", 250_000, 37.59, 118.55, []township{
		{"001", "垦利街道", 75_000, []string{"垦利社区", "西城社区", "民丰社区", "大张社区", "宁海社区"}},
		{"002", "兴隆街道", 35_000, []string{"兴隆社区", "前河村", "东兴村", "五一村"}},
		{"100", "胜坨镇", 45_000, []string{"胜坨社区", "宁海村", "海王村", "王院村"}},
		{"101", "郝家镇", 25_000, []string{"郝家社区", "王家村", "坨庄村"}},
		{"102", "永安镇", 25_000, []string{"永安社区", "三合村", "惠鲁村", "联合村"}},
		{"103", "黄河口镇", 20_000, []string{"黄河口社区", "友林村", "建林村"}},
	}},
	{"370522", "利津县", 290_000, 37.49, 118.26, []township{
		{"001", "利津街道", 80_000, []string{"城关社区", "凤凰社区", "南关社区", "西关社区", "津城社区"}},
		{"100", "北宋镇", 45_000, []string{"北宋社区", "佟家村", "高家村", "西码头村"}},
		{"101", "盐窝镇", 45_000, []string{"盐窝社区", "南岭村", "前关村", "大张村"}},
		{"102", "陈庄镇", 40_000, []string{"陈庄社区", "付窝村", "罗家屋子村", "孟家村"}},
		{"103", "汀罗镇", 30_000, []string{"汀罗社区", "前刘村", "高盖村"}},
		{"200", "明集乡", 30_000, []string{"明集社区", "东明集村", "前路村", "北岭村"}},
	}},
	{"370523", "广饶县", 510_000, 37.05, 118.41, []township{
		{"001", "广饶街道", 120_000, []string{"城东社区", "城西社区", "孙武社区", "大桓台社区", "宜和社区"}},
		{"002", "乐安街道", 80_000, []string{"乐安社区", "花园社区", "东营子村", "颜徐村"}},
		{"100", "大王镇", 90_000, []string{"大王社区", "杨桥村", "延集村", "崔家村", "西刘桥村"}},
		{"101", "稻庄镇", 70_000, []string{"淄河店社区", "稻庄社区", "西水村", "大营村"}},
		{"102", "丁庄镇", 50_000, []string{"丁庄社区", "贾寨村", "东寨村", "刘集村"}},
		{"103", "李鹊镇", 45_000, []string{"李鹊社区", "王道村", "后周村", "营子村"}},
	}},
}

// knownPopulation holds the community populations the seed article gives;
// the others are generated.
var knownPopulation = map[string]int64{
	"府前社区":  11_000,
	"淄河店社区": 9_800,
}

// Regions returns the demo region tree of Dongying: the city, its five
// counties, townships, communities and grids, parents before children, each
// with Path set ("/370500/370502/370502003/…/"), a population, and a
// generated boundary (a convex polygon; children tile their parent, see
// shapes.go) with its centroid. Deterministic; each call returns copies.
func Regions() []region.Region {
	nodes := tree()
	out := make([]region.Region, len(nodes))
	for i, n := range nodes {
		r := n.r
		c := *r.Centroid
		r.Centroid = &c
		r.Boundary = append([]byte(nil), r.Boundary...)
		out[i] = r
	}
	return out
}

// node is one region of the demo tree as it is built: the two numbers its
// seed is drawn from, or its fixed seed, and its children and cell.
type node struct {
	r        region.Region
	draw     [2]float64
	fixed    *vec
	children []int
	cell     poly
}

// tree is the demo tree, built once.
var tree = sync.OnceValue(buildTree)

// cellOf is the cell of every demo region by code.
var cellOf = sync.OnceValue(func() map[string]poly {
	out := map[string]poly{}
	for _, n := range tree() {
		out[n.r.Code] = n.cell
	}
	return out
})

func buildTree() []node {
	rng := rand.New(rand.NewPCG(2026, 1127))
	anchor := toPlane(ExamplePoint)
	nodes := []node{{r: region.Region{Code: CityCode, Name: "东营市", Level: region.City, Path: "/" + CityCode + "/",
		Population: 2_190_000}}}
	add := func(parent int, code, name string, population int64, draw [2]float64, fixed *vec) int {
		p := nodes[parent].r
		nodes = append(nodes, node{r: region.Region{Code: code, Name: name, Level: p.Level.Child(), ParentCode: p.Code,
			Path: p.Path + code + "/", Population: population}, draw: draw, fixed: fixed})
		i := len(nodes) - 1
		nodes[parent].children = append(nodes[parent].children, i)
		return i
	}
	// The draws come from the source in the order they always have, so that
	// populations stay what they were before the regions had shapes.
	draw := func() [2]float64 { return [2]float64{rng.Float64(), rng.Float64()} }
	at := func(code, anchored string) *vec {
		if code == anchored {
			return &anchor
		}
		return nil
	}
	for _, c := range counties {
		seed := toPlane(region.Point{Lat: c.lat, Lng: c.lng})
		ci := add(0, c.code, c.name, c.population, [2]float64{}, &seed)
		for _, t := range c.townships {
			tcode := c.code + t.suffix
			ti := add(ci, tcode, t.name, t.population, draw(), at(tcode, DongchengStreet))
			limit := min(15_000, t.population*85/100/int64(len(t.communities)))
			shequ, cun := 0, 200
			for _, name := range t.communities {
				var code string
				if strings.HasSuffix(name, "村") {
					cun++
					code = fmt.Sprintf("%s%03d", tcode, cun)
				} else {
					shequ++
					code = fmt.Sprintf("%s%03d", tcode, shequ)
				}
				pop := communityPopulation(rng, name, limit)
				mi := add(ti, code, name, pop, draw(), at(code, FuqianCommunity))
				for i, gp := range split(rng, pop, 2+rng.IntN(3)) {
					gcode := fmt.Sprintf("%s%03d", code, i+1)
					add(mi, gcode, fmt.Sprintf("%s第%d网格", name, i+1), gp, draw(), at(gcode, FuqianGrid1))
				}
			}
		}
	}
	outline := make(poly, len(cityOutline))
	for i, p := range cityOutline {
		outline[i] = toPlane(p)
	}
	nodes[0].cell = outline
	for i := range nodes { // parents come before their children
		kids := nodes[i].children
		if len(kids) == 0 {
			continue
		}
		draws, fixed := make([][2]float64, len(kids)), make([]*vec, len(kids))
		for k, ki := range kids {
			draws[k], fixed[k] = nodes[ki].draw, nodes[ki].fixed
		}
		for k, c := range tile(nodes[i].cell, draws, fixed) {
			nodes[kids[k]].cell = c
		}
	}
	for i := range nodes {
		c := toPoint(nodes[i].cell.centroid())
		nodes[i].r.Centroid = &region.Point{Lat: round6(c.Lat), Lng: round6(c.Lng)}
		nodes[i].r.Boundary = nodes[i].cell.geoJSON()
	}
	return nodes
}

// PointIn is the point of the demo region code that u and v, each in
// [0, 1), name: spread uniformly over its area as u and v are over their
// square, rounded to 6 decimals. The generators place cases with it.
// Panics for a code that is not a demo region.
func PointIn(code string, u, v float64) region.Point {
	c, ok := cellOf()[code]
	if !ok {
		panic("demo: no region " + code)
	}
	p := toPoint(c.pointIn(u, v))
	return region.Point{Lat: round6(p.Lat), Lng: round6(p.Lng)}
}

// communityPopulation is the seed's figure for name, else a draw of at
// most limit: urban communities are larger than villages.
func communityPopulation(rng *rand.Rand, name string, limit int64) int64 {
	if p, ok := knownPopulation[name]; ok {
		return p
	}
	lo, hi := max(2_000, limit/2), limit
	if strings.HasSuffix(name, "村") {
		lo, hi = 2_000, max(2_000, min(limit, 4_500))
	}
	return lo + rng.Int64N(hi-lo+1)
}

// split shares total among n parts of similar size that sum to total.
func split(rng *rand.Rand, total int64, n int) []int64 {
	w := make([]float64, n)
	var sum float64
	for i := range w {
		w[i] = 0.7 + 0.6*rng.Float64()
		sum += w[i]
	}
	parts := make([]int64, n)
	rest := total
	for i := range n - 1 {
		parts[i] = int64(float64(total) * w[i] / sum)
		rest -= parts[i]
	}
	parts[n-1] = rest
	return parts
}

func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }
