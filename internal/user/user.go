// Package user holds accounts, their roles and scopes (SPEC §4.2), and the
// rules for managing them.
package user

import (
	"context"
	"time"

	"pingan/internal/access"
)

// User is an account. Phone is the plain number inside the domain; the store
// encrypts it at rest and responses mask it.
type User struct {
	ID           string
	Username     string
	PasswordHash string
	Name         string
	Phone        string
	Role         access.Role
	RegionCode   string
	Active       bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Update carries the fields a patch changes; nil means "not given".
type Update struct {
	Name       *string
	Phone      *string
	Role       *access.Role
	RegionCode *string
	Active     *bool
	Password   *string
}

// Filter selects users for FindUsers.
type Filter struct {
	Scope      access.Scope // the caller's subtree (access.ListScope)
	Role       access.Role
	RegionCode string
	After      string // keyset cursor: usernames greater than this
	Limit      int
}

// Store persists users. Implemented in internal/store.
type Store interface {
	// CreateUser returns errs.ErrConflict when the username is taken.
	CreateUser(ctx context.Context, u User) error
	// FindUserByID returns errs.ErrNotFound if there is none.
	FindUserByID(ctx context.Context, id string) (User, error)
	// LockUser is FindUserByID that, inside a transaction, locks the row
	// until commit.
	LockUser(ctx context.Context, id string) (User, error)
	// FindUserByUsername returns errs.ErrNotFound if there is none.
	FindUserByUsername(ctx context.Context, username string) (User, error)
	// FindUsers lists users in a subtree ordered by username.
	FindUsers(ctx context.Context, f Filter) ([]User, error)
	// UpdateUser saves u; when revokeTokens is set, every refresh token of
	// the user is revoked in the same transaction.
	UpdateUser(ctx context.Context, u User, revokeTokens bool) error
	// CountUsers counts all accounts (to know whether the database is empty).
	CountUsers(ctx context.Context) (int64, error)
}
