package api

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"pingan/internal/errs"
	"pingan/internal/indicator"
)

// Body limits (SPEC §6).
const (
	maxJSONBody   = 1 << 20
	maxImportBody = 16 << 20
)

// bodyKind is what a route takes as its body: the media types (without
// parameters) and the size limit. A route's body of another type is 415
// (SPEC §6), so that a form on another site cannot post to a JSON route:
// a browser sends a cross-site form only as a form or text/plain.
type bodyKind struct {
	limit int64
	types []string
	// send tells the client what to send instead.
	send string
	// strict: the body is read by decodeStrict, which checks its UTF-8
	// as it reads, so it is not checked twice.
	strict bool
}

// The bodies routes take.
var (
	jsonBody    = bodyKind{maxJSONBody, []string{"application/json"}, "send a JSON object with Content-Type: application/json", true}
	geoJSONBody = bodyKind{maxImportBody, []string{"application/json", "application/geo+json"},
		"send a GeoJSON FeatureCollection with Content-Type: application/geo+json or application/json", false}
	photoBody = bodyKind{maxPhotoBody, []string{"multipart/form-data"}, `send multipart/form-data with one file field named "file"`, false}
	tableBody = bodyKind{indicator.MaxImportBytes, []string{csvType, xlsxType}, "send a text/csv or " + xlsxType + " file", false}
)

// accepts checks a Content-Type header against k. Returns
// errs.ErrUnsupportedMediaType naming what to send.
func (k bodyKind) accepts(header string) error {
	mt, params, err := mime.ParseMediaType(header)
	if err == nil && !contains(k.types, mt) {
		err = errors.New("another type")
	}
	// Text comes in UTF-8 only; a multipart body's parts say their own.
	if cs, ok := params["charset"]; err == nil && ok && !strings.EqualFold(cs, "utf-8") && !strings.HasPrefix(mt, "multipart/") {
		err = errors.New("another charset")
	}
	switch {
	case header == "":
		return &httpError{kind: errs.ErrUnsupportedMediaType, msg: "the body has no Content-Type: " + k.send}
	case err != nil:
		return &httpError{kind: errs.ErrUnsupportedMediaType, msg: fmt.Sprintf("Content-Type %q is not taken here: %s", clip(header, 100), k.send)}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// readBodyOf reads a body of kind k: a body of another media type is
// errs.ErrUnsupportedMediaType (no body at all needs none), then as readBody.
func readBodyOf(c *gin.Context, k bodyKind) ([]byte, error) {
	ct := c.GetHeader("Content-Type")
	// A type that is wrong is refused before the body is read.
	if ct != "" && c.Request.ContentLength != 0 && c.Request.ContentLength <= k.limit {
		if err := k.accepts(ct); err != nil {
			return nil, err
		}
	}
	data, err := readBytes(c, k.limit, !k.strict)
	var fe errs.FieldErrors
	if ct == "" && (len(data) > 0 || (c.Request.ContentLength > 0 && errors.As(err, &fe))) {
		// Bytes of no type: say what to send before what is wrong with them.
		return nil, k.accepts(ct)
	}
	return data, err
}

// ctxBody holds a body read and checked once, for the handler after the
// middleware that read it (idempotent).
const ctxBody = "pingan.body"

// readBody reads the whole body up to limit. Returns errs.ErrTooLarge past
// it and errs.ErrInvalid for bytes that are not UTF-8. A body read before
// in the request (by idempotent) is not read again.
func readBody(c *gin.Context, limit int64) ([]byte, error) { return readBytes(c, limit, true) }

// readBytes is readBody, checking that text is UTF-8 only when utf8Text.
func readBytes(c *gin.Context, limit int64, utf8Text bool) ([]byte, error) {
	if b, ok := c.Get(ctxBody); ok {
		return b.([]byte), nil
	}
	// Routes that take a body take no query parameters.
	if err := checkQuery(c); err != nil {
		return nil, err
	}
	if c.Request.ContentLength > limit {
		return nil, fmt.Errorf("body is over %d bytes: %w", limit, errs.ErrTooLarge)
	}
	buf := bytes.NewBuffer(make([]byte, 0, max(c.Request.ContentLength, 0)+bytes.MinRead))
	_, err := buf.ReadFrom(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	data := buf.Bytes()
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, fmt.Errorf("body is over %d bytes: %w", limit, errs.ErrTooLarge)
	case err != nil:
		return nil, errs.Invalid("body", "could not be read")
	case utf8Text && !strings.HasPrefix(c.ContentType(), "multipart/") && c.ContentType() != xlsxType && !utf8.Valid(data):
		// Text bodies only: a multipart upload carries image bytes, a
		// workbook is a zip archive.
		return nil, errs.Invalid("body", "is not valid UTF-8")
	}
	return data, nil
}

// bindJSON decodes one JSON object into dst as decodeStrict does, refusing
// another media type (415), invalid UTF-8 and bodies over 1 MiB (413).
func bindJSON(c *gin.Context, dst any) error {
	data, err := readBodyOf(c, jsonBody)
	if err != nil {
		return err
	}
	return decodeStrict(data, dst)
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
			bad.Add(strings.ToValidUTF8(k, "\uFFFD"), "unknown query parameter")
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
