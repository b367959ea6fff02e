package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"pingan/internal/errs"
)

// Body limits (SPEC §6).
const (
	maxJSONBody   = 1 << 20
	maxImportBody = 16 << 20
)

// readBody reads the whole body up to limit. Returns errs.ErrTooLarge past
// it and errs.ErrInvalid for bytes that are not UTF-8.
func readBody(c *gin.Context, limit int64) ([]byte, error) {
	// Routes that take a body take no query parameters.
	if err := checkQuery(c); err != nil {
		return nil, err
	}
	if c.Request.ContentLength > limit {
		return nil, fmt.Errorf("body is over %d bytes: %w", limit, errs.ErrTooLarge)
	}
	data, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, fmt.Errorf("body is over %d bytes: %w", limit, errs.ErrTooLarge)
	case err != nil:
		return nil, errs.Invalid("body", "could not be read")
	case !strings.HasPrefix(c.ContentType(), "multipart/") && c.ContentType() != xlsxType && !utf8.Valid(data):
		// Text bodies only: a multipart upload carries image bytes, a
		// workbook is a zip archive.
		return nil, errs.Invalid("body", "is not valid UTF-8")
	}
	return data, nil
}

// bindJSON decodes one JSON object into dst, refusing unknown fields,
// trailing data, invalid UTF-8 and bodies over 1 MiB. Errors name the field.
func bindJSON(c *gin.Context, dst any) error {
	data, err := readBody(c, maxJSONBody)
	if err != nil {
		return err
	}
	return decodeStrict(data, dst)
}

func decodeStrict(data []byte, dst any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return errs.Invalid("body", "a JSON object is required")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return errs.Invalid("body", fmt.Sprintf("malformed JSON at byte %d", se.Offset))
		case errors.As(err, &te):
			field := te.Field
			if field == "" {
				field = "body"
			}
			return errs.Invalid(field, "must be of type "+jsonType(te.Type.Kind().String()))
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return errs.Invalid(name, "unknown field")
		case errors.Is(err, io.ErrUnexpectedEOF):
			return errs.Invalid("body", "truncated JSON")
		}
		return errs.Invalid("body", "malformed JSON")
	}
	if dec.More() {
		return errs.Invalid("body", "exactly one JSON object is expected")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errs.Invalid("body", "trailing data after the JSON object")
	}
	return nil
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "map", "struct", "ptr":
		return "object"
	}
	return "number"
}

// checkQuery refuses query parameters outside allowed (SPEC §6: unknown
// parameters are 400) and repeated ones.
func checkQuery(c *gin.Context, allowed ...string) error {
	bad := errs.FieldErrors{}
	q := c.Request.URL.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		known := false
		for _, a := range allowed {
			known = known || a == k
		}
		switch {
		case !known:
			bad.Add(k, "unknown query parameter")
		case len(q[k]) > 1:
			bad.Add(k, "given more than once")
		case !utf8.ValidString(q[k][0]):
			bad.Add(k, "is not valid UTF-8")
		}
	}
	return bad.Err()
}

// noQuery refuses any query parameter on routes that take none.
func noQuery() gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := checkQuery(c); err != nil {
			writeError(c, err)
			return
		}
		c.Next()
	}
}
