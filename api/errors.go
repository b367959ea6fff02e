package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"pingan/internal/errs"
)

// errorBody is the one error shape of SPEC §6.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details,omitempty"`
}

// kinds maps each error kind to its status and code, in the order tried.
var kinds = []struct {
	err    error
	status int
	code   string
}{
	{errs.ErrInvalid, http.StatusBadRequest, "invalid_argument"},
	{errs.ErrUnauthenticated, http.StatusUnauthorized, "unauthenticated"},
	{errs.ErrForbidden, http.StatusForbidden, "permission_denied"},
	{errs.ErrNotFound, http.StatusNotFound, "not_found"},
	{errs.ErrConflict, http.StatusConflict, "conflict"},
	{errs.ErrPrecondition, http.StatusPreconditionFailed, "precondition_failed"},
	{errs.ErrUnprocessable, http.StatusUnprocessableEntity, "unprocessable"},
	{errs.ErrPreconditionRequired, http.StatusPreconditionRequired, "precondition_required"},
	{errs.ErrTooLarge, http.StatusRequestEntityTooLarge, "too_large"},
	{errs.ErrUnsupportedMediaType, http.StatusUnsupportedMediaType, "unsupported_media_type"},
	{errs.ErrRateLimited, http.StatusTooManyRequests, "rate_limited"},
	{errs.ErrUnavailable, http.StatusServiceUnavailable, "unavailable"},
}

// publicMessages are what a client reads for kinds whose wrapped text may
// carry internal detail.
var publicMessages = map[string]string{
	"unauthenticated": "authentication required or invalid",
	"not_found":       "not found",
	"unavailable":     "a dependency is unavailable; try again shortly",
	"rate_limited":    "too many requests; retry later",
}

// writeError maps err to its status and the error body, once, for every
// handler. Internal errors are logged with the request id and never shown.
func writeError(c *gin.Context, err error) {
	status, body := errorResponse(c, err)
	var rl *errs.RateLimitError
	if errors.As(err, &rl) {
		c.Header("Retry-After", strconv.Itoa(rl.RetryAfterSeconds))
	}
	c.AbortWithStatusJSON(status, body)
}

// errorResponse is the one mapping from an error to its status and body:
// writeError sends it, and sync puts it in the result of an operation it
// refuses before the router sees it. Internal errors are logged with c's
// request id; nothing is written to c.
func errorResponse(c *gin.Context, err error) (int, errorBody) {
	status, code := http.StatusInternalServerError, "internal"
	if errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, errs.ErrUnavailable) {
		err = fmt.Errorf("%v: %w", err, errs.ErrUnavailable)
	}
	for _, k := range kinds {
		if errors.Is(err, k.err) {
			status, code = k.status, k.code
			break
		}
	}
	// The kind is in the code; the message need not end with it again.
	body := errorDetail{Code: code, Message: clip(strings.TrimSuffix(err.Error(), ": "+kindText(err)), maxMessage)}
	if m, ok := publicMessages[code]; ok {
		body.Message = m
	}
	var fe errs.FieldErrors
	var rl *errs.RateLimitError
	var ce *errs.ConflictError
	switch {
	case errors.As(err, &fe):
		body.Message = "the request has invalid fields"
		named := fe.Fields()
		fields := make(map[string]any, len(named))
		for k, v := range named {
			fields[clip(k, maxFieldName)] = clip(v, maxMessage)
		}
		body.Details = map[string]any{"fields": fields}
		if fe.More() {
			body.Message = fmt.Sprintf("the request has more than %d invalid fields; the first are named", errs.MaxFieldErrors)
			body.Details["more_fields"] = true
		}
	case errors.As(err, &rl):
		body.Details = map[string]any{"retry_after_seconds": rl.RetryAfterSeconds}
	case errors.As(err, &ce):
		body.Details = ce.Details
	}
	if status == http.StatusInternalServerError {
		body.Message = "internal error"
		logger(c).Error("internal error", slog.String("error", err.Error()))
	} else if status == http.StatusServiceUnavailable {
		logger(c).Warn("dependency unavailable", slog.String("error", err.Error()))
	}
	return status, errorBody{Error: body}
}

// Bounds of what an error body repeats, so that it stays small whatever
// the request held (a key of a megabyte is named by its first bytes): with
// at most errs.MaxFieldErrors fields, an error body is a few tens of KiB
// at most, and so is the idempotent answer stored for it.
const (
	maxFieldName = 128
	maxMessage   = 512
)

// clip cuts s to at most n bytes at a character boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func kindText(err error) string {
	for _, k := range kinds {
		if errors.Is(err, k.err) {
			return k.err.Error()
		}
	}
	return ""
}

// fail is a shorthand for a client error built here in the HTTP layer.
func fail(c *gin.Context, kind error, msg string) {
	writeError(c, &httpError{kind: kind, msg: msg})
}

type httpError struct {
	kind error
	msg  string
}

func (e *httpError) Error() string { return e.msg }
func (e *httpError) Unwrap() error { return e.kind }
