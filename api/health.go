package api

import (
	"context"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// healthz says the process is alive; it checks nothing else.
func (s *server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz says whether the database and blob store answer; 503 when not.
// The checks run side by side, each with its own deadline, so that one
// slow dependency is not blamed on the other.
func (s *server) readyz(c *gin.Context) {
	names := make([]string, 0, len(s.ready))
	for n := range s.ready {
		names = append(names, n)
	}
	sort.Strings(names)
	results := make([]error, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(c.Request.Context(), 3*time.Second)
			defer cancel()
			results[i] = s.ready[n].Ping(ctx)
		}()
	}
	wg.Wait()
	checks := map[string]string{}
	ok := true
	for i, n := range names {
		if results[i] != nil {
			checks[n], ok = "unavailable", false
		} else {
			checks[n] = "ok"
		}
	}
	if !ok {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "checks": checks})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok", "checks": checks})
}
