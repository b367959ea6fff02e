package store

import (
	"context"
	"database/sql"
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
// only.
func (db *DB) heatQuery(ctx context.Context, table string, f heatmap.Filter) *gorm.DB {
	q := db.conn(ctx).Table(table).Where("created_at >= ? AND created_at < ?", utc(f.Start), utc(f.End))
	if f.Category != "" {
		q = q.Where("category = ?", f.Category)
	}
	return applyScope(q, f.Scope, caseColumns)
}

// cellsQuery reads the geohash prefix of f.Precision characters of each of
// f's cases in one table (NULL without a location). SUBSTR reads the same on
// both engines; the precision, checked by the service to be 5 to 8, is
// written into the statement.
func (db *DB) cellsQuery(ctx context.Context, table string, f heatmap.Filter) (*gorm.DB, error) {
	if f.Precision < 1 || f.Precision > heatmap.StoredPrecision {
		return nil, fmt.Errorf("count cells: precision %d out of range", f.Precision)
	}
	return db.heatQuery(ctx, table, f).Select(fmt.Sprintf("SUBSTR(geohash, 1, %d)", f.Precision)), nil
}

// communitiesQuery reads the community of each of f's cases in one table.
func (db *DB) communitiesQuery(ctx context.Context, table string, f heatmap.Filter) *gorm.DB {
	return db.heatQuery(ctx, table, f).Select("community_code")
}

// CountCells counts f's cases per geohash prefix of f.Precision characters,
// "" for the cases without a location: one range scan of each kind's heat
// index, counted here as the rows arrive. MariaDB's GROUP BY of the same
// rows spent two to three times as long in its temporary table as in
// reading the index (docs/performance.md), as early warning's counts did.
func (db *DB) CountCells(ctx context.Context, f heatmap.Filter) ([]heatmap.Count, error) {
	counts := map[string]int{}
	for _, kind := range f.Kinds {
		q, err := db.cellsQuery(ctx, caseTables[kind], f)
		if err != nil {
			return nil, err
		}
		if err := countRows(q, counts); err != nil {
			return nil, fmt.Errorf("count %s cells: %w", kind, err)
		}
	}
	return countList(counts), nil
}

// CountCommunities counts f's cases per community code, as CountCells.
func (db *DB) CountCommunities(ctx context.Context, f heatmap.Filter) ([]heatmap.Count, error) {
	counts := map[string]int{}
	for _, kind := range f.Kinds {
		if err := countRows(db.communitiesQuery(ctx, caseTables[kind], f), counts); err != nil {
			return nil, fmt.Errorf("count %s by community: %w", kind, err)
		}
	}
	return countList(counts), nil
}

// countRows adds up the rows of q, a query of one column, by value (NULL
// counts as "").
func countRows(q *gorm.DB, counts map[string]int) error {
	rows, err := q.Rows()
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	var v sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&v); err != nil {
			return translate(err)
		}
		counts[string(v)]++ // no copy unless the key is new
	}
	return translate(rows.Err())
}

// countList is counts as a list.
func countList(counts map[string]int) []heatmap.Count {
	out := make([]heatmap.Count, 0, len(counts))
	for k, n := range counts {
		out = append(out, heatmap.Count{Key: k, N: n})
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
