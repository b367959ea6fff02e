package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"pingan/internal/access"
	"pingan/internal/heatmap"
	"pingan/internal/region"
)

// geohashOf is the geohash column of a case at (lat, lng): NULL without a
// location.
func geohashOf(lat, lng *float64) *string {
	if g := heatmap.Geohash(lat, lng); g != "" {
		return &g
	}
	return nil
}

// caseTables are the tables of the case kinds.
var caseTables = map[string]string{"incident": "incidents", "dispute": "disputes"}

// heatQuery is f's cases in one table: for the city, a range of the heat
// index alone (incidents_heat, disputes_heat: created_at first, then every
// column read here); narrowed to a region, the optimizer may rather take
// the level's (code, created_at, id) index, which reads that region's rows
// only. The groups need no order (ORDER BY NULL spares MariaDB a sort).
func (db *DB) heatQuery(ctx context.Context, table string, f heatmap.Filter) *gorm.DB {
	q := db.conn(ctx).Table(table).Where("created_at >= ? AND created_at < ?", utc(f.Start), utc(f.End))
	if f.Category != "" {
		q = q.Where("category = ?", f.Category)
	}
	return applyScope(q, f.Scope, caseColumns)
}

// cellsQuery counts f's cases of one table per geohash prefix: SUBSTR reads
// the same on both engines. The precision, checked by the service to be 5
// to 8, is written into the statement, since MySQL groups by an expression
// with a placeholder only if it is the very same placeholder.
func (db *DB) cellsQuery(ctx context.Context, table string, f heatmap.Filter) (*gorm.DB, error) {
	if f.Precision < 1 || f.Precision > heatmap.StoredPrecision {
		return nil, fmt.Errorf("count cells: precision %d out of range", f.Precision)
	}
	cell := fmt.Sprintf("COALESCE(SUBSTR(geohash, 1, %d), '')", f.Precision)
	return db.heatQuery(ctx, table, f).Select(cell + " AS `key`, COUNT(*) AS n").Group(cell).Order("NULL"), nil
}

// CountCells counts f's cases per geohash prefix of f.Precision characters,
// "" for the cases without a location, one range scan of each kind's heat
// index.
func (db *DB) CountCells(ctx context.Context, f heatmap.Filter) ([]heatmap.Count, error) {
	var out []heatmap.Count
	for _, kind := range f.Kinds {
		q, err := db.cellsQuery(ctx, caseTables[kind], f)
		if err != nil {
			return nil, err
		}
		var rows []heatmap.Count
		if err := q.Scan(&rows).Error; err != nil {
			return nil, fmt.Errorf("count %s cells: %w", kind, translate(err))
		}
		out = append(out, rows...)
	}
	return sumCounts(out), nil
}

// CountCommunities counts f's cases per community code.
func (db *DB) CountCommunities(ctx context.Context, f heatmap.Filter) ([]heatmap.Count, error) {
	var out []heatmap.Count
	for _, kind := range f.Kinds {
		var rows []heatmap.Count
		if err := db.communitiesQuery(ctx, caseTables[kind], f).Scan(&rows).Error; err != nil {
			return nil, fmt.Errorf("count %s by community: %w", kind, translate(err))
		}
		out = append(out, rows...)
	}
	return sumCounts(out), nil
}

// communitiesQuery counts f's cases of one table per community.
func (db *DB) communitiesQuery(ctx context.Context, table string, f heatmap.Filter) *gorm.DB {
	return db.heatQuery(ctx, table, f).Select("community_code AS `key`, COUNT(*) AS n").Group("community_code").Order("NULL")
}

// sumCounts adds up the counts of each key (one per kind), in first-seen order.
func sumCounts(in []heatmap.Count) []heatmap.Count {
	at := map[string]int{}
	out := in[:0:0]
	for _, c := range in {
		if i, ok := at[c.Key]; ok {
			out[i].N += c.N
			continue
		}
		at[c.Key] = len(out)
		out = append(out, c)
	}
	return out
}

// FindCommunities lists the communities in scope by code, with their
// population and boundary (the choropleth's shapes).
func (db *DB) FindCommunities(ctx context.Context, scope access.Scope) ([]region.Region, error) {
	q := applyScope(db.conn(ctx).Where("level = ?", string(region.Community)), scope, regionColumns)
	var rows []regionRow
	if err := q.Order("code").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("find communities: %w", translate(err))
	}
	out := make([]region.Region, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

var _ heatmap.Store = (*DB)(nil)
