package auth

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/google/uuid"

	"pingan/internal/access"
	"pingan/internal/audit"
	"pingan/internal/errs"
)

// Login limits (SPEC §6.1). Failures are counted over FailureWindow: a
// username is locked alone after MaxUserFailures; a client address after
// MaxIPFailures, a loose limit because a whole town may sit behind one
// address.
const (
	FailureWindow   = 15 * time.Minute
	MaxUserFailures = 5
	MaxIPFailures   = 100
)

// Login checks a username and password from the client address ip.
// Usernames are matched in lower case and exactly (never through a
// database collation), so that each account has one failure count.
// Returns errs.ErrUnauthenticated for a wrong username or password alike,
// and a *errs.RateLimitError while the username or the address is locked.
func (s *Service) Login(ctx context.Context, username, password, ip string) (Tokens, error) {
	now := s.now()
	username = strings.ToLower(username)
	userKey, ipKey := "user:"+username, "ip:"+addressKey(ip)
	// The attempt is written before it is judged, so that parallel
	// guesses all see each other: the limit holds however they are timed.
	attempts, err := s.store.RecordLoginAttempt(ctx, []string{userKey, ipKey}, now)
	if err != nil {
		return Tokens{}, err
	}
	if err := s.checkLimits(ctx, attempts, now, limit{userKey, MaxUserFailures}, limit{ipKey, MaxIPFailures}); err != nil {
		return Tokens{}, err
	}

	u, err := s.users.FindUserByUsername(ctx, username)
	if err == nil && u.Username != username {
		// Found through the collation (case, accents, trailing spaces on
		// MySQL): another spelling would have a failure count of its own.
		err = errs.ErrNotFound
	}
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
	session := uuid.Must(uuid.NewV7()).String()
	refresh, row := s.newRefresh(u.ID, session, now)
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
	return s.issue(u, refresh, session)
}

type limit struct {
	key string
	max int
}

// checkLimits refuses the attempt when one of its keys has more than its
// maximum of failures in the window (this attempt included). A refused
// attempt is forgotten: it was not judged, so it is no failure, and the
// wait in Retry-After stays true however often the client knocks.
func (s *Service) checkLimits(ctx context.Context, attempts []string, now time.Time, limits ...limit) error {
	for _, lim := range limits {
		n, oldest, err := s.store.LoginFailures(ctx, lim.key, now.Add(-FailureWindow))
		if err != nil {
			return err
		}
		if n <= lim.max {
			continue
		}
		if err := s.store.ForgetLoginAttempts(ctx, attempts); err != nil {
			return err
		}
		wait := int(oldest.Add(FailureWindow).Sub(now).Seconds()) + 1
		return &errs.RateLimitError{RetryAfterSeconds: max(wait, 1)}
	}
	return nil
}

// addressKey is what the per-address limit counts by: an IPv4 address, or
// the /64 of an IPv6 address (one host's usual share, which it could
// otherwise walk through).
func addressKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, err := a.Prefix(64)
	if err != nil {
		return a.String()
	}
	return p.String()
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
