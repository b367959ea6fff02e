package app

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"pingan/internal/config"
)

// ensureKeys fills in the signing and data keys that the configuration left
// out, from files in the data directory, generating them on the first run.
// Production never gets here without both keys (config.Load refuses it).
func ensureKeys(cfg *config.Config) (generated bool, err error) {
	if len(cfg.JWTKeys) == 0 {
		path := filepath.Join(cfg.DataDir, "jwt.keys")
		text, gen, err := loadOrCreate(path, func() string {
			return config.FormatKeys([]config.Key{{ID: "k1", Secret: random(32)}})
		})
		if err != nil {
			return false, err
		}
		if cfg.JWTKeys, err = config.ParseKeys(text); err != nil {
			return false, fmt.Errorf("%s: %w", path, err)
		}
		generated = generated || gen
	}
	if cfg.DataKey == nil {
		path := filepath.Join(cfg.DataDir, "data.key")
		text, gen, err := loadOrCreate(path, func() string { return base64.StdEncoding.EncodeToString(random(32)) })
		if err != nil {
			return false, err
		}
		key, err := base64.StdEncoding.DecodeString(text)
		if err != nil || len(key) != 32 {
			return false, fmt.Errorf("%s: not a base64 32-byte key", path)
		}
		cfg.DataKey = key
		generated = generated || gen
	}
	return generated, nil
}

func loadOrCreate(path string, make func() string) (string, bool, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(b)), false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", false, err
	}
	v := make()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", false, err
	}
	if _, err := f.WriteString(v + "\n"); err != nil {
		f.Close()
		return "", false, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", false, err
	}
	return v, true, f.Close()
}

func random(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}
