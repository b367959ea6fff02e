package app

import (
	"context"
	"time"

	"github.com/google/uuid"

	"pingan/internal/indicator"
	"pingan/internal/notify"
	"pingan/internal/ranking"
	"pingan/internal/region"
	"pingan/internal/warning"
)

// WarningNotices writes the warning service's notices to the inbox: kind
// "warning", case kind "warning", the warning's id as the case id.
type WarningNotices struct{ Notify *notify.Service }

// NotifyWarnings implements warning.Notifier.
func (w WarningNotices) NotifyWarnings(ctx context.Context, ns []warning.Notice) error {
	out := make([]notify.Notification, len(ns))
	for i, n := range ns {
		out[i] = notify.Notification{UserID: n.UserID, Kind: notify.KindWarning, CaseKind: notify.CaseWarning,
			CaseID: n.WarningID, Title: n.Title, DedupeKey: n.DedupeKey}
	}
	return w.Notify.Notify(ctx, out...)
}

// IndexResults reads the stored monthly index for the warnings that watch
// it (red bands, rank falls).
type IndexResults struct{ Store ranking.Store }

// MonthResults implements warning.Index.
func (r IndexResults) MonthResults(ctx context.Context, level region.Level, month string) ([]warning.Result, error) {
	rows, err := r.Store.FindResults(ctx, level, indicator.Month, month, nil)
	if err != nil {
		return nil, err
	}
	out := make([]warning.Result, len(rows))
	for i, row := range rows {
		out[i] = warning.Result{RegionCode: row.RegionCode, Band: string(row.Band), Rank: row.Rank}
		if row.Rank > 0 {
			score := row.Score
			out[i].Score = &score
		}
	}
	return out, nil
}

// warnKind names the detection jobs in the index's job table.
const warnKind = "warn"

// warnSpace names the ids of scheduled detection jobs: one per local day's
// final pass, per ten-minute slot of today, per month's index checks.
var warnSpace = uuid.MustParse("0b6c2f5e-8d31-4a7e-9f42-6a1d7c3e5b90")

// warningTask runs early-warning detection (SPEC §10.3) on the index's job
// runner, so that it runs exactly once across instances: the day so far
// every TenMinutes, each of the last CatchUpDays days once after it closed
// (a server that was down catches up), a day again when a late report for it
// arrives, and a month's index checks once it is computed.
func warningTask(w *warning.Service, set warning.Settings, loc *time.Location) ranking.Task {
	job := func(name, period, reason string) ranking.Job {
		return ranking.Job{ID: uuid.NewSHA1(warnSpace, []byte(name)).String(), Period: period, Reason: reason}
	}
	return ranking.Task{
		Kind: warnKind,
		Run:  w.Detect,
		Due: func(now time.Time) []ranking.Job {
			local := now.In(loc)
			today := local.Format(time.DateOnly)
			slot := local.Truncate(warning.SameDayEvery).Format("15:04") // Asia/Shanghai's offset is whole hours
			// Oldest first (the runner takes them in this order), so that an
			// episode grows day by day.
			month := indicator.Shift(indicator.Month, indicator.PeriodOf(indicator.Month, now, loc), -1, loc)
			jobs := []ranking.Job{job(month, month, "schedule")}
			for n := warning.CatchUpDays; n >= 1; n-- {
				day := local.AddDate(0, 0, -n).Format(time.DateOnly)
				jobs = append(jobs, job(day+"/final", day, "schedule"))
			}
			return append(jobs, job(today+"/"+slot, today, "schedule"))
		},
		Late: func(t, now time.Time) []ranking.Job {
			day, today := t.In(loc).Format(time.DateOnly), now.In(loc).Format(time.DateOnly)
			if day >= today || day < now.In(loc).AddDate(0, 0, -set.LateDays).Format(time.DateOnly) {
				return nil // today's pass counts it; older days are history
			}
			return []ranking.Job{{ID: uuid.Must(uuid.NewV7()).String(), Period: day, Reason: "late_data"}}
		},
		// The latest complete month's red bands and rank falls read it and the
		// two months before; once any of them is computed (by the schedule, a
		// late report or the backfill) they are checked again. Older months
		// raise nothing: a backfill of past years must not flood supervisors
		// with warnings of long ago.
		AfterIndex: func(period string, now time.Time) []ranking.Job {
			last := indicator.Shift(indicator.Month, indicator.PeriodOf(indicator.Month, now, loc), -1, loc)
			if len(period) != len(last) || period > last || period < indicator.Shift(indicator.Month, last, -(warning.RedBandRun-1), loc) {
				return nil
			}
			return []ranking.Job{{ID: uuid.Must(uuid.NewV7()).String(), Period: last, Reason: "index"}}
		},
	}
}
