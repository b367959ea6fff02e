package benchdb

import (
	"fmt"

	"pingan/internal/demo"
	"pingan/internal/region"
)

// Grid is a demo grid with the codes of its ancestors, as an incident row
// stores them, and what a generated report needs to look plausible.
type Grid struct {
	Code, CommunityCode, TownshipCode, CountyCode string
	// Name is the grid's name, e.g. 府前社区第1网格; CommunityName its community's.
	Name, CommunityName string
	Population          int64
	Lat, Lng            float64
}

// Grids returns the 360 grids of the demo region tree (demo.Regions), in
// tree order.
func Grids() []Grid {
	regions := demo.Regions()
	byCode := make(map[string]region.Region, len(regions))
	for _, r := range regions {
		byCode[r.Code] = r
	}
	var out []Grid
	for _, r := range regions {
		if r.Level != region.Grid {
			continue
		}
		community := byCode[r.ParentCode]
		township := byCode[community.ParentCode]
		g := Grid{
			Code: r.Code, CommunityCode: community.Code, TownshipCode: township.Code, CountyCode: township.ParentCode,
			Name: r.Name, CommunityName: community.Name, Population: r.Population,
		}
		if r.Centroid != nil {
			g.Lat, g.Lng = r.Centroid.Lat, r.Centroid.Lng
		}
		out = append(out, g)
	}
	return out
}

// FindGrid returns the demo grid with the given code.
func FindGrid(code string) (Grid, error) {
	for _, g := range Grids() {
		if g.Code == code {
			return g, nil
		}
	}
	return Grid{}, fmt.Errorf("no demo grid %q", code)
}

// Townships returns the codes of the 30 demo townships, in tree order.
func Townships() []string {
	var out []string
	for _, r := range demo.Regions() {
		if r.Level == region.Township {
			out = append(out, r.Code)
		}
	}
	return out
}
