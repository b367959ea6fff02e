package auth

import (
	"bytes"
	"encoding/json"
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
	// Leeway tolerates small clock differences between instances: a token
	// is taken up to Leeway before its iat or nbf and after its exp.
	Leeway = 10 * time.Second
	// maxTokenLen refuses absurd Authorization headers before any parsing.
	maxTokenLen = 4096
)

// Access is what a verified access token says.
type Access struct {
	UserID string
	// SessionID is the refresh-token family the token was issued in ("" in
	// tokens made before sessions were named), so that a long-lived
	// connection can end when its session is revoked.
	SessionID string
	ExpiresAt time.Time
}

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
	access    Access
	notBefore time.Time
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

// accessClaims are the claims of an access token: the registered ones and
// the session id.
type accessClaims struct {
	jwt.RegisteredClaims
	SessionID string `json:"sid,omitempty"`
}

// timeClaims must be JSON numbers: the library would also read a string
// holding digits ("exp": "1893456000").
var timeClaims = []string{"exp", "iat", "nbf"}

// UnmarshalJSON refuses time claims that are not JSON numbers before
// decoding the claims.
func (c *accessClaims) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	for _, name := range timeClaims {
		v, ok := raw[name]
		if !ok {
			continue
		}
		v = bytes.TrimSpace(v)
		if len(v) == 0 || (v[0] != '-' && (v[0] < '0' || v[0] > '9')) {
			return fmt.Errorf("claim %s is not a number", name)
		}
	}
	type plain accessClaims // without this method
	return json.Unmarshal(b, (*plain)(c))
}

// Validate is called by the parser after its own checks of exp, nbf, iat,
// iss and aud: a token must name its subject and its issue time, and live
// no longer than AccessTTL.
func (c *accessClaims) Validate() error {
	switch {
	case c.Subject == "":
		return errors.New("no subject")
	case c.IssuedAt == nil:
		return errors.New("no iat")
	case c.ExpiresAt != nil && c.ExpiresAt.Sub(c.IssuedAt.Time) > AccessTTL:
		return fmt.Errorf("lifetime over %v", AccessTTL)
	}
	return nil
}

// Sign issues an access token for the user id in the session (its refresh
// token family).
func (s *Signer) Sign(userID, sessionID string) (string, error) {
	now := s.now()
	claims := accessClaims{RegisteredClaims: jwt.RegisteredClaims{
		Issuer:    Issuer,
		Subject:   userID,
		Audience:  jwt.ClaimStrings{Audience},
		ExpiresAt: jwt.NewNumericDate(now.Add(AccessTTL)),
		NotBefore: jwt.NewNumericDate(now),
		IssuedAt:  jwt.NewNumericDate(now),
		ID:        uuid.Must(uuid.NewV7()).String(),
	}, SessionID: sessionID}
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	t.Header["kid"] = s.kid
	return t.SignedString(s.keys[s.kid])
}

// Verify checks a token's algorithm, signature (by kid), iss and aud, and
// its times: exp required, iat required and not in the future, nbf passed,
// a lifetime of at most AccessTTL, every time a JSON number (each with
// Leeway). Returns errs.ErrUnauthenticated.
func (s *Signer) Verify(raw string) (Access, error) {
	if raw == "" || len(raw) > maxTokenLen {
		return Access{}, fmt.Errorf("token missing or too long: %w", errs.ErrUnauthenticated)
	}
	now := s.now()
	s.mu.Lock()
	v, ok := s.verified[raw]
	s.mu.Unlock()
	if ok {
		if now.Before(v.notBefore.Add(-Leeway)) || now.After(v.access.ExpiresAt.Add(Leeway)) {
			return Access{}, fmt.Errorf("token: outside its validity period: %w", errs.ErrUnauthenticated)
		}
		return v.access, nil
	}
	claims := &accessClaims{}
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
		jwt.WithIssuedAt(),
		jwt.WithIssuer(Issuer),
		jwt.WithAudience(Audience),
		jwt.WithLeeway(Leeway),
		jwt.WithTimeFunc(s.now),
		jwt.WithStrictDecoding(),
	)
	if err != nil {
		return Access{}, fmt.Errorf("token: %v: %w", err, errs.ErrUnauthenticated)
	}
	v = verifiedToken{access: Access{UserID: claims.Subject, SessionID: claims.SessionID, ExpiresAt: claims.ExpiresAt.Time}}
	if claims.NotBefore != nil {
		v.notBefore = claims.NotBefore.Time
	}
	// The issue time bounds the start too: a token is never taken before it.
	v.notBefore = later(v.notBefore, claims.IssuedAt.Time)
	s.mu.Lock()
	if len(s.verified) >= maxVerified {
		clear(s.verified) // the live tokens come back at their next use
	}
	s.verified[raw] = v
	s.mu.Unlock()
	return v.access, nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
