package indicator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"pingan/internal/access"
	"pingan/internal/audit"
	"pingan/internal/auth"
	"pingan/internal/errs"
	"pingan/internal/text"
)

// Account is a department's service account (SPEC §9.3). Its key is made,
// hashed and authenticated by the auth package (auth.NewKey,
// auth.Service.AuthenticateKey); this package issues, lists and revokes
// accounts.
type Account struct {
	ID         string
	Name       string
	KeyHash    string
	KeyPrefix  string // the key's first characters, to recognise it in a list
	Indicators []string
	RegionCode string
	CreatedBy  string
	CreatedAt  time.Time
	RevokedAt  *time.Time
}

// AccountStore persists service accounts. Implemented in internal/store.
type AccountStore interface {
	CreateAccount(ctx context.Context, a Account) error
	FindAccounts(ctx context.Context) ([]Account, error)
	// RevokeAccount sets revoked_at unless set; errs.ErrNotFound if there is none.
	RevokeAccount(ctx context.Context, id string, at time.Time) (Account, error)
}

// CreateAccount issues a service account for the indicators and the scope
// of the region (city-wide admins) and returns it with its key, which is
// never shown again.
func (s *Service) CreateAccount(ctx context.Context, p access.Principal, name string, indicators []string, regionCode string) (Account, string, error) {
	if err := checkAdmin(p); err != nil {
		return Account{}, "", err
	}
	bad := errs.FieldErrors{}
	name = strings.TrimSpace(name)
	if n := utf8.RuneCountInString(name); n == 0 || n > 100 || !text.Clean(name, false) {
		bad.Add("name", "1–100 characters, e.g. the department and its system")
	}
	known, err := s.store.FindIndicators(ctx)
	if err != nil {
		return Account{}, "", err
	}
	if len(indicators) == 0 || len(indicators) > 50 {
		bad.Add("indicators", "from 1 to 50 indicator codes")
	}
	for _, code := range indicators {
		if !slices.ContainsFunc(known, func(i Indicator) bool { return i.Code == code }) {
			bad.Add("indicators", fmt.Sprintf("%q is not an indicator", code))
		}
	}
	if _, err := s.regions.FindRegionByCode(ctx, regionCode); err != nil {
		if !errors.Is(err, errs.ErrNotFound) {
			return Account{}, "", err
		}
		bad.Add("region_code", "not a known region")
	}
	if err := bad.Err(); err != nil {
		return Account{}, "", err
	}
	key, hash, err := auth.NewKey()
	if err != nil {
		return Account{}, "", err
	}
	a := Account{ID: uuid.Must(uuid.NewV7()).String(), Name: name, KeyHash: hash, KeyPrefix: key[:len(auth.KeyPrefix)+6],
		Indicators: slices.Compact(slices.Sorted(slices.Values(indicators))), RegionCode: regionCode, CreatedBy: p.UserID,
		CreatedAt: s.now()}
	err = s.log.InTx(ctx, func(ctx context.Context) error {
		if err := s.accounts.CreateAccount(ctx, a); err != nil {
			return err
		}
		b, _ := json.Marshal(map[string]any{"name": a.Name, "indicators": a.Indicators, "region_code": a.RegionCode})
		path, err := s.regions.FindRegionPath(ctx, a.RegionCode)
		if err != nil {
			return err
		}
		return s.log.AppendAudit(ctx, audit.New(ctx, p, a.CreatedAt, "service_account.create", "service_account", a.ID, string(b)).In(path))
	})
	if err != nil {
		return Account{}, "", err
	}
	return a, key, nil
}

// Accounts lists the service accounts (city-wide admins).
func (s *Service) Accounts(ctx context.Context, p access.Principal) ([]Account, error) {
	if err := checkAdmin(p); err != nil {
		return nil, err
	}
	return s.accounts.FindAccounts(ctx)
}

// RevokeAccount ends a service account at once (city-wide admins).
func (s *Service) RevokeAccount(ctx context.Context, p access.Principal, id string) (Account, error) {
	if err := checkAdmin(p); err != nil {
		return Account{}, err
	}
	if _, err := uuid.Parse(id); err != nil {
		return Account{}, fmt.Errorf("service account %q: %w", id, errs.ErrNotFound)
	}
	var a Account
	err := s.log.InTx(ctx, func(ctx context.Context) error {
		var err error
		if a, err = s.accounts.RevokeAccount(ctx, id, s.now()); err != nil {
			return err
		}
		path, err := s.regions.FindRegionPath(ctx, a.RegionCode)
		if err != nil {
			return err
		}
		return s.log.AppendAudit(ctx, audit.New(ctx, p, s.now(), "service_account.revoke", "service_account", id, "").In(path))
	})
	return a, err
}
