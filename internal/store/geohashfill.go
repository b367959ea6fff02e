package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/pressly/goose/v3"

	"pingan/internal/heatmap"
)

// geohashVersion is the migration that adds the cases' geohash column.
const geohashVersion = 16

// applied lists the versions an Up applied, including those applied before
// a later one failed.
func applied(res []*goose.MigrationResult, err error) map[int64]bool {
	var partial *goose.PartialError
	if errors.As(err, &partial) {
		res = partial.Applied
	}
	out := map[int64]bool{}
	for _, r := range res {
		if r != nil && r.Source != nil && r.Error == nil {
			out[r.Source.Version] = true
		}
	}
	return out
}

// afterGeohashColumn fills the geohash of the cases stored before migration
// 16 added the column, right after the Up that applied it (a Go step after
// the SQL migration: the encoding is the geohash library's, not SQL). If the
// fill fails, migration 16 is undone, so that the next start applies it and
// fills again rather than leaving cases off the map.
func (db *DB) afterGeohashColumn(ctx context.Context, p *goose.Provider) error {
	err := db.fillGeohash(ctx)
	if err == nil {
		return nil
	}
	if _, derr := p.ApplyVersion(context.WithoutCancel(ctx), geohashVersion, false); derr != nil {
		return fmt.Errorf("%w (and undoing migration %d failed: %v)", err, geohashVersion, derr)
	}
	return err
}

// fillGeohash writes the geohash of every case that has a location and no
// geohash yet, a batch at a time in the order of ids.
func (db *DB) fillGeohash(ctx context.Context) error {
	batch := 1000
	if db.dialect == "sqlite" {
		batch = 100 // see BulkInsertIncidents
	}
	for _, table := range []string{"incidents", "disputes"} {
		after, filled := "", 0
		for {
			var rows []struct {
				ID       string
				Lat, Lng *float64
			}
			err := db.conn(ctx).Table(table).Select("id, lat, lng").
				Where("id > ? AND geohash IS NULL AND lat IS NOT NULL AND lng IS NOT NULL", after).
				Order("id").Limit(batch).Scan(&rows).Error
			if err != nil {
				return fmt.Errorf("fill geohash of %s: %w", table, translate(err))
			}
			if len(rows) == 0 {
				break
			}
			after = rows[len(rows)-1].ID
			// One UPDATE per batch: CASE id WHEN … THEN … END.
			var sql strings.Builder
			args := make([]any, 0, 3*len(rows))
			sql.WriteString("UPDATE " + table + " SET geohash = CASE id")
			ids := make([]any, len(rows))
			for i, r := range rows {
				sql.WriteString(" WHEN ? THEN ?")
				args = append(args, r.ID, heatmap.Geohash(r.Lat, r.Lng))
				ids[i] = r.ID
			}
			sql.WriteString(" END WHERE id IN (?" + strings.Repeat(", ?", len(rows)-1) + ")")
			if err := db.conn(ctx).Exec(sql.String(), append(args, ids...)...).Error; err != nil {
				return fmt.Errorf("fill geohash of %s: %w", table, translate(err))
			}
			filled += len(rows)
		}
		if filled > 0 {
			slog.InfoContext(ctx, "store: filled the geohash of older cases", slog.String("table", table), slog.Int("cases", filled))
		}
	}
	return nil
}
