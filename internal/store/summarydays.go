package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"pingan/internal/report"
)

// The period summary's daily counts (migration 00019, docs/reports.md
// "Daily counts"): report.Service counts each ended local day once per
// region and kind and adds the days of a period up.

// summaryDayRow is a row of summary_days.
type summaryDayRow struct {
	Depth      int
	RegionCode string
	CaseKind   string
	Day        string
	Counts     string
	Opened     int
	Closed     int
	Due        int
	DueClosed  int
}

func (summaryDayRow) TableName() string { return "summary_days" }

// dayCounts is how a day's report.Counts is kept in summary_days.counts:
// short names, since a year of a city is thousands of them. The open cases
// are not kept (they are counted at a period's end).
type dayCounts struct {
	Reported    []dayReported `json:"r,omitempty"`
	Resolutions []dayHours    `json:"s,omitempty"`
	Acceptances []dayHours    `json:"a,omitempty"`
	Deadlines   [3]int        `json:"d"` // due, met, breached
	FollowUps   [3]int        `json:"f"` // count, satisfaction sum, with a satisfaction
}

type dayReported struct {
	Category string `json:"c"`
	Status   string `json:"s"`
	Level    string `json:"l,omitempty"`
	N        int    `json:"n"`
}

type dayHours struct {
	Level string `json:"l,omitempty"`
	Hours int    `json:"h"`
	N     int    `json:"n"`
}

func encodeDayCounts(c *report.Counts) (string, error) {
	d := dayCounts{Deadlines: [3]int{c.Deadlines.Due, c.Deadlines.Met, c.Deadlines.Breached},
		FollowUps: [3]int{c.FollowUps, c.SatisfactionSum, c.SatisfactionN}}
	for _, r := range c.Reported {
		d.Reported = append(d.Reported, dayReported{Category: r.Category, Status: r.Status, Level: r.Level, N: r.N})
	}
	for _, h := range c.Resolutions {
		d.Resolutions = append(d.Resolutions, dayHours{Level: h.Level, Hours: h.Hours, N: h.N})
	}
	for _, h := range c.Acceptances {
		d.Acceptances = append(d.Acceptances, dayHours{Level: h.Level, Hours: h.Hours, N: h.N})
	}
	b, err := json.Marshal(d)
	return string(b), err
}

func decodeDayCounts(kind, s string) (*report.Counts, error) {
	var d dayCounts
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		return nil, err
	}
	c := &report.Counts{Deadlines: report.Deadlines{Due: d.Deadlines[0], Met: d.Deadlines[1], Breached: d.Deadlines[2]},
		FollowUps: d.FollowUps[0], SatisfactionSum: d.FollowUps[1], SatisfactionN: d.FollowUps[2]}
	c.Reported = make([]report.Reported, len(d.Reported))
	for i, r := range d.Reported {
		c.Reported[i] = report.Reported{Kind: kind, Category: r.Category, Status: r.Status, Level: r.Level, N: r.N}
	}
	c.Resolutions = make([]report.Hours, len(d.Resolutions))
	for i, h := range d.Resolutions {
		c.Resolutions[i] = report.Hours{Kind: kind, Level: h.Level, Hours: h.Hours, N: h.N}
	}
	c.Acceptances = make([]report.Hours, len(d.Acceptances))
	for i, h := range d.Acceptances {
		c.Acceptances[i] = report.Hours{Kind: kind, Level: h.Level, Hours: h.Hours, N: h.N}
	}
	return c, nil
}

// SummaryDays reads the kept counts of the days from..to (local days
// "2006-01-02", both included) of the regions at depth (region "" for the
// city) and the kinds.
func (db *DB) SummaryDays(ctx context.Context, depth int, regions, kinds []string, from, to string) ([]report.DayCounts, error) {
	rows, err := db.conn(ctx).Model(&summaryDayRow{}).Select("region_code, case_kind, day, counts").
		Where("depth = ? AND region_code IN ? AND case_kind IN ? AND day >= ? AND day <= ?", depth, regions, kinds, from, to).Rows()
	if err != nil {
		return nil, fmt.Errorf("summary days: %w", translate(err))
	}
	defer rows.Close()
	var out []report.DayCounts
	var r summaryDayRow
	for rows.Next() {
		if err := rows.Scan(&r.RegionCode, &r.CaseKind, &r.Day, &r.Counts); err != nil {
			return nil, fmt.Errorf("summary days: %w", translate(err))
		}
		c, err := decodeDayCounts(r.CaseKind, r.Counts)
		if err != nil {
			return nil, fmt.Errorf("summary days: %s %s %s: %w", r.RegionCode, r.CaseKind, r.Day, err)
		}
		out = append(out, report.DayCounts{Day: r.Day, Depth: depth, Region: r.RegionCode, Kind: r.CaseKind, Counts: c})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("summary days: %w", translate(err))
	}
	return out, nil
}

// SummaryOpen adds up the kept flows of every day up to through (a local
// day, included) of the regions at depth (region "" for the city) and the
// kinds: per region, the cases open at the end of that day and how many of
// them were overdue then (report.Flow). One range of the primary key per
// region and kind.
func (db *DB) SummaryOpen(ctx context.Context, depth int, regions, kinds []string, through string) (map[string]report.OpenCount, error) {
	var rows []struct {
		RegionCode    string
		Open, Overdue int
	}
	err := db.conn(ctx).Model(&summaryDayRow{}).
		Select("region_code, COALESCE(SUM(opened), 0) - COALESCE(SUM(closed), 0) AS open, "+
			"COALESCE(SUM(due), 0) - COALESCE(SUM(due_closed), 0) AS overdue").
		Where("depth = ? AND region_code IN ? AND case_kind IN ? AND day <= ?", depth, regions, kinds, through).
		Group("region_code").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("summary open: %w", translate(err))
	}
	out := make(map[string]report.OpenCount, len(rows))
	for _, r := range rows {
		out[r.RegionCode] = report.OpenCount{Open: r.Open, Overdue: r.Overdue}
	}
	return out, nil
}

// summaryCountedRow is a row of summary_counted.
type summaryCountedRow struct {
	Day       string `gorm:"primaryKey"`
	CountedAt time.Time
}

func (summaryCountedRow) TableName() string { return "summary_counted" }

// CountedDays lists the counted days from..to (both included) with when
// each count began.
func (db *DB) CountedDays(ctx context.Context, from, to string) (map[string]time.Time, error) {
	var rows []summaryCountedRow
	if err := db.conn(ctx).Where("day >= ? AND day <= ?", from, to).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("counted days: %w", translate(err))
	}
	out := make(map[string]time.Time, len(rows))
	for _, r := range rows {
		out[r.Day] = r.CountedAt
	}
	return out, nil
}

// SaveSummaryDay replaces the kept counts of day with rows, counted from a
// read that began at countedAt, unless a count that began later is kept
// already (then it writes nothing and answers false). One transaction: a
// day is never half replaced.
func (db *DB) SaveSummaryDay(ctx context.Context, day string, countedAt time.Time, rows []report.DayCounts) (bool, error) {
	out := make([]summaryDayRow, len(rows))
	for i, r := range rows {
		s, err := encodeDayCounts(r.Counts)
		if err != nil {
			return false, fmt.Errorf("save summary day %s: %w", day, err)
		}
		f := r.Counts.Flow
		out[i] = summaryDayRow{Depth: r.Depth, RegionCode: r.Region, CaseKind: r.Kind, Day: day, Counts: s,
			Opened: f.Opened, Closed: f.Closed, Due: f.Due, DueClosed: f.DueClosed}
	}
	saved := false
	err := db.tx(ctx, func(tx *gorm.DB) error {
		at := utc(countedAt)
		res := tx.Model(&summaryCountedRow{}).Where("day = ? AND counted_at < ?", day, at).Update("counted_at", at)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			res = tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&summaryCountedRow{Day: day, CountedAt: at})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				return nil // counted by a later read already
			}
		}
		if err := tx.Where("day = ?", day).Delete(&summaryDayRow{}).Error; err != nil {
			return err
		}
		if len(out) > 0 {
			if err := tx.CreateInBatches(out, 500).Error; err != nil {
				return err
			}
		}
		saved = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("save summary day %s: %w", day, err)
	}
	return saved, nil
}

// summaryWatermarkRow is the row of summary_watermark.
type summaryWatermarkRow struct {
	ID   int `gorm:"primaryKey"`
	At   time.Time
	Zone string
}

func (summaryWatermarkRow) TableName() string { return "summary_watermark" }

// SummaryWatermark is the time every case change well before which is in
// the counted days, and the time zone the days were counted in (zero
// before the first count).
func (db *DB) SummaryWatermark(ctx context.Context) (report.Watermark, error) {
	var rows []summaryWatermarkRow
	if err := db.conn(ctx).Where("id = 1").Find(&rows).Error; err != nil {
		return report.Watermark{}, fmt.Errorf("summary watermark: %w", translate(err))
	}
	if len(rows) == 0 {
		return report.Watermark{}, nil
	}
	return report.Watermark{At: rows[0].At, Zone: rows[0].Zone}, nil
}

// AdvanceSummaryWatermark moves the watermark to w.At, if that is later
// and the days are counted in w.Zone (the first call sets it).
func (db *DB) AdvanceSummaryWatermark(ctx context.Context, w report.Watermark) error {
	err := db.tx(ctx, func(tx *gorm.DB) error {
		at := utc(w.At)
		if err := tx.Model(&summaryWatermarkRow{}).Where("id = 1 AND at < ? AND zone = ?", at, w.Zone).Update("at", at).Error; err != nil {
			return err
		}
		return tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&summaryWatermarkRow{ID: 1, At: at, Zone: w.Zone}).Error
	})
	if err != nil {
		return fmt.Errorf("advance the summary watermark: %w", err)
	}
	return nil
}

// ResetSummaryDays forgets every counted day and sets the watermark to w
// (the days were counted in another time zone), in one transaction.
func (db *DB) ResetSummaryDays(ctx context.Context, w report.Watermark) error {
	err := db.tx(ctx, func(tx *gorm.DB) error {
		for _, t := range []string{"summary_days", "summary_counted", "summary_watermark"} {
			if err := tx.Exec("DELETE FROM " + t).Error; err != nil {
				return err
			}
		}
		return tx.Create(&summaryWatermarkRow{ID: 1, At: utc(w.At), Zone: w.Zone}).Error
	})
	if err != nil {
		return fmt.Errorf("reset the summary's days: %w", err)
	}
	return nil
}

// CasesChangedSince lists the incidents and disputes changed at or after
// since: when each was reported and last changed (one range of the
// (updated_at, id, created_at) index of each table).
func (db *DB) CasesChangedSince(ctx context.Context, since time.Time) ([]report.CaseChange, error) {
	var out []report.CaseChange
	for _, table := range []string{"incidents", "disputes"} {
		var rows []struct{ CreatedAt, UpdatedAt time.Time }
		if err := db.conn(ctx).Table(table).Select("created_at, updated_at").Where("updated_at >= ?", utc(since)).
			Scan(&rows).Error; err != nil {
			return nil, fmt.Errorf("cases changed since: %w", translate(err))
		}
		for _, r := range rows {
			out = append(out, report.CaseChange{ReportedAt: r.CreatedAt, ChangedAt: r.UpdatedAt})
		}
	}
	return out, nil
}

// FirstReportedAt is when the earliest incident or dispute was reported:
// the first entry of each table's created_at index.
func (db *DB) FirstReportedAt(ctx context.Context) (time.Time, bool, error) {
	return db.firstCase(ctx, "created_at")
}
