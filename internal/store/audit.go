package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"pingan/internal/access"
	"pingan/internal/audit"
)

type auditRow struct {
	ID        string `gorm:"primaryKey"`
	At        time.Time
	ActorID   string
	ActorRole string
	Action    string
	Entity    string
	EntityID  string
	RequestID string
	ClientIP  string `gorm:"column:client_ip"`
	Details   *string
	// RegionPath places the entry for scoped reading (audit.Entry).
	RegionPath string
}

func (auditRow) TableName() string { return "audit_log" }

func auditToRow(e audit.Entry) auditRow {
	row := auditRow{ID: e.ID, At: utc(e.At), ActorID: e.ActorID, ActorRole: string(e.ActorRole), Action: e.Action,
		Entity: e.Entity, EntityID: e.EntityID, RequestID: e.RequestID, ClientIP: e.ClientIP, RegionPath: e.RegionPath}
	if e.Details != "" {
		row.Details = &e.Details
	}
	return row
}

// AppendAudit writes e, joining the context's transaction.
func (db *DB) AppendAudit(ctx context.Context, e audit.Entry) error {
	row := auditToRow(e)
	if err := db.conn(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("append audit %s: %w", e.Action, translate(err))
	}
	return nil
}

// FindAudit lists entries in f.Scope newest first.
func (db *DB) FindAudit(ctx context.Context, f audit.Filter) ([]audit.Entry, error) {
	var rows []auditRow
	if err := db.auditQuery(ctx, f).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("find audit: %w", translate(err))
	}
	out := make([]audit.Entry, len(rows))
	for i, r := range rows {
		out[i] = audit.Entry{ID: r.ID, At: r.At, ActorID: r.ActorID, ActorRole: access.Role(r.ActorRole), Action: r.Action,
			Entity: r.Entity, EntityID: r.EntityID, RequestID: r.RequestID, ClientIP: r.ClientIP, RegionPath: r.RegionPath}
		if r.Details != nil {
			out[i].Details = *r.Details
		}
	}
	return out, nil
}

// auditQuery is FindAudit's query, in (at, id) order from the cursor.
func (db *DB) auditQuery(ctx context.Context, f audit.Filter) *gorm.DB {
	q := applyScope(db.conn(ctx).Model(&auditRow{}), f.Scope, auditColumns)
	if f.Entity != "" {
		q = q.Where("entity = ?", f.Entity)
	}
	if f.ActorID != "" {
		q = q.Where("actor_id = ?", f.ActorID)
	}
	if !f.From.IsZero() {
		q = q.Where("at >= ?", utc(f.From))
	}
	if !f.To.IsZero() {
		q = q.Where("at < ?", utc(f.To))
	}
	if f.BeforeID != "" {
		q = before(q, "at", f.BeforeAt, f.BeforeID)
	}
	return q.Order("at DESC, id DESC").Limit(f.Limit)
}
