// Package errs holds the small vocabulary of error kinds that every layer
// shares. Domain code wraps one of these with context
// (fmt.Errorf("accept dispute %s: %w", id, errs.ErrConflict)); the HTTP layer
// maps each kind to one status code in exactly one place (api/errors.go).
package errs

import (
	"errors"
	"sort"
	"strings"
)

// The kinds. The comment on each names the HTTP status it implies.
var (
	// ErrInvalid: the request is malformed or a field is invalid (400).
	ErrInvalid = errors.New("invalid argument")
	// ErrUnauthenticated: no valid credentials (401).
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrForbidden: authenticated but not allowed (403).
	ErrForbidden = errors.New("permission denied")
	// ErrNotFound: the object does not exist or is outside the caller's scope (404).
	ErrNotFound = errors.New("not found")
	// ErrConflict: a duplicate, an invalid state transition or a request in flight (409).
	ErrConflict = errors.New("conflict")
	// ErrPrecondition: a stale If-Match (412).
	ErrPrecondition = errors.New("precondition failed")
	// ErrUnprocessable: well-formed but semantically refused, e.g. an idempotency key reused with another body (422).
	ErrUnprocessable = errors.New("unprocessable")
	// ErrPreconditionRequired: If-Match is required and missing (428).
	ErrPreconditionRequired = errors.New("precondition required")
	// ErrTooLarge: the body or file is over its limit (413).
	ErrTooLarge = errors.New("too large")
	// ErrRateLimited: too many attempts (429); see RateLimitError for the wait.
	ErrRateLimited = errors.New("rate limited")
	// ErrUnavailable: a dependency (database, blob store) is unreachable (503).
	ErrUnavailable = errors.New("unavailable")
)

// FieldErrors collects validation problems by field name so that a response
// names every bad field at once. It unwraps to ErrInvalid.
type FieldErrors map[string]string

// Add records a problem with field; the first message for a field wins.
func (f FieldErrors) Add(field, msg string) {
	if _, ok := f[field]; !ok {
		f[field] = msg
	}
}

// Err returns nil when there are no problems, otherwise f as an error.
func (f FieldErrors) Err() error {
	if len(f) == 0 {
		return nil
	}
	return f
}

func (f FieldErrors) Error() string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + f[k]
	}
	return "invalid fields: " + strings.Join(parts, "; ")
}

// Unwrap makes errors.Is(f, ErrInvalid) true.
func (f FieldErrors) Unwrap() error { return ErrInvalid }

// Invalid returns a FieldErrors with one field, for the common single-field case.
func Invalid(field, msg string) error { return FieldErrors{field: msg} }

// RateLimitError carries how long the caller should wait. It unwraps to ErrRateLimited.
type RateLimitError struct{ RetryAfterSeconds int }

func (e *RateLimitError) Error() string { return "rate limited" }

// Unwrap makes errors.Is(e, ErrRateLimited) true.
func (e *RateLimitError) Unwrap() error { return ErrRateLimited }

// ConflictError is a conflict with details for the client, e.g. the actions
// allowed in the current state. It unwraps to ErrConflict.
type ConflictError struct {
	Msg     string
	Details map[string]any
}

func (e *ConflictError) Error() string { return e.Msg }

// Unwrap makes errors.Is(e, ErrConflict) true.
func (e *ConflictError) Unwrap() error { return ErrConflict }
