// Package blob stores photos and other objects: MinIO (minio-go) in
// production, a local directory for the embedded default. Both sit behind
// Store; callers never see which one they have.
package blob

import (
	"context"
	"errors"
	"io"
	"net/url"
	"time"
)

// ErrUnsupported is returned by operations a store cannot perform, such as a
// presigned URL from the local-directory store (the API serves the bytes).
var ErrUnsupported = errors.New("blob: not supported by this store")

// Info describes a stored object.
type Info struct {
	Key         string
	Size        int64
	ContentType string
	ModTime     time.Time
}

// PostPolicy is what a presigned POST upload allows: one exact key, one
// exact content type, a size range and an expiry.
type PostPolicy struct {
	Key         string
	ContentType string
	MinSize     int64
	MaxSize     int64
	Expires     time.Time
}

// Store is the object store. Keys are slash-separated relative paths
// ("photos/2026/…", "tmp/<user>/<upload>"); a key with "..", a leading slash
// or an empty segment is refused with errs.ErrInvalid.
type Store interface {
	// Put writes the object, replacing any previous one.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	// Get opens the object. Returns errs.ErrNotFound if it does not exist.
	Get(ctx context.Context, key string) (io.ReadCloser, Info, error)
	// Stat describes the object. Returns errs.ErrNotFound if it does not exist.
	Stat(ctx context.Context, key string) (Info, error)
	// Delete removes the object; deleting a missing object is not an error.
	Delete(ctx context.Context, key string) error
	// List returns the objects under prefix last modified before olderThan
	// (the zero time means any), for sweepers.
	List(ctx context.Context, prefix string, olderThan time.Time) ([]Info, error)
	// PresignGet returns a short-lived URL to read the object, or ErrUnsupported.
	PresignGet(ctx context.Context, key string, ttl time.Duration) (*url.URL, error)
	// PresignPost returns the URL and form fields for a browser/phone POST
	// upload under policy, or ErrUnsupported.
	PresignPost(ctx context.Context, policy PostPolicy) (*url.URL, map[string]string, error)
	// Ping reports whether the store is reachable (readiness). Returns an
	// error wrapping errs.ErrUnavailable when it is not.
	Ping(ctx context.Context) error
}
