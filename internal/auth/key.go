package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"pingan/internal/access"
	"pingan/internal/errs"
)

// KeyPrefix starts every service-account key, so that a key is told from
// an access token at a glance (and by AuthenticateBearer).
const KeyPrefix = "pak_"

// KeyAccount is a department's service account (SPEC §9.3) as
// authentication sees it: who it is, its scope and the indicators it may
// write. The indicator package issues and revokes the accounts.
type KeyAccount struct {
	ID, Name, RegionCode string
	Indicators           []string
	Revoked              bool
}

// KeyStore finds service accounts by their key. Implemented in
// internal/store.
type KeyStore interface {
	// FindAccountByKeyHash returns the account whose key has this hash
	// (HashKey). Returns errs.ErrNotFound if there is none.
	FindAccountByKeyHash(ctx context.Context, hash string) (KeyAccount, error)
}

// NewKey makes a service account's key: KeyPrefix and 32 random bytes. The
// key is shown once; only hash (HashKey of it) is stored.
func NewKey() (key, hash string, err error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", "", err
	}
	key = KeyPrefix + base64.RawURLEncoding.EncodeToString(raw)
	return key, HashKey(key), nil
}

// HashKey is what is stored of a key, and looked up: its SHA-256, so that
// the database never holds a usable key.
func HashKey(key string) string { return hashToken(key) }

// AuthenticateBearer authenticates a request's bearer credential: a
// service account's key (it starts with KeyPrefix) or a person's access
// token. Returns errs.ErrUnauthenticated.
func (s *Service) AuthenticateBearer(ctx context.Context, token string) (access.Principal, error) {
	if strings.HasPrefix(token, KeyPrefix) {
		return s.AuthenticateKey(ctx, token)
	}
	p, _, err := s.Authenticate(ctx, token)
	return p, err
}

// AuthenticateKey returns the principal of a service account's key: the
// Department role, the account's scope and indicators. Returns
// errs.ErrUnauthenticated for an unknown or revoked key.
func (s *Service) AuthenticateKey(ctx context.Context, key string) (access.Principal, error) {
	a, err := s.keys.FindAccountByKeyHash(ctx, HashKey(key))
	if errors.Is(err, errs.ErrNotFound) || (err == nil && a.Revoked) {
		return access.Principal{}, fmt.Errorf("unknown or revoked service account key: %w", errs.ErrUnauthenticated)
	}
	if err != nil {
		return access.Principal{}, err
	}
	r, err := s.regions.FindRegionByCode(ctx, a.RegionCode)
	if err != nil {
		return access.Principal{}, fmt.Errorf("service account %s has no scope region: %w", a.ID, errs.ErrUnauthenticated)
	}
	return access.Principal{UserID: a.ID, Username: a.Name, Role: access.Department, RegionCode: r.Code, RegionPath: r.Path,
		Indicators: a.Indicators}, nil
}
