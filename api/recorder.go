package api

import (
	"bytes"
	"net/http"
)

// recorder is the http.ResponseWriter a sync operation is served into: the
// router answers it exactly as it would answer the phone online, and sync
// then copies the status and body into the operation's result.
type recorder struct {
	status int // 200 until a status is written, as on a connection
	wrote  bool
	header http.Header
	body   bytes.Buffer
}

var _ http.ResponseWriter = (*recorder)(nil)

func newRecorder() *recorder {
	return &recorder{status: http.StatusOK, header: http.Header{}}
}

// Header is the response's header map; it goes no further.
func (r *recorder) Header() http.Header { return r.header }

// WriteHeader keeps the first status written, as a connection would.
func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
}

// Write appends to the body; a write before any status means 200.
func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}
