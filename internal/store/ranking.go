package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-sql-driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"pingan/internal/index"
	"pingan/internal/ranking"
	"pingan/internal/region"
)

type resultRow struct {
	Level      string `gorm:"primaryKey"`
	PeriodKind string `gorm:"primaryKey"`
	Period     string `gorm:"primaryKey"`
	RegionCode string `gorm:"primaryKey"`
	ParentCode string
	Score      float64
	RankCity   int
	Band       string
	Complete   bool
	Detail     string
	ComputedAt time.Time
}

func (resultRow) TableName() string { return "index_results" }

// domain maps the row back, without its detail.
func (r resultRow) domain() ranking.Row {
	return ranking.Row{Level: region.Level(r.Level), PeriodKind: r.PeriodKind, Period: r.Period, RegionCode: r.RegionCode,
		ParentCode: r.ParentCode, Score: r.Score, Rank: r.RankCity, Band: index.Band(r.Band), Complete: r.Complete,
		ComputedAt: r.ComputedAt}
}

// detail reads the row's detail; one that cannot be read is an error
// (logged with the row's key).
func (r resultRow) detail(ctx context.Context) (ranking.Detail, error) {
	var c detailColumn
	key := r.Level + "/" + r.PeriodKind + "/" + r.Period + "/" + r.RegionCode
	if err := decodeColumn(ctx, "index_results", key, "detail", r.Detail, &c); err != nil {
		return ranking.Detail{}, err
	}
	return c.domain(), nil
}

// FindRegionsAt lists every region of a level, by code.
func (db *DB) FindRegionsAt(ctx context.Context, level region.Level) ([]region.Region, error) {
	var rows []regionRow
	if err := db.conn(ctx).Omit("boundary").Where("level = ?", string(level)).Order("code").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("find regions: %w", translate(err))
	}
	out := make([]region.Region, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// ReplaceResults swaps the results of a level and period in one transaction.
func (db *DB) ReplaceResults(ctx context.Context, level region.Level, kind, period string, rows []ranking.Row) error {
	out := make([]resultRow, len(rows))
	for i, r := range rows {
		out[i] = resultRow{Level: string(r.Level), PeriodKind: r.PeriodKind, Period: r.Period, RegionCode: r.RegionCode,
			ParentCode: r.ParentCode, Score: r.Score, RankCity: r.Rank, Band: string(r.Band), Complete: r.Complete,
			Detail: columnText(detailToColumn(r.Detail)), ComputedAt: utc(r.ComputedAt)}
	}
	batch := 200
	if db.dialect == "sqlite" {
		batch = 50
	}
	codes := make([]string, len(out))
	for i, r := range out {
		codes[i] = r.RegionCode
	}
	write := func(tx *gorm.DB) error {
		// Upserts, not delete-and-insert: a range DELETE takes gap locks, and
		// instances computing neighbouring periods at once would deadlock.
		if len(out) > 0 {
			err := tx.Clauses(clause.OnConflict{
				Columns: []clause.Column{{Name: "level"}, {Name: "period_kind"}, {Name: "period"}, {Name: "region_code"}},
				DoUpdates: clause.AssignmentColumns([]string{"parent_code", "score", "rank_city", "band", "complete", "detail",
					"computed_at"}),
			}).CreateInBatches(out, batch).Error
			if err != nil {
				return err
			}
		}
		var n int64
		q := tx.Model(&resultRow{}).Where("level = ? AND period_kind = ? AND period = ?", string(level), kind, period)
		if err := q.Count(&n).Error; err != nil || n == int64(len(out)) {
			return err
		}
		// A region is gone since the last computation: drop its row.
		return tx.Where("level = ? AND period_kind = ? AND period = ? AND region_code NOT IN ?", string(level), kind, period, codes).
			Delete(&resultRow{}).Error
	}
	var err error
	for range 3 { // MySQL may still pick this transaction as a deadlock victim: try again
		if err = db.tx(ctx, write); err == nil || !isDeadlock(err) {
			break
		}
	}
	return err
}

// isDeadlock reports MySQL's "deadlock found" (1213), after which the
// transaction was rolled back and may simply be run again.
func isDeadlock(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == 1213
}

// isDuplicate reports MySQL's "duplicate entry" (1062) on a statement GORM
// did not run (GORM translates its own).
func isDuplicate(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == 1062
}

type valueRow struct {
	PeriodKind string `gorm:"primaryKey"`
	Period     string `gorm:"primaryKey"`
	Indicator  string `gorm:"primaryKey"`
	Level      string `gorm:"primaryKey"`
	RegionCode string `gorm:"primaryKey"`
	Value      float64
}

func (valueRow) TableName() string { return "index_values" }

// SaveValues replaces the stored values of a period.
func (db *DB) SaveValues(ctx context.Context, kind, period string, vs []ranking.StoredValue) error {
	rows := make([]valueRow, len(vs))
	for i, v := range vs {
		rows[i] = valueRow{PeriodKind: kind, Period: period, Indicator: v.Indicator, Level: string(v.Level), RegionCode: v.RegionCode, Value: v.Value}
	}
	batch := 500
	if db.dialect == "sqlite" {
		batch = 100
	}
	write := func(tx *gorm.DB) error {
		if err := tx.Where("period_kind = ? AND period = ?", kind, period).Delete(&valueRow{}).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		return tx.CreateInBatches(rows, batch).Error
	}
	var err error
	for range 3 { // as ReplaceResults: a deadlock victim may simply run again
		if err = db.tx(ctx, write); err == nil || !isDeadlock(err) {
			break
		}
	}
	return err
}

// FindStoredValues lists the stored values of the periods.
func (db *DB) FindStoredValues(ctx context.Context, kind string, periods []string) ([]ranking.StoredValue, error) {
	var rows []valueRow
	if err := db.conn(ctx).Where("period_kind = ? AND period IN ?", kind, periods).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("find index values: %w", translate(err))
	}
	out := make([]ranking.StoredValue, len(rows))
	for i, r := range rows {
		out[i] = ranking.StoredValue{Period: r.Period, Indicator: r.Indicator, Level: region.Level(r.Level), RegionCode: r.RegionCode, Value: r.Value}
	}
	return out, nil
}

// FindResults lists the results of a level and period by rank (unscored
// last), with the detail of the regions detailed accepts (nil: of none,
// and the column is not read). The details come from the same read as the
// scores, so they always agree.
func (db *DB) FindResults(ctx context.Context, level region.Level, kind, period string,
	detailed func(regionCode string) bool) ([]ranking.Row, error) {
	var rows []resultRow
	q := db.conn(ctx).Where("level = ? AND period_kind = ? AND period = ?", string(level), kind, period)
	if detailed == nil {
		q = q.Omit("detail")
	}
	err := q.Order("CASE WHEN rank_city = 0 THEN 1 ELSE 0 END, rank_city, region_code").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("find index results: %w", translate(err))
	}
	out := make([]ranking.Row, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
		if detailed != nil && detailed(r.RegionCode) {
			if out[i].Detail, err = r.detail(ctx); err != nil {
				return nil, fmt.Errorf("find index results: %w", err)
			}
		}
	}
	return out, nil
}

// FindSeries lists a region's results of a kind in [from, to] by period,
// without their detail.
func (db *DB) FindSeries(ctx context.Context, regionCode, kind, from, to string) ([]ranking.Row, error) {
	var rows []resultRow
	err := db.conn(ctx).Omit("detail").
		Where("region_code = ? AND period_kind = ? AND period >= ? AND period <= ?", regionCode, kind, from, to).
		Order("period").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("find index series: %w", translate(err))
	}
	out := make([]ranking.Row, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

var _ ranking.Store = (*DB)(nil)
