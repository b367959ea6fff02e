package auth

import (
	"context"
	"time"
)

// RefreshToken is one link of a rotation chain. Only the SHA-256 of the
// token is stored; SuccessorSealed holds the next token, encrypted, so that
// a retry within the grace period can be answered with the same successor.
type RefreshToken struct {
	ID              string
	FamilyID        string
	UserID          string
	TokenHash       string
	ExpiresAt       time.Time
	CreatedAt       time.Time
	UsedAt          *time.Time
	SuccessorID     string
	SuccessorSealed string
	RevokedAt       *time.Time
}

// Store persists refresh tokens and login failures. Implemented in
// internal/store.
type Store interface {
	// CreateRefreshToken stores a new token (the first of a family).
	CreateRefreshToken(ctx context.Context, t RefreshToken) error
	// FindRefreshToken returns errs.ErrNotFound if no token has this hash.
	FindRefreshToken(ctx context.Context, hash string) (RefreshToken, error)
	// RotateRefreshToken marks old as used by next and stores next, in one
	// transaction. Returns errs.ErrConflict when old was used meanwhile.
	RotateRefreshToken(ctx context.Context, oldID string, usedAt time.Time, successorSealed string, next RefreshToken) error
	// RevokeFamily revokes every token of a family.
	RevokeFamily(ctx context.Context, familyID string, at time.Time) error
	// RecordLoginAttempt notes one login attempt under each key and returns
	// the rows' ids; an attempt counts as a failure until it is forgotten.
	RecordLoginAttempt(ctx context.Context, keys []string, at time.Time) ([]string, error)
	// LoginFailures counts failures under key since the given time and
	// returns the oldest of them.
	LoginFailures(ctx context.Context, key string, since time.Time) (int, time.Time, error)
	// ClearLoginFailures forgets the given attempts and the failures under
	// key (after a success), and every failure older than before.
	ClearLoginFailures(ctx context.Context, attempts []string, key string, before time.Time) error
}
