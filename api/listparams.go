// List parameters shared by every list route: time ranges, page limits and
// signed keyset cursors (SPEC §6).

package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"pingan/internal/errs"
	"pingan/internal/indicator"
)

// Pagination (SPEC §6: default 20, at most 100).
const (
	defaultLimit = 20
	maxLimit     = 100
)

// timeParam reads an RFC 3339 time with its offset (a bare date would leave
// the day's time zone to guess).
func timeParam(c *gin.Context, bad errs.FieldErrors, name string) time.Time {
	v := c.Query(name)
	if v == "" {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t
	}
	bad.Add(name, "an RFC 3339 time such as 2026-10-01T00:00:00+08:00")
	return time.Time{}
}

// timeRange reads ?from= and ?to=, which must be in order.
func timeRange(c *gin.Context, bad errs.FieldErrors) (from, to time.Time) {
	from, to = timeParam(c, bad, "from"), timeParam(c, bad, "to")
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		bad.Add("to", "must be after from")
	}
	return from, to
}

// checkPeriod checks a period kind, the parameter or field kindName (day
// or month), and a period of that kind, atName (2026-10, 2026-10-15). A
// kind that is wrong is blamed on kindName alone: the period cannot be
// judged without it.
func checkPeriod(bad errs.FieldErrors, loc *time.Location, kindName, kind, atName, at string) {
	switch kind {
	case indicator.Day, indicator.Month:
	case "":
		bad.Add(kindName, "required: day or month")
		return
	default:
		bad.Add(kindName, "day or month")
		return
	}
	example := map[string]string{indicator.Month: "2026-10", indicator.Day: "2026-10-15"}[kind]
	switch got, _, err := indicator.ParsePeriod(at, loc); {
	case at == "":
		bad.Add(atName, fmt.Sprintf("required: a %s such as %s", kind, example))
	case err != nil || got != kind:
		bad.Add(atName, fmt.Sprintf("a %s such as %s, as %s=%s asks", kind, example, kindName, kind))
	}
}

// timeCursor reads a ?cursor= holding a (time, id) position.
func (s *server) timeCursor(c *gin.Context, bad errs.FieldErrors) (time.Time, string) {
	pos, err := s.cursors.decode(c)
	if err == nil && pos != "" {
		var at time.Time
		var id string
		if at, id, err = splitPosition(pos); err == nil {
			return at, id
		}
	}
	if err != nil {
		bad.Add("cursor", "not a cursor from this API")
	}
	return time.Time{}, ""
}

func joinPosition(t time.Time, id string) string { return t.UTC().Format(time.RFC3339Nano) + "|" + id }

func splitPosition(pos string) (time.Time, string, error) {
	ts, id, ok := strings.Cut(pos, "|")
	t, err := time.Parse(time.RFC3339Nano, ts)
	if !ok || err != nil || id == "" {
		return time.Time{}, "", errs.Invalid("cursor", "malformed")
	}
	return t, id, nil
}

// pageLimit reads ?limit=.
func pageLimit(c *gin.Context) (int, error) {
	v, ok := c.GetQuery("limit")
	if !ok {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxLimit {
		return 0, errs.Invalid("limit", fmt.Sprintf("a whole number from 1 to %d", maxLimit))
	}
	return n, nil
}

// cursors makes opaque, tamper-evident page cursors: base64url of the
// position plus an HMAC, so a forged or edited cursor is a clear 400 rather
// than a strange page.
type cursors struct{ key []byte }

func (k cursors) encode(position string) string {
	m := hmac.New(sha256.New, k.key)
	m.Write([]byte(position))
	return base64.RawURLEncoding.EncodeToString(append(m.Sum(nil)[:16], position...))
}

// decode reads ?cursor=; "" when absent. Returns errs.ErrInvalid for a
// cursor this server did not make.
func (k cursors) decode(c *gin.Context) (string, error) {
	v, ok := c.GetQuery("cursor")
	if !ok {
		return "", nil
	}
	return k.decodeValue(v)
}

// decodeValue checks and opens one cursor value.
func (k cursors) decodeValue(v string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(raw) <= 16 || len(v) > 1024 {
		return "", errs.Invalid("cursor", "not a cursor from this API")
	}
	m := hmac.New(sha256.New, k.key)
	m.Write(raw[16:])
	if !hmac.Equal(m.Sum(nil)[:16], raw[:16]) {
		return "", errs.Invalid("cursor", "not a cursor from this API")
	}
	return string(raw[16:]), nil
}

// page is the list envelope.
type page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// newPage fetches limit+1 rows' worth from the caller and trims: when more
// exist, next_cursor points after the last item returned.
func newPage[T any](items []T, limit int, k cursors, position func(T) string) page[T] {
	p := page[T]{Items: items}
	if p.Items == nil {
		p.Items = []T{}
	}
	if len(items) > limit {
		p.Items = items[:limit]
		next := k.encode(position(items[limit-1]))
		p.NextCursor = &next
	}
	return p
}
