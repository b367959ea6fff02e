package store

// Early warning (SPEC §10): the warnings, the key-date calendar, and the
// counts detection reads.

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"pingan/internal/access"
	"pingan/internal/errs"
	"pingan/internal/warning"
)

type warningRow struct {
	ID         string `gorm:"primaryKey"`
	EpisodeKey string
	Kind       string
	RegionCode string
	RegionPath string
	Level      string
	CaseKind   string
	Category   string
	PeriodKind string
	FirstDay   string
	LastDay    string
	Method     string
	Methods    string
	Observed   float64
	Expected   *float64
	Threshold  *float64
	Statistic  *float64
	P          *float64
	Severity   string
	Status     string
	Series     string
	Detail     string
	Summary    string
	AckedBy    string
	AckedAt    *time.Time
	ClosedBy   string
	ClosedAt   *time.Time
	CloseNote  string
	Version    int
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

func (warningRow) TableName() string { return "warnings" }

// warningColumns: warnings keep their region's path.
var warningColumns = scopeColumns{path: "region_path"}

func warningToRow(w warning.Warning) warningRow {
	series := make([][2]any, len(w.Series))
	for i, d := range w.Series {
		series[i] = [2]any{d.Day, d.Count}
	}
	return warningRow{ID: w.ID, EpisodeKey: w.Key, Kind: w.Kind, RegionCode: w.RegionCode, RegionPath: w.RegionPath,
		Level: w.Level, CaseKind: w.CaseKind, Category: w.Category, PeriodKind: w.PeriodKind, FirstDay: w.FirstDay,
		LastDay: w.LastDay, Method: w.Method, Methods: strings.Join(w.Methods, ","), Observed: w.Observed,
		Expected: w.Expected, Threshold: w.Threshold, Statistic: w.Statistic, P: w.P, Severity: string(w.Severity),
		Status: w.Status, Series: columnText(series), Detail: columnText(w.Detail), Summary: w.Summary,
		AckedBy: w.AckedBy, AckedAt: utcPtr(w.AckedAt), ClosedBy: w.ClosedBy, ClosedAt: utcPtr(w.ClosedAt),
		CloseNote: w.CloseNote, Version: w.Version, CreatedAt: utc(w.CreatedAt), UpdatedAt: utc(w.UpdatedAt)}
}

func (r warningRow) domain(ctx context.Context) (warning.Warning, error) {
	w := warning.Warning{ID: r.ID, Key: r.EpisodeKey, Kind: r.Kind, RegionCode: r.RegionCode, RegionPath: r.RegionPath,
		Level: r.Level, CaseKind: r.CaseKind, Category: r.Category, PeriodKind: r.PeriodKind, FirstDay: r.FirstDay,
		LastDay: r.LastDay, Method: r.Method, Observed: r.Observed, Expected: r.Expected, Threshold: r.Threshold,
		Statistic: r.Statistic, P: r.P, Severity: warning.Severity(r.Severity), Status: r.Status, Summary: r.Summary,
		AckedBy: r.AckedBy, AckedAt: r.AckedAt, ClosedBy: r.ClosedBy, ClosedAt: r.ClosedAt, CloseNote: r.CloseNote,
		Version: r.Version, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if r.Methods != "" {
		w.Methods = strings.Split(r.Methods, ",")
	}
	var series [][2]any
	if err := decodeColumn(ctx, "warnings", r.ID, "series", r.Series, &series); err != nil {
		return warning.Warning{}, err
	}
	for _, d := range series {
		day, ok1 := d[0].(string)
		n, ok2 := d[1].(float64)
		if !ok1 || !ok2 {
			return warning.Warning{}, decodeColumn(ctx, "warnings", r.ID, "series", `"not [day, count] pairs"`, new(int))
		}
		w.Series = append(w.Series, warning.DayCount{Day: day, Count: int(n)})
	}
	if err := decodeColumn(ctx, "warnings", r.ID, "detail", r.Detail, &w.Detail); err != nil {
		return warning.Warning{}, err
	}
	return w, nil
}

// InsertWarning writes a new warning; errs.ErrConflict when its key exists.
func (db *DB) InsertWarning(ctx context.Context, w warning.Warning) error {
	row := warningToRow(w)
	if err := db.conn(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("insert warning %s: %w", w.Key, translate(err))
	}
	return nil
}

// UpdateWarning replaces the stored warning of version w.Version−1.
func (db *DB) UpdateWarning(ctx context.Context, w warning.Warning) error {
	row := warningToRow(w)
	res := db.conn(ctx).Model(&warningRow{}).Where("id = ? AND version = ?", w.ID, w.Version-1).
		Select("*").Omit("id", "episode_key", "created_at").Updates(&row)
	if res.Error != nil {
		return fmt.Errorf("update warning %s: %w", w.ID, translate(res.Error))
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("warning %s changed meanwhile: %w", w.ID, errs.ErrConflict)
	}
	return nil
}

// FindWarning returns errs.ErrNotFound if there is none.
func (db *DB) FindWarning(ctx context.Context, id string) (warning.Warning, error) {
	return db.findWarning(ctx, db.conn(ctx), id)
}

// LockWarning is FindWarning locking the row until commit (MySQL).
func (db *DB) LockWarning(ctx context.Context, id string) (warning.Warning, error) {
	return db.findWarning(ctx, db.forUpdate(db.conn(ctx)), id)
}

func (db *DB) findWarning(ctx context.Context, q *gorm.DB, id string) (warning.Warning, error) {
	var row warningRow
	if err := q.Where("id = ?", id).Take(&row).Error; err != nil {
		return warning.Warning{}, fmt.Errorf("warning %s: %w", id, translate(err))
	}
	return row.domain(ctx)
}

// FindWarnings lists warnings by f, newest first.
func (db *DB) FindWarnings(ctx context.Context, f warning.Filter) ([]warning.Warning, error) {
	var rows []warningRow
	if err := db.warningsQuery(ctx, f).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("find warnings: %w", translate(err))
	}
	out := make([]warning.Warning, 0, len(rows))
	for _, r := range rows {
		w, err := r.domain(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, nil
}

// warningsQuery is FindWarnings' query: the scope's path prefix or the
// whole table, in (created_at, id) order from the cursor.
func (db *DB) warningsQuery(ctx context.Context, f warning.Filter) *gorm.DB {
	q := applyScope(db.conn(ctx).Model(&warningRow{}), f.Scope, warningColumns)
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.Kind != "" {
		q = q.Where("kind = ?", f.Kind)
	}
	if f.Severity != "" {
		q = q.Where("severity = ?", string(f.Severity))
	}
	if f.From != "" {
		// Month warnings keep months ("2026-10"): one whose month holds
		// From ends on or after it.
		q = q.Where("(last_day >= ? OR last_day = ?)", f.From, f.From[:min(7, len(f.From))])
	}
	if f.To != "" {
		q = q.Where("first_day <= ?", f.To)
	}
	if f.BeforeAt != nil {
		q = before(q, "created_at", *f.BeforeAt, f.BeforeID)
	}
	return q.Order("created_at DESC, id DESC").Limit(f.Limit)
}

// FindEpisode returns the newest warning of the kind, region, case kind and
// category whose days reach [since, until], locked (MySQL) until commit.
func (db *DB) FindEpisode(ctx context.Context, kind, regionCode, caseKind, category, since, until string) (warning.Warning, bool, error) {
	var row warningRow
	err := db.forUpdate(db.conn(ctx).Where("kind = ? AND region_code = ? AND case_kind = ? AND category = ? AND last_day >= ? AND first_day <= ?",
		kind, regionCode, caseKind, category, since, until)).Order("last_day DESC, created_at DESC").Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return warning.Warning{}, false, nil
	}
	if err != nil {
		return warning.Warning{}, false, fmt.Errorf("find warning episode: %w", translate(err))
	}
	w, err := row.domain(ctx)
	return w, err == nil, err
}

// FindWatchers lists the active supervisors and mediators whose scope is
// a region on the path (the region itself or one above it).
func (db *DB) FindWatchers(ctx context.Context, regionPath string) ([]string, error) {
	codes := strings.FieldsFunc(regionPath, func(r rune) bool { return r == '/' })
	if len(codes) == 0 {
		return nil, nil
	}
	var ids []string
	err := db.conn(ctx).Table("users").Where("region_code IN ? AND role IN ? AND active = ?", codes,
		[]string{string(access.Supervisor), string(access.Mediator)}, true).Order("id").Pluck("id", &ids).Error
	if err != nil {
		return nil, fmt.Errorf("find the watchers of %s: %w", regionPath, translate(err))
	}
	return ids, nil
}

// CaseCounts counts the cases of a kind that occurred in [from, to) per
// township and category: one range of the covering occurred_at index, whose
// rows are counted here rather than grouped by the database. On MariaDB a
// GROUP BY of the three codes costs a temporary table and a sort under the
// utf8mb4 collation, about three times what reading the same rows does
// (docs/performance.md, "Early warning"); a day holds a few thousand cases
// and at most a few thousand groups, so the map stays small. Counted by
// the codes' exact bytes (as SQLite groups; codes are ASCII identifiers),
// in the order of county, township and category.
func (db *DB) CaseCounts(ctx context.Context, caseKind string, from, to time.Time) ([]warning.Count, error) {
	table := "incidents"
	if caseKind == warning.CaseDispute {
		table = "disputes"
	}
	rows, err := db.conn(ctx).Table(table).Where("occurred_at >= ? AND occurred_at < ?", utc(from), utc(to)).
		Select("county_code, township_code, category").Rows()
	if err != nil {
		return nil, fmt.Errorf("count %s by day: %w", table, translate(err))
	}
	defer rows.Close()
	type key struct{ county, township, category string }
	by := map[key]int{}
	var county, township, category sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&county, &township, &category); err != nil {
			return nil, fmt.Errorf("count %s by day: %w", table, translate(err))
		}
		by[key{string(county), string(township), string(category)}]++
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count %s by day: %w", table, translate(err))
	}
	out := make([]warning.Count, 0, len(by))
	for k, n := range by {
		out = append(out, warning.Count{CountyCode: k.county, TownshipCode: k.township, Category: k.category, N: n})
	}
	slices.SortFunc(out, func(a, b warning.Count) int {
		return cmp.Or(strings.Compare(a.CountyCode, b.CountyCode), strings.Compare(a.TownshipCode, b.TownshipCode),
			strings.Compare(a.Category, b.Category))
	})
	return out, nil
}

// BreachedCounts counts the deadlines due in [from, to) that were breached
// by now (SPEC §4.3: breached_at set, or still running past due), per
// township.
func (db *DB) BreachedCounts(ctx context.Context, from, to, now time.Time) ([]warning.Count, error) {
	var out []warning.Count
	err := db.conn(ctx).Table("case_deadlines").
		Where("case_kind = ? AND due_at >= ? AND due_at < ? AND (breached_at IS NOT NULL OR (ended_at IS NULL AND due_at < ?))",
			"dispute", utc(from), utc(to), utc(now)).
		Group("county_code, township_code").
		Select("county_code, township_code, '' AS category, COUNT(*) AS n").Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("count breached deadlines: %w", translate(err))
	}
	return out, nil
}

type keyDateRow struct {
	ID        string `gorm:"primaryKey"`
	Name      string
	Version   int
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (keyDateRow) TableName() string { return "key_dates" }

type keyDateDayRow struct {
	KeyDateID string `gorm:"primaryKey"`
	StartDay  string `gorm:"primaryKey"`
	EndDay    string
}

func (keyDateDayRow) TableName() string { return "key_date_days" }

// FindKeyDates lists the calendar by name.
func (db *DB) FindKeyDates(ctx context.Context) ([]warning.Event, error) {
	var rows []keyDateRow
	if err := db.conn(ctx).Order("name").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("find key dates: %w", translate(err))
	}
	var days []keyDateDayRow
	if err := db.conn(ctx).Order("key_date_id, start_day").Find(&days).Error; err != nil {
		return nil, fmt.Errorf("find key dates: %w", translate(err))
	}
	by := map[string][]warning.DateRange{}
	for _, d := range days {
		by[d.KeyDateID] = append(by[d.KeyDateID], warning.DateRange{Start: d.StartDay, End: d.EndDay})
	}
	out := make([]warning.Event, len(rows))
	for i, r := range rows {
		out[i] = warning.Event{ID: r.ID, Name: r.Name, Dates: by[r.ID], Version: r.Version, CreatedAt: r.CreatedAt,
			UpdatedAt: r.UpdatedAt}
	}
	return out, nil
}

// FindKeyDate returns errs.ErrNotFound if there is none.
func (db *DB) FindKeyDate(ctx context.Context, id string) (warning.Event, error) {
	var r keyDateRow
	if err := db.conn(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return warning.Event{}, fmt.Errorf("key date %s: %w", id, translate(err))
	}
	var days []keyDateDayRow
	if err := db.conn(ctx).Where("key_date_id = ?", id).Order("start_day").Find(&days).Error; err != nil {
		return warning.Event{}, fmt.Errorf("key date %s: %w", id, translate(err))
	}
	e := warning.Event{ID: r.ID, Name: r.Name, Version: r.Version, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	for _, d := range days {
		e.Dates = append(e.Dates, warning.DateRange{Start: d.StartDay, End: d.EndDay})
	}
	return e, nil
}

// InsertKeyDate writes a new event with its dates.
func (db *DB) InsertKeyDate(ctx context.Context, e warning.Event) error {
	return db.tx(ctx, func(tx *gorm.DB) error {
		row := keyDateRow{ID: e.ID, Name: e.Name, Version: e.Version, CreatedAt: utc(e.CreatedAt), UpdatedAt: utc(e.UpdatedAt)}
		if err := tx.Create(&row).Error; err != nil {
			return fmt.Errorf("insert key date: %w", translate(err))
		}
		return insertEventDays(tx, e)
	})
}

// UpdateKeyDate replaces the event of version e.Version−1 and its dates.
func (db *DB) UpdateKeyDate(ctx context.Context, e warning.Event) error {
	return db.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&keyDateRow{}).Where("id = ? AND version = ?", e.ID, e.Version-1).
			Updates(map[string]any{"name": e.Name, "version": e.Version, "updated_at": utc(e.UpdatedAt)})
		if res.Error != nil {
			return fmt.Errorf("update key date: %w", translate(res.Error))
		}
		if res.RowsAffected != 1 {
			return fmt.Errorf("key date %s changed meanwhile: %w", e.ID, errs.ErrConflict)
		}
		if err := tx.Where("key_date_id = ?", e.ID).Delete(&keyDateDayRow{}).Error; err != nil {
			return fmt.Errorf("update key date: %w", err)
		}
		return insertEventDays(tx, e)
	})
}

func insertEventDays(tx *gorm.DB, e warning.Event) error {
	if len(e.Dates) == 0 {
		return nil
	}
	days := make([]keyDateDayRow, len(e.Dates))
	for i, d := range e.Dates {
		days[i] = keyDateDayRow{KeyDateID: e.ID, StartDay: d.Start, EndDay: d.End}
	}
	if err := tx.Create(&days).Error; err != nil {
		return fmt.Errorf("insert key date days: %w", translate(err))
	}
	return nil
}

var _ warning.Store = (*DB)(nil)
