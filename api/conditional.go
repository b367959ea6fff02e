package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"pingan/internal/errs"
)

func etag(version int) string { return `"` + strconv.Itoa(version) + `"` }

// ifMatch reads the version from If-Match. Returns errs.ErrPreconditionRequired
// when it is missing and errs.ErrInvalid when it is not a version; both name
// the object whose ETag the route wants.
func ifMatch(c *gin.Context) (int, error) {
	what := conditionalObject(c.FullPath())
	v := c.GetHeader("If-Match")
	if v == "" {
		return 0, &httpError{kind: errs.ErrPreconditionRequired, msg: fmt.Sprintf(
			`If-Match with the ETag of the %s is required: the ETag its GET answered, or its version in quotes, e.g. "3"`, what)}
	}
	n, err := strconv.Atoi(strings.TrimPrefix(strings.Trim(v, `"`), "W/"))
	if err != nil || n < 1 {
		return 0, errs.Invalid("If-Match", fmt.Sprintf(`the ETag of the %s, e.g. "3"`, what))
	}
	return n, nil
}

// conditionalObject names the object a route changes under If-Match (the
// route's pattern, as c.FullPath gives it): the first collection after
// /api/v1, in the singular.
func conditionalObject(route string) string {
	collection, _, _ := strings.Cut(strings.TrimPrefix(route, "/api/v1/"), "/")
	if name, ok := conditionals[collection]; ok {
		return name
	}
	return "object"
}

// conditionals are the objects a route may change under If-Match.
var conditionals = map[string]string{
	"incidents":  "incident",
	"disputes":   "dispute",
	"indicators": "indicator",
	"users":      "user",
	"categories": "category",
	"regions":    "region",
	"warnings":   "warning",
}

// notModified answers 304 when If-None-Match names the current version.
func notModified(c *gin.Context, version int) bool {
	return matchNoneMatch(c, etag(version))
}

// matchNoneMatch sets the ETag and answers 304 when If-None-Match names it
// (in a list, weakly, or as *).
func matchNoneMatch(c *gin.Context, tag string) bool {
	c.Header("ETag", tag)
	for _, v := range strings.Split(c.GetHeader("If-None-Match"), ",") {
		if v = strings.TrimSpace(v); v == tag || v == "*" || v == "W/"+tag {
			c.Status(http.StatusNotModified)
			return true
		}
	}
	return false
}

// sendTagged answers v as JSON (as c.JSON would) with a strong ETag naming
// its bytes, or 304 when If-None-Match names them: the ETag of an object
// that carries no version (a region, an account), which changes with
// anything the caller would see change.
func sendTagged(c *gin.Context, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeError(c, fmt.Errorf("encode a response: %w", err))
		return
	}
	if matchNoneMatch(c, contentTag(body)) {
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", body)
}

// contentTag is the strong ETag of a body: 128 bits of its SHA-256.
func contentTag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}
