// Package idempotency keeps the records that make a retried POST safe
// (SPEC §6): phones on bad networks repeat requests, and a repeat must
// return the first response, byte for byte, without a second write.
//
// A request first claims its (user, key) with a pending record committed
// at once, so that a concurrent repeat sees it and answers 409. The write
// and the record's completion are then one transaction: either both happen
// or neither does. A pending record whose lock has lapsed (the instance
// died mid-request) may be claimed again.
//
// New reports take a shorter road (group commit): no claim; the finished
// record is the report's receipt, written with its rows by
// incident.Store.CreateReport, whose write fails with ErrKeyTaken when the
// key has a record already.
package idempotency

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"pingan/internal/errs"
)

// ErrKeyTaken is the error of a write that carries its own finished record
// (a receipt) when the key has a record already; nothing was written. It
// is an errs.ErrConflict.
var ErrKeyTaken = fmt.Errorf("the Idempotency-Key has a record already: %w", errs.ErrConflict)

// Retention is how long records are kept (SPEC: at least 24 h).
const Retention = 48 * time.Hour

// Lock is how long a pending claim holds before another request may take
// it over.
const Lock = 30 * time.Second

// Record is one key's state.
type Record struct {
	UserID      string
	KeyHash     string
	RequestHash string
	Owner       string
	LockedUntil time.Time
	Done        bool
	Status      int
	Headers     map[string]string
	Body        []byte
	CreatedAt   time.Time
}

// Store persists records. Implemented in internal/store.
type Store interface {
	// ClaimIdempotencyKey inserts r as pending. When a record exists for the
	// key it returns that record and claimed=false, unless the record is
	// pending with its lock lapsed: then r's owner takes it over and
	// claimed=true.
	ClaimIdempotencyKey(ctx context.Context, r Record, now time.Time) (existing Record, claimed bool, err error)
	// CompleteIdempotencyKey stores the response, in the context's
	// transaction. Returns errs.ErrConflict when owner no longer holds the key.
	CompleteIdempotencyKey(ctx context.Context, userID, keyHash, owner string, status int, headers map[string]string, body []byte) error
	// ReleaseIdempotencyKey deletes a pending record held by owner, so that
	// the request can be retried (after a server-side failure).
	ReleaseIdempotencyKey(ctx context.Context, userID, keyHash, owner string) error
	// PurgeIdempotencyKeys deletes records created before the given time.
	PurgeIdempotencyKeys(ctx context.Context, before time.Time) (int64, error)
}

// Hash is the hex SHA-256 of the parts, each length-prefixed so that
// different splits never collide.
func Hash(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		var n [8]byte
		l := uint64(len(p))
		for i := range n {
			n[i] = byte(l >> (8 * i))
		}
		h.Write(n[:])
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}
