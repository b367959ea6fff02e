package api

import (
	"bytes"
	"context"
	"encoding/json"
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

// maxKept bounds a response kept as a key's answer. Every answer is under
// it by construction: an error body names at most errs.MaxFieldErrors
// fields with clipped texts (a few KiB), and the largest success, a values
// import of indicator.MaxBatch rows, is a few MiB. One over it would be a
// defect: a success is rolled back (500), an error is sent but not kept.
const maxKept = 16 << 20

// idempotent makes a POST safe to repeat (SPEC §6). It requires an
// Idempotency-Key, claims it, runs the handler inside one transaction with
// its response held back, stores the response in that same transaction,
// and only then sends it: a 2xx reaches the client after COMMIT, and a
// repeat gets the stored bytes. Client errors (4xx) are stored too, after
// rolling back whatever the handler wrote; server errors release the key
// so that the client may retry.
func (s *server) idempotent(kind bodyKind) gin.HandlerFunc {
	return func(c *gin.Context) {
		rec, body, ok := s.keyRecord(c, kind)
		if ok {
			s.claimAndRun(c, rec, body, func(c *gin.Context) { c.Next() })
		}
	}
}

// createOnce makes POST /incidents safe to repeat (SPEC §6) without a
// claim first: the write carries its own idempotency record. h gets the
// key's record and makes its receipt, the finished record holding the very
// response it will send (finished), which the service writes with the
// report in one transaction (incident.Store.CreateReport); h sends those
// bytes once the write has returned, so a 2xx means COMMIT. With the
// response held back, what h answers is then settled here:
//   - a 2xx is sent: it is durable with its record.
//   - a 409 (CreateReport found the key recorded) is answered from the
//     key's record as claimAndRun would: the stored response replayed, 422
//     for another request, 409 while in progress. With no record the 409
//     is sent as it is, and not stored.
//   - another 4xx (a bad report, a photo taken) is stored as the key's
//     answer, as for other routes, or the key's record answers if it has one.
//   - a 5xx stores nothing, so the client may retry.
func (s *server) createOnce(kind bodyKind, h func(c *gin.Context, key idempotency.Record)) gin.HandlerFunc {
	return func(c *gin.Context) {
		rec, _, ok := s.keyRecord(c, kind)
		if !ok {
			return
		}
		buf := &heldWriter{ResponseWriter: c.Writer, status: http.StatusOK}
		c.Writer = buf
		h(c, rec)
		c.Writer = buf.ResponseWriter
		if buf.status < 400 || buf.status >= 500 {
			buf.flush()
			return
		}
		ctx := c.Request.Context()
		existing, claimed, err := s.idem.ClaimIdempotencyKey(ctx, rec, s.now())
		switch {
		case err != nil:
			buf.discard()
			writeError(c, err)
		case !claimed:
			buf.discard()
			answerFromRecord(c, rec, existing)
		case buf.status == http.StatusConflict || buf.body.Len() > maxKept:
			if err := s.idem.ReleaseIdempotencyKey(ctx, rec.UserID, rec.KeyHash, rec.Owner); err != nil {
				logger(c).Warn("releasing an idempotency key", slog.String("error", err.Error()))
			}
			buf.flush()
		default:
			if err := s.idem.CompleteIdempotencyKey(ctx, rec.UserID, rec.KeyHash, rec.Owner, buf.status, buf.kept(), buf.body.Bytes()); err != nil {
				logger(c).Warn("storing a client error for an idempotency key", slog.String("error", err.Error()))
			}
			buf.flush()
		}
	}
}

// finished is key's record completed with a JSON response rendered before
// the write it is stored with: status, body as JSON, and headers given as
// name, value pairs (of replayedHeaders).
func finished(key idempotency.Record, status int, body any, headers ...string) (idempotency.Record, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return idempotency.Record{}, err
	}
	key.Done, key.Status, key.Body = true, status, b
	key.Headers = map[string]string{"Content-Type": "application/json; charset=utf-8"}
	for i := 0; i+1 < len(headers); i += 2 {
		key.Headers[headers[i]] = headers[i+1]
	}
	return key, nil
}

// keyRecord checks the Idempotency-Key, reads the body of kind (and puts
// it back for the handler) and returns the record the request would claim.
// It answers the request itself and returns ok=false when the key or the
// body is bad: a body too large or of another media type is refused before
// any record is claimed, so it is neither stored nor a cost.
func (s *server) keyRecord(c *gin.Context, kind bodyKind) (rec idempotency.Record, body []byte, ok bool) {
	key := c.GetHeader("Idempotency-Key")
	if key == "" || len(key) > 255 {
		writeError(c, errs.Invalid("Idempotency-Key", "header required, 1–255 characters"))
		return rec, nil, false
	}
	body, err := readBodyOf(c, kind)
	if err != nil {
		writeError(c, err)
		return rec, nil, false
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(body))
	c.Set(ctxBody, body)
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
		answerFromRecord(c, rec, existing)
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
		if buf.body.Len() > maxKept {
			return fmt.Errorf("an answer of %d bytes is over what a key keeps", buf.body.Len())
		}
		return s.idem.CompleteIdempotencyKey(ctx, rec.UserID, rec.KeyHash, rec.Owner, buf.status, buf.kept(), buf.body.Bytes())
	})
	c.Writer = buf.ResponseWriter
	c.Request = c.Request.WithContext(ctx)
	switch {
	case errors.Is(err, errRollback) && buf.status < 500 && buf.body.Len() <= maxKept:
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

// answerFromRecord answers a request whose key rec has the record
// existing: 422 when it was another request, 409 while that is in
// progress, otherwise its stored response.
func answerFromRecord(c *gin.Context, rec, existing idempotency.Record) {
	switch {
	case existing.RequestHash != rec.RequestHash:
		fail(c, errs.ErrUnprocessable, "this Idempotency-Key was used with a different request")
	case !existing.Done:
		fail(c, errs.ErrConflict, "a request with this Idempotency-Key is still in progress")
	default:
		c.Header("Idempotent-Replayed", "true")
		send(c, existing)
	}
}

// replayedHeaders are the response headers stored with a record.
var replayedHeaders = []string{"Content-Type", "ETag", "Location"}

// send writes the response stored in a finished record.
func send(c *gin.Context, r idempotency.Record) {
	for _, h := range replayedHeaders {
		if v, ok := r.Headers[h]; ok {
			c.Header(h, v)
		}
	}
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
