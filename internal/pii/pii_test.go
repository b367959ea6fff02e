package pii

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"pingan/internal/errs"
)

func TestSealRoundTrip(t *testing.T) {
	s, err := NewSealer(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	a, b := s.Seal("13812345678"), s.Seal("13812345678")
	if a == b {
		t.Fatal("two seals of one value are equal: nonce reused")
	}
	if strings.Contains(a, "13812345678") {
		t.Fatalf("sealed value contains the plain text: %s", a)
	}
	got, err := s.Open(a)
	if err != nil || got != "13812345678" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if s.Seal("") != "" {
		t.Fatal("empty value should seal to empty")
	}

	other, _ := NewSealer(bytes.Repeat([]byte{8}, 32))
	if _, err := other.Open(a); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("open with another key: %v, want ErrInvalid", err)
	}
	tampered := a[:len(a)-2] + "AA"
	if _, err := s.Open(tampered); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("open tampered: %v, want ErrInvalid", err)
	}
	if _, err := NewSealer([]byte("short")); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("short key: %v", err)
	}
}

func TestHash(t *testing.T) {
	s, _ := NewSealer(bytes.Repeat([]byte{7}, 32))
	if s.Hash("138 1234-5678") != s.Hash("13812345678") {
		t.Fatal("hash should ignore spaces and dashes")
	}
	if s.Hash("13812345678") == s.Hash("13812345679") {
		t.Fatal("different numbers hash equal")
	}
	if len(s.Hash("1")) != 64 {
		t.Fatal("want hex sha256")
	}
}

func TestMasks(t *testing.T) {
	for _, c := range []struct{ in, phone, id string }{
		{"13812345678", "138****5678", "138123*5678"},
		{"370502199001011234", "370***********1234", "370502********1234"},
		{"", "", ""},
		{"1234567", "*******", "*******"},
	} {
		if got := MaskPhone(c.in); got != c.phone {
			t.Errorf("MaskPhone(%q) = %q, want %q", c.in, got, c.phone)
		}
		if got := MaskID(c.in); got != c.id {
			t.Errorf("MaskID(%q) = %q, want %q", c.in, got, c.id)
		}
	}
}
