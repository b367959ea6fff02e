package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7/pkg/lifecycle"

	"pingan/internal/config"
	"pingan/internal/errs"
	"pingan/internal/testenv"
)

func TestMinioPresignGet(t *testing.T) {
	s := openMinio(t)
	ctx := t.Context()
	put(t, s, "photos/p.jpg", "the photo", "image/jpeg")
	u, err := s.PresignGet(ctx, "photos/p.jpg", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "the photo" || resp.Header.Get("Content-Type") != "image/jpeg" {
		t.Errorf("GET presigned = %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	// The signature covers the key: the same query string for another key is refused.
	other := *u
	other.Path = strings.Replace(other.Path, "p.jpg", "q.jpg", 1)
	if resp, err := http.Get(other.String()); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("GET with a tampered key = %v, %v; want 403", resp, err)
	} else {
		resp.Body.Close()
	}
	for _, ttl := range []time.Duration{0, time.Millisecond, 8 * 24 * time.Hour} {
		if _, err := s.PresignGet(ctx, "photos/p.jpg", ttl); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("PresignGet ttl %v = %v, want ErrInvalid", ttl, err)
		}
	}
}

// postForm uploads body through a presigned POST, with fields overriding
// the presigned ones, and returns the status code.
func postForm(t *testing.T, u *url.URL, fields map[string]string, body []byte) int {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	fw, err := w.CreateFormFile("file", "upload.bin")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(body)
	w.Close()
	resp, err := http.Post(u.String(), w.FormDataContentType(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
	t.Logf("POST %s → %d %s", fields["key"], resp.StatusCode, msg)
	return resp.StatusCode
}

func TestMinioPresignPost(t *testing.T) {
	s := openMinio(t)
	// MinIO answers 204 by default; refusals are 403 (policy condition or
	// expiry) and 400 (EntityTooLarge / EntityTooSmall).
	cases := []struct {
		name     string
		expires  time.Duration
		wait     time.Duration
		override map[string]string
		size     int
		status   int
	}{
		{name: "accepted", expires: time.Minute, size: 1000, status: http.StatusNoContent},
		{name: "smallest", expires: time.Minute, size: 10, status: http.StatusNoContent},
		{name: "wrong type", expires: time.Minute, override: map[string]string{"Content-Type": "image/png"}, size: 100, status: http.StatusForbidden},
		{name: "too large", expires: time.Minute, size: 1001, status: http.StatusBadRequest},
		{name: "too small", expires: time.Minute, size: 9, status: http.StatusBadRequest},
		{name: "other key", expires: time.Minute, override: map[string]string{"key": "photos/elsewhere.jpg"}, size: 100, status: http.StatusForbidden},
		{name: "expired", expires: time.Second, wait: 2500 * time.Millisecond, size: 100, status: http.StatusForbidden},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := t.Context()
			key := "tmp/u1/" + strings.ReplaceAll(c.name, " ", "-")
			u, fields, err := s.PresignPost(ctx, PostPolicy{
				Key: key, ContentType: "image/jpeg", MinSize: 10, MaxSize: 1000, Expires: time.Now().Add(c.expires),
			})
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range c.override {
				fields[k] = v
			}
			time.Sleep(c.wait)
			if status := postForm(t, u, fields, bytes.Repeat([]byte{0xff}, c.size)); status != c.status {
				t.Errorf("POST = %d, want %d", status, c.status)
			}
			info, err := s.Stat(ctx, key)
			if c.status == http.StatusNoContent {
				if err != nil || info.Size != int64(c.size) || info.ContentType != "image/jpeg" {
					t.Errorf("Stat after upload = %+v, %v", info, err)
				}
				return
			}
			if !errors.Is(err, errs.ErrNotFound) {
				t.Errorf("Stat after refused upload = %+v, %v; want ErrNotFound", info, err)
			}
			if _, err := s.Stat(ctx, "photos/elsewhere.jpg"); !errors.Is(err, errs.ErrNotFound) {
				t.Errorf("refused upload stored photos/elsewhere.jpg: %v", err)
			}
		})
	}
	bad := []PostPolicy{
		{Key: "../x", ContentType: "image/jpeg", MaxSize: 1, Expires: time.Now().Add(time.Minute)},
		{Key: "k", MaxSize: 1, Expires: time.Now().Add(time.Minute)},
		{Key: "k", ContentType: "image/jpeg", MinSize: 5, MaxSize: 1, Expires: time.Now().Add(time.Minute)},
		{Key: "k", ContentType: "image/jpeg", MaxSize: 1, Expires: time.Now().Add(-time.Minute)},
	}
	for _, p := range bad {
		if _, _, err := s.PresignPost(t.Context(), p); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("PresignPost(%+v) = %v, want ErrInvalid", p, err)
		}
	}
}

func TestMinioLifecycle(t *testing.T) {
	raw := testenv.MinioURL(t)
	cfg, err := config.ParseMinio(raw)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	m, err := NewMinio(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// An operator's own rule survives a restart, and ours is not duplicated.
	lc, err := m.client.GetBucketLifecycle(ctx, cfg.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	lc.Rules = append(lc.Rules, lifecycle.Rule{ID: "ops", Status: "Enabled",
		RuleFilter: lifecycle.Filter{Prefix: "exports/"}, Expiration: lifecycle.Expiration{Days: 30}})
	if err := m.client.SetBucketLifecycle(ctx, cfg.Bucket, lc); err != nil {
		t.Fatal(err)
	}
	if m, err = NewMinio(ctx, cfg); err != nil {
		t.Fatalf("second NewMinio: %v", err)
	}
	if lc, err = m.client.GetBucketLifecycle(ctx, cfg.Bucket); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range lc.Rules {
		got[r.ID] = fmt.Sprintf("%s %s %dd", r.Status, r.RuleFilter.Prefix, r.Expiration.Days)
	}
	want := map[string]string{tmpRuleID: "Enabled tmp/ 1d", "ops": "Enabled exports/ 30d"}
	if len(got) != len(want) || got[tmpRuleID] != want[tmpRuleID] || got["ops"] != want["ops"] {
		t.Errorf("lifecycle rules = %v, want %v", got, want)
	}
	if err := m.Ping(ctx); err != nil {
		t.Errorf("Ping = %v", err)
	}
}

func TestMinioUnavailable(t *testing.T) {
	cfg := config.Minio{Endpoint: "127.0.0.1:1", AccessKey: "a", SecretKey: "b", Bucket: "pingan"}
	m, err := newMinio(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	checks := map[string]func() error{
		"Ping":      func() error { return m.Ping(ctx) },
		"NewMinio":  func() error { _, err := NewMinio(ctx, cfg); return err },
		"Stat":      func() error { _, err := m.Stat(ctx, "k"); return err },
		"Put":       func() error { return m.Put(ctx, "k", strings.NewReader("x"), 1, "") },
		"List":      func() error { _, err := m.List(ctx, "", time.Time{}); return err },
		"Delete":    func() error { return m.Delete(ctx, "k") },
		"GetObject": func() error { _, _, err := m.Get(ctx, "k"); return err },
	}
	for name, check := range checks {
		start := time.Now()
		err := check()
		if !errors.Is(err, errs.ErrUnavailable) {
			t.Errorf("%s on a dead endpoint = %v, want ErrUnavailable", name, err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s took %v, want a quick failure", name, d)
		}
	}

	// A server that accepts connections but never answers: Ping gives up on its own.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	hung, err := newMinio(config.Minio{Endpoint: ln.Addr().String(), AccessKey: "a", SecretKey: "b", Bucket: "pingan"})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := hung.Ping(ctx); !errors.Is(err, errs.ErrUnavailable) {
		t.Errorf("Ping of a hung server = %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > pingTimeout+2*time.Second {
		t.Errorf("Ping of a hung server took %v, want about %v", d, pingTimeout)
	}
}

// TestMinioPresignPostExactSize: a policy whose range is one size (what a
// photo upload declares) admits exactly that many bytes; MinIO itself
// refuses one byte less or more and stores nothing.
func TestMinioPresignPostExactSize(t *testing.T) {
	s := openMinio(t)
	for _, c := range []struct {
		size, status int
	}{{500, http.StatusNoContent}, {499, http.StatusBadRequest}, {501, http.StatusBadRequest}, {1, http.StatusBadRequest}} {
		t.Run(fmt.Sprint(c.size), func(t *testing.T) {
			key := fmt.Sprintf("tmp/u1/exact-%d", c.size)
			u, fields, err := s.PresignPost(t.Context(), PostPolicy{Key: key, ContentType: "image/jpeg", MinSize: 500, MaxSize: 500,
				Expires: time.Now().Add(time.Minute)})
			if err != nil {
				t.Fatal(err)
			}
			if status := postForm(t, u, fields, bytes.Repeat([]byte{0xff}, c.size)); status != c.status {
				t.Fatalf("POST of %d bytes = %d, want %d", c.size, status, c.status)
			}
			info, err := s.Stat(t.Context(), key)
			if c.status == http.StatusNoContent {
				if err != nil || info.Size != 500 {
					t.Fatalf("Stat = %+v, %v", info, err)
				}
			} else if !errors.Is(err, errs.ErrNotFound) {
				t.Fatalf("a refused upload was stored: %+v, %v", info, err)
			}
		})
	}
}
