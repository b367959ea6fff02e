package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"pingan/internal/access"
	"pingan/internal/demo"
	"pingan/internal/dispute"
	"pingan/internal/heatmap"
	"pingan/internal/incident"
	"pingan/internal/region"
)

// TestHeatmapQueriesUseIndexes checks on MariaDB, with EXPLAIN, that a heat
// map — by cell and by community, for the city, a county and a community,
// with and without a category — is one range scan without a sort: for the
// city, of the heat index alone (incidents_heat, disputes_heat: "Using
// index", no row read), the design that keeps a city's month within SPEC
// §13.1's 300 ms; for a region, of that or of the level's own index.
func TestHeatmapQueriesUseIndexes(t *testing.T) {
	ctx := context.Background()
	db := migratedMySQL(t)
	var grids []region.Region
	for _, r := range demo.Regions() {
		if r.Level == region.Grid {
			grids = append(grids, r)
		}
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const n = 6000
	incs := make([]incident.Incident, 0, n)
	ds := make([]dispute.Dispute, 0, n/5)
	for i := range n {
		g := grids[i%len(grids)]
		p := access.PlaceOf(g.Path)
		at := base.Add(time.Duration(i) * 37 * time.Minute) // about five months
		lat, lng := 37.3+float64(i%97)*0.003, 118.4+float64(i%89)*0.004
		incs = append(incs, incident.Incident{ID: fmt.Sprintf("0193f1b2-0000-7000-8000-%012d", i),
			CaseNo: fmt.Sprintf("SJ-X-%06d", i), Category: []string{"public_order", "traffic", "fire"}[i%3],
			Severity: incident.Low, Status: incident.Reported, Location: incident.Location{Lat: &lat, Lng: &lng},
			RegionCode: g.Code, CommunityCode: p.Community, TownshipCode: p.Township, CountyCode: p.County,
			OccurredAt: at, ReportedAt: at, ReporterID: "u", Version: 1, CreatedAt: at, UpdatedAt: at})
		if i%5 == 0 {
			ds = append(ds, dispute.Dispute{ID: fmt.Sprintf("0193f1b2-0000-7000-9000-%012d", i),
				CaseNo: fmt.Sprintf("JF-X-%06d", i), Category: "neighbourhood", Location: dispute.Location{Lat: &lat, Lng: &lng},
				RegionCode: g.Code, CommunityCode: p.Community, TownshipCode: p.Township, CountyCode: p.County,
				CityCode: demo.CityCode, OccurredAt: at, ReportedAt: at, ReporterID: "u", Risk: dispute.RiskLow,
				Status: dispute.Registered, Level: region.Community, LevelCode: p.Community, EnteredLevelAt: at,
				Version: 1, CreatedAt: at, UpdatedAt: at})
		}
	}
	if err := db.BulkInsertIncidents(ctx, incs, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.BulkInsertDisputes(ctx, ds, nil, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"incidents", "disputes"} {
		if err := db.gorm.Exec("ANALYZE TABLE " + table).Error; err != nil {
			t.Fatal(err)
		}
	}
	county := access.Scope{Path: "/" + demo.CityCode + "/" + demo.DongyingDistrict + "/", Code: demo.DongyingDistrict,
		Depth: access.CountyDepth}
	community := access.Scope{Path: county.Path + demo.DongchengStreet + "/" + demo.FuqianCommunity + "/",
		Code: demo.FuqianCommunity, Depth: access.CommunityDepth}
	month := heatmap.Filter{Start: base.AddDate(0, 1, 0), End: base.AddDate(0, 2, 0), Precision: 6}
	for _, c := range []struct {
		name  string
		scope access.Scope
		cat   string
	}{
		{"city", access.Scope{}, ""},
		{"county", county, ""},
		{"community", community, ""},
		{"county category", county, "traffic"},
	} {
		f := month
		f.Scope, f.Category = c.scope, c.cat
		for _, table := range []string{"incidents", "disputes"} {
			cells, err := db.cellsQuery(ctx, table, f)
			if err != nil {
				t.Fatal(err)
			}
			for what, q := range map[string]*gorm.DB{"cells": cells, "communities": db.communitiesQuery(ctx, table, f)} {
				t.Run(c.name+" "+table+" "+what, func(t *testing.T) {
					plan := explain(t, db, q)
					heat := table + "_heat"
					if len(plan) != 1 || plan[0]["type"] != "range" || strings.Contains(plan[0]["Extra"], "filesort") {
						t.Fatalf("not one range scan, unsorted: %v", plan)
					}
					// The city: the heat index alone. A region: that, or the
					// level's own index (a range of the region's rows only).
					level := map[int]string{access.CountyDepth: "_county", access.CommunityDepth: "_community"}[c.scope.Depth]
					switch key := plan[0]["key"]; {
					case key == heat && strings.Contains(plan[0]["Extra"], "Using index") &&
						!strings.Contains(plan[0]["Extra"], "Using index condition"):
					case level != "" && key == table+level:
					default:
						t.Fatalf("reads %s, not %s alone or the level's index: %v", key, heat, plan)
					}
				})
			}
		}
	}
}
