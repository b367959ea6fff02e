// Package photo takes photos from phones safely (SPEC §6.3): presigned
// uploads straight to MinIO, a server-side check of the real type,
// metadata (EXIF/GPS) stripping and thumbnails, attachment to one case by
// its uploader, retrieval by the scope of that case, and a sweeper for what
// was uploaded and never used.
package photo

import (
	"context"
	"time"
)

// Upload is a presigned upload waiting for its complete call.
type Upload struct {
	ID          string
	UserID      string
	ObjectKey   string
	ContentType string
	Size        int64
	SHA256      string
	ExpiresAt   time.Time
	PhotoID     string
	CreatedAt   time.Time
}

// Photo is a stored, sanitised image.
type Photo struct {
	ID          string
	UploaderID  string
	CaseID      string // "" until a case takes it
	CaseKind    string
	ObjectKey   string
	ThumbKey    string
	ContentType string
	Size        int64
	SHA256      string
	Width       int
	Height      int
	CreatedAt   time.Time
}

// Store persists uploads and photos. Implemented in internal/store.
type Store interface {
	CreateUpload(ctx context.Context, u Upload) error
	// FindUpload returns errs.ErrNotFound if there is none.
	FindUpload(ctx context.Context, id string) (Upload, error)
	// CompleteUpload records the photo an upload became.
	CompleteUpload(ctx context.Context, uploadID, photoID string) error
	CreatePhoto(ctx context.Context, p Photo) error
	// FindPhoto returns errs.ErrNotFound if there is none.
	FindPhoto(ctx context.Context, id string) (Photo, error)
	// FindStaleUploads lists uploads created before the time that never
	// became photos; FindStalePhotos lists photos never attached.
	FindStaleUploads(ctx context.Context, before time.Time, limit int) ([]Upload, error)
	FindStalePhotos(ctx context.Context, before time.Time, limit int) ([]Photo, error)
	DeleteUpload(ctx context.Context, id string) error
	// DeletePhoto removes an unattached photo's row; returns errs.ErrNotFound
	// when it is gone or was attached meanwhile.
	DeletePhoto(ctx context.Context, id string) error
}
