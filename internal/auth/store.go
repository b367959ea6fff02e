package auth

import (
	"context"
	"time"
)

// RefreshToken is one link of a rotation chain (a family: one session).
// Only the SHA-256 of the token is stored. Once it is spent,
// SuccessorSealed holds the next token and AnswerSealed the whole answer,
// both encrypted, so that a retry within the grace period gets that answer
// again.
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
	AnswerSealed    string
	RevokedAt       *time.Time
}

// Spent is what marks a refresh token used: when, and what a retry within
// RetryGrace is given (sealed).
type Spent struct {
	At              time.Time
	SuccessorSealed string
	AnswerSealed    string
}

// Store persists refresh tokens and login failures. Implemented in
// internal/store.
type Store interface {
	// CreateRefreshToken stores a new token (the first of a family).
	CreateRefreshToken(ctx context.Context, t RefreshToken) error
	// FindRefreshToken returns errs.ErrNotFound if no token has this hash.
	FindRefreshToken(ctx context.Context, hash string) (RefreshToken, error)
	// RotateRefreshToken marks old as spent and stores next, in one
	// transaction. Returns errs.ErrConflict when old was used or revoked
	// meanwhile.
	RotateRefreshToken(ctx context.Context, oldID string, spent Spent, next RefreshToken) error
	// RevokeFamily revokes every token of a family.
	RevokeFamily(ctx context.Context, familyID string, at time.Time) error
	// FamilyRevoked reports whether a family (a session) is revoked: by a
	// logout, a re-used token, or a change of its user that revokes every
	// token of the user.
	FamilyRevoked(ctx context.Context, familyID string) (bool, error)
	// RecordLoginAttempt notes one login attempt under each key and returns
	// the rows' ids; an attempt counts as a failure until it is forgotten.
	RecordLoginAttempt(ctx context.Context, keys []string, at time.Time) ([]string, error)
	// LoginFailures counts failures under key since the given time and
	// returns the oldest of them.
	LoginFailures(ctx context.Context, key string, since time.Time) (int, time.Time, error)
	// ForgetLoginAttempts forgets the given attempts (refused unjudged).
	ForgetLoginAttempts(ctx context.Context, attempts []string) error
	// ClearLoginFailures forgets the given attempts and the failures under
	// key (after a success), and every failure older than before.
	ClearLoginFailures(ctx context.Context, attempts []string, key string, before time.Time) error
}
