package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"pingan/internal/errs"
	"pingan/internal/indicator"
)

type indicatorRow struct {
	Code       string `gorm:"primaryKey"`
	NameZH     string `gorm:"column:name_zh"`
	NameEN     string `gorm:"column:name_en"`
	Direction  string
	Weight     float64
	Periods    string
	Levels     string
	Source     string
	Method     string
	Filter     string
	PerCapita  bool
	Smoothing  string
	WindowSize int
	Alpha      float64
	Mapping    string
	Step       float64
	Floor      float64
	Tolerance  float64
	Active     bool
	Version    int
	UpdatedAt  time.Time
}

func (indicatorRow) TableName() string { return "indicators" }

func indicatorToRow(i indicator.Indicator) indicatorRow {
	return indicatorRow{Code: i.Code, NameZH: i.NameZH, NameEN: i.NameEN, Direction: string(i.Direction), Weight: i.Weight,
		Periods: strings.Join(i.Periods, ","), Levels: strings.Join(i.Levels, ","), Source: string(i.Source), Method: i.Method,
		Filter: columnText(filterToColumn(i.Filter)), PerCapita: i.PerCapita, Smoothing: i.Smoothing, WindowSize: i.Window, Alpha: i.Alpha,
		Mapping: i.Mapping, Step: i.Step, Floor: i.Floor, Tolerance: i.Tolerance, Active: i.Active, Version: i.Version,
		UpdatedAt: utc(i.UpdatedAt)}
}

// domain maps the row back; a stored filter that cannot be read is an
// error (logged with the indicator's code).
func (r indicatorRow) domain(ctx context.Context) (indicator.Indicator, error) {
	i := indicator.Indicator{Code: r.Code, NameZH: r.NameZH, NameEN: r.NameEN, Direction: indicator.Direction(r.Direction),
		Weight: r.Weight, Periods: strings.Split(r.Periods, ","), Levels: strings.Split(r.Levels, ","),
		Source: indicator.Source(r.Source), Method: r.Method, PerCapita: r.PerCapita, Smoothing: r.Smoothing,
		Window: r.WindowSize, Alpha: r.Alpha, Mapping: r.Mapping, Step: r.Step, Floor: r.Floor, Tolerance: r.Tolerance,
		Active: r.Active, Version: r.Version, UpdatedAt: r.UpdatedAt}
	var f filterColumn
	if err := decodeColumn(ctx, "indicators", r.Code, "filter", r.Filter, &f); err != nil {
		return indicator.Indicator{}, err
	}
	i.Filter = f.domain()
	return i, nil
}

type indicatorValueRow struct {
	Indicator  string `gorm:"primaryKey"`
	Period     string `gorm:"primaryKey"`
	RegionCode string `gorm:"primaryKey"`
	Value      float64
	Note       string
	EnteredBy  string
	UpdatedAt  time.Time
}

func (indicatorValueRow) TableName() string { return "indicator_values" }

// FindIndicators lists every indicator by code.
func (db *DB) FindIndicators(ctx context.Context) ([]indicator.Indicator, error) {
	var rows []indicatorRow
	if err := db.conn(ctx).Order("code").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("find indicators: %w", translate(err))
	}
	out := make([]indicator.Indicator, len(rows))
	for i, r := range rows {
		ind, err := r.domain(ctx)
		if err != nil {
			return nil, err
		}
		out[i] = ind
	}
	return out, nil
}

// FindIndicator returns errs.ErrNotFound if there is none.
func (db *DB) FindIndicator(ctx context.Context, code string) (indicator.Indicator, error) {
	var r indicatorRow
	if err := db.conn(ctx).Take(&r, "code = ?", code).Error; err != nil {
		return indicator.Indicator{}, fmt.Errorf("find indicator %s: %w", code, translate(err))
	}
	return r.domain(ctx)
}

// CreateIndicator returns errs.ErrConflict when the code is taken.
func (db *DB) CreateIndicator(ctx context.Context, i indicator.Indicator) error {
	r := indicatorToRow(i)
	return translate(db.conn(ctx).Create(&r).Error)
}

// UpdateIndicator saves i if its version is still version.
func (db *DB) UpdateIndicator(ctx context.Context, i indicator.Indicator, version int) error {
	r := indicatorToRow(i)
	res := db.conn(ctx).Model(&indicatorRow{}).Where("code = ? AND version = ?", i.Code, version).Select("*").Updates(&r)
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("indicator %s changed meanwhile: %w", i.Code, errs.ErrPrecondition)
	}
	return nil
}

// UpsertValues writes the values and returns those they replaced, locking
// them first so that concurrent entries of one value serialise.
func (db *DB) UpsertValues(ctx context.Context, vs []indicator.Value) ([]*indicator.Value, error) {
	old := make([]*indicator.Value, len(vs))
	err := db.tx(ctx, func(tx *gorm.DB) error {
		for start := 0; start < len(vs); start += 400 {
			chunk := vs[start:min(start+400, len(vs))]
			keys := make([][]any, len(chunk))
			rows := make([]indicatorValueRow, len(chunk))
			for i, v := range chunk {
				keys[i] = []any{v.Indicator, v.Period, v.RegionCode}
				rows[i] = indicatorValueRow{Indicator: v.Indicator, Period: v.Period, RegionCode: v.RegionCode, Value: v.Value,
					Note: v.Note, EnteredBy: v.EnteredBy, UpdatedAt: utc(v.UpdatedAt)}
			}
			var existing []indicatorValueRow
			if err := db.forUpdate(tx.Where("(indicator, period, region_code) IN ?", keys)).Find(&existing).Error; err != nil {
				return err
			}
			was := map[[3]string]indicatorValueRow{}
			for _, e := range existing {
				was[[3]string{e.Indicator, e.Period, e.RegionCode}] = e
			}
			for i, v := range chunk {
				if e, ok := was[[3]string{v.Indicator, v.Period, v.RegionCode}]; ok {
					old[start+i] = &indicator.Value{Indicator: e.Indicator, RegionCode: e.RegionCode, Period: e.Period,
						Value: e.Value, Note: e.Note, EnteredBy: e.EnteredBy, UpdatedAt: e.UpdatedAt}
				}
			}
			err := tx.Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "indicator"}, {Name: "period"}, {Name: "region_code"}},
				DoUpdates: clause.AssignmentColumns([]string{"value", "note", "entered_by", "updated_at"}),
			}).Create(&rows).Error
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("upsert indicator values: %w", translate(err))
	}
	return old, nil
}

// FindValues lists the entered values of the periods for the indicators.
func (db *DB) FindValues(ctx context.Context, indicators []string, periods []string) ([]indicator.Value, error) {
	var rows []indicatorValueRow
	if err := db.conn(ctx).Where("indicator IN ? AND period IN ?", indicators, periods).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("find indicator values: %w", translate(err))
	}
	out := make([]indicator.Value, len(rows))
	for i, r := range rows {
		out[i] = indicator.Value{Indicator: r.Indicator, RegionCode: r.RegionCode, Period: r.Period, Value: r.Value,
			Note: r.Note, EnteredBy: r.EnteredBy, UpdatedAt: r.UpdatedAt}
	}
	return out, nil
}

var _ indicator.Store = (*DB)(nil)
