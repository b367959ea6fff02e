package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// RecentActions returns the times of the actor's audit entries of the
// action at or after since, newest first, at most limit. It reads the
// (actor_id, at, id) index backwards from now: the actor's entries of the
// window, however large the log.
func (db *DB) RecentActions(ctx context.Context, actorID, action string, since time.Time, limit int) ([]time.Time, error) {
	var rows []auditRow
	err := db.recentActionsQuery(ctx, actorID, action, since, limit).Select("at").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("recent %s of %s: %w", action, actorID, translate(err))
	}
	out := make([]time.Time, len(rows))
	for i, r := range rows {
		out[i] = r.At
	}
	return out, nil
}

func (db *DB) recentActionsQuery(ctx context.Context, actorID, action string, since time.Time, limit int) *gorm.DB {
	return db.conn(ctx).Model(&auditRow{}).Where("actor_id = ? AND at >= ? AND action = ?", actorID, utc(since), action).
		Order("at DESC, id DESC").Limit(limit)
}
