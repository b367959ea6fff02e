package store

import (
	"sync"
	"time"
)

// cacheTTL bounds how stale a cached region or category can be on an
// instance that did not make the change (its own changes clear it at once).
const cacheTTL = 30 * time.Second

// cache keeps rarely-changing rows that every write looks up (a report's
// grid and category), so the hot path does not read them each time.
type cache[V any] struct {
	mu      sync.Mutex
	entries map[string]cacheEntry[V]
	now     func() time.Time
}

type cacheEntry[V any] struct {
	v  V
	at time.Time
}

func newCache[V any]() *cache[V] {
	return &cache[V]{entries: map[string]cacheEntry[V]{}, now: time.Now}
}

func (c *cache[V]) get(k string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok || c.now().Sub(e.at) > cacheTTL {
		var zero V
		return zero, false
	}
	return e.v, true
}

func (c *cache[V]) put(k string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) > 100_000 {
		clear(c.entries) // a bound, never reached by a real region tree
	}
	c.entries[k] = cacheEntry[V]{v: v, at: c.now()}
}

func (c *cache[V]) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.entries)
}
