package auth

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"pingan/internal/access"
	"pingan/internal/audit"
	"pingan/internal/errs"
	"pingan/internal/pii"
	"pingan/internal/region"
	"pingan/internal/user"
)

// keyStore finds accounts by key hash; a hash under failing answers an
// error that is not "not found".
type keyStore struct {
	accounts map[string]KeyAccount
	failing  string
}

func (k keyStore) FindAccountByKeyHash(_ context.Context, hash string) (KeyAccount, error) {
	if hash == k.failing {
		return KeyAccount{}, errs.ErrUnavailable
	}
	a, ok := k.accounts[hash]
	if !ok {
		return KeyAccount{}, errs.ErrNotFound
	}
	return a, nil
}

// oneRegion knows one county; calls other than FindRegionByCode panic.
type oneRegion struct{ region.Store }

func (oneRegion) FindRegionByCode(_ context.Context, code string) (region.Region, error) {
	if code != "370502" {
		return region.Region{}, errs.ErrNotFound
	}
	return region.Region{Code: code, Level: region.County, Path: "/370500/370502/"}, nil
}

func newKey(t *testing.T) (string, string) {
	t.Helper()
	key, hash, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return key, hash
}

// TestAuthenticateKey: a key stands for its service account (the
// Department role, its scope, its indicators); an unknown, revoked or
// unscoped key is ErrUnauthenticated; a failing store is not.
func TestAuthenticateKey(t *testing.T) {
	good, goodHash := newKey(t)
	revoked, revokedHash := newKey(t)
	lost, lostHash := newKey(t)
	broken, brokenHash := newKey(t)
	unknown, _ := newKey(t)
	keys := keyStore{accounts: map[string]KeyAccount{
		goodHash:    {ID: "acc-1", Name: "信访局系统", RegionCode: "370502", Indicators: []string{"petitions"}},
		revokedHash: {ID: "acc-2", Name: "old", RegionCode: "370502", Indicators: []string{"petitions"}, Revoked: true},
		lostHash:    {ID: "acc-3", Name: "lost", RegionCode: "999999", Indicators: []string{"petitions"}},
	}, failing: brokenHash}
	sealer, err := pii.NewSealer(bytes.Repeat([]byte{2}, 32))
	if err != nil {
		t.Fatal(err)
	}
	s := NewService(struct{ Store }{}, keys, struct{ audit.Log }{}, struct{ user.Store }{}, oneRegion{},
		testSigner(t, time.Now), sealer, time.Now)

	for _, authenticate := range []func(context.Context, string) (access.Principal, error){s.AuthenticateKey, s.AuthenticateBearer} {
		p, err := authenticate(context.Background(), good)
		if err != nil {
			t.Fatal(err)
		}
		want := access.Principal{UserID: "acc-1", Username: "信访局系统", Role: access.Department, RegionCode: "370502",
			RegionPath: "/370500/370502/", Indicators: []string{"petitions"}}
		if p.UserID != want.UserID || p.Username != want.Username || p.Role != want.Role || p.RegionCode != want.RegionCode ||
			p.RegionPath != want.RegionPath || !slices.Equal(p.Indicators, want.Indicators) {
			t.Fatalf("principal %+v, want %+v", p, want)
		}
		for name, key := range map[string]string{"revoked": revoked, "unknown": unknown, "no scope region": lost, "forged": KeyPrefix + "forged"} {
			if _, err := authenticate(context.Background(), key); !errors.Is(err, errs.ErrUnauthenticated) {
				t.Errorf("%s key: %v, want ErrUnauthenticated", name, err)
			}
		}
		if _, err := authenticate(context.Background(), broken); !errors.Is(err, errs.ErrUnavailable) || errors.Is(err, errs.ErrUnauthenticated) {
			t.Errorf("store failure: %v, want it passed on", err)
		}
	}
	// Without the prefix a credential is an access token, and this one is not.
	if _, err := s.AuthenticateBearer(context.Background(), strings.TrimPrefix(good, KeyPrefix)); !errors.Is(err, errs.ErrUnauthenticated) {
		t.Fatalf("unprefixed key: %v", err)
	}
}

// TestNewKey: keys are prefixed, long and distinct; the stored hash is
// neither the key nor holds it.
func TestNewKey(t *testing.T) {
	a, ah := newKey(t)
	b, bh := newKey(t)
	if !strings.HasPrefix(a, KeyPrefix) || len(a) < 40 || a == b || ah == bh {
		t.Fatalf("keys %q %q", a, b)
	}
	if ah != HashKey(a) || strings.Contains(ah, a[len(KeyPrefix):]) || len(ah) != 64 {
		t.Fatalf("hash %q of %q", ah, a)
	}
}
