package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"pingan/internal/access"
	"pingan/internal/user"
)

type userRow struct {
	ID           string `gorm:"primaryKey"`
	Username     string
	PasswordHash string
	Name         string
	PhoneEnc     string
	PhoneHash    string
	Role         string
	RegionCode   string
	Active       bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

func (userRow) TableName() string { return "users" }

func (db *DB) userToRow(u user.User) userRow {
	return userRow{ID: u.ID, Username: u.Username, PasswordHash: u.PasswordHash, Name: u.Name,
		PhoneEnc: db.sealer.Seal(u.Phone), PhoneHash: db.sealer.Hash(u.Phone), Role: string(u.Role),
		RegionCode: u.RegionCode, Active: u.Active, CreatedAt: utc(u.CreatedAt), UpdatedAt: utc(u.UpdatedAt)}
}

func (db *DB) userFromRow(r userRow) (user.User, error) {
	phone, err := db.sealer.Open(r.PhoneEnc)
	if err != nil {
		// A value the data key cannot open is a server fault (a wrong
		// PINGAN_DATA_KEY), never the client's: no %w, so it maps to 500.
		return user.User{}, fmt.Errorf("user %s phone: %v", r.ID, err)
	}
	return user.User{ID: r.ID, Username: r.Username, PasswordHash: r.PasswordHash, Name: r.Name, Phone: phone,
		Role: access.Role(r.Role), RegionCode: r.RegionCode, Active: r.Active, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}, nil
}

// CreateUser returns errs.ErrConflict when the username is taken.
func (db *DB) CreateUser(ctx context.Context, u user.User) error {
	row := db.userToRow(u)
	if err := db.conn(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("create user %s: %w", u.Username, translate(err))
	}
	return nil
}

// FindUserByID returns errs.ErrNotFound if there is none.
func (db *DB) FindUserByID(ctx context.Context, id string) (user.User, error) {
	return db.findUser(ctx, "id = ?", id)
}

// LockUser reads the user and, inside a transaction, locks the row until
// commit, so that concurrent patches apply one after the other.
func (db *DB) LockUser(ctx context.Context, id string) (user.User, error) {
	var row userRow
	if err := db.forUpdate(db.conn(ctx)).Take(&row, "id = ?", id).Error; err != nil {
		return user.User{}, fmt.Errorf("lock user: %w", translate(err))
	}
	return db.userFromRow(row)
}

// FindUserByUsername returns errs.ErrNotFound if there is none.
func (db *DB) FindUserByUsername(ctx context.Context, username string) (user.User, error) {
	return db.findUser(ctx, "username = ?", username)
}

func (db *DB) findUser(ctx context.Context, where string, arg string) (user.User, error) {
	var row userRow
	if err := db.conn(ctx).Take(&row, where, arg).Error; err != nil {
		return user.User{}, fmt.Errorf("find user: %w", translate(err))
	}
	return db.userFromRow(row)
}

// FindUsers lists users whose region lies in f.Scope, by username.
func (db *DB) FindUsers(ctx context.Context, f user.Filter) ([]user.User, error) {
	q := applyScope(db.conn(ctx).Table("users").Select("users.*").
		Joins("JOIN regions ON regions.code = users.region_code"), f.Scope, userColumns)
	if f.Role != "" {
		q = q.Where("users.role = ?", string(f.Role))
	}
	if f.RegionCode != "" {
		q = q.Where("users.region_code = ?", f.RegionCode)
	}
	if f.After != "" {
		q = q.Where("users.username > ?", f.After)
	}
	var rows []userRow
	if err := q.Order("users.username").Limit(f.Limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("find users: %w", translate(err))
	}
	out := make([]user.User, 0, len(rows))
	for _, r := range rows {
		u, err := db.userFromRow(r)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

// UpdateUser saves u and, when revokeTokens is set, revokes all of the
// user's refresh tokens in the same transaction.
func (db *DB) UpdateUser(ctx context.Context, u user.User, revokeTokens bool) error {
	row := db.userToRow(u)
	return db.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&userRow{}).Where("id = ?", u.ID).Updates(map[string]any{
			"password_hash": row.PasswordHash, "name": row.Name, "phone_enc": row.PhoneEnc, "phone_hash": row.PhoneHash,
			"role": row.Role, "region_code": row.RegionCode, "active": row.Active, "updated_at": row.UpdatedAt,
		})
		if res.Error != nil {
			return fmt.Errorf("update user %s: %w", u.ID, res.Error)
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("update user %s: %w", u.ID, gorm.ErrRecordNotFound)
		}
		if revokeTokens {
			if err := tx.Model(&refreshTokenRow{}).Where("user_id = ? AND revoked_at IS NULL", u.ID).
				Update("revoked_at", row.UpdatedAt).Error; err != nil {
				return fmt.Errorf("revoke tokens of %s: %w", u.ID, err)
			}
		}
		return nil
	})
}

// CountUsers counts all accounts.
func (db *DB) CountUsers(ctx context.Context) (int64, error) {
	var n int64
	err := db.conn(ctx).Model(&userRow{}).Count(&n).Error
	return n, translate(err)
}
