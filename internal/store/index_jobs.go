package store

// The index jobs (SPEC §9.6): queued, claimed under a lease, finished;
// what the backfill asks of the history.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"pingan/internal/errs"
	"pingan/internal/ranking"
)

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

// QueueJob adds a pending job unless one is pending for the period. A
// pending Backfill job does not cover it: that one waits behind every
// other job, and late data should show at once (the backfill job then
// finds its period computed and does nothing).
func (db *DB) QueueJob(ctx context.Context, j ranking.Job) (ranking.Job, error) {
	var out ranking.Job
	queue := func(tx *gorm.DB) error {
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
	}
	// Two instances queueing the same period at once both find no pending
	// job, and MySQL's gap locks make one of them the deadlock victim: it
	// runs again and finds the other's job (as ReplaceResults does).
	var err error
	for range 3 {
		if err = db.tx(ctx, queue); err == nil || !isDeadlock(err) {
			break
		}
	}
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
	return db.firstCase(ctx, "occurred_at")
}

// firstCase is the earliest value of column (a time that both case tables
// index) over the incidents and the disputes, and whether there is a case.
func (db *DB) firstCase(ctx context.Context, column string) (time.Time, bool, error) {
	var first time.Time
	found := false
	for _, table := range []string{"incidents", "disputes"} {
		var at []time.Time
		if err := db.conn(ctx).Table(table).Order(column).Limit(1).Pluck(column, &at).Error; err != nil {
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
