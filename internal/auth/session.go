package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"pingan/internal/errs"
)

// SessionRecheck is how often a held session is checked against the
// database, which bounds how long a long-lived connection outlives a
// change made by another instance (SPEC §6.1: within 30 s). A change made
// by this instance is seen at once.
const SessionRecheck = 10 * time.Second

// The causes of a held session's end (context.Cause of Hold's context).
var (
	ErrTokenExpired = fmt.Errorf("the access token expired: %w", errs.ErrUnauthenticated)
	ErrSessionEnded = fmt.Errorf("the account was disabled or the session revoked: %w", errs.ErrUnauthenticated)
)

// Session is an access token as a long-lived connection holds it.
type Session struct {
	UserID    string
	ID        string // the refresh-token family; "" for a token without one
	ExpiresAt time.Time
}

// OpenSession verifies the access token a long-lived connection opens
// with: valid (Verify), its user active, and its session not revoked
// (which a short request does not ask). Returns errs.ErrUnauthenticated.
func (s *Service) OpenSession(ctx context.Context, token string) (Session, error) {
	at, err := s.signer.Verify(token)
	if err != nil {
		return Session{}, err
	}
	sess := Session{UserID: at.UserID, ID: at.SessionID, ExpiresAt: at.ExpiresAt}
	return sess, s.CheckSession(ctx, sess)
}

// CheckSession returns ErrTokenExpired once the session's token has
// expired, and ErrSessionEnded when its user is disabled or gone or the
// session revoked (both errs.ErrUnauthenticated); other errors are the
// store's.
func (s *Service) CheckSession(ctx context.Context, sess Session) error {
	if !s.now().Before(sess.ExpiresAt) {
		return ErrTokenExpired
	}
	if _, err := s.activeUser(ctx, sess.UserID); err != nil {
		if errors.Is(err, errs.ErrUnauthenticated) {
			return ErrSessionEnded
		}
		return err
	}
	if sess.ID == "" {
		return nil
	}
	revoked, err := s.store.FamilyRevoked(ctx, sess.ID)
	if err != nil {
		return err
	}
	if revoked {
		return ErrSessionEnded
	}
	return nil
}

// Hold returns a context that ends when sess does: at its token's expiry,
// or when CheckSession fails — checked every SessionRecheck, and at once
// when this instance changes the user or revokes a session of theirs.
// context.Cause then is ErrTokenExpired or ErrSessionEnded. A store error
// in a check leaves the session held until the next. Call release when the
// connection ends.
func (s *Service) Hold(ctx context.Context, sess Session) (held context.Context, release func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	changed, stop := s.sessions.add(sess.UserID)
	go func() {
		defer stop()
		expiry := time.NewTimer(sess.ExpiresAt.Sub(s.now()))
		defer expiry.Stop()
		recheck := time.NewTicker(SessionRecheck)
		defer recheck.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-expiry.C:
				cancel(ErrTokenExpired)
				return
			case <-changed:
			case <-recheck.C:
			}
			if err := s.CheckSession(ctx, sess); errors.Is(err, errs.ErrUnauthenticated) {
				cancel(err)
				return
			}
		}
	}()
	return ctx, func() { cancel(context.Canceled) }
}

// watchers are the held sessions of this instance, by user id.
type watchers struct {
	mu sync.Mutex
	m  map[string]map[chan struct{}]struct{}
}

func (w *watchers) add(userID string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m[userID] == nil {
		w.m[userID] = map[chan struct{}]struct{}{}
	}
	w.m[userID][ch] = struct{}{}
	return ch, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		delete(w.m[userID], ch)
		if len(w.m[userID]) == 0 {
			delete(w.m, userID)
		}
	}
}

// signal has the user's held sessions check at once.
func (w *watchers) signal(userID string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for ch := range w.m[userID] {
		select {
		case ch <- struct{}{}:
		default: // a check is already due
		}
	}
}
