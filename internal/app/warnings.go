package app

import (
	"context"

	"pingan/internal/indicator"
	"pingan/internal/notify"
	"pingan/internal/ranking"
	"pingan/internal/region"
	"pingan/internal/warning"
)

// warningNotices writes the warning service's notices to the inbox.
type warningNotices struct{ n *notify.Service }

func (w warningNotices) NotifyWarnings(ctx context.Context, ns []warning.Notice) error {
	out := make([]notify.Notification, len(ns))
	for i, n := range ns {
		out[i] = notify.Notification{UserID: n.UserID, Kind: notify.KindWarning, CaseKind: notify.CaseWarning,
			CaseID: n.WarningID, Title: n.Title, DedupeKey: n.DedupeKey}
	}
	return w.n.Notify(ctx, out...)
}

// indexResults reads the stored monthly index for the warnings that watch it.
type indexResults struct{ store ranking.Store }

func (r indexResults) MonthResults(ctx context.Context, level region.Level, month string) ([]warning.Result, error) {
	rows, err := r.store.FindResults(ctx, level, indicator.Month, month, nil)
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
