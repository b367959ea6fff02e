package auth

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"pingan/internal/config"
	"pingan/internal/errs"
)

func testSigner(t testing.TB, now func() time.Time, keys ...config.Key) *Signer {
	t.Helper()
	if len(keys) == 0 {
		keys = []config.Key{{ID: "k1", Secret: bytes.Repeat([]byte{1}, 32)}}
	}
	s, err := NewSigner(keys, now)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSignVerify(t *testing.T) {
	base := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	now := base
	s := testSigner(t, func() time.Time { return now })
	tok, err := s.Sign("user-1", "session-1")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		at   time.Time
		ok   bool
	}{
		{"fresh", base, true},
		{"just before expiry", base.Add(AccessTTL - time.Second), true},
		{"within leeway after expiry", base.Add(AccessTTL + 5*time.Second), true},
		{"expired 31 s ago", base.Add(AccessTTL + 31*time.Second), false},
		{"before nbf beyond leeway", base.Add(-time.Minute), false},
	} {
		now = c.at
		// s remembers the token from its first check; a fresh signer
		// checks it from scratch. Both must judge the times alike.
		for name, v := range map[string]*Signer{"remembered": s, "fresh": testSigner(t, func() time.Time { return now })} {
			at, err := v.Verify(tok)
			if c.ok && (err != nil || at.UserID != "user-1" || at.SessionID != "session-1" || !at.ExpiresAt.Equal(base.Add(AccessTTL))) {
				t.Errorf("%s, %s: %+v, %v", c.name, name, at, err)
			}
			if !c.ok && !errors.Is(err, errs.ErrUnauthenticated) {
				t.Errorf("%s, %s: %v, want ErrUnauthenticated", c.name, name, err)
			}
		}
	}
	if len(s.verified) != 1 {
		t.Errorf("%d tokens remembered, want 1", len(s.verified))
	}
	// Another token text, even one changed after the signature, is checked anew.
	now = base
	if _, err := s.Verify(tok[:len(tok)-2] + "AA"); !errors.Is(err, errs.ErrUnauthenticated) {
		t.Errorf("a tampered signature: %v", err)
	}
	if _, err := NewSigner(nil, time.Now); err == nil {
		t.Fatal("a signer without keys")
	}
}

func TestPasswords(t *testing.T) {
	h, err := HashPassword("pingan-demo")
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := HashPassword("pingan-demo")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: salt missing")
	}
	for _, c := range []struct {
		hash, pw string
		ok       bool
		err      bool
	}{
		{h, "pingan-demo", true, false},
		{h, "pingan-demO", false, false},
		{h, "", false, false},
		{"$2a$10$bcrypt-is-not-read-here", "x", false, true},
		{"$argon2id$v=19$m=0,t=1,p=1$c2FsdA$aGFzaA", "x", false, true},
		{"", "x", false, true},
	} {
		ok, err := CheckPassword(c.hash, c.pw)
		if ok != c.ok || (err != nil) != c.err {
			t.Errorf("CheckPassword(%.20q, %q) = %v, %v", c.hash, c.pw, ok, err)
		}
	}
	if CheckPasswordPolicy("short") == nil || CheckPasswordPolicy("long enough") != nil {
		t.Fatal("password policy")
	}
}

func BenchmarkVerify(b *testing.B) {
	s := testSigner(b, time.Now)
	tok, _ := s.Sign("0193f1b2-0000-7000-8000-000000000001", "0193f1b2-0000-7000-8000-000000000002")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSign(b *testing.B) {
	s := testSigner(b, time.Now)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Sign("0193f1b2-0000-7000-8000-000000000001", "0193f1b2-0000-7000-8000-000000000002"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckPassword(b *testing.B) {
	h, _ := HashPassword("pingan-demo")
	for b.Loop() {
		if ok, _ := CheckPassword(h, "pingan-demo"); !ok {
			b.Fatal("mismatch")
		}
	}
}
