package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"pingan/internal/errs"
	"pingan/internal/notify"
	"pingan/internal/wire"
)

type notificationRow struct {
	ID        string `gorm:"primaryKey"`
	UserID    string
	Kind      string
	CaseKind  string
	CaseID    string
	CaseNo    string
	Title     string
	DedupeKey *string
	CreatedAt time.Time
	ReadAt    *time.Time
}

func (notificationRow) TableName() string { return "notifications" }

func (r notificationRow) domain() notify.Notification {
	n := notify.Notification{ID: r.ID, UserID: r.UserID, Kind: r.Kind, CaseKind: r.CaseKind, CaseID: r.CaseID, CaseNo: r.CaseNo,
		Title: r.Title, CreatedAt: r.CreatedAt, ReadAt: r.ReadAt}
	if r.DedupeKey != nil {
		n.DedupeKey = *r.DedupeKey
	}
	return n
}

// InsertNotifications writes ns, skipping those whose (user_id,
// dedupe_key) exists: ON CONFLICT DO NOTHING (on MySQL ON DUPLICATE KEY
// UPDATE id = id) skips a row without failing the transaction. A few rows
// go in one statement; when a statement wrote fewer rows than it carried,
// their fresh ids tell which were written. A job that raises the same
// notices every minute thus costs a statement or two, not one per notice.
func (db *DB) InsertNotifications(ctx context.Context, ns []notify.Notification) ([]bool, error) {
	inserted := make([]bool, len(ns))
	// The SQLite driver binds parameters in time quadratic in their number
	// per statement: small statements are faster there.
	batch := 200
	if db.dialect == "sqlite" {
		batch = 12
	}
	for from := 0; from < len(ns); from += batch {
		part := ns[from:min(from+batch, len(ns))]
		rows := make([]notificationRow, len(part))
		for i, n := range part {
			rows[i] = notificationRow{ID: n.ID, UserID: n.UserID, Kind: n.Kind, CaseKind: n.CaseKind, CaseID: n.CaseID, CaseNo: n.CaseNo,
				Title: n.Title, CreatedAt: utc(n.CreatedAt), ReadAt: utcPtr(n.ReadAt)}
			if n.DedupeKey != "" {
				rows[i].DedupeKey = &n.DedupeKey
			}
		}
		res := db.conn(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&rows)
		if res.Error != nil {
			return nil, fmt.Errorf("insert notifications: %w", translate(res.Error))
		}
		switch res.RowsAffected {
		case int64(len(part)):
			for i := range part {
				inserted[from+i] = true
			}
		case 0:
		default:
			ids := make([]string, len(part))
			for i, n := range part {
				ids[i] = n.ID
			}
			var written []string
			if err := db.conn(ctx).Model(&notificationRow{}).Where("id IN ?", ids).Pluck("id", &written).Error; err != nil {
				return nil, fmt.Errorf("insert notifications: %w", translate(err))
			}
			for i, n := range part {
				inserted[from+i] = slices.Contains(written, n.ID)
			}
		}
	}
	return inserted, nil
}

// FindNotifications lists one user's notifications: newest first by id,
// or oldest first after f.AfterID (streams, sync). Both read the (user_id, id)
// index; unread-only lists the (user_id, read_at, id) one.
func (db *DB) FindNotifications(ctx context.Context, f notify.Filter) ([]notify.Notification, error) {
	var rows []notificationRow
	if err := db.notificationsQuery(ctx, f).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("find notifications: %w", translate(err))
	}
	out := make([]notify.Notification, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

func (db *DB) notificationsQuery(ctx context.Context, f notify.Filter) *gorm.DB {
	q := db.conn(ctx).Model(&notificationRow{}).Where("user_id = ?", f.UserID)
	if f.UnreadOnly {
		q = q.Where("read_at IS NULL")
	}
	switch {
	case f.Ascending:
		q = q.Where("id > ?", f.AfterID).Order("id")
	case f.BeforeID != "":
		q = q.Where("id < ?", f.BeforeID).Order("id DESC")
	default:
		q = q.Order("id DESC")
	}
	return q.Limit(f.Limit)
}

// FindNotification returns errs.ErrNotFound unless userID owns id.
func (db *DB) FindNotification(ctx context.Context, userID, id string) (notify.Notification, error) {
	var row notificationRow
	if err := db.conn(ctx).Take(&row, "id = ? AND user_id = ?", id, userID).Error; err != nil {
		return notify.Notification{}, fmt.Errorf("find notification: %w", translate(err))
	}
	return row.domain(), nil
}

// MarkNotificationRead sets read_at once: the condition on read_at IS NULL
// keeps the first time when two reads race.
func (db *DB) MarkNotificationRead(ctx context.Context, userID, id string, at time.Time) (bool, error) {
	res := db.conn(ctx).Model(&notificationRow{}).Where("id = ? AND user_id = ? AND read_at IS NULL", id, userID).
		Update("read_at", utc(at))
	if res.Error != nil {
		return false, fmt.Errorf("mark notification read: %w", translate(res.Error))
	}
	if res.RowsAffected == 1 {
		return true, nil
	}
	if _, err := db.FindNotification(ctx, userID, id); err != nil {
		return false, err
	}
	return false, nil
}

// LatestNotificationID is the newest id of userID's notifications, ""
// when there is none.
func (db *DB) LatestNotificationID(ctx context.Context, userID string) (string, error) {
	var ids []string
	if err := db.conn(ctx).Model(&notificationRow{}).Where("user_id = ?", userID).Order("id DESC").Limit(1).
		Pluck("id", &ids).Error; err != nil {
		return "", fmt.Errorf("latest notification: %w", translate(err))
	}
	if len(ids) == 0 {
		return "", nil
	}
	return ids[0], nil
}

var _ notify.Store = (*DB)(nil)

type deliveryRow struct {
	ID             string `gorm:"primaryKey"`
	NotificationID string
	Body           string
	Status         string
	Attempts       int
	NextAttemptAt  time.Time
	Owner          string
	LastStatus     int
	LastError      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

func (deliveryRow) TableName() string { return "webhook_deliveries" }

func (r deliveryRow) domain() notify.Delivery {
	return notify.Delivery{ID: r.ID, Notification: notify.Notification{ID: r.NotificationID}, Body: []byte(r.Body),
		Status: r.Status, Attempts: r.Attempts, NextAttemptAt: r.NextAttemptAt, Owner: r.Owner, LastStatus: r.LastStatus,
		LastError: r.LastError, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// InsertDeliveries queues ds, in the context's transaction, each with its
// notification as the webhook's body.
func (db *DB) InsertDeliveries(ctx context.Context, ds []notify.Delivery) error {
	rows := make([]deliveryRow, len(ds))
	for i, d := range ds {
		body, err := wire.WebhookBody(d.Notification)
		if err != nil {
			return err
		}
		rows[i] = deliveryRow{ID: d.ID, NotificationID: d.Notification.ID, Body: string(body), Status: d.Status, Attempts: d.Attempts,
			NextAttemptAt: utc(d.NextAttemptAt), Owner: d.Owner, CreatedAt: utc(d.CreatedAt), UpdatedAt: utc(d.UpdatedAt)}
	}
	batch := 100
	if db.dialect == "sqlite" {
		batch = 12
	}
	if err := db.conn(ctx).CreateInBatches(rows, batch).Error; err != nil {
		return fmt.Errorf("insert webhook deliveries: %w", translate(err))
	}
	return nil
}

func (db *DB) dueDeliveriesQuery(ctx context.Context, now time.Time, limit int) *gorm.DB {
	return db.conn(ctx).Model(&deliveryRow{}).Where("status = ? AND next_attempt_at <= ?", notify.DeliveryPending, utc(now)).
		Order("next_attempt_at, id").Limit(limit)
}

// ClaimDeliveries reads a few due rows, then takes each by a conditional
// UPDATE that succeeds only while the row is still pending and due: of two
// workers that read the same row, one moves its next_attempt_at past now
// and the other's UPDATE matches nothing.
func (db *DB) ClaimDeliveries(ctx context.Context, owner string, now, until time.Time, limit int) ([]notify.Delivery, error) {
	var rows []deliveryRow
	if err := db.dueDeliveriesQuery(ctx, now, limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("find due deliveries: %w", translate(err))
	}
	var out []notify.Delivery
	for _, r := range rows {
		res := db.conn(ctx).Model(&deliveryRow{}).
			Where("id = ? AND status = ? AND next_attempt_at <= ?", r.ID, notify.DeliveryPending, utc(now)).
			Updates(map[string]any{"owner": owner, "next_attempt_at": utc(until), "updated_at": utc(now)})
		if res.Error != nil {
			return out, fmt.Errorf("claim delivery: %w", translate(res.Error))
		}
		if res.RowsAffected == 1 {
			r.Owner, r.NextAttemptAt = owner, utc(until)
			out = append(out, r.domain())
		}
	}
	return out, nil
}

// RecordAttempt stores the outcome of an attempt if d.Owner still holds
// the delivery. Returns errs.ErrConflict otherwise.
func (db *DB) RecordAttempt(ctx context.Context, d notify.Delivery) error {
	msg := d.LastError
	if r := []rune(msg); len(r) > 255 {
		msg = string(r[:255])
	}
	res := db.conn(ctx).Model(&deliveryRow{}).Where("id = ? AND owner = ? AND status = ?", d.ID, d.Owner, notify.DeliveryPending).
		Updates(map[string]any{"status": d.Status, "attempts": d.Attempts, "next_attempt_at": utc(d.NextAttemptAt),
			"last_status": d.LastStatus, "last_error": msg, "updated_at": utc(d.UpdatedAt)})
	if res.Error != nil {
		return fmt.Errorf("record delivery attempt: %w", translate(res.Error))
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("delivery %s was taken over by another worker: %w", d.ID, errs.ErrConflict)
	}
	return nil
}

// FindDelivery returns one delivery (for tests and operators). Returns
// errs.ErrNotFound if there is none.
func (db *DB) FindDelivery(ctx context.Context, id string) (notify.Delivery, error) {
	var row deliveryRow
	if err := db.conn(ctx).Take(&row, "id = ?", id).Error; err != nil {
		return notify.Delivery{}, fmt.Errorf("find delivery %s: %w", id, translate(err))
	}
	return row.domain(), nil
}

// PurgeDeliveries deletes delivered and failed deliveries last changed
// before the given time.
func (db *DB) PurgeDeliveries(ctx context.Context, before time.Time) (int64, error) {
	res := db.conn(ctx).Where("status IN ? AND updated_at < ?", []string{notify.DeliveryDelivered, notify.DeliveryFailed}, utc(before)).
		Delete(&deliveryRow{})
	return res.RowsAffected, translate(res.Error)
}

var _ notify.Outbox = (*DB)(nil)
