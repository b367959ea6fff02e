package api

import (
	"mime"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/klauspost/compress/gzhttp"
)

// minCompressSize is the smallest body that is gzipped (SPEC §6): below
// it the gzip header and the work cost more than they save.
const minCompressSize = 1024

// compress gzips responses of minCompressSize bytes or more for clients
// that send Accept-Encoding: gzip (SPEC §6: phones pay for data), and sets
// Vary: Accept-Encoding on every response. The negotiation, buffering and
// pooled writers are gzhttp's; this adapts its http.ResponseWriter to
// Gin's. Only JSON and text are compressed: photos are compressed already,
// and an event stream must reach the phone event by event (compressible).
//
// ETags are not changed: they name an object's version or content, the
// same whichever coding carries it, so that If-Match and If-None-Match
// work with either; API responses are no-store, so no shared cache can
// confuse the two codings.
func compress() gin.HandlerFunc {
	wrap, err := gzhttp.NewWrapper(
		gzhttp.MinSize(minCompressSize),
		gzhttp.EnableZstd(false), // SPEC §6 names gzip, which every phone's HTTP stack decodes
		gzhttp.ContentTypeFilter(compressible),
	)
	if err != nil {
		panic("api: gzip options: " + err.Error()) // the options are constants
	}
	return func(c *gin.Context) {
		outer := c.Writer
		defer func() { c.Writer = outer }()
		wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			cw := &compressWriter{ResponseWriter: outer, z: w, status: http.StatusOK, size: -1}
			c.Writer = cw
			c.Next()
			// A status set without a body (304, 204) goes out through gzhttp,
			// which decides on Close what the connection gets.
			cw.WriteHeaderNow()
		})).ServeHTTP(outer, c.Request)
	}
}

// compressible says which content types are gzipped: JSON and text, but
// not an event stream, whose events must leave one by one (gzhttp holds
// back the first KiB of a body it may compress).
func compressible(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case mt == "text/event-stream":
		return false
	case mt == "application/json", strings.HasSuffix(mt, "+json"), strings.HasPrefix(mt, "text/"), mt == "application/yaml":
		return true
	}
	return false
}

// compressWriter is the gin.ResponseWriter of a request under compress: the
// body and status go to gzhttp's writer z, which writes to the outer
// writer (plain or gzipped); Status and Size keep Gin's meaning (the status
// set, the bytes the handler wrote).
type compressWriter struct {
	gin.ResponseWriter // the outer writer: Hijack, CloseNotify, Pusher
	z                  http.ResponseWriter
	status             int
	size               int // -1 until the header is sent
}

func (w *compressWriter) Header() http.Header { return w.z.Header() }

// WriteHeader sets the status to send, until the header is sent (as Gin's
// own writer does).
func (w *compressWriter) WriteHeader(code int) {
	if code > 0 && !w.Written() {
		w.status = code
	}
}

func (w *compressWriter) WriteHeaderNow() {
	if !w.Written() {
		w.size = 0
		w.z.WriteHeader(w.status)
	}
}

func (w *compressWriter) Write(b []byte) (int, error) {
	w.WriteHeaderNow()
	n, err := w.z.Write(b)
	w.size += n
	return n, err
}

func (w *compressWriter) WriteString(s string) (int, error) { return w.Write([]byte(s)) }

func (w *compressWriter) Status() int   { return w.status }
func (w *compressWriter) Size() int     { return w.size }
func (w *compressWriter) Written() bool { return w.size != -1 }

// Flush sends what was written so far: the header, and the body (gzhttp
// decides on the coding at the first flush).
func (w *compressWriter) Flush() { _ = w.FlushError() }

// FlushError is Flush with its error, for http.ResponseController.
func (w *compressWriter) FlushError() error {
	w.WriteHeaderNow()
	return http.NewResponseController(w.z).Flush()
}

// Unwrap lets http.ResponseController reach the connection (deadlines)
// through gzhttp's writer.
func (w *compressWriter) Unwrap() http.ResponseWriter { return w.z }
