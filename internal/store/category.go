package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"pingan/internal/category"
)

type categoryRow struct {
	Kind   string `gorm:"primaryKey"`
	Code   string `gorm:"primaryKey"`
	NameZH string `gorm:"column:name_zh"`
	NameEN string `gorm:"column:name_en"`
	Active bool
}

func (categoryRow) TableName() string { return "categories" }

func (r categoryRow) domain() category.Category {
	return category.Category{Code: r.Code, Kind: category.Kind(r.Kind), NameZH: r.NameZH, NameEN: r.NameEN, Active: r.Active}
}

// FindCategories lists categories by kind then code; kind "" means all.
func (db *DB) FindCategories(ctx context.Context, kind category.Kind) ([]category.Category, error) {
	q := db.conn(ctx)
	if kind != "" {
		q = q.Where("kind = ?", string(kind))
	}
	var rows []categoryRow
	if err := q.Order("kind, code").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("find categories: %w", translate(err))
	}
	out := make([]category.Category, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// FindCategory returns errs.ErrNotFound if there is none.
func (db *DB) FindCategory(ctx context.Context, kind category.Kind, code string) (category.Category, error) {
	key := string(kind) + "/" + code
	if c, ok := db.categories.get(key); ok {
		return c, nil
	}
	var row categoryRow
	if err := db.conn(ctx).Take(&row, "kind = ? AND code = ?", string(kind), code).Error; err != nil {
		return category.Category{}, fmt.Errorf("find category %s/%s: %w", kind, code, translate(err))
	}
	c := row.domain()
	db.categories.put(key, c)
	return c, nil
}

// CreateCategory returns errs.ErrConflict if (kind, code) exists.
func (db *DB) CreateCategory(ctx context.Context, c category.Category) error {
	defer db.categories.clear()
	row := categoryRow{Kind: string(c.Kind), Code: c.Code, NameZH: c.NameZH, NameEN: c.NameEN, Active: c.Active}
	if err := db.conn(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("create category %s/%s: %w", c.Kind, c.Code, translate(err))
	}
	return nil
}

// UpdateCategory returns errs.ErrNotFound if there is none.
func (db *DB) UpdateCategory(ctx context.Context, kind category.Kind, code string, u category.Update) (category.Category, error) {
	defer db.categories.clear()
	var out category.Category
	err := db.tx(ctx, func(tx *gorm.DB) error {
		var row categoryRow
		if err := db.forUpdate(tx).Take(&row, "kind = ? AND code = ?", string(kind), code).Error; err != nil {
			return err
		}
		if u.NameZH != nil {
			row.NameZH = *u.NameZH
		}
		if u.NameEN != nil {
			row.NameEN = *u.NameEN
		}
		if u.Active != nil {
			row.Active = *u.Active
		}
		if err := tx.Model(&categoryRow{}).Where("kind = ? AND code = ?", row.Kind, row.Code).
			Updates(map[string]any{"name_zh": row.NameZH, "name_en": row.NameEN, "active": row.Active}).Error; err != nil {
			return err
		}
		out = row.domain()
		return nil
	})
	if err != nil {
		return category.Category{}, fmt.Errorf("update category %s/%s: %w", kind, code, err)
	}
	return out, nil
}
