package blob

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pingan/internal/errs"
	"pingan/internal/testenv"
)

// eachStore runs fn against the local store and against a fresh MinIO
// bucket (skipped without PINGAN_TEST_MINIO, failed if services are required).
func eachStore(t *testing.T, fn func(t *testing.T, s Store)) {
	t.Run("local", func(t *testing.T) {
		s, err := Open(t.Context(), "file://"+t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		fn(t, s)
	})
	t.Run("minio", func(t *testing.T) { fn(t, openMinio(t)) })
}

func openMinio(t *testing.T) *Minio {
	t.Helper()
	s, err := Open(t.Context(), testenv.MinioURL(t))
	if err != nil {
		t.Fatal(err)
	}
	return s.(*Minio)
}

func put(t *testing.T, s Store, key, body, ct string) {
	t.Helper()
	if err := s.Put(t.Context(), key, strings.NewReader(body), int64(len(body)), ct); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func TestRoundTrip(t *testing.T) {
	objects := []struct{ key, body, ct, wantCT string }{
		{"photos/2026/01/a.jpg", "jpeg bytes", "image/jpeg", "image/jpeg"},
		{"photos/2026/01/b.png", "png", "image/png", "image/png"},
		{"photos/2026/02/c", "", "", "application/octet-stream"},
		{"tmp/u-1/up_1.bin", strings.Repeat("x", 70000), "text/plain; charset=utf-8", "text/plain; charset=utf-8"},
		{"photos-other", "sibling of the photos/ prefix", "text/plain", "text/plain"},
	}
	eachStore(t, func(t *testing.T, s Store) {
		ctx := t.Context()
		before := time.Now().Add(-2 * time.Second)
		for _, o := range objects {
			put(t, s, o.key, o.body, o.ct)
		}
		for _, o := range objects {
			rc, info, err := s.Get(ctx, o.key)
			if err != nil {
				t.Fatalf("Get(%q): %v", o.key, err)
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || string(got) != o.body {
				t.Errorf("Get(%q) body = %d bytes (err %v), want %d", o.key, len(got), err, len(o.body))
			}
			st, err := s.Stat(ctx, o.key)
			if err != nil {
				t.Fatalf("Stat(%q): %v", o.key, err)
			}
			for _, i := range []Info{info, st} {
				if i.Key != o.key || i.Size != int64(len(o.body)) || i.ContentType != o.wantCT || i.ModTime.Before(before) {
					t.Errorf("info of %q = %+v, want size %d type %q", o.key, i, len(o.body), o.wantCT)
				}
			}
		}

		// Overwrite replaces body and type.
		put(t, s, "photos/2026/01/a.jpg", "new", "image/webp")
		if st, _ := s.Stat(ctx, "photos/2026/01/a.jpg"); st.Size != 3 || st.ContentType != "image/webp" {
			t.Errorf("after overwrite Stat = %+v", st)
		}

		listCases := []struct {
			prefix    string
			olderThan time.Time
			want      []string
		}{
			{"photos/", time.Time{}, []string{"photos/2026/01/a.jpg", "photos/2026/01/b.png", "photos/2026/02/c"}},
			{"photos/2026/0", time.Time{}, []string{"photos/2026/01/a.jpg", "photos/2026/01/b.png", "photos/2026/02/c"}},
			{"photos/2026/02/", time.Time{}, []string{"photos/2026/02/c"}},
			{"photos", time.Time{}, []string{"photos-other", "photos/2026/01/a.jpg", "photos/2026/01/b.png", "photos/2026/02/c"}},
			{"tmp/", time.Now().Add(time.Minute), []string{"tmp/u-1/up_1.bin"}},
			{"tmp/", before, nil},
			{"nothing/", time.Time{}, nil},
			{"", time.Time{}, []string{"photos-other", "photos/2026/01/a.jpg", "photos/2026/01/b.png", "photos/2026/02/c", "tmp/u-1/up_1.bin"}},
		}
		for _, c := range listCases {
			got, err := s.List(ctx, c.prefix, c.olderThan)
			if err != nil {
				t.Fatalf("List(%q): %v", c.prefix, err)
			}
			var keys []string
			for _, i := range got {
				keys = append(keys, i.Key)
			}
			if strings.Join(keys, ",") != strings.Join(c.want, ",") {
				t.Errorf("List(%q, %v) = %v, want %v", c.prefix, c.olderThan, keys, c.want)
			}
		}

		for _, o := range objects {
			if err := s.Delete(ctx, o.key); err != nil {
				t.Fatalf("Delete(%q): %v", o.key, err)
			}
			if _, err := s.Stat(ctx, o.key); !errors.Is(err, errs.ErrNotFound) {
				t.Errorf("Stat(%q) after Delete = %v, want ErrNotFound", o.key, err)
			}
		}
		if got, err := s.List(ctx, "", time.Time{}); err != nil || len(got) != 0 {
			t.Errorf("List after deleting all = %v, %v", got, err)
		}
	})
}

func TestNotFound(t *testing.T) {
	eachStore(t, func(t *testing.T, s Store) {
		ctx := t.Context()
		put(t, s, "a/b", "x", "text/plain")
		for _, key := range []string{"missing", "a", "a/b/c", "a/c"} {
			if _, _, err := s.Get(ctx, key); !errors.Is(err, errs.ErrNotFound) {
				t.Errorf("Get(%q) = %v, want ErrNotFound", key, err)
			}
			if _, err := s.Stat(ctx, key); !errors.Is(err, errs.ErrNotFound) {
				t.Errorf("Stat(%q) = %v, want ErrNotFound", key, err)
			}
			if err := s.Delete(ctx, key); err != nil {
				t.Errorf("Delete(%q) of a missing object = %v, want nil", key, err)
			}
		}
		if _, err := s.Stat(ctx, "a/b"); err != nil {
			t.Errorf("deleting missing neighbours removed a/b: %v", err)
		}
	})
}

func TestInvalidInput(t *testing.T) {
	badKeys := []string{"", "/abs", "a/", "a//b", "../x", "a/../b", "a/./b", ".", "a\\b", "a b", "ключ", "a?b", "a~b",
		strings.Repeat("k", 513)}
	eachStore(t, func(t *testing.T, s Store) {
		ctx := t.Context()
		for _, key := range badKeys {
			if err := s.Put(ctx, key, strings.NewReader("x"), 1, "text/plain"); !errors.Is(err, errs.ErrInvalid) {
				t.Errorf("Put(%q) = %v, want ErrInvalid", key, err)
			}
			if _, _, err := s.Get(ctx, key); !errors.Is(err, errs.ErrInvalid) {
				t.Errorf("Get(%q) = %v, want ErrInvalid", key, err)
			}
			if _, err := s.Stat(ctx, key); !errors.Is(err, errs.ErrInvalid) {
				t.Errorf("Stat(%q) = %v, want ErrInvalid", key, err)
			}
			if err := s.Delete(ctx, key); !errors.Is(err, errs.ErrInvalid) {
				t.Errorf("Delete(%q) = %v, want ErrInvalid", key, err)
			}
		}
		for _, prefix := range []string{"/", "../", "a//", "a b/"} {
			if _, err := s.List(ctx, prefix, time.Time{}); !errors.Is(err, errs.ErrInvalid) {
				t.Errorf("List(%q) = %v, want ErrInvalid", prefix, err)
			}
		}
		for _, ct := range []string{"not a type", "text/plain\r\nX-Evil: 1"} {
			if err := s.Put(ctx, "k", strings.NewReader("x"), 1, ct); !errors.Is(err, errs.ErrInvalid) {
				t.Errorf("Put with content type %q = %v, want ErrInvalid", ct, err)
			}
		}
		// A reader shorter than the declared size leaves nothing behind.
		if err := s.Put(ctx, "short", strings.NewReader("abc"), 10, "text/plain"); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("Put of a short reader = %v, want ErrInvalid", err)
		}
		if _, err := s.Stat(ctx, "short"); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("Stat after a failed Put = %v, want ErrNotFound", err)
		}
		// Odd but valid keys work.
		for _, key := range []string{".hidden", "a/.b/c..d", "A-Z_0.9"} {
			put(t, s, key, key, "text/plain")
			if st, err := s.Stat(ctx, key); err != nil || st.Size != int64(len(key)) {
				t.Errorf("Stat(%q) = %+v, %v", key, st, err)
			}
		}
	})
}

func TestLocalFiles(t *testing.T) {
	dir := t.TempDir()
	s, err := NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	put(t, s, "a/b", "x", "text/plain")
	// Work files of an interrupted Put are not objects.
	if err := os.WriteFile(filepath.Join(dir, "a", ".put-123~"), []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := s.List(ctx, "", time.Time{}); err != nil || len(got) != 1 || got[0].Key != "a/b" {
		t.Errorf("List = %+v, %v; want only a/b", got, err)
	}
	// A file system cannot hold both "a/b" and "a/b/c".
	if err := s.Put(ctx, "a/b/c", strings.NewReader("y"), 1, ""); !errors.Is(err, errs.ErrConflict) {
		t.Errorf("Put(a/b/c) over object a/b = %v, want ErrConflict", err)
	}
	if err := s.Put(ctx, "a", strings.NewReader("y"), 1, ""); !errors.Is(err, errs.ErrConflict) {
		t.Errorf("Put(a) over directory a = %v, want ErrConflict", err)
	}
	// Only the declared size is read.
	if err := s.Put(ctx, "sized", strings.NewReader("abcdef"), 3, ""); err != nil {
		t.Fatal(err)
	}
	rc, _, err := s.Get(ctx, "sized")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if b, _ := io.ReadAll(rc); !bytes.Equal(b, []byte("abc")) {
		t.Errorf("sized body = %q, want abc", b)
	}
	if _, err := s.PresignGet(ctx, "a/b", time.Minute); !errors.Is(err, ErrUnsupported) {
		t.Errorf("PresignGet = %v, want ErrUnsupported", err)
	}
	if _, _, err := s.PresignPost(ctx, PostPolicy{Key: "a/b"}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("PresignPost = %v, want ErrUnsupported", err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping = %v", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); !errors.Is(err, errs.ErrUnavailable) {
		t.Errorf("Ping of a removed directory = %v, want ErrUnavailable", err)
	}
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	for _, raw := range []string{"", "file://", "ftp://x/y", "minio://nouser@127.0.0.1:1/b", "minio://a:b@127.0.0.1:1"} {
		if _, err := Open(ctx, raw); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("Open(%q) = %v, want ErrInvalid", raw, err)
		}
	}
	dir := filepath.Join(t.TempDir(), "new", "blobs")
	s, err := Open(ctx, "file://"+dir)
	if _, ok := s.(*Local); err != nil || !ok {
		t.Fatalf("Open(file://…) = %T, %v", s, err)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Errorf("Open did not create %s: %v", dir, err)
	}
}
