package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"

	"github.com/gin-gonic/gin"

	"pingan/internal/errs"
)

// MaxSyncOperations bounds one offline batch (SPEC §6).
const MaxSyncOperations = 100

// syncable are the routes a queued operation may call: creates and actions
// a phone makes while offline.
var syncable = []*regexp.Regexp{
	regexp.MustCompile(`^/api/v1/incidents$`),
	regexp.MustCompile(`^/api/v1/incidents/[0-9a-fA-F-]{36}/transitions$`),
	regexp.MustCompile(`^/api/v1/disputes$`),
	regexp.MustCompile(`^/api/v1/disputes/[0-9a-fA-F-]{36}/actions$`),
}

type syncOperation struct {
	IdempotencyKey *string         `json:"idempotency_key"`
	Method         *string         `json:"method"`
	Path           *string         `json:"path"`
	IfMatch        *string         `json:"if_match"`
	Body           json.RawMessage `json:"body"`
}

// syncRequest holds the operations undecoded: each is decoded on its own,
// so that one malformed operation fails alone.
type syncRequest struct {
	Operations []json.RawMessage `json:"operations"`
}

type syncResult struct {
	Index          int             `json:"index"`
	IdempotencyKey string          `json:"idempotency_key"`
	Status         int             `json:"status"`
	Body           json.RawMessage `json:"body"`
}

// sync replays a phone's queue: each operation goes through the router as
// its own request, with its own idempotency key, so it gets exactly the
// checks and answer it would have had online, and one bad item — an
// unknown field, a wrong type, no object at all — loses none of the
// others. Replaying the batch writes nothing new.
func (s *server) sync(c *gin.Context) {
	var req syncRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	switch n := len(req.Operations); {
	case req.Operations == nil:
		writeError(c, errs.Invalid("operations", "required"))
		return
	case n > MaxSyncOperations:
		writeError(c, errs.Invalid("operations", fmt.Sprintf("at most %d per batch", MaxSyncOperations)))
		return
	}
	results := make([]syncResult, len(req.Operations))
	for i, op := range req.Operations {
		results[i] = s.syncOne(c, i, op)
	}
	c.JSON(http.StatusOK, gin.H{"results": results})
}

// syncOne answers operation i of the batch: a malformed one with its own
// error, any other with what the router answers its request.
func (s *server) syncOne(c *gin.Context, i int, raw json.RawMessage) syncResult {
	res := syncResult{Index: i}
	op, err := decodeOperation(raw)
	var sub *http.Request
	if err == nil {
		if op.IdempotencyKey != nil {
			res.IdempotencyKey = *op.IdempotencyKey
		}
		sub, err = op.request(c, requestIDOf(c)+"."+strconv.Itoa(i))
	}
	if err != nil {
		status, body := errorResponse(c, err)
		res.Status = status
		res.Body, _ = json.Marshal(body) // an error body always encodes
		return res
	}
	rec := newRecorder()
	s.engine.ServeHTTP(rec, sub)
	res.Status = rec.status
	res.Body = json.RawMessage(rec.body.Bytes())
	if len(res.Body) == 0 || !json.Valid(res.Body) {
		res.Body = json.RawMessage("null")
	}
	return res
}

// decodeOperation reads one queued operation as strictly as any request
// body (unknown fields, wrong types), on its own. Returns errs.FieldErrors
// naming the first bad field, or operation when it is not an object.
func decodeOperation(raw json.RawMessage) (syncOperation, error) {
	var op syncOperation
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
		return op, errs.Invalid("operation", "a JSON object with idempotency_key, method, path and body")
	}
	return op, decodeStrict(raw, &op)
}

// request checks op and makes the request it stands for, with the batch's
// context, client address and credentials and the given request id.
// Returns ErrInvalid naming the first bad field.
func (op syncOperation) request(c *gin.Context, requestID string) (*http.Request, error) {
	body := bytes.TrimSpace(op.Body)
	switch {
	case op.IdempotencyKey == nil || *op.IdempotencyKey == "" || len(*op.IdempotencyKey) > 255:
		return nil, errs.Invalid("idempotency_key", "required, 1–255 characters")
	case op.Method == nil || *op.Method != http.MethodPost:
		return nil, errs.Invalid("method", "must be POST")
	case op.Path == nil || !isSyncable(*op.Path):
		return nil, errs.Invalid("path", "must be a create or action route of incidents or disputes")
	case len(body) == 0 || body[0] != '{':
		return nil, errs.Invalid("body", "a JSON object is required")
	}
	r, err := http.NewRequestWithContext(c.Request.Context(), http.MethodPost, *op.Path, bytes.NewReader(op.Body))
	if err != nil {
		return nil, fmt.Errorf("sync operation %s: %w", *op.Path, err)
	}
	r.Host, r.RemoteAddr = c.Request.Host, c.Request.RemoteAddr
	r.Header.Set("X-Request-ID", requestID)
	r.Header.Set("Authorization", c.GetHeader("Authorization"))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Idempotency-Key", *op.IdempotencyKey)
	if op.IfMatch != nil {
		r.Header.Set("If-Match", *op.IfMatch)
	}
	return r, nil
}

func isSyncable(path string) bool {
	for _, re := range syncable {
		if re.MatchString(path) {
			return true
		}
	}
	return false
}

func requestIDOf(c *gin.Context) string {
	id, _ := c.Get(ctxRequestID)
	s, _ := id.(string)
	return s
}
