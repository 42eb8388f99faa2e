package ginjwt

import (
	"sync/atomic"
	"time"
)

// Stats is a snapshot of what ginjwt's events do not tell: how the
// verified-token cache and the background registration queue are doing.
// Read it with [Auth.Stats], for metrics or a status page; the otelginjwt
// module (a Go module of its own) exports it to OpenTelemetry.
type Stats struct {
	// CacheHits counts the access tokens the middleware found in the
	// verified-token cache since New (no signature check, no decode), and
	// CacheMisses those it did not find and verified in full, valid or not.
	// The hit rate is CacheHits / (CacheHits + CacheMisses). Both stay 0
	// with Cache.Disabled.
	CacheHits, CacheMisses uint64
	// CacheEntries is how many tokens the cache holds now.
	CacheEntries int
	// RegistrationsQueued is how many registrations wait in the background
	// pipeline's queue now (Registry.Async), not counting those a worker is
	// running; 0 when registration is synchronous or the registry is off.
	RegistrationsQueued int
	// RegistrationQueueSize is that queue's capacity (Registry.QueueSize):
	// a request that finds the queue full registers its tokens itself. 0
	// when there is no queue.
	RegistrationQueueSize int
}

// Stats returns the current [Stats]. The counters are read atomically, each
// on its own: a snapshot taken under load may pair a hit count with a miss
// count a few lookups apart. It takes no lock on the request path; counting
// the cache's entries briefly read-locks each of its shards.
func (a *Auth) Stats() Stats {
	var s Stats
	if a.cache != nil {
		s.CacheHits = a.cache.stats.hits.Load()
		s.CacheMisses = a.cache.stats.misses.Load()
		s.CacheEntries = a.cache.len()
	}
	if a.pipeline != nil {
		s.RegistrationsQueued = a.pipeline.Queued()
		s.RegistrationQueueSize = a.pipeline.QueueSize()
	}
	return s
}

// cacheStats counts the verified-token cache's lookups. The padding keeps
// the counters, written on every request, off the cache line of the fields
// beside them.
type cacheStats struct {
	_      [64]byte
	hits   atomic.Uint64
	misses atomic.Uint64
}

// lookup is entry, counted in stats.
func (c *tokenCache) lookup(t tokenRef, now time.Time, leeway time.Duration, keys *keySet) *cacheEntry {
	e := c.entry(t, now, leeway, keys)
	if e != nil {
		c.stats.hits.Add(1)
	} else {
		c.stats.misses.Add(1)
	}
	return e
}
