package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

// TestUnboundedOutlivesDeadline: behind deadline, a handler's request
// context ends with the deadline while unbounded(c) does not.
func TestUnboundedOutlivesDeadline(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	var bounded, free error
	r.GET("/", deadline(20*time.Millisecond), func(c *gin.Context) {
		time.Sleep(60 * time.Millisecond)
		bounded, free = c.Request.Context().Err(), unbounded(c).Err()
	})
	r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	if bounded != context.DeadlineExceeded || free != nil {
		t.Fatalf("request context: %v, unbounded: %v", bounded, free)
	}
}
