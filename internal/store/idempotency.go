package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"pingan/internal/errs"
	"pingan/internal/idempotency"
)

type idempotencyRow struct {
	UserID          string `gorm:"primaryKey"`
	KeyHash         string `gorm:"primaryKey"`
	RequestHash     string
	Owner           string
	LockedUntil     time.Time
	Done            bool
	ResponseStatus  int
	ResponseHeaders *string
	ResponseBody    *string
	CreatedAt       time.Time
}

func (idempotencyRow) TableName() string { return "idempotency_keys" }

// domain maps the row back; stored response headers that cannot be read
// are an error (logged with the key's user and hash): replaying the
// response without them would change it.
func (r idempotencyRow) domain(ctx context.Context) (idempotency.Record, error) {
	out := idempotency.Record{UserID: r.UserID, KeyHash: r.KeyHash, RequestHash: r.RequestHash, Owner: r.Owner,
		LockedUntil: r.LockedUntil, Done: r.Done, Status: r.ResponseStatus, CreatedAt: r.CreatedAt}
	if r.ResponseHeaders != nil {
		err := decodeColumn(ctx, "idempotency_keys", r.UserID+"/"+r.KeyHash, "response_headers", *r.ResponseHeaders, &out.Headers)
		if err != nil {
			return idempotency.Record{}, err
		}
	}
	if r.ResponseBody != nil {
		out.Body = []byte(*r.ResponseBody)
	}
	return out, nil
}

// ClaimIdempotencyKey inserts r as pending, or returns the existing record;
// a pending record with a lapsed lock is taken over (claimed = true).
func (db *DB) ClaimIdempotencyKey(ctx context.Context, r idempotency.Record, now time.Time) (idempotency.Record, bool, error) {
	row := idempotencyRow{UserID: r.UserID, KeyHash: r.KeyHash, RequestHash: r.RequestHash, Owner: r.Owner,
		LockedUntil: utc(r.LockedUntil), CreatedAt: utc(r.CreatedAt)}
	err := translate(db.conn(ctx).Create(&row).Error)
	if err == nil {
		return r, true, nil
	}
	if !errors.Is(err, errs.ErrConflict) {
		return idempotency.Record{}, false, fmt.Errorf("claim idempotency key: %w", err)
	}
	var existing idempotencyRow
	if err := db.conn(ctx).Take(&existing, "user_id = ? AND key_hash = ?", r.UserID, r.KeyHash).Error; err != nil {
		return idempotency.Record{}, false, fmt.Errorf("read idempotency key: %w", translate(err))
	}
	if existing.Done || existing.LockedUntil.After(now) || existing.RequestHash != r.RequestHash {
		rec, err := existing.domain(ctx)
		return rec, false, err
	}
	res := db.conn(ctx).Model(&idempotencyRow{}).
		Where("user_id = ? AND key_hash = ? AND owner = ? AND done = ?", r.UserID, r.KeyHash, existing.Owner, false).
		Updates(map[string]any{"owner": r.Owner, "locked_until": utc(r.LockedUntil)})
	if res.Error != nil {
		return idempotency.Record{}, false, fmt.Errorf("take over idempotency key: %w", translate(res.Error))
	}
	if res.RowsAffected != 1 {
		// Someone else took it over first: they are in flight now.
		existing.LockedUntil = r.LockedUntil
		rec, err := existing.domain(ctx)
		return rec, false, err
	}
	return r, true, nil
}

// CompleteIdempotencyKey stores the response in the context's transaction.
func (db *DB) CompleteIdempotencyKey(ctx context.Context, userID, keyHash, owner string, status int, headers map[string]string, body []byte) error {
	h, _ := json.Marshal(headers)
	hs, bs := string(h), string(body)
	res := db.conn(ctx).Model(&idempotencyRow{}).
		Where("user_id = ? AND key_hash = ? AND owner = ? AND done = ?", userID, keyHash, owner, false).
		Updates(map[string]any{"done": true, "response_status": status, "response_headers": hs, "response_body": bs})
	if res.Error != nil {
		return fmt.Errorf("complete idempotency key: %w", translate(res.Error))
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("idempotency key lost to another request: %w", errs.ErrConflict)
	}
	return nil
}

// finishedRow is the row of a finished record (done, with its response)
// for a key nobody claimed: a report's receipt (CreateReport), inserted
// with the report's rows, so that a repeated key fails the insert.
func finishedRow(r idempotency.Record) idempotencyRow {
	h, _ := json.Marshal(r.Headers)
	hs, bs := string(h), string(r.Body)
	return idempotencyRow{UserID: r.UserID, KeyHash: r.KeyHash, RequestHash: r.RequestHash, Owner: r.Owner,
		LockedUntil: utc(r.LockedUntil), Done: true, ResponseStatus: r.Status, ResponseHeaders: &hs, ResponseBody: &bs,
		CreatedAt: utc(r.CreatedAt)}
}

// ReleaseIdempotencyKey deletes a pending record held by owner.
func (db *DB) ReleaseIdempotencyKey(ctx context.Context, userID, keyHash, owner string) error {
	return translate(db.conn(ctx).Where("user_id = ? AND key_hash = ? AND owner = ? AND done = ?", userID, keyHash, owner, false).
		Delete(&idempotencyRow{}).Error)
}

// PurgeIdempotencyKeys deletes records created before the given time.
func (db *DB) PurgeIdempotencyKeys(ctx context.Context, before time.Time) (int64, error) {
	res := db.conn(ctx).Where("created_at < ?", utc(before)).Delete(&idempotencyRow{})
	return res.RowsAffected, translate(res.Error)
}

var _ idempotency.Store = (*DB)(nil)
