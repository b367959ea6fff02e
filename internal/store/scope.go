package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"pingan/internal/access"
	"pingan/internal/errs"
)

// scopeColumns names where a table keeps the region of its rows: either the
// codes of each level (cases: an indexed equality on the column of the
// scope's level) or a region path (a prefix match).
type scopeColumns struct {
	// byDepth[d] is the code column of the region at depth d (2 county … 5
	// grid); empty when the table keeps a path instead.
	byDepth [access.GridDepth + 1]string
	// path is the column holding a region path.
	path string
	// grid and reporter serve a grid worker's own view of cases.
	grid, reporter string
}

var (
	caseColumns = scopeColumns{
		byDepth: [access.GridDepth + 1]string{access.CountyDepth: "county_code", access.TownshipDepth: "township_code",
			access.CommunityDepth: "community_code", access.GridDepth: "region_code"},
		grid: "region_code", reporter: "reporter_id",
	}
	auditColumns  = scopeColumns{path: "region_path"}
	regionColumns = scopeColumns{path: "path"}
	userColumns   = scopeColumns{path: "regions.path"}
)

// applyScope is the one translation of the scope rule (access.ListScope)
// into SQL, used by every list that is filtered to a caller's scope.
func applyScope(q *gorm.DB, s access.Scope, cols scopeColumns) *gorm.DB {
	switch {
	case s.Reporter != "" && cols.reporter != "":
		return q.Where("("+cols.grid+" = ? OR "+cols.reporter+" = ?)", s.Grid, s.Reporter)
	case s.Everything():
		return q
	case cols.path != "":
		return q.Where(cols.path+" LIKE ?", likePrefix(s.Path))
	default:
		return q.Where(cols.byDepth[min(s.Depth, access.GridDepth)]+" = ?", s.Code)
	}
}

// FindRegionPath returns the region's path, or errs.ErrNotFound.
func (db *DB) FindRegionPath(ctx context.Context, code string) (string, error) {
	r, err := db.FindRegionByCode(ctx, code)
	if err != nil {
		return "", err
	}
	return r.Path, nil
}

var _ access.Regions = (*DB)(nil)

// FindCase returns where a case of kind "incident" or "dispute" lies and
// who reported it, for the photos' read rule. Returns errs.ErrNotFound if
// there is none.
func (db *DB) FindCase(ctx context.Context, kind, id string) (access.Case, error) {
	table := map[string]string{"incident": "incidents", "dispute": "disputes"}[kind]
	if table == "" {
		return access.Case{}, fmt.Errorf("case %s %s: %w", kind, id, errs.ErrNotFound)
	}
	var row struct {
		RegionCode, CommunityCode, TownshipCode, CountyCode, ReporterID string
	}
	err := db.conn(ctx).Table(table).Select("region_code, community_code, township_code, county_code, reporter_id").
		Where("id = ?", id).Take(&row).Error
	if err != nil {
		return access.Case{}, fmt.Errorf("find %s %s: %w", kind, id, translate(err))
	}
	return access.Case{Kind: kind, ID: id, ReporterID: row.ReporterID, Place: access.Place{County: row.CountyCode,
		Township: row.TownshipCode, Community: row.CommunityCode, Grid: row.RegionCode}}, nil
}
