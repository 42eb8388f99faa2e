package ginjwt

import "sync/atomic"

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
// count a few lookups apart. It takes no lock.
func (a *Auth) Stats() Stats {
	var s Stats
	if a.cache != nil {
		s.CacheHits, s.CacheMisses = a.cache.counts()
		s.CacheEntries = a.cache.len()
	}
	if a.pipeline != nil {
		s.RegistrationsQueued = a.pipeline.Queued()
		s.RegistrationQueueSize = a.pipeline.QueueSize()
	}
	return s
}

// cacheStats counts a cache shard's lookups. The padding keeps the
// counters, written on every request, off the cache line of the shard's
// lock and map, and of the shard before.
type cacheStats struct {
	_      [64]byte
	hits   atomic.Uint64
	misses atomic.Uint64
	_      [48]byte
}

// counts sums the shards' hits and misses.
func (c *tokenCache) counts() (hits, misses uint64) {
	for i := range c.shards {
		hits += c.shards[i].stats.hits.Load()
		misses += c.shards[i].stats.misses.Load()
	}
	return hits, misses
}
