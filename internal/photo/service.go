package photo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/singleflight"

	"pingan/internal/access"
	"pingan/internal/audit"
	"pingan/internal/blob"
	"pingan/internal/deps"
	"pingan/internal/errs"
)

// Lifetimes (SPEC §6.3).
const (
	PolicyTTL = 15 * time.Minute
	// StaleAfter: uploads and photos never attached are removed after it.
	StaleAfter = 24 * time.Hour
	// GetTTL is the life of a presigned GET redirect.
	GetTTL = 5 * time.Minute
)

// Cases finds the case a photo is attached to. Implemented by the store.
type Cases interface {
	// FindCase returns where the case of that kind ("incident", "dispute")
	// lies and who reported it; errs.ErrNotFound if there is none.
	FindCase(ctx context.Context, kind, id string) (access.Case, error)
}

// MaxConcurrentDecodes bounds the photos decoded at once for thumbnails:
// a 12 MP photo takes 18–50 MB and 0.3 s of CPU while it is decoded.
const MaxConcurrentDecodes = 2

// thumbQueue is how many new photos may wait for their thumbnail. When it
// is full a photo gets its thumbnail on the first request for it instead.
const thumbQueue = 64

// Service runs uploads and retrieval.
type Service struct {
	store Store
	blobs blob.Store
	cases Cases
	log   audit.Log
	now   func() time.Time

	slots  chan struct{}      // decodes running
	thumbs singleflight.Group // by photo id: one decode however many ask
	queue  chan Photo         // new photos for the background worker
	start  sync.Once
	ctx    context.Context // the worker's; cancelled by Close
	cancel context.CancelFunc
	done   chan struct{}
}

// NewService builds the service. Close stops its background worker. Every
// dependency is required; a nil one panics, naming it.
func NewService(store Store, blobs blob.Store, cases Cases, log audit.Log, now func() time.Time) *Service {
	deps.Require("photo.NewService", "store", store, "blobs", blobs, "cases", cases, "log", log, "now", now)
	ctx, cancel := context.WithCancel(context.Background())
	return &Service{store: store, blobs: blobs, cases: cases, log: log, now: now,
		slots: make(chan struct{}, MaxConcurrentDecodes), queue: make(chan Photo, thumbQueue),
		ctx: ctx, cancel: cancel, done: make(chan struct{})}
}

// Close stops the thumbnail worker and waits for it. Photos still queued
// get their thumbnails when first asked for.
func (s *Service) Close() {
	s.start.Do(func() { close(s.done) }) // never started: nothing to wait for
	s.cancel()
	<-s.done
}

// Policy is a presigned POST the phone uploads to.
type Policy struct {
	UploadID  string
	URL       *url.URL
	Fields    map[string]string
	ExpiresAt time.Time
}

// CreateUpload issues a presigned POST policy for one photo of the given
// type and size: the object store accepts that type and exactly that many
// bytes under it, nothing else. Returns errs.FieldErrors, and errs.ErrUnprocessable when
// the blob store cannot presign (the file store: use Upload instead).
func (s *Service) CreateUpload(ctx context.Context, p access.Principal, contentType string, size int64, sum string) (Policy, error) {
	bad := errs.FieldErrors{}
	if contentType != JPEG && contentType != PNG && contentType != WebP {
		bad.Add("content_type", "one of image/jpeg, image/png, image/webp")
	}
	if size < 1 || size > MaxBytes {
		bad.Add("size", fmt.Sprintf("from 1 to %d bytes", MaxBytes))
	}
	sum = strings.ToLower(sum)
	if b, err := hex.DecodeString(sum); sum != "" && (err != nil || len(b) != sha256.Size) {
		bad.Add("sha256", "64 hexadecimal characters")
	}
	if err := bad.Err(); err != nil {
		return Policy{}, err
	}
	now := s.now()
	u := Upload{ID: uuid.Must(uuid.NewV7()).String(), UserID: p.UserID, ContentType: contentType, Size: size, SHA256: sum,
		ExpiresAt: now.Add(PolicyTTL), CreatedAt: now}
	u.ObjectKey = "tmp/" + p.UserID + "/" + u.ID
	// The policy admits exactly the declared size, so the object store itself
	// refuses any other upload (complete checks the size again).
	target, fields, err := s.blobs.PresignPost(ctx, blob.PostPolicy{Key: u.ObjectKey, ContentType: contentType,
		MinSize: size, MaxSize: size, Expires: u.ExpiresAt})
	if errors.Is(err, blob.ErrUnsupported) {
		return Policy{}, fmt.Errorf("this installation stores photos locally; send the file to POST /api/v1/photos: %w", errs.ErrUnprocessable)
	}
	if err != nil {
		return Policy{}, err
	}
	err = s.log.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.CreateUpload(ctx, u); err != nil {
			return err
		}
		return s.log.AppendAudit(ctx, audit.New(ctx, p, now, "upload.create", "upload", u.ID, ""))
	})
	if err != nil {
		return Policy{}, err
	}
	return Policy{UploadID: u.ID, URL: target, Fields: fields, ExpiresAt: u.ExpiresAt}, nil
}

// CompleteUpload checks what the phone uploaded under the policy and turns
// it into a photo. Anything but a genuine image of the declared size (and
// checksum, when one was given) is refused and deleted. Returns
// errs.ErrNotFound for someone else's upload, errs.FieldErrors for a bad
// object, errs.ErrConflict when it was completed already.
func (s *Service) CompleteUpload(ctx context.Context, p access.Principal, uploadID string) (Photo, error) {
	if _, err := uuid.Parse(uploadID); err != nil {
		return Photo{}, fmt.Errorf("upload %q: %w", uploadID, errs.ErrNotFound)
	}
	u, err := s.store.FindUpload(ctx, uploadID)
	if err != nil {
		return Photo{}, err
	}
	if u.UserID != p.UserID {
		return Photo{}, fmt.Errorf("upload %s: %w", uploadID, errs.ErrNotFound)
	}
	if u.PhotoID != "" {
		return Photo{}, fmt.Errorf("upload %s is already photo %s: %w", uploadID, u.PhotoID, errs.ErrConflict)
	}
	info, err := s.blobs.Stat(ctx, u.ObjectKey)
	if errors.Is(err, errs.ErrNotFound) {
		return Photo{}, errs.Invalid("upload", "nothing was uploaded under this policy")
	} else if err != nil {
		return Photo{}, err
	}
	refuse := func(field, msg string) (Photo, error) {
		if err := s.blobs.Delete(ctx, u.ObjectKey); err != nil {
			slog.Warn("deleting a refused upload", slog.String("key", u.ObjectKey), slog.String("error", err.Error()))
		}
		return Photo{}, errs.Invalid(field, msg)
	}
	if info.Size != u.Size {
		return refuse("size", fmt.Sprintf("uploaded %d bytes, declared %d", info.Size, u.Size))
	}
	rc, _, err := s.blobs.Get(ctx, u.ObjectKey)
	if err != nil {
		return Photo{}, err
	}
	raw, err := io.ReadAll(io.LimitReader(rc, MaxBytes+1))
	rc.Close()
	if err != nil {
		return Photo{}, fmt.Errorf("read upload: %v: %w", err, errs.ErrUnavailable)
	}
	if u.SHA256 != "" {
		if sum := sha256.Sum256(raw); hex.EncodeToString(sum[:]) != u.SHA256 {
			return refuse("sha256", "the uploaded bytes do not match the declared checksum")
		}
	}
	if kind, err := Detect(raw); err != nil || kind != u.ContentType {
		return refuse("content_type", "the uploaded bytes are not the declared kind of image")
	}
	ph, err := s.keep(ctx, p, raw, "upload.complete", func(ctx context.Context, ph Photo) error {
		return s.store.CompleteUpload(ctx, u.ID, ph.ID)
	})
	if err != nil {
		if errors.Is(err, errs.ErrInvalid) {
			return refuse("upload", "not a readable image")
		}
		return Photo{}, err
	}
	if err := s.blobs.Delete(ctx, u.ObjectKey); err != nil {
		slog.Warn("deleting a completed upload", slog.String("key", u.ObjectKey), slog.String("error", err.Error()))
	}
	return ph, nil
}

// Upload takes a photo's bytes directly (multipart, for simple clients and
// the file store), with the same checks. Returns errs.FieldErrors and
// errs.ErrTooLarge.
func (s *Service) Upload(ctx context.Context, p access.Principal, r io.Reader) (Photo, error) {
	raw, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return Photo{}, errs.Invalid("file", "could not be read")
	}
	if len(raw) > MaxBytes {
		return Photo{}, fmt.Errorf("a photo is at most %d bytes: %w", MaxBytes, errs.ErrTooLarge)
	}
	if _, err := Detect(raw); err != nil {
		return Photo{}, errs.Invalid("file", "not a JPEG, PNG or WebP image")
	}
	ph, err := s.keep(ctx, p, raw, "photo.upload", nil)
	if errors.Is(err, errs.ErrInvalid) && !errors.As(err, new(errs.FieldErrors)) {
		return Photo{}, errs.Invalid("file", "not a readable image")
	}
	return ph, err
}

// keep sanitises raw, writes the photo under photos/, records it (and
// whatever also does) in one transaction, and queues its thumbnail.
func (s *Service) keep(ctx context.Context, p access.Principal, raw []byte, action string, also func(context.Context, Photo) error) (Photo, error) {
	clean, err := Sanitize(bytes.NewReader(raw))
	if err != nil {
		return Photo{}, err
	}
	now := s.now()
	ph := Photo{ID: uuid.Must(uuid.NewV7()).String(), UploaderID: p.UserID, ContentType: clean.ContentType,
		Size: int64(len(clean.Data)), SHA256: clean.SHA256, Width: clean.Width, Height: clean.Height, CreatedAt: now}
	ext := map[string]string{JPEG: ".jpg", PNG: ".png", WebP: ".webp"}[clean.ContentType]
	ph.ObjectKey = "photos/" + now.UTC().Format("2006/01/") + ph.ID + ext
	ph.ThumbKey = "thumbs/" + now.UTC().Format("2006/01/") + ph.ID + ".jpg"
	if err := s.blobs.Put(ctx, ph.ObjectKey, bytes.NewReader(clean.Data), int64(len(clean.Data)), clean.ContentType); err != nil {
		return Photo{}, err
	}
	err = s.log.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.CreatePhoto(ctx, ph); err != nil {
			return err
		}
		if also != nil {
			if err := also(ctx, ph); err != nil {
				return err
			}
		}
		return s.log.AppendAudit(ctx, audit.New(ctx, p, now, action, "photo", ph.ID, ""))
	})
	if err != nil {
		s.forget(ctx, ph)
		return Photo{}, err
	}
	s.start.Do(func() { go s.work() })
	select {
	case s.queue <- ph:
	default: // busy: the first request for the thumbnail makes it
	}
	return ph, nil
}

// work makes the thumbnails of queued photos until Close.
func (s *Service) work() {
	defer close(s.done)
	for {
		select {
		case <-s.ctx.Done():
			return
		case ph := <-s.queue:
			if err := s.thumbnail(s.ctx, ph); err != nil && s.ctx.Err() == nil {
				slog.Warn("making a thumbnail", slog.String("photo", ph.ID), slog.String("error", err.Error()))
			}
		}
	}
}

// thumbnail makes ph's thumbnail unless it exists. Concurrent calls for one
// photo share one decode. Returns an error wrapping errs.ErrInvalid when the
// photo's pixels cannot be decoded.
func (s *Service) thumbnail(ctx context.Context, ph Photo) error {
	_, err, _ := s.thumbs.Do(ph.ID, func() (any, error) {
		if _, err := s.blobs.Stat(ctx, ph.ThumbKey); err == nil || !errors.Is(err, errs.ErrNotFound) {
			return nil, err
		}
		select {
		case s.slots <- struct{}{}:
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting to decode a photo: %w", errs.ErrUnavailable)
		}
		defer func() { <-s.slots }()
		rc, _, err := s.blobs.Get(ctx, ph.ObjectKey)
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(io.LimitReader(rc, MaxBytes+1))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("read photo %s: %v: %w", ph.ID, err, errs.ErrUnavailable)
		}
		thumb, err := Thumbnail(data)
		if err != nil {
			return nil, err
		}
		return nil, s.blobs.Put(ctx, ph.ThumbKey, bytes.NewReader(thumb), int64(len(thumb)), JPEG)
	})
	return err
}

// forget deletes a photo's objects (best effort; the sweeper catches the rest).
func (s *Service) forget(ctx context.Context, ph Photo) {
	for _, k := range []string{ph.ObjectKey, ph.ThumbKey} {
		if err := s.blobs.Delete(ctx, k); err != nil {
			slog.Warn("deleting photo object", slog.String("key", k), slog.String("error", err.Error()))
		}
	}
}

// Content is a photo to send: a redirect URL (MinIO) or the bytes.
type Content struct {
	Redirect    *url.URL
	Body        io.ReadCloser
	ContentType string
	Size        int64
	SHA256      string
}

// checkSight is the read rule of a photo: an unattached photo is its
// uploader's alone; an attached one is seen by whoever sees its case (the
// scope rule of SPEC §5). Returns errs.ErrNotFound otherwise.
func (s *Service) checkSight(ctx context.Context, p access.Principal, ph Photo) error {
	if ph.CaseID == "" {
		if ph.UploaderID != p.UserID {
			return fmt.Errorf("photo %s: %w", ph.ID, errs.ErrNotFound)
		}
		return nil
	}
	c, err := s.cases.FindCase(ctx, ph.CaseKind, ph.CaseID)
	if errors.Is(err, errs.ErrNotFound) {
		return fmt.Errorf("photo %s: %w", ph.ID, errs.ErrNotFound)
	} else if err != nil {
		return err
	}
	if !p.SeesCase(c) {
		return fmt.Errorf("photo %s: %w", ph.ID, errs.ErrNotFound)
	}
	return nil
}

// Open authorises and opens a photo or its thumbnail: a photo of a case is
// for those who may see the case; an unattached one for its uploader only.
// Returns errs.ErrNotFound otherwise.
func (s *Service) Open(ctx context.Context, p access.Principal, id string, thumb bool) (Content, error) {
	if _, err := uuid.Parse(id); err != nil {
		return Content{}, fmt.Errorf("photo %q: %w", id, errs.ErrNotFound)
	}
	ph, err := s.store.FindPhoto(ctx, id)
	if err != nil {
		return Content{}, err
	}
	if err := s.checkSight(ctx, p, ph); err != nil {
		return Content{}, err
	}
	key, ctype := ph.ObjectKey, ph.ContentType
	if thumb {
		key, ctype = ph.ThumbKey, JPEG
		if err := s.thumbnail(ctx, ph); errors.Is(err, errs.ErrInvalid) {
			slog.Warn("a photo without a thumbnail", slog.String("photo", ph.ID), slog.String("error", err.Error()))
			return Content{}, fmt.Errorf("photo %s has no thumbnail: its pixels cannot be decoded: %w", id, errs.ErrNotFound)
		} else if err != nil {
			return Content{}, err
		}
	}
	if u, err := s.blobs.PresignGet(ctx, key, GetTTL); err == nil {
		return Content{Redirect: u, ContentType: ctype, SHA256: ph.SHA256}, nil
	} else if !errors.Is(err, blob.ErrUnsupported) {
		return Content{}, err
	}
	rc, info, err := s.blobs.Get(ctx, key)
	if err != nil {
		return Content{}, err
	}
	return Content{Body: rc, ContentType: ctype, Size: info.Size, SHA256: ph.SHA256}, nil
}

// Sweep removes uploads never completed and photos never attached, older
// than StaleAfter, with their objects, and any tmp/ object that old (the
// bucket's lifecycle rule does the same on MinIO; the sweeper also covers
// the file store). Returns how many rows and objects it removed.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	before := s.now().Add(-StaleAfter)
	n := 0
	uploads, err := s.store.FindStaleUploads(ctx, before, 500)
	if err != nil {
		return n, err
	}
	for _, u := range uploads {
		if err := s.blobs.Delete(ctx, u.ObjectKey); err != nil {
			return n, err
		}
		if err := s.store.DeleteUpload(ctx, u.ID); err != nil {
			return n, err
		}
		n++
	}
	photos, err := s.store.FindStalePhotos(ctx, before, 500)
	if err != nil {
		return n, err
	}
	for _, ph := range photos {
		// The row first: if a case took the photo meanwhile, keep its objects.
		if err := s.store.DeletePhoto(ctx, ph.ID); errors.Is(err, errs.ErrNotFound) {
			continue
		} else if err != nil {
			return n, err
		}
		s.forget(ctx, ph)
		n++
	}
	objs, err := s.blobs.List(ctx, "tmp/", before)
	if err != nil {
		return n, err
	}
	for _, o := range objs {
		if err := s.blobs.Delete(ctx, o.Key); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
