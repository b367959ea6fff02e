package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"pingan/internal/auth"
	"pingan/internal/errs"
)

type refreshTokenRow struct {
	ID              string `gorm:"primaryKey"`
	FamilyID        string
	UserID          string
	TokenHash       string
	ExpiresAt       time.Time
	CreatedAt       time.Time
	UsedAt          *time.Time
	SuccessorID     *string
	SuccessorSealed *string
	AnswerSealed    *string
	RevokedAt       *time.Time
}

func (refreshTokenRow) TableName() string { return "refresh_tokens" }

func refreshToRow(t auth.RefreshToken) refreshTokenRow {
	return refreshTokenRow{ID: t.ID, FamilyID: t.FamilyID, UserID: t.UserID, TokenHash: t.TokenHash,
		ExpiresAt: utc(t.ExpiresAt), CreatedAt: utc(t.CreatedAt), UsedAt: utcPtr(t.UsedAt), RevokedAt: utcPtr(t.RevokedAt)}
}

func (r refreshTokenRow) domain() auth.RefreshToken {
	t := auth.RefreshToken{ID: r.ID, FamilyID: r.FamilyID, UserID: r.UserID, TokenHash: r.TokenHash,
		ExpiresAt: r.ExpiresAt, CreatedAt: r.CreatedAt, UsedAt: r.UsedAt, RevokedAt: r.RevokedAt}
	if r.SuccessorID != nil {
		t.SuccessorID = *r.SuccessorID
	}
	if r.SuccessorSealed != nil {
		t.SuccessorSealed = *r.SuccessorSealed
	}
	if r.AnswerSealed != nil {
		t.AnswerSealed = *r.AnswerSealed
	}
	return t
}

type loginFailureRow struct {
	ID         string `gorm:"primaryKey"`
	LimiterKey string
	At         time.Time
}

func (loginFailureRow) TableName() string { return "login_failures" }

// CreateRefreshToken stores a new token.
func (db *DB) CreateRefreshToken(ctx context.Context, t auth.RefreshToken) error {
	row := refreshToRow(t)
	return translate(db.conn(ctx).Create(&row).Error)
}

// FindRefreshToken returns errs.ErrNotFound if no token has this hash.
func (db *DB) FindRefreshToken(ctx context.Context, hash string) (auth.RefreshToken, error) {
	var row refreshTokenRow
	if err := db.conn(ctx).Take(&row, "token_hash = ?", hash).Error; err != nil {
		return auth.RefreshToken{}, fmt.Errorf("find refresh token: %w", translate(err))
	}
	return row.domain(), nil
}

// RotateRefreshToken marks old as spent by next and stores next in one
// transaction. Returns errs.ErrConflict when old was used or revoked meanwhile.
func (db *DB) RotateRefreshToken(ctx context.Context, oldID string, spent auth.Spent, next auth.RefreshToken) error {
	return db.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&refreshTokenRow{}).Where("id = ? AND used_at IS NULL AND revoked_at IS NULL", oldID).
			Updates(map[string]any{"used_at": utc(spent.At), "successor_id": next.ID,
				"successor_sealed": spent.SuccessorSealed, "answer_sealed": spent.AnswerSealed})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return fmt.Errorf("refresh token %s already used: %w", oldID, errs.ErrConflict)
		}
		row := refreshToRow(next)
		return tx.Create(&row).Error
	})
}

// RevokeFamily revokes every token of a family.
func (db *DB) RevokeFamily(ctx context.Context, familyID string, at time.Time) error {
	return translate(db.conn(ctx).Model(&refreshTokenRow{}).
		Where("family_id = ? AND revoked_at IS NULL", familyID).Update("revoked_at", utc(at)).Error)
}

// FamilyRevoked reports whether any token of the family is revoked: tokens
// are revoked by family or by user, and a revoked family gets no new ones.
func (db *DB) FamilyRevoked(ctx context.Context, familyID string) (bool, error) {
	var ids []string
	err := db.conn(ctx).Model(&refreshTokenRow{}).Where("family_id = ? AND revoked_at IS NOT NULL", familyID).
		Limit(1).Pluck("id", &ids).Error
	if err != nil {
		return false, fmt.Errorf("find revoked session: %w", translate(err))
	}
	return len(ids) > 0, nil
}

// RecordLoginAttempt notes one attempt under each key and returns the ids.
func (db *DB) RecordLoginAttempt(ctx context.Context, keys []string, at time.Time) ([]string, error) {
	rows := make([]loginFailureRow, len(keys))
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = uuid.Must(uuid.NewV7()).String()
		rows[i] = loginFailureRow{ID: ids[i], LimiterKey: k, At: utc(at)}
	}
	if err := db.conn(ctx).Create(&rows).Error; err != nil {
		return nil, translate(err)
	}
	return ids, nil
}

// LoginFailures counts failures under key since the given time and returns
// the oldest of them.
func (db *DB) LoginFailures(ctx context.Context, key string, since time.Time) (int, time.Time, error) {
	q := db.conn(ctx).Model(&loginFailureRow{}).Where("limiter_key = ? AND at > ?", key, utc(since))
	var n int64
	if err := q.Count(&n).Error; err != nil || n == 0 {
		return 0, time.Time{}, translate(err)
	}
	// A separate row read rather than MIN(at): SQLite returns an aggregate of
	// a DATETIME column as text that the driver does not parse.
	var first loginFailureRow
	if err := db.conn(ctx).Where("limiter_key = ? AND at > ?", key, utc(since)).
		Order("at").Take(&first).Error; err != nil {
		return 0, time.Time{}, translate(err)
	}
	return int(n), first.At, nil
}

// ForgetLoginAttempts deletes the given attempts.
func (db *DB) ForgetLoginAttempts(ctx context.Context, attempts []string) error {
	if len(attempts) == 0 {
		return nil
	}
	return translate(db.conn(ctx).Where("id IN ?", attempts).Delete(&loginFailureRow{}).Error)
}

// ClearLoginFailures forgets the attempts, key's failures and every
// failure older than before.
func (db *DB) ClearLoginFailures(ctx context.Context, attempts []string, key string, before time.Time) error {
	return translate(db.conn(ctx).Where("id IN ? OR limiter_key = ? OR at < ?", attempts, key, utc(before)).
		Delete(&loginFailureRow{}).Error)
}
