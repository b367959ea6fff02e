package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/lifecycle"

	"pingan/internal/config"
	"pingan/internal/errs"
)

// Minio is the production Store: one bucket on a MinIO (or other S3)
// server. Uploads under tmp/ expire after a day by a bucket lifecycle rule,
// so abandoned presigned uploads clean themselves up.
type Minio struct {
	client *minio.Client
	bucket string
}

var _ Store = (*Minio)(nil)

const (
	// tmpPrefix holds uploads that have not been attached to a record yet.
	tmpPrefix = "tmp/"
	// tmpRuleID names the lifecycle rule NewMinio keeps on the bucket.
	tmpRuleID = "pingan-expire-tmp"
	// pingTimeout bounds a readiness probe.
	pingTimeout = 3 * time.Second
	// prepareTimeout bounds the start-up checks, so a hung server fails start-up.
	prepareTimeout = 30 * time.Second
)

// NewMinio connects to the server in cfg, creates the bucket if it is
// missing and installs the rule expiring objects under tmp/ after one day.
// Returns an error wrapping errs.ErrUnavailable when the server cannot be
// reached or refuses the credentials.
func NewMinio(ctx context.Context, cfg config.Minio) (*Minio, error) {
	m, err := newMinio(cfg)
	if err != nil {
		return nil, err
	}
	if err := m.prepare(ctx); err != nil {
		return nil, err
	}
	return m, nil
}

// newMinio builds the client; it does not touch the network.
func newMinio(cfg config.Minio) (*Minio, error) {
	tr, err := minio.DefaultTransport(cfg.Secure)
	if err != nil {
		return nil, fmt.Errorf("blob: minio transport: %w", err)
	}
	// A dead endpoint should fail a probe fast, not after 30 s per dial.
	tr.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:      credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:     cfg.Secure,
		Transport:  tr,
		MaxRetries: 3,
	})
	if err != nil {
		return nil, fmt.Errorf("blob: minio %s: %w: %w", cfg.Endpoint, errs.ErrInvalid, err)
	}
	return &Minio{client: client, bucket: cfg.Bucket}, nil
}

// prepare creates the bucket and upserts the tmp/ lifecycle rule, keeping
// any other rules an operator added.
func (m *Minio) prepare(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, prepareTimeout)
	defer cancel()
	ok, err := m.client.BucketExists(ctx, m.bucket)
	if err != nil {
		return minioErr("open bucket", m.bucket, err)
	}
	if !ok {
		err := m.client.MakeBucket(ctx, m.bucket, minio.MakeBucketOptions{})
		if err != nil && minio.ToErrorResponse(err).Code != minio.BucketAlreadyOwnedByYou {
			return minioErr("create bucket", m.bucket, err)
		}
	}
	lc, err := m.client.GetBucketLifecycle(ctx, m.bucket)
	if err != nil {
		if minio.ToErrorResponse(err).Code != "NoSuchLifecycleConfiguration" {
			return minioErr("get lifecycle", m.bucket, err)
		}
		lc = lifecycle.NewConfiguration()
	}
	rule := lifecycle.Rule{
		ID:         tmpRuleID,
		Status:     "Enabled",
		RuleFilter: lifecycle.Filter{Prefix: tmpPrefix},
		Expiration: lifecycle.Expiration{Days: 1},
	}
	rules := []lifecycle.Rule{rule}
	for _, r := range lc.Rules {
		if r.ID != tmpRuleID {
			rules = append(rules, r)
		}
	}
	lc.Rules = rules
	if err := m.client.SetBucketLifecycle(ctx, m.bucket, lc); err != nil {
		return minioErr("set lifecycle", m.bucket, err)
	}
	return nil
}

// Put writes the object, reading exactly size bytes from r (size < 0 means
// unknown). Returns errs.ErrInvalid for a bad key or content type or a short
// reader, errs.ErrUnavailable when the server cannot be reached.
func (m *Minio) Put(ctx context.Context, key string, r io.Reader, size int64, ct string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	ct, err := contentType(ct)
	if err != nil {
		return err
	}
	sr := &sizedReader{r: r, left: size}
	_, err = m.client.PutObject(ctx, m.bucket, key, sr, size, minio.PutObjectOptions{ContentType: ct})
	if err != nil && sr.short {
		return fmt.Errorf("blob: put %q: reader ended %d bytes short: %w", key, sr.left, errs.ErrInvalid)
	}
	return minioErr("put", key, err)
}

// sizedReader notices a reader that ends before the declared size; the
// HTTP client reports that only as a transport error.
type sizedReader struct {
	r     io.Reader
	left  int64
	short bool
}

func (s *sizedReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.left -= int64(n)
	if err == io.EOF && s.left > 0 {
		s.short = true
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// Get opens the object. Returns errs.ErrNotFound if it does not exist,
// errs.ErrInvalid for a bad key and errs.ErrUnavailable when the server
// cannot be reached.
func (m *Minio) Get(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	if err := ValidateKey(key); err != nil {
		return nil, Info{}, err
	}
	obj, err := m.client.GetObject(ctx, m.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, Info{}, minioErr("get", key, err)
	}
	// GetObject is lazy: Stat sends the request and reports a missing key.
	oi, err := obj.Stat()
	if err != nil {
		obj.Close()
		return nil, Info{}, minioErr("get", key, err)
	}
	return obj, infoOf(oi), nil
}

// Stat describes the object. Returns errs.ErrNotFound if it does not
// exist, errs.ErrInvalid for a bad key and errs.ErrUnavailable when the
// server cannot be reached.
func (m *Minio) Stat(ctx context.Context, key string) (Info, error) {
	if err := ValidateKey(key); err != nil {
		return Info{}, err
	}
	oi, err := m.client.StatObject(ctx, m.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return Info{}, minioErr("stat", key, err)
	}
	return infoOf(oi), nil
}

// Delete removes the object; a missing object is not an error. Returns
// errs.ErrInvalid for a bad key and errs.ErrUnavailable when the server
// cannot be reached.
func (m *Minio) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	err := m.client.RemoveObject(ctx, m.bucket, key, minio.RemoveObjectOptions{})
	if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
		return nil
	}
	return minioErr("delete", key, err)
}

// List returns the objects whose key starts with prefix and, unless
// olderThan is zero, were last modified before olderThan, sorted by key.
// ContentType is left empty: S3 listings do not carry it. Returns
// errs.ErrInvalid for a bad prefix and errs.ErrUnavailable when the server
// cannot be reached.
func (m *Minio) List(ctx context.Context, prefix string, olderThan time.Time) ([]Info, error) {
	if err := validatePrefix(prefix); err != nil {
		return nil, err
	}
	var out []Info
	for oi := range m.client.ListObjects(ctx, m.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if oi.Err != nil {
			return nil, minioErr("list", prefix, oi.Err)
		}
		if olderThan.IsZero() || oi.LastModified.Before(olderThan) {
			out = append(out, infoOf(oi))
		}
	}
	return out, nil
}

// PresignGet returns a URL that reads the object until ttl has passed
// (1 s to 7 days). It does not check that the object exists. Returns
// errs.ErrInvalid for a bad key or ttl.
func (m *Minio) PresignGet(ctx context.Context, key string, ttl time.Duration) (*url.URL, error) {
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	if ttl < time.Second || ttl > 7*24*time.Hour {
		return nil, fmt.Errorf("blob: presign %q: ttl %s out of range: %w", key, ttl, errs.ErrInvalid)
	}
	u, err := m.client.PresignedGetObject(ctx, m.bucket, key, ttl, nil)
	if err != nil {
		return nil, minioErr("presign get", key, err)
	}
	return u, nil
}

// PresignPost returns the URL and the form fields of a POST upload that
// the server accepts only for policy's exact key and content type, a file
// size within [MinSize, MaxSize] and before Expires. The client sends the
// fields followed by the file in a field named "file". Returns
// errs.ErrInvalid for a bad key, content type, size range or expiry.
func (m *Minio) PresignPost(ctx context.Context, policy PostPolicy) (*url.URL, map[string]string, error) {
	if err := ValidateKey(policy.Key); err != nil {
		return nil, nil, err
	}
	if policy.ContentType == "" {
		return nil, nil, fmt.Errorf("blob: presign post %q: content type required: %w", policy.Key, errs.ErrInvalid)
	}
	if _, err := contentType(policy.ContentType); err != nil {
		return nil, nil, err
	}
	if policy.MinSize < 0 || policy.MaxSize <= 0 || policy.MinSize > policy.MaxSize {
		return nil, nil, fmt.Errorf("blob: presign post %q: size range [%d, %d]: %w",
			policy.Key, policy.MinSize, policy.MaxSize, errs.ErrInvalid)
	}
	if !policy.Expires.After(time.Now()) {
		return nil, nil, fmt.Errorf("blob: presign post %q: expiry in the past: %w", policy.Key, errs.ErrInvalid)
	}
	p := minio.NewPostPolicy()
	for _, err := range []error{
		p.SetBucket(m.bucket),
		p.SetKey(policy.Key),
		p.SetContentType(policy.ContentType),
		p.SetContentLengthRange(policy.MinSize, policy.MaxSize),
		p.SetExpires(policy.Expires.UTC()),
	} {
		if err != nil {
			return nil, nil, fmt.Errorf("blob: presign post %q: %w: %w", policy.Key, errs.ErrInvalid, err)
		}
	}
	u, fields, err := m.client.PresignedPostPolicy(ctx, p)
	if err != nil {
		return nil, nil, minioErr("presign post", policy.Key, err)
	}
	return u, fields, nil
}

// Ping checks within a few seconds that the server answers and the bucket
// exists. Returns an error wrapping errs.ErrUnavailable when it does not.
func (m *Minio) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	ok, err := m.client.BucketExists(ctx, m.bucket)
	if err != nil {
		return fmt.Errorf("blob: ping minio: %w: %w", errs.ErrUnavailable, err)
	}
	if !ok {
		return fmt.Errorf("blob: ping minio: bucket %q is missing: %w", m.bucket, errs.ErrUnavailable)
	}
	return nil
}

func infoOf(oi minio.ObjectInfo) Info {
	return Info{Key: oi.Key, Size: oi.Size, ContentType: oi.ContentType, ModTime: oi.LastModified.UTC()}
}

// minioErr maps a minio-go error to an error kind. Anything that is not a
// definite answer from the server (a refused connection, a timeout, a 5xx)
// wraps errs.ErrUnavailable so that the API answers 503.
func minioErr(op, key string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("blob: %s %q: %w", op, key, err)
	}
	var resp minio.ErrorResponse
	if !errors.As(err, &resp) {
		resp = minio.ToErrorResponse(err)
	}
	switch {
	case resp.Code == minio.NoSuchKey:
		return fmt.Errorf("blob: %s %q: %w", op, key, errs.ErrNotFound)
	case resp.Code == minio.UnexpectedEOF, resp.Code == minio.InvalidArgument:
		return fmt.Errorf("blob: %s %q: %w: %w", op, key, errs.ErrInvalid, err)
	case resp.Code == "" || resp.StatusCode >= 500:
		return fmt.Errorf("blob: %s %q: %w: %w", op, key, errs.ErrUnavailable, err)
	case resp.Code == minio.NoSuchBucket, resp.Code == minio.AccessDenied,
		resp.Code == "InvalidAccessKeyId", resp.Code == "SignatureDoesNotMatch":
		// The server answers but is not usable as configured.
		return fmt.Errorf("blob: %s %q: %w: %w", op, key, errs.ErrUnavailable, err)
	default:
		return fmt.Errorf("blob: %s %q: %w", op, key, err)
	}
}
