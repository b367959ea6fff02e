package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-sql-driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"pingan/internal/errs"
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

type jobRow struct {
	ID          string `gorm:"primaryKey"`
	PeriodKind  string
	Period      string
	Status      string
	Reason      string
	RequestedBy string
	Owner       string
	LeaseUntil  *time.Time
	Attempts    int
	Error       string
	CreatedAt   time.Time
	FinishedAt  *time.Time
}

func (jobRow) TableName() string { return "index_jobs" }

func (r jobRow) domain() ranking.Job {
	return ranking.Job{ID: r.ID, PeriodKind: r.PeriodKind, Period: r.Period, Status: r.Status, Reason: r.Reason,
		RequestedBy: r.RequestedBy, Owner: r.Owner, LeaseUntil: r.LeaseUntil, Attempts: r.Attempts, Error: r.Error,
		CreatedAt: r.CreatedAt, FinishedAt: r.FinishedAt}
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

// QueueJob adds a pending job unless one is pending for the period. A
// pending Backfill job does not cover it: that one waits behind every
// other job, and late data should show at once (the backfill job then
// finds its period computed and does nothing).
func (db *DB) QueueJob(ctx context.Context, j ranking.Job) (ranking.Job, error) {
	var out ranking.Job
	err := db.tx(ctx, func(tx *gorm.DB) error {
		var existing jobRow
		err := db.forUpdate(tx.Where("period_kind = ? AND period = ? AND status = ? AND reason <> ?", j.PeriodKind, j.Period,
			ranking.Pending, ranking.Backfill)).Order("created_at").Take(&existing).Error
		if err == nil {
			out = existing.domain()
			return nil
		}
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		row := jobRow{ID: j.ID, PeriodKind: j.PeriodKind, Period: j.Period, Status: ranking.Pending, Reason: j.Reason,
			RequestedBy: j.RequestedBy, CreatedAt: utc(j.CreatedAt)}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		out = row.domain()
		return nil
	})
	if err != nil {
		return ranking.Job{}, fmt.Errorf("queue index job: %w", translate(err))
	}
	return out, nil
}

// CreateJob inserts a job; errs.ErrConflict when its id exists.
func (db *DB) CreateJob(ctx context.Context, j ranking.Job) error {
	row := jobRow{ID: j.ID, PeriodKind: j.PeriodKind, Period: j.Period, Status: j.Status, Reason: j.Reason,
		RequestedBy: j.RequestedBy, CreatedAt: utc(j.CreatedAt)}
	return translate(db.conn(ctx).Create(&row).Error)
}

// claimOrder puts Backfill jobs after every other, and those by period,
// oldest first ('2026-03' sorts before its days, which sort in order); the
// others by age.
const claimOrder = "CASE WHEN reason = '" + ranking.Backfill + "' THEN 1 ELSE 0 END, " +
	"CASE WHEN reason = '" + ranking.Backfill + "' THEN period ELSE '' END, created_at, id"

// claimable is the query of the jobs ClaimJob may take, in claimOrder.
func (db *DB) claimable(ctx context.Context, now time.Time) *gorm.DB {
	return db.conn(ctx).Model(&jobRow{}).Where("status IN ? AND (status = ? OR lease_until < ?)",
		[]string{ranking.Pending, ranking.Running}, ranking.Pending, utc(now)).Order(claimOrder)
}

// ClaimJob takes a pending job, or a running one whose lease lapsed, in
// claimOrder, with a conditional UPDATE: of instances claiming at once, one
// wins. The candidates are one range of the (status, created_at) index —
// the few pending and running jobs, never the done ones — so that every
// instance can poll it every second.
func (db *DB) ClaimJob(ctx context.Context, owner string, now, until time.Time) (ranking.Job, bool, error) {
	for range 5 {
		var cand jobRow
		err := db.claimable(ctx, now).Take(&cand).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return ranking.Job{}, false, nil
		}
		if err != nil {
			return ranking.Job{}, false, fmt.Errorf("find index job: %w", translate(err))
		}
		res := db.conn(ctx).Model(&jobRow{}).
			Where("id = ? AND status = ? AND owner = ? AND attempts = ?", cand.ID, cand.Status, cand.Owner, cand.Attempts).
			Updates(map[string]any{"status": ranking.Running, "owner": owner, "lease_until": utc(until), "attempts": cand.Attempts + 1})
		if res.Error != nil {
			return ranking.Job{}, false, fmt.Errorf("claim index job: %w", translate(res.Error))
		}
		if res.RowsAffected == 1 {
			cand.Status, cand.Owner, cand.Attempts = ranking.Running, owner, cand.Attempts+1
			u := utc(until)
			cand.LeaseUntil = &u
			return cand.domain(), true, nil
		}
		// Another instance took it first: look again.
	}
	return ranking.Job{}, false, nil
}

// FinishJob records the end of a job owner holds.
func (db *DB) FinishJob(ctx context.Context, id, owner, status, errText string, at time.Time) error {
	res := db.conn(ctx).Model(&jobRow{}).Where("id = ? AND owner = ? AND status = ?", id, owner, ranking.Running).
		Updates(map[string]any{"status": status, "error": errText, "finished_at": utc(at)})
	if res.Error != nil {
		return fmt.Errorf("finish index job: %w", translate(res.Error))
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("index job %s was taken over: %w", id, errs.ErrConflict)
	}
	return nil
}

// ReleaseJob puts a job owner holds back in the queue.
func (db *DB) ReleaseJob(ctx context.Context, id, owner string) error {
	res := db.conn(ctx).Model(&jobRow{}).Where("id = ? AND owner = ? AND status = ?", id, owner, ranking.Running).
		Updates(map[string]any{"status": ranking.Pending, "lease_until": nil})
	if res.Error != nil {
		return fmt.Errorf("release index job: %w", translate(res.Error))
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("index job %s was taken over: %w", id, errs.ErrConflict)
	}
	return nil
}

// AddJobs inserts the jobs whose ids are new, in one transaction, and
// returns how many it inserted.
func (db *DB) AddJobs(ctx context.Context, jobs []ranking.Job) (int, error) {
	rows := make([]jobRow, len(jobs))
	for i, j := range jobs {
		rows[i] = jobRow{ID: j.ID, PeriodKind: j.PeriodKind, Period: j.Period, Status: j.Status, Reason: j.Reason,
			RequestedBy: j.RequestedBy, CreatedAt: utc(j.CreatedAt)}
	}
	batch := 500
	if db.dialect == "sqlite" {
		batch = 50
	}
	var n int64
	err := db.tx(ctx, func(tx *gorm.DB) error {
		for start := 0; start < len(rows); start += batch {
			res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(rows[start:min(start+batch, len(rows))])
			if res.Error != nil {
				return res.Error
			}
			n += res.RowsAffected
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("add index jobs: %w", translate(err))
	}
	return int(n), nil
}

// CountJobs counts the jobs of a reason, all and finished (the
// (reason, status) index).
func (db *DB) CountJobs(ctx context.Context, reason string) (total, finished int, err error) {
	var rows []struct {
		Status string
		N      int
	}
	err = db.conn(ctx).Model(&jobRow{}).Select("status, COUNT(*) AS n").Where("reason = ?", reason).Group("status").Scan(&rows).Error
	if err != nil {
		return 0, 0, fmt.Errorf("count index jobs: %w", translate(err))
	}
	for _, r := range rows {
		total += r.N
		if r.Status == ranking.Done || r.Status == ranking.Failed {
			finished += r.N
		}
	}
	return total, finished, nil
}

// HasFinishedJob reports whether a job of the period finished done at or
// after since.
func (db *DB) HasFinishedJob(ctx context.Context, kind, period string, since time.Time) (bool, error) {
	var ids []string
	err := db.conn(ctx).Model(&jobRow{}).Where("period_kind = ? AND period = ? AND status = ? AND finished_at >= ?", kind, period,
		ranking.Done, utc(since)).Limit(1).Pluck("id", &ids).Error
	if err != nil {
		return false, fmt.Errorf("find index jobs: %w", translate(err))
	}
	return len(ids) > 0, nil
}

// ActivePeriods lists the periods of a kind with a pending or running job
// (a range of the (status, created_at) index).
func (db *DB) ActivePeriods(ctx context.Context, kind string) ([]string, error) {
	var ps []string
	err := db.conn(ctx).Model(&jobRow{}).Distinct("period").Where("status IN ? AND period_kind = ?",
		[]string{ranking.Pending, ranking.Running}, kind).Pluck("period", &ps).Error
	if err != nil {
		return nil, fmt.Errorf("find index jobs: %w", translate(err))
	}
	return ps, nil
}

// ComputedPeriods lists the periods of a kind that have results at the top
// level: a range of the primary key over a few rows per period (five
// counties), where the lower levels hold hundreds or thousands.
func (db *DB) ComputedPeriods(ctx context.Context, kind string) ([]string, error) {
	var ps []string
	err := db.conn(ctx).Model(&resultRow{}).Distinct("period").Where("level = ? AND period_kind = ?", string(ranking.Levels[0]), kind).
		Pluck("period", &ps).Error
	if err != nil {
		return nil, fmt.Errorf("find index results: %w", translate(err))
	}
	return ps, nil
}

// FirstCaseAt is when the earliest incident or dispute occurred: the first
// entry of each table's occurred_at index.
func (db *DB) FirstCaseAt(ctx context.Context) (time.Time, bool, error) {
	var first time.Time
	found := false
	for _, table := range []string{"incidents", "disputes"} {
		var at []time.Time
		if err := db.conn(ctx).Table(table).Order("occurred_at").Limit(1).Pluck("occurred_at", &at).Error; err != nil {
			return time.Time{}, false, fmt.Errorf("find the first case: %w", translate(err))
		}
		if len(at) > 0 && (!found || at[0].Before(first)) {
			first, found = at[0], true
		}
	}
	return first, found, nil
}

// FindJob returns errs.ErrNotFound if there is none.
func (db *DB) FindJob(ctx context.Context, id string) (ranking.Job, error) {
	var r jobRow
	if err := db.conn(ctx).Take(&r, "id = ?", id).Error; err != nil {
		return ranking.Job{}, fmt.Errorf("find index job %s: %w", id, translate(err))
	}
	return r.domain(), nil
}

// FindActiveJob returns the period's newest pending or running job, or
// errs.ErrNotFound (one range of the (period_kind, period, status) index).
func (db *DB) FindActiveJob(ctx context.Context, kind, period string) (ranking.Job, error) {
	var r jobRow
	err := db.conn(ctx).Where("period_kind = ? AND period = ? AND status IN ?", kind, period, []string{ranking.Pending, ranking.Running}).
		Order("created_at DESC").Take(&r).Error
	if err != nil {
		return ranking.Job{}, fmt.Errorf("find index job of %s: %w", period, translate(err))
	}
	return r.domain(), nil
}

// HasJob reports whether a job of the period exists.
func (db *DB) HasJob(ctx context.Context, kind, period string) (bool, error) {
	var n int64
	if err := db.conn(ctx).Model(&jobRow{}).Where("period_kind = ? AND period = ?", kind, period).Count(&n).Error; err != nil {
		return false, fmt.Errorf("find index jobs: %w", translate(err))
	}
	return n > 0, nil
}

var _ ranking.Store = (*DB)(nil)
