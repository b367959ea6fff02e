package blob

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"pingan/internal/errs"
)

// Local is the Store of the embedded default: one file per object under a
// directory. Each file starts with a one-line header holding the content
// type, so an object and its type are replaced together by one atomic
// rename. Work files carry a "~" in their name, which keys cannot contain.
type Local struct {
	root string
}

var _ Store = (*Local)(nil)

// localMagic opens every object file; the content type follows on the same line.
const localMagic = "pingan-blob/1 "

// NewLocal opens (creating if needed) the store in dir. Returns an error
// wrapping errs.ErrUnavailable if the directory cannot be created.
func NewLocal(dir string) (*Local, error) {
	root, err := filepath.Abs(dir)
	if err == nil {
		err = os.MkdirAll(root, 0o750)
	}
	if err != nil {
		return nil, fmt.Errorf("blob: local store %s: %w: %w", dir, errs.ErrUnavailable, err)
	}
	return &Local{root: root}, nil
}

func (l *Local) path(key string) string { return filepath.Join(l.root, filepath.FromSlash(key)) }

// Put writes the object atomically: a temporary file is written, synced and
// renamed over the old one. It reads exactly size bytes from r (size < 0
// means unknown, read to EOF). Returns errs.ErrInvalid for a bad key or
// content type or a short reader, errs.ErrConflict when the key collides with a "directory" of
// other keys, and errs.ErrUnavailable when the disk fails.
func (l *Local) Put(ctx context.Context, key string, r io.Reader, size int64, ct string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	ct, err := contentType(ct)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	p := l.path(key)
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.EEXIST) {
			return fmt.Errorf("blob: put %q: a parent is an object: %w", key, errs.ErrConflict)
		}
		return fsErr("put", key, err)
	}
	tmp, err := os.CreateTemp(dir, ".put-*~")
	if err != nil {
		return fsErr("put", key, err)
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	n, err := l.write(ctx, tmp, r, size, ct)
	if cerr := tmp.Close(); err == nil && cerr != nil {
		err = fsErr("put", key, cerr)
	}
	if err != nil {
		return err
	}
	if size >= 0 && n != size {
		return fmt.Errorf("blob: put %q: got %d bytes, want %d: %w", key, n, size, errs.ErrInvalid)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return fsErr("put", key, err)
	}
	return syncDir(dir)
}

func (l *Local) write(ctx context.Context, f *os.File, r io.Reader, size int64, ct string) (int64, error) {
	if _, err := io.WriteString(f, localMagic+ct+"\n"); err != nil {
		return 0, fsErr("put", f.Name(), err)
	}
	if size >= 0 {
		r = io.LimitReader(r, size) // like S3: what follows is not read
	}
	n, err := io.Copy(f, ctxReader{ctx, r})
	if err != nil {
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		return n, fmt.Errorf("blob: put: read body: %w", err)
	}
	if err := f.Sync(); err != nil {
		return n, fsErr("put", f.Name(), err)
	}
	return n, nil
}

// Get opens the object. Returns errs.ErrNotFound if it does not exist and
// errs.ErrInvalid for a bad key.
func (l *Local) Get(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	f, br, info, err := l.open(ctx, key)
	if err != nil {
		return nil, Info{}, err
	}
	return struct {
		io.Reader
		io.Closer
	}{br, f}, info, nil
}

// Stat describes the object. Returns errs.ErrNotFound if it does not exist
// and errs.ErrInvalid for a bad key.
func (l *Local) Stat(ctx context.Context, key string) (Info, error) {
	f, _, info, err := l.open(ctx, key)
	if err != nil {
		return Info{}, err
	}
	f.Close()
	return info, nil
}

func (l *Local) open(ctx context.Context, key string) (*os.File, *bufio.Reader, Info, error) {
	if err := ValidateKey(key); err != nil {
		return nil, nil, Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, Info{}, err
	}
	f, err := os.Open(l.path(key))
	if err != nil {
		return nil, nil, Info{}, fsErr("get", key, err)
	}
	fi, err := f.Stat()
	if err == nil && fi.IsDir() {
		err = fs.ErrNotExist // a "directory" of other keys is not an object
	}
	if err != nil {
		f.Close()
		return nil, nil, Info{}, fsErr("get", key, err)
	}
	br := bufio.NewReader(f)
	header, err := br.ReadString('\n')
	ct, ok := strings.CutPrefix(strings.TrimSuffix(header, "\n"), localMagic)
	if err != nil || !ok {
		f.Close()
		return nil, nil, Info{}, fmt.Errorf("blob: get %q: corrupt object file: %w", key, errs.ErrUnavailable)
	}
	info := Info{Key: key, Size: fi.Size() - int64(len(header)), ContentType: ct, ModTime: fi.ModTime().UTC()}
	return f, br, info, nil
}

// Delete removes the object; a missing object is not an error. Returns
// errs.ErrInvalid for a bad key and errs.ErrUnavailable when the disk fails.
func (l *Local) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	p := l.path(key)
	if fi, err := os.Lstat(p); err == nil && fi.IsDir() {
		return nil
	}
	if err := os.Remove(p); err != nil && !notExist(err) {
		return fsErr("delete", key, err)
	}
	return nil
}

// List returns the objects whose key starts with prefix and, unless
// olderThan is zero, were last written before olderThan, sorted by key.
// Returns errs.ErrInvalid for a bad prefix.
func (l *Local) List(ctx context.Context, prefix string, olderThan time.Time) ([]Info, error) {
	if err := validatePrefix(prefix); err != nil {
		return nil, err
	}
	// Walk only the deepest directory the prefix names: "tmp/u1" walks "tmp".
	base := l.root
	if i := strings.LastIndex(prefix, "/"); i >= 0 {
		base = l.path(prefix[:i])
	}
	var out []Info
	err := filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if notExist(err) {
				return nil
			}
			return err
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if d.IsDir() || strings.Contains(d.Name(), "~") {
			return nil
		}
		rel, err := filepath.Rel(l.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, prefix) || ValidateKey(key) != nil {
			return nil
		}
		info, err := l.Stat(ctx, key)
		switch {
		case errors.Is(err, errs.ErrNotFound):
			return nil // deleted while walking
		case err != nil:
			return err
		case olderThan.IsZero() || info.ModTime.Before(olderThan):
			out = append(out, info)
		}
		return nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fsErr("list", prefix, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// PresignGet returns ErrUnsupported: the API serves local objects itself.
func (l *Local) PresignGet(context.Context, string, time.Duration) (*url.URL, error) {
	return nil, ErrUnsupported
}

// PresignPost returns ErrUnsupported: uploads go through the API.
func (l *Local) PresignPost(context.Context, PostPolicy) (*url.URL, map[string]string, error) {
	return nil, nil, ErrUnsupported
}

// Ping writes and removes a probe file. Returns an error wrapping
// errs.ErrUnavailable when the directory is missing or not writable.
func (l *Local) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("blob: ping: %w: %w", errs.ErrUnavailable, err)
	}
	f, err := os.CreateTemp(l.root, ".ping-*~")
	if err == nil {
		_, err = f.WriteString("ok")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if rerr := os.Remove(f.Name()); err == nil {
			err = rerr
		}
	}
	if err != nil {
		return fmt.Errorf("blob: ping %s: %w: %w", l.root, errs.ErrUnavailable, err)
	}
	return nil
}

// fsErr maps a file-system error: missing → ErrNotFound, a file where a
// directory should be (or the reverse) → ErrConflict, anything else → ErrUnavailable.
func fsErr(op, key string, err error) error {
	switch {
	case notExist(err):
		return fmt.Errorf("blob: %s %q: %w", op, key, errs.ErrNotFound)
	case errors.Is(err, syscall.EISDIR), errors.Is(err, syscall.EEXIST), errors.Is(err, syscall.ENOTEMPTY):
		return fmt.Errorf("blob: %s %q: key collides with other keys: %w", op, key, errs.ErrConflict)
	default:
		return fmt.Errorf("blob: %s %q: %w: %w", op, key, errs.ErrUnavailable, err)
	}
}

// notExist is true for a missing file and for a path running through a
// file ("a/b" when "a" is an object).
func notExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fsErr("sync", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fsErr("sync", dir, err)
	}
	return nil
}

// ctxReader stops a copy when the context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
