package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"pingan/internal/fact"
)

// factRow is a row of case_facts (migration 00009).
type factRow struct {
	ID            string `gorm:"primaryKey"`
	CaseID        string
	CaseKind      string
	Fact          string
	At            time.Time
	Level         string
	Satisfaction  *int
	Category      string
	CountyCode    string
	TownshipCode  string
	CommunityCode string
	RegionCode    string
	ReporterID    string
	ReportedAt    time.Time
}

func (factRow) TableName() string { return "case_facts" }

// deadlineRow is a row of case_deadlines (migration 00009).
type deadlineRow struct {
	ID            string `gorm:"primaryKey"`
	CaseID        string
	CaseKind      string
	Kind          string
	Level         string
	Category      string
	CountyCode    string
	TownshipCode  string
	CommunityCode string
	RegionCode    string
	ReporterID    string
	StartedAt     time.Time
	DueAt         time.Time
	MetAt         *time.Time
	BreachedAt    *time.Time
	EndedAt       *time.Time
}

func (deadlineRow) TableName() string { return "case_deadlines" }

func factToRow(f fact.Fact) factRow {
	c := f.Case
	return factRow{ID: f.ID, CaseID: c.ID, CaseKind: c.Kind, Fact: string(f.Kind), At: utc(f.At), Level: string(f.Level),
		Satisfaction: f.Satisfaction, Category: c.Category, CountyCode: c.CountyCode, TownshipCode: c.TownshipCode,
		CommunityCode: c.CommunityCode, RegionCode: c.GridCode, ReporterID: c.ReporterID, ReportedAt: utc(c.ReportedAt)}
}

func deadlineToRow(d fact.Deadline) deadlineRow {
	c := d.Case
	return deadlineRow{ID: d.ID, CaseID: c.ID, CaseKind: c.Kind, Kind: string(d.Kind), Level: string(d.Level),
		Category: c.Category, CountyCode: c.CountyCode, TownshipCode: c.TownshipCode, CommunityCode: c.CommunityCode,
		RegionCode: c.GridCode, ReporterID: c.ReporterID, StartedAt: utc(d.StartedAt), DueAt: utc(d.DueAt),
		MetAt: utcPtr(d.MetAt), BreachedAt: utcPtr(d.BreachedAt), EndedAt: utcPtr(d.EndedAt)}
}

// writeFacts writes what an action adds to a case's facts, in the
// action's transaction: first the end of the running deadline (the only
// one without ended_at; a breach the overdue scan wrote stays as written),
// then the new facts and the deadline that begins.
func writeFacts(tx *gorm.DB, caseID string, c fact.Change) error {
	if e := c.End; e != nil {
		at := utc(e.At)
		set := map[string]any{"ended_at": at}
		if e.Met {
			set["met_at"] = at
		}
		if e.BreachedAt != nil {
			set["breached_at"] = gorm.Expr("COALESCE(breached_at, ?)", utc(*e.BreachedAt))
		}
		if err := tx.Model(&deadlineRow{}).Where("case_id = ? AND ended_at IS NULL", caseID).Updates(set).Error; err != nil {
			return fmt.Errorf("end deadline: %w", err)
		}
	}
	if len(c.Facts) > 0 {
		rows := make([]factRow, len(c.Facts))
		for i, f := range c.Facts {
			rows[i] = factToRow(f)
		}
		if err := tx.Create(&rows).Error; err != nil {
			return fmt.Errorf("write facts: %w", err)
		}
	}
	if c.Opened != nil {
		r := deadlineToRow(*c.Opened)
		if err := tx.Create(&r).Error; err != nil {
			return fmt.Errorf("open deadline: %w", err)
		}
	}
	return nil
}

// insertFacts writes already-derived facts and deadlines in batches (the
// demo data set and the migration that fills facts from timelines).
func insertFacts(tx *gorm.DB, facts []fact.Fact, deadlines []fact.Deadline, batch int) error {
	if len(facts) > 0 {
		rows := make([]factRow, len(facts))
		for i, f := range facts {
			rows[i] = factToRow(f)
		}
		if err := tx.CreateInBatches(rows, batch).Error; err != nil {
			return fmt.Errorf("insert facts: %w", err)
		}
	}
	if len(deadlines) > 0 {
		rows := make([]deadlineRow, len(deadlines))
		for i, d := range deadlines {
			rows[i] = deadlineToRow(d)
		}
		if err := tx.CreateInBatches(rows, batch).Error; err != nil {
			return fmt.Errorf("insert deadlines: %w", err)
		}
	}
	return nil
}

// MarkBreached writes the breach (breached_at = due_at) of the running
// deadlines of the cases that were due before now.
func (db *DB) MarkBreached(ctx context.Context, caseIDs []string, now time.Time) error {
	err := db.conn(ctx).Model(&deadlineRow{}).
		Where("case_id IN ? AND ended_at IS NULL AND breached_at IS NULL AND due_at < ?", caseIDs, utc(now)).
		Update("breached_at", gorm.Expr("due_at")).Error
	if err != nil {
		return fmt.Errorf("mark breached: %w", translate(err))
	}
	return nil
}
