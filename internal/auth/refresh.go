package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"pingan/internal/access"
	"pingan/internal/audit"
	"pingan/internal/errs"
	"pingan/internal/user"
)

// Refresh exchanges a refresh token for a new pair. The old token is spent;
// presenting it again within RetryGrace returns the first answer again,
// the same access token and user included (SPEC §6.1: byte for byte);
// later it revokes the whole family. Returns errs.ErrUnauthenticated.
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
		t, err := s.issue(u, next, old.FamilyID)
		if err != nil {
			return Tokens{}, err
		}
		sealed, err := s.sealAnswer(t)
		if err != nil {
			return Tokens{}, err
		}
		err = s.store.RotateRefreshToken(ctx, old.ID, Spent{At: now, SuccessorSealed: s.sealer.Seal(next), AnswerSealed: sealed}, row)
		if err == nil {
			return t, nil
		}
		if !errors.Is(err, errs.ErrConflict) {
			return Tokens{}, err
		}
		// A concurrent request spent it first: treat this one as its retry.
		if old, err = s.findRefresh(ctx, token); err != nil {
			return Tokens{}, err
		}
	}
	if old.UsedAt != nil && now.Sub(*old.UsedAt) <= RetryGrace {
		t, ok, err := s.retryAnswer(ctx, old, u)
		if err != nil || ok {
			return t, err
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
	s.sessions.signal(u.ID)
	return Tokens{}, fmt.Errorf("refresh token re-used; family revoked: %w", errs.ErrUnauthenticated)
}

// retryAnswer is the answer given when old was spent: the stored one, as
// long as its successor is not revoked. A token spent by an instance that
// stored only the successor gets that successor with a new access token.
// ok is false when there is nothing to answer with.
func (s *Service) retryAnswer(ctx context.Context, old RefreshToken, u user.User) (t Tokens, ok bool, err error) {
	if old.AnswerSealed != "" {
		t, err = s.openAnswer(old.AnswerSealed)
	} else if old.SuccessorSealed != "" {
		var next string
		if next, err = s.sealer.Open(old.SuccessorSealed); err == nil {
			t, err = s.issue(u, next, old.FamilyID)
		}
	} else {
		return Tokens{}, false, nil
	}
	if errors.Is(err, errs.ErrInvalid) {
		return Tokens{}, false, nil // sealed with a key no longer held
	}
	if err != nil {
		return Tokens{}, false, err
	}
	succ, err := s.findRefresh(ctx, t.RefreshToken)
	if errors.Is(err, errs.ErrUnauthenticated) || (err == nil && succ.RevokedAt != nil) {
		return Tokens{}, false, nil
	}
	if err != nil {
		return Tokens{}, false, err
	}
	return t, true, nil
}

// answer is a refresh's answer as stored, sealed, for its retries: what
// the response shows, the user as it was then (no password hash).
type answer struct {
	AccessToken  string     `json:"access_token"`
	ExpiresIn    int        `json:"expires_in"`
	RefreshToken string     `json:"refresh_token"`
	User         answerUser `json:"user"`
}

type answerUser struct {
	ID         string    `json:"id"`
	Username   string    `json:"username"`
	Name       string    `json:"name"`
	Phone      string    `json:"phone"`
	Role       string    `json:"role"`
	RegionCode string    `json:"region_code"`
	Active     bool      `json:"active"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

func (s *Service) sealAnswer(t Tokens) (string, error) {
	u := t.User
	b, err := json.Marshal(answer{AccessToken: t.AccessToken, ExpiresIn: t.ExpiresIn, RefreshToken: t.RefreshToken,
		User: answerUser{ID: u.ID, Username: u.Username, Name: u.Name, Phone: u.Phone, Role: string(u.Role),
			RegionCode: u.RegionCode, Active: u.Active, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}})
	if err != nil {
		return "", fmt.Errorf("seal refresh answer: %v", err)
	}
	return s.sealer.Seal(string(b)), nil
}

// openAnswer returns errs.ErrInvalid for a value sealed with another key.
func (s *Service) openAnswer(sealed string) (Tokens, error) {
	plain, err := s.sealer.Open(sealed)
	if err != nil {
		return Tokens{}, err
	}
	var a answer
	if err := json.Unmarshal([]byte(plain), &a); err != nil {
		return Tokens{}, fmt.Errorf("stored refresh answer: %v: %w", err, errs.ErrInvalid)
	}
	u := a.User
	return Tokens{AccessToken: a.AccessToken, ExpiresIn: a.ExpiresIn, RefreshToken: a.RefreshToken,
		User: user.User{ID: u.ID, Username: u.Username, Name: u.Name, Phone: u.Phone, Role: access.Role(u.Role),
			RegionCode: u.RegionCode, Active: u.Active, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}}, nil
}

// Logout revokes the refresh token's family, and ends the long-lived
// connections of its session here at once. An unknown token is not an
// error.
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
	err = s.log.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.RevokeFamily(ctx, t.FamilyID, now); err != nil {
			return err
		}
		p := access.Principal{UserID: t.UserID}
		if u, err := s.users.FindUserByID(ctx, t.UserID); err == nil {
			p.Role = u.Role
		}
		return s.log.AppendAudit(ctx, audit.New(ctx, p, now, "auth.logout", "session", t.FamilyID, ""))
	})
	if err == nil {
		s.sessions.signal(t.UserID)
	}
	return err
}
