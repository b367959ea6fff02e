package api

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

// compressEngine serves a few fixed answers under compress, as the router
// does, and keeps the status and size that an outer middleware (the access
// log, the metrics) sees: those of the connection.
func compressEngine(t *testing.T, seen *[2]int) *gin.Engine {
	t.Helper()
	r := gin.New()
	r.Use(func(c *gin.Context) {
		c.Next()
		seen[0], seen[1] = c.Writer.Status(), c.Writer.Size()
	}, compress())
	r.GET("/json/:n", func(c *gin.Context) {
		n := map[string]int{"1023": 1023, "1024": 1024, "5000": 5000}[c.Param("n")]
		c.Data(http.StatusCreated, "application/json; charset=utf-8", bytes.Repeat([]byte("a"), n))
	})
	r.GET("/image", func(c *gin.Context) {
		c.Data(http.StatusOK, "image/png", bytes.Repeat([]byte{0x89}, 5000))
	})
	r.GET("/not-modified", func(c *gin.Context) {
		c.Header("ETag", `"7"`)
		c.Status(http.StatusNotModified)
	})
	r.GET("/encoded", func(c *gin.Context) {
		// A handler that compressed its body itself (promhttp) is left alone.
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		_, _ = zw.Write(bytes.Repeat([]byte("m"), 5000))
		_ = zw.Close()
		c.Header("Content-Encoding", "gzip")
		c.Data(http.StatusOK, "text/plain", b.Bytes())
	})
	return r
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("bad gzip: %v", err)
	}
	return out
}

// TestCompressThresholdAndTypes: gzip from 1 KiB of JSON or text up, when
// accepted; never below, never for images or bodies already encoded; the
// status the handler set reaches the connection and the outer middleware.
func TestCompressThresholdAndTypes(t *testing.T) {
	var seen [2]int
	r := compressEngine(t, &seen)
	cases := []struct {
		path, accept string
		status       int
		gzipped      bool
		size         int // the handler's bytes
	}{
		{"/json/5000", "gzip", 201, true, 5000},
		{"/json/1024", "gzip", 201, true, 1024},
		{"/json/1023", "gzip", 201, false, 1023},
		{"/json/5000", "", 201, false, 5000},
		{"/json/5000", "br, deflate", 201, false, 5000},
		{"/json/5000", "gzip;q=0", 201, false, 5000},
		{"/json/5000", "zstd", 201, false, 5000}, // gzip only (SPEC §6)
		{"/image", "gzip", 200, false, 5000},
		{"/not-modified", "gzip", 304, false, 0},
		{"/encoded", "gzip", 200, true, 5000}, // its own gzip, once
	}
	for _, c := range cases {
		req := httptest.NewRequest("GET", c.path, nil)
		if c.accept != "" {
			req.Header.Set("Accept-Encoding", c.accept)
		}
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		what := c.path + " accept " + c.accept
		if rec.Code != c.status || seen[0] != c.status {
			t.Errorf("%s: status %d (outer middleware saw %d), want %d", what, rec.Code, seen[0], c.status)
		}
		if v := rec.Header().Values("Vary"); len(v) != 1 || v[0] != "Accept-Encoding" {
			t.Errorf("%s: Vary %q", what, v)
		}
		body := rec.Body.Bytes()
		if got := rec.Header().Get("Content-Encoding") == "gzip"; got != c.gzipped {
			t.Errorf("%s: Content-Encoding %q", what, rec.Header().Get("Content-Encoding"))
			continue
		}
		if c.gzipped {
			body = gunzip(t, body)
			if len(rec.Body.Bytes()) >= len(body) {
				t.Errorf("%s: %d bytes gzipped from %d", what, rec.Body.Len(), len(body))
			}
		}
		switch c.path {
		case "/json/5000", "/json/1024", "/json/1023":
			if !bytes.Equal(body, bytes.Repeat([]byte("a"), c.size)) {
				t.Errorf("%s: body of %d bytes", what, len(body))
			}
		case "/encoded":
			if !bytes.Equal(body, bytes.Repeat([]byte("m"), 5000)) {
				t.Errorf("%s: compressed twice or changed: %d bytes", what, len(body))
			}
		case "/not-modified":
			if len(body) != 0 || rec.Header().Get("ETag") != `"7"` {
				t.Errorf("%s: body %q, ETag %q", what, body, rec.Header().Get("ETag"))
			}
		}
		if len(body) != c.size {
			t.Errorf("%s: %d bytes, want %d", what, len(body), c.size)
		}
		// What went on the wire (-1 when nothing did: Gin sends a bodiless
		// header last).
		if wire := rec.Body.Len(); seen[1] != wire && !(wire == 0 && seen[1] == -1) {
			t.Errorf("%s: outer middleware saw size %d, the wire %d", what, seen[1], wire)
		}
	}
}

// TestCompressRecoveredPanic: a panic inside compress is answered 500 with
// the error body, through it.
func TestCompressRecoveredPanic(t *testing.T) {
	r := gin.New()
	r.Use(requestID(slog.New(slog.DiscardHandler)), compress(), recovery())
	r.GET("/panic", func(c *gin.Context) { panic("boom") })
	req := httptest.NewRequest("GET", "/panic", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	if rec.Code != 500 || rec.Header().Get("Content-Encoding") != "" ||
		rec.Body.String() != `{"error":{"code":"internal","message":"internal error"}}` {
		t.Fatalf("%d %v %s", rec.Code, rec.Header(), rec.Body)
	}
}

// TestCompressStreamFlushesEachEvent: an event stream is never gzipped and
// each flushed event reaches the client at once, not after a KiB.
func TestCompressStreamFlushesEachEvent(t *testing.T) {
	next := make(chan string)
	r := gin.New()
	r.Use(compress())
	r.GET("/stream", func(c *gin.Context) {
		c.Header("Content-Type", "text/event-stream")
		c.Status(http.StatusOK)
		rc := http.NewResponseController(c.Writer)
		for ev := range next {
			if _, err := c.Writer.Write([]byte(ev)); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				t.Errorf("flush: %v", err)
				return
			}
		}
	})
	srv := httptest.NewServer(r)
	defer srv.Close()
	defer close(next)

	req, _ := http.NewRequest("GET", srv.URL+"/stream", nil)
	// Set by hand, so that the client does not decompress on its own.
	req.Header.Set("Accept-Encoding", "gzip")
	go func() { next <- "data: 1\n\n" }() // the header goes out with the first flush
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "" || resp.Header.Get("Content-Type") != "text/event-stream" ||
		resp.Header.Get("Vary") != "Accept-Encoding" {
		t.Fatalf("headers %v", resp.Header)
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	for i := 1; i <= 5; i++ {
		if i > 1 {
			next <- "data: " + strings.Repeat("x", i) + "\n\n"
		}
		want := "data: 1"
		if i > 1 {
			want = "data: " + strings.Repeat("x", i)
		}
		select {
		case got := <-lines:
			if got != want {
				t.Fatalf("event %d: %q, want %q", i, got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("event %d (%d bytes sent in all) was held back", i, 9+i*10)
		}
		if blank := <-lines; blank != "" {
			t.Fatalf("event %d: then %q", i, blank)
		}
	}
}
