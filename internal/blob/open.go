package blob

import (
	"context"
	"fmt"
	"mime"
	"strings"

	"pingan/internal/config"
	"pingan/internal/errs"
)

// Open returns the store named by rawURL, the PINGAN_BLOB setting:
// file://DIR for a local directory (created if missing) or
// minio://ACCESS:SECRET@HOST:PORT/BUCKET?secure=false for MinIO. Returns an
// error wrapping errs.ErrInvalid for any other URL and errs.ErrUnavailable
// when MinIO cannot be reached or prepared.
func Open(ctx context.Context, rawURL string) (Store, error) {
	switch {
	case strings.HasPrefix(rawURL, "file://"):
		// Not url.Parse: "file://data/blobs" is a relative directory, not host "data".
		dir := strings.TrimPrefix(rawURL, "file://")
		if dir == "" {
			return nil, fmt.Errorf("blob: file:// URL without a directory: %w", errs.ErrInvalid)
		}
		return NewLocal(dir)
	case strings.HasPrefix(rawURL, "minio://"):
		cfg, err := config.ParseMinio(rawURL)
		if err != nil {
			return nil, fmt.Errorf("blob: %v: %w", err, errs.ErrInvalid)
		}
		return NewMinio(ctx, cfg)
	default:
		return nil, fmt.Errorf("blob: want file://DIR or minio://…: %w", errs.ErrInvalid)
	}
}

// ValidateKey checks that key is a relative slash-separated path made of
// [A-Za-z0-9._-] segments, none of them empty, "." or "..". Every store
// calls it, so a key accepted by one is accepted by all. Returns an error
// wrapping errs.ErrInvalid otherwise.
func ValidateKey(key string) error {
	if key == "" {
		return fmt.Errorf("blob: empty key: %w", errs.ErrInvalid)
	}
	if len(key) > 512 {
		return fmt.Errorf("blob: key longer than 512 bytes: %w", errs.ErrInvalid)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("blob: key %q: empty, \".\" or \"..\" segment: %w", key, errs.ErrInvalid)
		}
	}
	for _, c := range key {
		if !keyChar(c) {
			return fmt.Errorf("blob: key %q: character %q not allowed: %w", key, c, errs.ErrInvalid)
		}
	}
	return nil
}

// validatePrefix accepts "" (everything) or a key-like prefix that may end
// with a slash ("tmp/") or part of a segment ("tmp/u1").
func validatePrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if err := ValidateKey(strings.TrimSuffix(prefix, "/")); err != nil {
		return fmt.Errorf("blob: prefix %q: %w", prefix, errs.ErrInvalid)
	}
	return nil
}

func keyChar(c rune) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	case c == '.', c == '_', c == '-', c == '/':
		return true
	}
	return false
}

// defaultType is stored when the caller gives no content type.
const defaultType = "application/octet-stream"

// contentType returns ct, or defaultType when ct is empty. A value that is
// not a media type ("image/jpeg", "text/plain; charset=utf-8") is refused
// with errs.ErrInvalid, which also keeps line breaks out of stored headers.
func contentType(ct string) (string, error) {
	if ct == "" {
		return defaultType, nil
	}
	if len(ct) > 255 || strings.ContainsAny(ct, "\r\n") {
		return "", fmt.Errorf("blob: content type %q: %w", ct, errs.ErrInvalid)
	}
	if _, _, err := mime.ParseMediaType(ct); err != nil {
		return "", fmt.Errorf("blob: content type %q: %w", ct, errs.ErrInvalid)
	}
	return ct, nil
}
