package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"pingan/internal/config"
	"pingan/internal/errs"
)

var (
	fuzzNow  = time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	fuzzKeys = []config.Key{{ID: "k1", Secret: bytes.Repeat([]byte{1}, 32)}, {ID: "k2", Secret: bytes.Repeat([]byte{2}, 32)}}
)

// fuzzSigner is a Signer at fuzzNow over fuzzKeys, remembering nothing yet.
func fuzzSigner(t testing.TB) *Signer {
	t.Helper()
	s, err := NewSigner(fuzzKeys, func() time.Time { return fuzzNow })
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// FuzzVerifyToken: any Authorization text is refused with
// ErrUnauthenticated unless it is a token the signer made; nothing panics,
// and a signer that remembers a token judges it as a fresh one does.
func FuzzVerifyToken(f *testing.F) {
	s := fuzzSigner(f)
	good, err := s.Sign("user-1", "session-1")
	if err != nil {
		f.Fatal(err)
	}
	parts := strings.Split(good, ".")
	for _, seed := range []string{
		good,
		parts[0] + "." + parts[1] + ".", // no signature
		`eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.` + parts[1] + ".", // alg none
		parts[0] + "." + parts[1] + "x." + parts[2],             // payload changed after signing
		strings.Repeat(".", 5000),                               // a header of dots
		"", "Bearer " + good, good + " ", "a.b.c", "pak_abc",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := s.Verify(raw)
		fresh, ferr := fuzzSigner(t).Verify(raw)
		if (err == nil) != (ferr == nil) || got != fresh {
			t.Fatalf("remembered %+v %v, fresh %+v %v", got, err, fresh, ferr)
		}
		sub := got.UserID
		if err != nil {
			if !errors.Is(err, errs.ErrUnauthenticated) || got != (Access{}) {
				t.Fatalf("refused with %v (%+v)", err, got)
			}
			return
		}
		// Accepted: it is signed with one of the keys (the seed's token was
		// made by another process's signer, at the same time).
		p := strings.Split(raw, ".")
		if len(p) != 3 || sub != "user-1" {
			t.Fatalf("accepted %q as %q", raw, sub)
		}
		kid, _ := fuzzHeaderKid(fuzzDecode(p[0]))
		sig := fuzzDecode(p[2])
		for _, k := range fuzzKeys {
			mac := hmac.New(sha256.New, k.Secret)
			mac.Write([]byte(p[0] + "." + p[1]))
			if k.ID == kid && hmac.Equal(mac.Sum(nil), sig) {
				return
			}
		}
		t.Fatalf("accepted %q, which no key signed", raw)
	})
}

// FuzzVerifyClaims signs any header and claims with a known key, so that
// the claim checks are reached: a token is accepted only with HS256, a
// known kid, the issuer and audience of pingan, a subject, an exp it has
// not passed and an nbf it has reached (with the leeway), and then for
// its subject. The signature part of the input replaces the real one
// when it is not empty.
func FuzzVerifyClaims(f *testing.F) {
	claims := func(m map[string]any) []byte {
		b, _ := json.Marshal(m)
		return b
	}
	exp, iat := fuzzNow.Add(10*time.Minute).Unix(), fuzzNow.Unix()
	good := map[string]any{"iss": Issuer, "aud": []string{Audience}, "sub": "user-1", "exp": exp, "iat": iat, "nbf": iat}
	hs := []byte(`{"alg":"HS256","kid":"k1","typ":"JWT"}`)
	f.Add(hs, claims(good), []byte{})
	f.Add([]byte(`{"alg":"HS256","kid":"k2"}`), claims(map[string]any{"iss": Issuer, "aud": Audience, "sub": "u", "exp": exp}), []byte{})
	f.Add([]byte(`{"alg":"none","kid":"k1"}`), claims(good), []byte{})
	f.Add([]byte(`{"alg":"HS512","kid":"k1"}`), claims(good), []byte{})
	f.Add([]byte(`{"alg":"HS256","kid":"k3"}`), claims(good), []byte{})
	f.Add([]byte(`{"alg":"HS256"}`), claims(good), []byte{})
	f.Add(hs, []byte(`{"iss":"pingan","aud":"pingan-api","sub":"u","exp":"1790000000"}`), []byte{})
	f.Add(hs, []byte(`{"iss":"pingan","aud":"pingan-api","sub":"u","exp":1e300}`), []byte{})
	f.Add(hs, []byte(`{"iss":"pingan","aud":"pingan-api","sub":"u","exp":1795000000,"iat":1764000000}`), []byte{})
	f.Add(hs, []byte(`{"iss":"pingan","aud":"other","sub":"u","exp":1795000000}`), []byte{})
	f.Add(hs, []byte(`{"iss":"pingan","aud":"pingan-api","exp":1795000000}`), []byte{})
	f.Add(hs, []byte(`{"iss":"pingan","aud":"pingan-api","sub":"u","exp":1795000000,"sub":""}`), []byte{})
	f.Add(hs, claims(good), []byte("forged"))
	f.Fuzz(func(t *testing.T, header, payload, sig []byte) {
		enc := base64.RawURLEncoding
		input := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)
		mac := hmac.New(sha256.New, fuzzKeys[0].Secret)
		if kid, ok := fuzzHeaderKid(header); ok && kid == "k2" {
			mac = hmac.New(sha256.New, fuzzKeys[1].Secret)
		}
		mac.Write([]byte(input))
		signature := mac.Sum(nil)
		if len(sig) > 0 {
			signature = sig
		}
		raw := input + "." + enc.EncodeToString(signature)
		got, err := fuzzSigner(t).Verify(raw)
		sub := got.UserID
		if err != nil {
			if !errors.Is(err, errs.ErrUnauthenticated) {
				t.Fatalf("refused with %v", err)
			}
			return
		}
		// Accepted: the header and claims say what SPEC §6.1 asks.
		var h map[string]any
		if json.Unmarshal(header, &h) != nil || h["alg"] != "HS256" || (h["kid"] != "k1" && h["kid"] != "k2") {
			t.Fatalf("accepted header %s", header)
		}
		if len(sig) > 0 && !bytes.Equal(sig, mac.Sum(nil)) {
			t.Fatalf("accepted signature %x", sig)
		}
		var c jwt.RegisteredClaims
		if err := json.Unmarshal(payload, &c); err != nil {
			t.Fatalf("accepted claims %s that do not decode: %v", payload, err)
		}
		leeway := 30 * time.Second // SPEC §6.1: at most 30 s
		var times map[string]any
		_ = json.Unmarshal(payload, &times)
		switch {
		case c.Issuer != Issuer || !fuzzContains(c.Audience, Audience) || c.Subject == "" || c.Subject != sub:
			t.Fatalf("accepted claims %s as %q", payload, sub)
		case c.ExpiresAt == nil || fuzzNow.After(c.ExpiresAt.Add(leeway)):
			t.Fatalf("accepted claims %s: exp", payload)
		case c.NotBefore != nil && fuzzNow.Before(c.NotBefore.Add(-leeway)):
			t.Fatalf("accepted claims %s: nbf", payload)
		case c.IssuedAt == nil || fuzzNow.Before(c.IssuedAt.Add(-leeway)):
			t.Fatalf("accepted claims %s: iat missing or in the future", payload)
		case c.ExpiresAt.Sub(c.IssuedAt.Time) > AccessTTL:
			t.Fatalf("accepted claims %s: a lifetime over %v", payload, AccessTTL)
		}
		for _, k := range []string{"exp", "iat", "nbf"} {
			if v, ok := times[k]; ok {
				if _, number := v.(float64); !number {
					t.Fatalf("accepted claims %s: %s is not a number", payload, k)
				}
			}
		}
	})
}

func fuzzDecode(s string) []byte {
	b, _ := base64.RawURLEncoding.DecodeString(s)
	return b
}

func fuzzHeaderKid(header []byte) (string, bool) {
	var h map[string]any
	if json.Unmarshal(header, &h) != nil {
		return "", false
	}
	kid, ok := h["kid"].(string)
	return kid, ok
}

func fuzzContains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
