package auth

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"pingan/internal/config"
	"pingan/internal/errs"
)

// Token settings (SPEC §6.1).
const (
	Issuer    = "pingan"
	Audience  = "pingan-api"
	AccessTTL = 15 * time.Minute
	// leeway tolerates small clock differences between instances.
	leeway = 10 * time.Second
	// maxTokenLen refuses absurd Authorization headers before any parsing.
	maxTokenLen = 4096
)

// Signer issues and verifies access tokens. The first key signs; every key
// verifies, so keys rotate by putting a new one first and dropping the old
// one after AccessTTL.
type Signer struct {
	keys map[string][]byte
	kid  string
	now  func() time.Time

	// verified remembers tokens whose signature and claims were checked, by
	// their exact text, so that a phone's next request costs a map lookup
	// instead of an HMAC and two JSON decodes (a tenth of a report's CPU).
	// Their time limits are still checked on every use.
	mu       sync.Mutex
	verified map[string]verifiedToken
}

type verifiedToken struct {
	subject            string
	notBefore, expires time.Time
}

// maxVerified bounds the verified-token memory (about 2 MB when full).
const maxVerified = 10_000

// NewSigner builds a Signer over keys (at least one).
func NewSigner(keys []config.Key, now func() time.Time) (*Signer, error) {
	if len(keys) == 0 {
		return nil, errors.New("auth: no signing keys")
	}
	s := &Signer{keys: map[string][]byte{}, kid: keys[0].ID, now: now, verified: map[string]verifiedToken{}}
	for _, k := range keys {
		s.keys[k.ID] = k.Secret
	}
	return s, nil
}

// Sign issues an access token for the user id.
func (s *Signer) Sign(userID string) (string, error) {
	now := s.now()
	claims := jwt.RegisteredClaims{
		Issuer:    Issuer,
		Subject:   userID,
		Audience:  jwt.ClaimStrings{Audience},
		ExpiresAt: jwt.NewNumericDate(now.Add(AccessTTL)),
		NotBefore: jwt.NewNumericDate(now),
		IssuedAt:  jwt.NewNumericDate(now),
		ID:        uuid.Must(uuid.NewV7()).String(),
	}
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	t.Header["kid"] = s.kid
	return t.SignedString(s.keys[s.kid])
}

// Verify checks a token's algorithm, signature (by kid), exp, nbf, iss and
// aud, and returns its subject. Returns errs.ErrUnauthenticated.
func (s *Signer) Verify(raw string) (string, error) {
	if raw == "" || len(raw) > maxTokenLen {
		return "", fmt.Errorf("token missing or too long: %w", errs.ErrUnauthenticated)
	}
	now := s.now()
	s.mu.Lock()
	v, ok := s.verified[raw]
	s.mu.Unlock()
	if ok {
		if now.Before(v.notBefore.Add(-leeway)) || now.After(v.expires.Add(leeway)) {
			return "", fmt.Errorf("token: outside its validity period: %w", errs.ErrUnauthenticated)
		}
		return v.subject, nil
	}
	claims := &jwt.RegisteredClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		key, ok := s.keys[kid]
		if !ok {
			return nil, fmt.Errorf("unknown kid %q", kid)
		}
		return key, nil
	},
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuer(Issuer),
		jwt.WithAudience(Audience),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(s.now),
	)
	if err != nil {
		return "", fmt.Errorf("token: %v: %w", err, errs.ErrUnauthenticated)
	}
	if claims.Subject == "" {
		return "", fmt.Errorf("token has no subject: %w", errs.ErrUnauthenticated)
	}
	v = verifiedToken{subject: claims.Subject, expires: claims.ExpiresAt.Time}
	if claims.NotBefore != nil {
		v.notBefore = claims.NotBefore.Time
	}
	s.mu.Lock()
	if len(s.verified) >= maxVerified {
		clear(s.verified) // the live tokens come back at their next use
	}
	s.verified[raw] = v
	s.mu.Unlock()
	return claims.Subject, nil
}
