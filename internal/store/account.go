package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"pingan/internal/auth"
	"pingan/internal/indicator"
)

type accountRow struct {
	ID         string `gorm:"primaryKey"`
	Name       string
	KeyHash    string
	KeyPrefix  string
	Indicators string
	RegionCode string
	CreatedBy  string
	CreatedAt  time.Time
	RevokedAt  *time.Time
}

func (accountRow) TableName() string { return "service_accounts" }

func (r accountRow) domain() indicator.Account {
	return indicator.Account{ID: r.ID, Name: r.Name, KeyHash: r.KeyHash, KeyPrefix: r.KeyPrefix,
		Indicators: strings.Split(r.Indicators, ","), RegionCode: r.RegionCode, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt,
		RevokedAt: r.RevokedAt}
}

// CreateAccount inserts a service account.
func (db *DB) CreateAccount(ctx context.Context, a indicator.Account) error {
	r := accountRow{ID: a.ID, Name: a.Name, KeyHash: a.KeyHash, KeyPrefix: a.KeyPrefix, Indicators: strings.Join(a.Indicators, ","),
		RegionCode: a.RegionCode, CreatedBy: a.CreatedBy, CreatedAt: utc(a.CreatedAt)}
	return translate(db.conn(ctx).Create(&r).Error)
}

// FindAccounts lists the service accounts, newest first.
func (db *DB) FindAccounts(ctx context.Context) ([]indicator.Account, error) {
	var rows []accountRow
	if err := db.conn(ctx).Order("created_at DESC, id DESC").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("find service accounts: %w", translate(err))
	}
	out := make([]indicator.Account, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// FindAccountByKeyHash returns errs.ErrNotFound if there is none.
func (db *DB) FindAccountByKeyHash(ctx context.Context, hash string) (auth.KeyAccount, error) {
	var r accountRow
	if err := db.conn(ctx).Take(&r, "key_hash = ?", hash).Error; err != nil {
		return auth.KeyAccount{}, fmt.Errorf("find service account: %w", translate(err))
	}
	a := r.domain()
	return auth.KeyAccount{ID: a.ID, Name: a.Name, RegionCode: a.RegionCode, Indicators: a.Indicators, Revoked: a.RevokedAt != nil}, nil
}

// RevokeAccount sets revoked_at unless it is set.
func (db *DB) RevokeAccount(ctx context.Context, id string, at time.Time) (indicator.Account, error) {
	if err := db.conn(ctx).Model(&accountRow{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", utc(at)).Error; err != nil {
		return indicator.Account{}, fmt.Errorf("revoke service account: %w", translate(err))
	}
	var r accountRow
	if err := db.conn(ctx).Take(&r, "id = ?", id).Error; err != nil {
		return indicator.Account{}, fmt.Errorf("service account %s: %w", id, translate(err))
	}
	return r.domain(), nil
}

var (
	_ indicator.AccountStore = (*DB)(nil)
	_ auth.KeyStore          = (*DB)(nil)
)
