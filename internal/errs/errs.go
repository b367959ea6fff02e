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
	// ErrUnsupportedMediaType: the body is not of a type the route takes,
	// e.g. a JSON route sent a form or text/plain (415).
	ErrUnsupportedMediaType = errors.New("unsupported media type")
	// ErrRateLimited: too many attempts (429); see RateLimitError for the wait.
	ErrRateLimited = errors.New("rate limited")
	// ErrUnavailable: a dependency (database, blob store) is unreachable (503).
	ErrUnavailable = errors.New("unavailable")
)

// MaxFieldErrors bounds the fields one error names (SPEC §6): past it, a
// response names the first ones and says that there were more, so that a
// body with a million bad fields costs no more to refuse than one with 50.
const MaxFieldErrors = 50

// moreKey marks, in a full FieldErrors, that problems were left out. It is
// not UTF-8, so no field is named so: JSON keys are UTF-8, and query
// parameters are named in UTF-8 (api's checkQuery).
const moreKey = "\xff(more)"

// FieldErrors collects validation problems by field name so that a response
// names every bad field at once, up to MaxFieldErrors. It unwraps to
// ErrInvalid.
type FieldErrors map[string]string

// Add records a problem with field; the first message for a field wins.
// Past MaxFieldErrors fields it records only that there were more.
func (f FieldErrors) Add(field, msg string) {
	if _, ok := f[field]; ok {
		return
	}
	if f.Full() {
		f[moreKey] = "more"
		return
	}
	f[field] = msg
}

// Full reports whether f names MaxFieldErrors fields, so that a check
// looping over many elements can stop looking.
func (f FieldErrors) Full() bool {
	n := len(f)
	if f.More() {
		n--
	}
	return n >= MaxFieldErrors
}

// More reports whether problems were left out past MaxFieldErrors.
func (f FieldErrors) More() bool {
	_, ok := f[moreKey]
	return ok
}

// Fields returns the problems by field name, without the mark of More.
func (f FieldErrors) Fields() map[string]string {
	if !f.More() {
		return f
	}
	out := make(map[string]string, len(f))
	for k, v := range f {
		if k != moreKey {
			out[k] = v
		}
	}
	return out
}

// Err returns nil when there are no problems, otherwise f as an error.
func (f FieldErrors) Err() error {
	if len(f) == 0 {
		return nil
	}
	return f
}

func (f FieldErrors) Error() string {
	fields := f.Fields()
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + fields[k]
	}
	if f.More() {
		parts = append(parts, "and more")
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
