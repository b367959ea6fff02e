package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"pingan/internal/errs"
	"pingan/internal/photo"
)

type uploadRow struct {
	ID          string `gorm:"primaryKey"`
	UserID      string
	ObjectKey   string
	ContentType string
	Size        int64
	Sha256      string `gorm:"column:sha256"`
	ExpiresAt   time.Time
	PhotoID     *string
	CreatedAt   time.Time
}

func (uploadRow) TableName() string { return "uploads" }

func (r uploadRow) domain() photo.Upload {
	u := photo.Upload{ID: r.ID, UserID: r.UserID, ObjectKey: r.ObjectKey, ContentType: r.ContentType, Size: r.Size,
		SHA256: r.Sha256, ExpiresAt: r.ExpiresAt, CreatedAt: r.CreatedAt}
	if r.PhotoID != nil {
		u.PhotoID = *r.PhotoID
	}
	return u
}

type photoRow struct {
	ID          string `gorm:"primaryKey"`
	UploaderID  string
	CaseID      *string
	CaseKind    string
	ObjectKey   string
	ThumbKey    string
	ContentType string
	Size        int64
	Sha256      string `gorm:"column:sha256"`
	Width       int
	Height      int
	CreatedAt   time.Time
}

func (photoRow) TableName() string { return "photos" }

func (r photoRow) domain() photo.Photo {
	p := photo.Photo{ID: r.ID, UploaderID: r.UploaderID, CaseKind: r.CaseKind, ObjectKey: r.ObjectKey, ThumbKey: r.ThumbKey,
		ContentType: r.ContentType, Size: r.Size, SHA256: r.Sha256, Width: r.Width, Height: r.Height, CreatedAt: r.CreatedAt}
	if r.CaseID != nil {
		p.CaseID = *r.CaseID
	}
	return p
}

// CreateUpload stores a pending upload.
func (db *DB) CreateUpload(ctx context.Context, u photo.Upload) error {
	row := uploadRow{ID: u.ID, UserID: u.UserID, ObjectKey: u.ObjectKey, ContentType: u.ContentType, Size: u.Size,
		Sha256: u.SHA256, ExpiresAt: utc(u.ExpiresAt), CreatedAt: utc(u.CreatedAt)}
	return translate(db.conn(ctx).Create(&row).Error)
}

// FindUpload returns errs.ErrNotFound if there is none.
func (db *DB) FindUpload(ctx context.Context, id string) (photo.Upload, error) {
	var row uploadRow
	if err := db.conn(ctx).Take(&row, "id = ?", id).Error; err != nil {
		return photo.Upload{}, fmt.Errorf("find upload %s: %w", id, translate(err))
	}
	return row.domain(), nil
}

// CompleteUpload records the photo an upload became.
func (db *DB) CompleteUpload(ctx context.Context, uploadID, photoID string) error {
	res := db.conn(ctx).Model(&uploadRow{}).Where("id = ? AND photo_id IS NULL", uploadID).Update("photo_id", photoID)
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("upload %s already completed: %w", uploadID, errs.ErrConflict)
	}
	return nil
}

// CreatePhoto stores a photo row.
func (db *DB) CreatePhoto(ctx context.Context, p photo.Photo) error {
	row := photoRow{ID: p.ID, UploaderID: p.UploaderID, ObjectKey: p.ObjectKey, ThumbKey: p.ThumbKey, ContentType: p.ContentType,
		Size: p.Size, Sha256: p.SHA256, Width: p.Width, Height: p.Height, CreatedAt: utc(p.CreatedAt)}
	return translate(db.conn(ctx).Create(&row).Error)
}

// FindPhoto returns errs.ErrNotFound if there is none.
func (db *DB) FindPhoto(ctx context.Context, id string) (photo.Photo, error) {
	var row photoRow
	if err := db.conn(ctx).Take(&row, "id = ?", id).Error; err != nil {
		return photo.Photo{}, fmt.Errorf("find photo %s: %w", id, translate(err))
	}
	return row.domain(), nil
}

// FindStaleUploads lists uploads created before the time that never became photos.
func (db *DB) FindStaleUploads(ctx context.Context, before time.Time, limit int) ([]photo.Upload, error) {
	var rows []uploadRow
	if err := db.conn(ctx).Where("created_at < ? AND photo_id IS NULL", utc(before)).Order("created_at").Limit(limit).
		Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]photo.Upload, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// FindStalePhotos lists photos created before the time and never attached.
func (db *DB) FindStalePhotos(ctx context.Context, before time.Time, limit int) ([]photo.Photo, error) {
	var rows []photoRow
	if err := db.conn(ctx).Where("case_id IS NULL AND created_at < ?", utc(before)).Limit(limit).Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]photo.Photo, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// DeleteUpload removes an upload row.
func (db *DB) DeleteUpload(ctx context.Context, id string) error {
	return translate(db.conn(ctx).Where("id = ?", id).Delete(&uploadRow{}).Error)
}

// DeletePhoto removes an unattached photo row.
func (db *DB) DeletePhoto(ctx context.Context, id string) error {
	res := db.conn(ctx).Where("id = ? AND case_id IS NULL", id).Delete(&photoRow{})
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("photo %s: %w", id, errs.ErrNotFound)
	}
	return nil
}

// AttachPhotos gives unattached photos of the uploader to a case, in the
// context's transaction.
func (db *DB) AttachPhotos(ctx context.Context, caseKind, caseID, uploaderID string, photoIDs []string) error {
	a := attach{caseKind: caseKind, caseID: caseID, uploaderID: uploaderID, photoIDs: photoIDs}
	return attachPhotos(func(q string, args ...any) (int64, error) {
		res := db.conn(ctx).Exec(q, args...)
		return res.RowsAffected, res.Error
	}, a)
}

// exec runs one statement on a gorm handle or an *sql.Tx and returns the
// rows it changed.
type execer func(query string, args ...any) (int64, error)

// attachPhotos gives the photos to the case if each is the uploader's and
// not attached yet; otherwise it changes nothing (the caller's transaction
// rolls back) and returns errs.FieldErrors.
func attachPhotos(exec execer, a attach) error {
	q, args := attachStatement(a)
	n, err := exec(q, args...)
	if err != nil {
		return translate(err)
	}
	if int(n) != len(a.photoIDs) {
		return errAttach
	}
	return nil
}

// attachStatement is the UPDATE that gives a's photos to its case; it must
// change exactly len(a.photoIDs) rows.
func attachStatement(a attach) (string, []any) {
	q := "UPDATE photos SET case_id = ?, case_kind = ? WHERE uploader_id = ? AND case_id IS NULL AND id IN (?" +
		strings.Repeat(", ?", len(a.photoIDs)-1) + ")"
	args := []any{a.caseID, a.caseKind, a.uploaderID}
	for _, id := range a.photoIDs {
		args = append(args, id)
	}
	return q, args
}

// errAttach is the answer when a photo is not the uploader's or is taken.
var errAttach = errs.Invalid("photo_ids", "each photo must be one of your uploads not yet attached to a case")

var _ photo.Store = (*DB)(nil)
