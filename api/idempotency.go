package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"pingan/internal/errs"
	"pingan/internal/idempotency"
)

var errRollback = errors.New("rollback: the handler answered an error")

// Grouper commits the writes of many requests in one transaction
// (store.DB; see internal/store/group.go).
type Grouper interface {
	// Group returns a context in whose transactions writes are collected.
	Group(ctx context.Context) context.Context
	// CommitGroup writes what the context collected and returns after COMMIT.
	CommitGroup(ctx context.Context) error
}

// idempotent makes a POST safe to repeat (SPEC §6). It requires an
// Idempotency-Key, claims it, runs the handler inside one transaction with
// its response held back, stores the response in that same transaction,
// and only then sends it: a 2xx reaches the client after COMMIT, and a
// repeat gets the stored bytes. Client errors (4xx) are stored too, after
// rolling back whatever the handler wrote; server errors release the key
// so that the client may retry.
func (s *server) idempotent(limit int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		rec, body, ok := s.keyRecord(c, limit)
		if ok {
			s.claimAndRun(c, rec, body, func(c *gin.Context) { c.Next() })
		}
	}
}

// grouped is idempotent for a handler whose writes are all inserts the
// store can group-commit (a new report): the handler runs with its writes
// collected, its response is stored with them as a finished idempotency
// record, and the lot is committed together with the other requests
// waiting at that moment — one transaction for many reports instead of
// two each, and no separate claim. A repeated key fails that insert; then,
// and for any answer but a 2xx or any write the group cannot hold, the
// request runs again the ordinary way (idempotent), which replays, refuses
// or stores the client error exactly as for other routes. A repeat sent
// while the first is being written waits for its COMMIT and gets the replay.
func (s *server) grouped(limit int64, h gin.HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		rec, body, ok := s.keyRecord(c, limit)
		if !ok {
			return
		}
		ctx := c.Request.Context()
		gctx := s.groups.Group(ctx)
		buf := &heldWriter{ResponseWriter: c.Writer, status: http.StatusOK}
		c.Writer = buf
		c.Request = c.Request.WithContext(gctx)
		h(c)
		c.Writer = buf.ResponseWriter
		c.Request = c.Request.WithContext(ctx)
		if buf.status < 300 {
			done := rec
			done.Done, done.Status, done.Headers, done.Body = true, buf.status, buf.kept(), buf.body.Bytes()
			err := s.idem.InsertIdempotencyKey(gctx, done)
			if err == nil {
				err = s.groups.CommitGroup(gctx)
			}
			switch {
			case err == nil:
				buf.flush()
				return
			case errors.Is(err, errs.ErrUnavailable):
				buf.discard()
				writeError(c, err)
				return
			}
		}
		buf.discard()
		c.Request.Body = io.NopCloser(bytes.NewReader(body))
		s.claimAndRun(c, rec, body, h)
	}
}

// keyRecord checks the Idempotency-Key, reads the body (and puts it back
// for the handler) and returns the record the request would claim. It
// answers the request itself and returns ok=false when the key or the
// body is bad.
func (s *server) keyRecord(c *gin.Context, limit int64) (rec idempotency.Record, body []byte, ok bool) {
	key := c.GetHeader("Idempotency-Key")
	if key == "" || len(key) > 255 {
		writeError(c, errs.Invalid("Idempotency-Key", "header required, 1–255 characters"))
		return rec, nil, false
	}
	body, err := readBody(c, limit)
	if err != nil {
		writeError(c, err)
		return rec, nil, false
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(body))
	now := s.now()
	rec = idempotency.Record{
		UserID: caller(c).UserID, KeyHash: idempotency.Hash([]byte(key)), Owner: uuid.Must(uuid.NewV7()).String(),
		RequestHash: idempotency.Hash([]byte(c.Request.Method), []byte(c.Request.URL.Path), []byte(c.ContentType()), body),
		LockedUntil: now.Add(idempotency.Lock), CreatedAt: now,
	}
	return rec, body, true
}

// claimAndRun claims rec's key and runs next in one transaction with the
// response held, as idempotent describes; a key already claimed is
// answered from its record.
func (s *server) claimAndRun(c *gin.Context, rec idempotency.Record, body []byte, next gin.HandlerFunc) {
	ctx := c.Request.Context()
	existing, claimed, err := s.idem.ClaimIdempotencyKey(ctx, rec, s.now())
	if err != nil {
		writeError(c, err)
		return
	}
	if !claimed {
		switch {
		case existing.RequestHash != rec.RequestHash:
			fail(c, errs.ErrUnprocessable, "this Idempotency-Key was used with a different request")
		case !existing.Done:
			fail(c, errs.ErrConflict, "a request with this Idempotency-Key is still in progress")
		default:
			replay(c, existing)
		}
		return
	}

	buf := &heldWriter{ResponseWriter: c.Writer, status: http.StatusOK}
	c.Writer = buf
	err = s.tx.InTx(ctx, func(ctx context.Context) error {
		c.Request = c.Request.WithContext(ctx)
		next(c)
		if buf.status >= 400 {
			return errRollback
		}
		return s.idem.CompleteIdempotencyKey(ctx, rec.UserID, rec.KeyHash, rec.Owner, buf.status, buf.kept(), buf.body.Bytes())
	})
	c.Writer = buf.ResponseWriter
	c.Request = c.Request.WithContext(ctx)
	switch {
	case errors.Is(err, errRollback) && buf.status < 500:
		if cerr := s.idem.CompleteIdempotencyKey(ctx, rec.UserID, rec.KeyHash, rec.Owner, buf.status, buf.kept(), buf.body.Bytes()); cerr != nil {
			logger(c).Warn("storing a client error for an idempotency key", slog.String("error", cerr.Error()))
		}
	case err != nil:
		if rerr := s.idem.ReleaseIdempotencyKey(ctx, rec.UserID, rec.KeyHash, rec.Owner); rerr != nil {
			logger(c).Warn("releasing an idempotency key", slog.String("error", rerr.Error()))
		}
		if !errors.Is(err, errRollback) {
			// The commit itself failed: whatever the handler said is void.
			buf.discard()
			writeError(c, fmt.Errorf("commit: %w", err))
			return
		}
	}
	buf.flush()
}

// replayedHeaders are the response headers stored with a record.
var replayedHeaders = []string{"Content-Type", "ETag", "Location"}

func replay(c *gin.Context, r idempotency.Record) {
	for _, h := range replayedHeaders {
		if v, ok := r.Headers[h]; ok {
			c.Header(h, v)
		}
	}
	c.Header("Idempotent-Replayed", "true")
	c.Status(r.Status)
	_, _ = c.Writer.Write(r.Body)
	c.Abort()
}

// heldWriter holds a handler's response until the transaction decides its fate.
type heldWriter struct {
	gin.ResponseWriter
	status  int
	written bool
	body    bytes.Buffer
}

func (w *heldWriter) WriteHeader(code int) {
	if !w.written {
		w.status = code
	}
}

func (w *heldWriter) WriteHeaderNow() { w.written = true }

func (w *heldWriter) Write(b []byte) (int, error) {
	w.written = true
	return w.body.Write(b)
}

func (w *heldWriter) WriteString(s string) (int, error) { return w.Write([]byte(s)) }

func (w *heldWriter) Status() int { return w.status }

func (w *heldWriter) Size() int { return w.body.Len() }

func (w *heldWriter) Written() bool { return w.written }

func (w *heldWriter) kept() map[string]string {
	out := map[string]string{}
	for _, h := range replayedHeaders {
		if v := w.ResponseWriter.Header().Get(h); v != "" {
			out[h] = v
		}
	}
	return out
}

func (w *heldWriter) discard() {
	for _, h := range replayedHeaders {
		w.ResponseWriter.Header().Del(h)
	}
	w.body.Reset()
	w.status, w.written = http.StatusOK, false
}

func (w *heldWriter) flush() {
	w.ResponseWriter.WriteHeader(w.status)
	_, _ = w.ResponseWriter.Write(w.body.Bytes())
}

// groupedIfAble is grouped when the server has a Grouper, idempotent
// followed by h otherwise.
func (s *server) groupedIfAble(limit int64, h gin.HandlerFunc) gin.HandlerFunc {
	if s.groups == nil {
		return func(c *gin.Context) {
			if rec, body, ok := s.keyRecord(c, limit); ok {
				s.claimAndRun(c, rec, body, h)
			}
		}
	}
	return s.grouped(limit, h)
}
