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

// Limits and lifetimes.
const (
	RefreshTTL = 30 * 24 * time.Hour
	// RetryGrace is how long a spent refresh token may be presented again
	// and get the same successor (a phone that lost the response).
	RetryGrace = 10 * time.Second
	// FailureWindow, MaxUserFailures and MaxIPFailures bound login guessing.
	FailureWindow   = time.Minute
	MaxUserFailures = 5
	MaxIPFailures   = 20
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
		hashSlots: make(chan struct{}, MaxConcurrentHashes), callers: &callerCache{m: map[string]cachedCaller{}}}
}

// Login checks a username and password from ip. Returns errs.ErrUnauthenticated
// for a wrong username or password alike, and a *errs.RateLimitError after
// too many failures.
func (s *Service) Login(ctx context.Context, username, password, ip string) (Tokens, error) {
	now := s.now()
	userKey, ipKey := "user:"+username, "ip:"+ip
	// The attempt is written before it is judged, so that parallel
	// guesses all see each other: the limit holds however they are timed.
	attempts, err := s.store.RecordLoginAttempt(ctx, []string{userKey, ipKey}, now)
	if err != nil {
		return Tokens{}, err
	}
	for _, lim := range []struct {
		key string
		max int
	}{{userKey, MaxUserFailures}, {ipKey, MaxIPFailures}} {
		n, oldest, err := s.store.LoginFailures(ctx, lim.key, now.Add(-FailureWindow))
		if err != nil {
			return Tokens{}, err
		}
		// n counts this attempt too.
		if n > lim.max {
			wait := int(oldest.Add(FailureWindow).Sub(now).Seconds()) + 1
			return Tokens{}, &errs.RateLimitError{RetryAfterSeconds: max(wait, 1)}
		}
	}

	u, err := s.users.FindUserByUsername(ctx, username)
	hash := u.PasswordHash
	if err != nil {
		if !errors.Is(err, errs.ErrNotFound) {
			return Tokens{}, err
		}
		hash = s.dummyHash
	}
	ok, herr := s.checkPassword(ctx, hash, password)
	if herr != nil && !errors.Is(herr, errs.ErrInvalid) {
		return Tokens{}, herr
	}
	if err != nil || herr != nil || !ok || !u.Active {
		return Tokens{}, fmt.Errorf("login %q: %w", username, errs.ErrUnauthenticated)
	}
	if err := s.store.ClearLoginFailures(ctx, attempts, userKey, now.Add(-FailureWindow)); err != nil {
		return Tokens{}, err
	}
	refresh, row := s.newRefresh(u.ID, uuid.Must(uuid.NewV7()).String(), now)
	p := access.Principal{UserID: u.ID, Username: u.Username, Role: u.Role}
	err = s.log.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.CreateRefreshToken(ctx, row); err != nil {
			return err
		}
		return s.log.AppendAudit(ctx, audit.New(ctx, p, now, "auth.login", "session", row.FamilyID, ""))
	})
	if err != nil {
		return Tokens{}, err
	}
	return s.issue(u, refresh)
}

// checkPassword bounds how many argon2 checks (19 MiB each) run at once, so
// that a burst of logins cannot exhaust memory. Returns errs.ErrUnavailable
// when the wait for a slot outlasts the request.
func (s *Service) checkPassword(ctx context.Context, hash, password string) (bool, error) {
	select {
	case s.hashSlots <- struct{}{}:
	case <-ctx.Done():
		return false, fmt.Errorf("waiting to check a password: %w", errs.ErrUnavailable)
	}
	defer func() { <-s.hashSlots }()
	return CheckPassword(hash, password)
}

// Refresh exchanges a refresh token for a new pair. The old token is spent;
// presenting it again within RetryGrace returns the same successor, later
// revokes the whole family. Returns errs.ErrUnauthenticated.
func (s *Service) Refresh(ctx context.Context, token string) (Tokens, error) {
	now := s.now()
	old, err := s.findRefresh(ctx, token)
	if err != nil {
		return Tokens{}, err
	}
	if old.RevokedAt != nil || now.After(old.ExpiresAt) {
		return Tokens{}, fmt.Errorf("refresh token revoked or expired: %w", errs.ErrUnauthenticated)
	}
	u, err := s.activeUser(ctx, old.UserID)
	if err != nil {
		return Tokens{}, err
	}
	if old.UsedAt == nil {
		next, row := s.newRefresh(u.ID, old.FamilyID, now)
		err := s.store.RotateRefreshToken(ctx, old.ID, now, s.sealer.Seal(next), row)
		if err == nil {
			return s.issue(u, next)
		}
		if !errors.Is(err, errs.ErrConflict) {
			return Tokens{}, err
		}
		// A concurrent request spent it first: treat this one as its retry.
		if old, err = s.findRefresh(ctx, token); err != nil {
			return Tokens{}, err
		}
	}
	if old.UsedAt != nil && now.Sub(*old.UsedAt) <= RetryGrace && old.SuccessorSealed != "" {
		next, err := s.sealer.Open(old.SuccessorSealed)
		if err == nil {
			succ, ferr := s.findRefresh(ctx, next)
			if ferr == nil && succ.RevokedAt == nil {
				return s.issue(u, next)
			}
		}
	}
	// Re-use of a spent token: someone else may hold this chain.
	p := access.Principal{UserID: u.ID, Username: u.Username, Role: u.Role}
	err = s.log.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.RevokeFamily(ctx, old.FamilyID, now); err != nil {
			return err
		}
		return s.log.AppendAudit(ctx, audit.New(ctx, p, now, "auth.reuse_revoked", "session", old.FamilyID, ""))
	})
	if err != nil {
		return Tokens{}, err
	}
	return Tokens{}, fmt.Errorf("refresh token re-used; family revoked: %w", errs.ErrUnauthenticated)
}

// Logout revokes the refresh token's family. An unknown token is not an error.
func (s *Service) Logout(ctx context.Context, token string) error {
	t, err := s.findRefresh(ctx, token)
	if errors.Is(err, errs.ErrUnauthenticated) {
		return nil
	}
	if err != nil {
		return err
	}
	// The whole family: a spent token still in its retry grace would
	// otherwise leave its successor working.
	now := s.now()
	return s.log.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.RevokeFamily(ctx, t.FamilyID, now); err != nil {
			return err
		}
		p := access.Principal{UserID: t.UserID}
		if u, err := s.users.FindUserByID(ctx, t.UserID); err == nil {
			p.Role = u.Role
		}
		return s.log.AppendAudit(ctx, audit.New(ctx, p, now, "auth.logout", "session", t.FamilyID, ""))
	})
}

// Authenticate verifies an access token and loads its user afresh, so that a
// disabled user, or one whose role or scope changed, is refused or re-scoped
// at once. Returns errs.ErrUnauthenticated.
func (s *Service) Authenticate(ctx context.Context, token string) (access.Principal, user.User, error) {
	id, err := s.signer.Verify(token)
	if err != nil {
		return access.Principal{}, user.User{}, err
	}
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
// (disabled, new role or scope) applies to the very next request here.
func (s *Service) Forget(userID string) { s.callers.forget(userID) }

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

func (s *Service) issue(u user.User, refresh string) (Tokens, error) {
	at, err := s.signer.Sign(u.ID)
	if err != nil {
		return Tokens{}, err
	}
	return Tokens{AccessToken: at, ExpiresIn: int(AccessTTL.Seconds()), RefreshToken: refresh, User: u}, nil
}

func hashToken(t string) string {
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:])
}
