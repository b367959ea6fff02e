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
// when it is missing and errs.ErrInvalid when it is not a version.
func ifMatch(c *gin.Context) (int, error) {
	v := c.GetHeader("If-Match")
	if v == "" {
		return 0, &httpError{kind: errs.ErrPreconditionRequired, msg: "If-Match with the ETag of the case is required"}
	}
	n, err := strconv.Atoi(strings.TrimPrefix(strings.Trim(v, `"`), "W/"))
	if err != nil || n < 1 {
		return 0, errs.Invalid("If-Match", `an ETag such as "3"`)
	}
	return n, nil
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
