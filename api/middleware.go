package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"pingan/internal/access"
	"pingan/internal/audit"
	"pingan/internal/errs"
)

const (
	ctxRequestID = "pingan.request_id"
	ctxLogger    = "pingan.logger"
	ctxPrincipal = "pingan.principal"
	ctxUnbounded = "pingan.unbounded_context"
)

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// requestID takes a sane X-Request-ID from the client or makes one, and
// hands a logger carrying it to everything after (made on first use: most
// requests log only their access line).
func requestID(base *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader("X-Request-ID")
		if !requestIDPattern.MatchString(id) {
			b := make([]byte, 12)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		c.Set(ctxRequestID, id)
		c.Set(ctxLogger, &requestLogger{base: base, id: id})
		c.Request = c.Request.WithContext(audit.WithMeta(c.Request.Context(), audit.Meta{RequestID: id, ClientIP: c.ClientIP()}))
		c.Header("X-Request-ID", id)
		c.Next()
	}
}

// requestLogger is the logger of one request, carrying its id.
type requestLogger struct {
	base *slog.Logger
	id   string
	once sync.Once
	l    *slog.Logger
}

func (r *requestLogger) logger() *slog.Logger {
	r.once.Do(func() { r.l = r.base.With(slog.String("request_id", r.id)) })
	return r.l
}

func logger(c *gin.Context) *slog.Logger {
	if l, ok := c.Get(ctxLogger); ok {
		return l.(*requestLogger).logger()
	}
	return slog.Default()
}

// accessLog writes one line per request: no query string, headers or body,
// since those can hold tokens and personal data.
func accessLog() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		base, id := slog.Default(), requestIDOf(c)
		if l, ok := c.Get(ctxLogger); ok {
			base = l.(*requestLogger).base
		}
		attrs := make([]slog.Attr, 0, 7)
		attrs = append(attrs,
			slog.String("request_id", id),
			slog.String("method", c.Request.Method),
			slog.String("route", routeOf(c)),
			slog.Int("status", c.Writer.Status()),
			slog.Float64("ms", float64(time.Since(start).Microseconds())/1000),
			slog.String("ip", c.ClientIP()),
		)
		if p, ok := principal(c); ok {
			attrs = append(attrs, slog.String("user_id", p.UserID))
		}
		base.LogAttrs(c.Request.Context(), slog.LevelInfo, "request", attrs...)
	}
}

func routeOf(c *gin.Context) string {
	if r := c.FullPath(); r != "" {
		return r
	}
	return "unmatched"
}

// recovery turns a panic into a 500 with the error body; the stack goes to
// the log only.
func recovery() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				logger(c).Error("panic", slog.String("panic", fmt.Sprint(v)), slog.String("stack", string(debug.Stack())))
				writeError(c, fmt.Errorf("panic: %v", v))
			}
		}()
		c.Next()
	}
}

// securityHeaders sets the headers every response carries.
func securityHeaders(production bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if strings.HasPrefix(c.Request.URL.Path, "/api/") {
			h.Set("Cache-Control", "no-store")
		}
		if production {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		c.Next()
	}
}

// httpMetrics are the Prometheus series of SPEC §3 operations.
type httpMetrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pingan_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "pingan_http_request_duration_seconds", Help: "HTTP request latency by route and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

func (m *httpMetrics) handler() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := routeOf(c)
		method := methodLabel(c.Request.Method)
		m.requests.WithLabelValues(route, method, strconv.Itoa(c.Writer.Status())).Inc()
		m.latency.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
	}
}

// methodLabel keeps the metric's label set bounded: any method a client
// invents counts as "other".
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

// deadline bounds every API request, so that a stalled database or blob
// store ends in a 503 rather than a hang. A stream, which lives as long as
// its client, takes the context before the deadline (unbounded).
func deadline(d time.Duration) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Set(ctxUnbounded, c.Request.Context())
		ctx, cancel := context.WithTimeout(c.Request.Context(), d)
		defer cancel()
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	}
}

// unbounded is the request's context without the API deadline: it ends
// when the client goes away. Only streams use it.
func unbounded(c *gin.Context) context.Context {
	if ctx, ok := c.Get(ctxUnbounded); ok {
		return ctx.(context.Context)
	}
	return c.Request.Context()
}

// authenticate requires a valid bearer access token and stores the caller.
func (s *server) authenticate() gin.HandlerFunc {
	return func(c *gin.Context) {
		token, ok := bearerToken(c.GetHeader("Authorization"))
		if !ok {
			c.Header("WWW-Authenticate", `Bearer realm="pingan"`)
			fail(c, errs.ErrUnauthenticated, "a bearer token is required")
			return
		}
		// A person's access token, or a department system's service-account
		// key (SPEC §9.3).
		p, err := s.auth.AuthenticateBearer(c.Request.Context(), token)
		if err != nil {
			c.Header("WWW-Authenticate", `Bearer realm="pingan", error="invalid_token"`)
			writeError(c, err)
			return
		}
		c.Set(ctxPrincipal, p)
		c.Next()
	}
}

// bearerToken is the credential of an Authorization header of the Bearer
// scheme, whose name is matched in any case (RFC 9110 §11.1), followed by
// one or more spaces.
func bearerToken(h string) (string, bool) {
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimLeft(token, " ")
	return token, token != ""
}

// allow is the route-level role check (SPEC §5).
func allow(roles ...access.Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, ok := principal(c)
		if !ok || !p.Is(roles...) {
			fail(c, errs.ErrForbidden, "your role may not use this endpoint")
			return
		}
		c.Next()
	}
}

func principal(c *gin.Context) (access.Principal, bool) {
	v, ok := c.Get(ctxPrincipal)
	if !ok {
		return access.Principal{}, false
	}
	return v.(access.Principal), true
}

// caller is principal for handlers behind authenticate, where it is always set.
func caller(c *gin.Context) access.Principal {
	p, _ := principal(c)
	return p
}
