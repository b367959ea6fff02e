package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"pingan/internal/region"
)

type regionRow struct {
	Code        string `gorm:"primaryKey"`
	Name        string
	Level       string
	ParentCode  *string
	Path        string
	Population  int64
	CentroidLat *float64
	CentroidLng *float64
	Boundary    *string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (regionRow) TableName() string { return "regions" }

func (r regionRow) domain() region.Region {
	out := region.Region{Code: r.Code, Name: r.Name, Level: region.Level(r.Level), Path: r.Path, Population: r.Population}
	if r.ParentCode != nil {
		out.ParentCode = *r.ParentCode
	}
	if r.CentroidLat != nil && r.CentroidLng != nil {
		out.Centroid = &region.Point{Lat: *r.CentroidLat, Lng: *r.CentroidLng}
	}
	if r.Boundary != nil {
		out.Boundary = []byte(*r.Boundary)
	}
	return out
}

func regionToRow(r region.Region, now time.Time) regionRow {
	row := regionRow{Code: r.Code, Name: r.Name, Level: string(r.Level), Path: r.Path, Population: r.Population,
		CreatedAt: now, UpdatedAt: now}
	if r.ParentCode != "" {
		p := r.ParentCode
		row.ParentCode = &p
	}
	if r.Centroid != nil {
		lat, lng := r.Centroid.Lat, r.Centroid.Lng
		row.CentroidLat, row.CentroidLng = &lat, &lng
	}
	if len(r.Boundary) > 0 {
		b := string(r.Boundary)
		row.Boundary = &b
	}
	return row
}

// FindRegionByCode returns errs.ErrNotFound if there is no such region.
func (db *DB) FindRegionByCode(ctx context.Context, code string) (region.Region, error) {
	if r, ok := db.regions.get(code); ok {
		return r, nil
	}
	var row regionRow
	if err := db.conn(ctx).Take(&row, "code = ?", code).Error; err != nil {
		return region.Region{}, fmt.Errorf("find region %s: %w", code, translate(err))
	}
	r := row.domain()
	db.regions.put(code, r)
	return r, nil
}

// FindRegions lists regions in f.Scope's subtree, ordered by code. Lists
// leave out boundaries, which can be large; read one region to get its own.
func (db *DB) FindRegions(ctx context.Context, f region.Filter) ([]region.Region, error) {
	q := applyScope(db.conn(ctx).Omit("boundary"), f.Scope, regionColumns)
	if f.Parent != "" {
		q = q.Where("parent_code = ?", f.Parent)
	}
	if f.Level != "" {
		q = q.Where("level = ?", string(f.Level))
	}
	if f.After != "" {
		q = q.Where("code > ?", f.After)
	}
	var rows []regionRow
	if err := q.Order("code").Limit(f.Limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("find regions: %w", translate(err))
	}
	out := make([]region.Region, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// UpsertRegions writes all regions in one transaction; the caller orders
// parents before children. Existing regions keep their created_at.
func (db *DB) UpsertRegions(ctx context.Context, rs []region.Region) error {
	defer db.regions.clear()
	now := utc(time.Now())
	return db.tx(ctx, func(tx *gorm.DB) error {
		for _, r := range rs {
			row := regionToRow(r, now)
			err := tx.Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "code"}},
				DoUpdates: clause.AssignmentColumns([]string{"name", "level", "parent_code", "path", "population", "centroid_lat", "centroid_lng", "boundary", "updated_at"}),
			}).Create(&row).Error
			if err != nil {
				return fmt.Errorf("upsert region %s: %w", r.Code, err)
			}
		}
		return nil
	})
}

// likePrefix makes a LIKE prefix pattern of a path. Region codes are
// validated to be alphanumeric, so a path has no wildcards; any that slipped
// in are dropped rather than allowed to widen the match.
func likePrefix(p string) string {
	out := make([]byte, 0, len(p)+1)
	for i := 0; i < len(p); i++ {
		if p[i] == '%' || p[i] == '_' || p[i] == '\\' {
			continue
		}
		out = append(out, p[i])
	}
	return string(out) + "%"
}
