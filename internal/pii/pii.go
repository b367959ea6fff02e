// Package pii protects personal data (SPEC §8.5): AES-GCM field encryption
// with the key id kept beside each value, a keyed hash for exact-match
// search, and the masks used in every response and export.
package pii

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"

	"pingan/internal/errs"
)

// Sealer encrypts and decrypts fields with the data key. It is safe for
// concurrent use.
type Sealer struct {
	keyID  string
	aead   cipher.AEAD
	macKey []byte
}

// NewSealer builds a Sealer from the 32-byte data key. Returns errs.ErrInvalid
// for a key of another length.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("data key must be 32 bytes: %w", errs.ErrInvalid)
	}
	block, err := aes.NewCipher(derive(key, "pingan/aes-gcm"))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	id := sha256.Sum256(append([]byte("pingan/key-id/"), key...))
	return &Sealer{keyID: hex.EncodeToString(id[:4]), aead: aead, macKey: derive(key, "pingan/search-hash")}, nil
}

func derive(key []byte, label string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// KeyID names the key that Seal uses; it is stored inside every sealed value.
func (s *Sealer) KeyID() string { return s.keyID }

// Seal encrypts plain into "v1.<key id>.<base64 nonce+ciphertext>". The empty
// string seals to the empty string, so optional fields stay empty.
func (s *Sealer) Seal(plain string) string {
	if plain == "" {
		return ""
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic("pii: no randomness: " + err.Error())
	}
	ct := s.aead.Seal(nonce, nonce, []byte(plain), []byte(s.keyID))
	return "v1." + s.keyID + "." + base64.RawStdEncoding.EncodeToString(ct)
}

// Open decrypts a value made by Seal. Returns errs.ErrInvalid when the value
// is damaged or was sealed with another key.
func (s *Sealer) Open(sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	parts := strings.SplitN(sealed, ".", 3)
	if len(parts) != 3 || parts[0] != "v1" {
		return "", fmt.Errorf("sealed value: bad format: %w", errs.ErrInvalid)
	}
	if parts[1] != s.keyID {
		return "", fmt.Errorf("sealed value: key %s is not loaded: %w", parts[1], errs.ErrInvalid)
	}
	raw, err := base64.RawStdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) < s.aead.NonceSize() {
		return "", fmt.Errorf("sealed value: bad encoding: %w", errs.ErrInvalid)
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], []byte(parts[1]))
	if err != nil {
		return "", fmt.Errorf("sealed value: authentication failed: %w", errs.ErrInvalid)
	}
	return string(plain), nil
}

// Hash is a keyed hash of a normalised value (spaces and dashes removed),
// for exact-match search without storing the plain value.
func (s *Sealer) Hash(plain string) string {
	if plain == "" {
		return ""
	}
	norm := strings.NewReplacer(" ", "", "-", "").Replace(plain)
	m := hmac.New(sha256.New, s.macKey)
	m.Write([]byte(norm))
	return hex.EncodeToString(m.Sum(nil))
}

// MaskPhone keeps the first three and last four characters: 138****5678.
func MaskPhone(p string) string { return mask(p, 3, 4) }

// MaskID keeps the first six and last four characters: 370502********1234.
func MaskID(id string) string { return mask(id, 6, 4) }

func mask(v string, head, tail int) string {
	if v == "" {
		return ""
	}
	r := []rune(v)
	if len(r) <= head+tail {
		// Too short to show anything safely.
		return strings.Repeat("*", utf8.RuneCountInString(v))
	}
	return string(r[:head]) + strings.Repeat("*", len(r)-head-tail) + string(r[len(r)-tail:])
}
