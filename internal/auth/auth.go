// Package auth logs people in and keeps them in (SPEC §6.1): argon2id
// passwords, short-lived JWT access tokens with kid-based key rotation, and
// rotating refresh tokens with family revocation and a retry grace.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"pingan/internal/access"
	"pingan/internal/audit"
	"pingan/internal/deps"
	"pingan/internal/errs"
	"pingan/internal/pii"
	"pingan/internal/region"
	"pingan/internal/user"
)

// Lifetimes.
const (
	RefreshTTL = 30 * 24 * time.Hour
	// RetryGrace is how long a spent refresh token may be presented again
	// and get the first answer again (a phone that lost the response).
	RetryGrace = 10 * time.Second
	// MaxConcurrentHashes bounds the memory password checks use.
	MaxConcurrentHashes = 4
)

// Tokens is what a login or a refresh answers.
type Tokens struct {
	AccessToken  string
	ExpiresIn    int
	RefreshToken string
	User         user.User
}

// Service authenticates callers: people by password and access token,
// department systems by their service account's key.
type Service struct {
	store   Store
	keys    KeyStore
	log     audit.Log
	users   user.Store
	regions region.Store
	signer  *Signer
	sealer  *pii.Sealer
	now     func() time.Time
	// dummyHash is checked for unknown usernames so that they take as long
	// as wrong passwords.
	dummyHash string
	hashSlots chan struct{}
	callers   *callerCache
	// sessions signals the long-lived connections of a user when the
	// account or its sessions change here (Hold).
	sessions *watchers
}

// NewService builds the service. Every dependency is required; a nil one
// panics, naming it.
func NewService(store Store, keys KeyStore, log audit.Log, users user.Store, regions region.Store, signer *Signer, sealer *pii.Sealer,
	now func() time.Time) *Service {
	deps.Require("auth.NewService", "store", store, "keys", keys, "log", log, "users", users, "regions", regions,
		"signer", signer, "sealer", sealer, "now", now)
	dummy, err := HashPassword("pingan-timing-equaliser")
	if err != nil {
		panic(err)
	}
	return &Service{store: store, keys: keys, log: log, users: users, regions: regions, signer: signer, sealer: sealer, now: now, dummyHash: dummy,
		hashSlots: make(chan struct{}, MaxConcurrentHashes), callers: &callerCache{m: map[string]cachedCaller{}},
		sessions: &watchers{m: map[string]map[chan struct{}]struct{}{}}}
}

// Authenticate verifies an access token and loads its user afresh, so that a
// disabled user, or one whose role or scope changed, is refused or re-scoped
// at once. Returns errs.ErrUnauthenticated.
func (s *Service) Authenticate(ctx context.Context, token string) (access.Principal, user.User, error) {
	at, err := s.signer.Verify(token)
	if err != nil {
		return access.Principal{}, user.User{}, err
	}
	id := at.UserID
	if c, ok := s.callers.get(id, s.now()); ok {
		return c.p, c.u, nil
	}
	u, err := s.activeUser(ctx, id)
	if err != nil {
		return access.Principal{}, user.User{}, err
	}
	r, err := s.regions.FindRegionByCode(ctx, u.RegionCode)
	if err != nil {
		if errors.Is(err, errs.ErrNotFound) {
			return access.Principal{}, user.User{}, fmt.Errorf("user %s has no scope region: %w", u.ID, errs.ErrUnauthenticated)
		}
		return access.Principal{}, user.User{}, err
	}
	p := access.Principal{UserID: u.ID, Username: u.Username, Role: u.Role, RegionCode: r.Code, RegionPath: r.Path}
	s.callers.put(id, cachedCaller{p: p, u: u, at: s.now()})
	return p, u, nil
}

// Forget drops what Authenticate remembers of a user, so that a change
// (disabled, new role or scope) applies to the very next request here, and
// has the user's long-lived connections here check their session at once.
func (s *Service) Forget(userID string) {
	s.callers.forget(userID)
	s.sessions.signal(userID)
}

// CallerTTL is how long Authenticate trusts what it loaded about a user.
// This instance forgets at once on a change it makes; another instance may
// act on the old state for at most this long.
const CallerTTL = 2 * time.Second

type cachedCaller struct {
	p  access.Principal
	u  user.User
	at time.Time
}

type callerCache struct {
	mu sync.Mutex
	m  map[string]cachedCaller
}

func (c *callerCache) get(id string, now time.Time) (cachedCaller, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[id]
	if !ok || now.Sub(v.at) > CallerTTL || now.Before(v.at) {
		return cachedCaller{}, false
	}
	return v, true
}

func (c *callerCache) put(id string, v cachedCaller) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) > 50_000 {
		clear(c.m)
	}
	c.m[id] = v
}

func (c *callerCache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
}

func (s *Service) activeUser(ctx context.Context, id string) (user.User, error) {
	u, err := s.users.FindUserByID(ctx, id)
	if errors.Is(err, errs.ErrNotFound) || (err == nil && !u.Active) {
		return user.User{}, fmt.Errorf("user %s unknown or disabled: %w", id, errs.ErrUnauthenticated)
	}
	return u, err
}

func (s *Service) findRefresh(ctx context.Context, token string) (RefreshToken, error) {
	if token == "" || len(token) > 256 {
		return RefreshToken{}, fmt.Errorf("refresh token malformed: %w", errs.ErrUnauthenticated)
	}
	t, err := s.store.FindRefreshToken(ctx, hashToken(token))
	if errors.Is(err, errs.ErrNotFound) {
		return RefreshToken{}, fmt.Errorf("refresh token unknown: %w", errs.ErrUnauthenticated)
	}
	return t, err
}

func (s *Service) newRefresh(userID, family string, now time.Time) (string, RefreshToken) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("auth: no randomness: " + err.Error())
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	return token, RefreshToken{ID: uuid.Must(uuid.NewV7()).String(), FamilyID: family, UserID: userID,
		TokenHash: hashToken(token), ExpiresAt: now.Add(RefreshTTL), CreatedAt: now}
}

// issue makes the answer of a login or refresh in session (the refresh
// token's family).
func (s *Service) issue(u user.User, refresh, session string) (Tokens, error) {
	at, err := s.signer.Sign(u.ID, session)
	if err != nil {
		return Tokens{}, err
	}
	return Tokens{AccessToken: at, ExpiresIn: int(AccessTTL.Seconds()), RefreshToken: refresh, User: u}, nil
}

func hashToken(t string) string {
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:])
}
