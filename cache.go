package ginjwt

import (
	"sync"
	"time"
)

// Cache configures the verified-token cache: the exact token string of an
// access token that passed every check → its claims, so a client that
// presents the same token again costs a map lookup instead of a signature
// check and a decode. Revocation is still checked on every request, in
// memory. An entry never outlives its token's exp, and the cache is emptied
// when a key is removed.
type Cache struct {
	// Disabled turns the cache off.
	Disabled bool
	// MaxEntries bounds the tokens kept. Default 10,000.
	MaxEntries int
	// MaxBytes bounds the memory of the kept tokens and their payloads,
	// approximately. Default 16 MiB.
	MaxBytes int64
}

func (c *Cache) resolve() {
	if c.MaxEntries <= 0 {
		c.MaxEntries = 10_000
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = 16 << 20
	}
}

const cacheShards = 16

// entryOverhead approximates what an entry costs beyond its token and
// payload bytes: the map slot and the Claims.
const entryOverhead = 256

// tokenCache is the verified-token cache, sharded to keep lock contention
// off the hot path. Each shard holds its share of the bounds.
type tokenCache struct {
	shards     [cacheShards]cacheShard
	maxEntries int
	maxBytes   int64
	stats      cacheStats // hits and misses, for Auth.Stats (stats.go)
}

type cacheShard struct {
	mu      sync.RWMutex
	entries map[string]*cacheEntry
	bytes   int64
}

// cacheEntry is a verified token's claims and the key that verified it: an
// entry counts only while that key is still in the set, so a request that
// raced with RemoveKey cannot leave a token of the removed key behind.
type cacheEntry struct {
	token  string
	claims *Claims
	key    *signingKey
}

// cacheKey is the map key of a token: the end of its signature, unique
// between tokens and much shorter to hash than the whole token, which the
// entry holds and a hit compares in full.
func cacheKey(token string) string {
	if len(token) > 64 {
		return token[len(token)-64:]
	}
	return token
}

func newTokenCache(cfg Cache) *tokenCache {
	c := &tokenCache{maxEntries: max(1, cfg.MaxEntries/cacheShards), maxBytes: max(1, cfg.MaxBytes/cacheShards)}
	for i := range c.shards {
		c.shards[i].entries = map[string]*cacheEntry{}
	}
	return c
}

// shard picks a shard from the token's last characters: the signature's,
// which differ between any two tokens.
func (c *tokenCache) shard(token string) *cacheShard {
	n := len(token)
	return &c.shards[(token[n-1]^token[n-2]^token[n-3]^token[n/2])%cacheShards]
}

// get returns the claims of token if they are cached, unexpired at now
// (with leeway), and verified by a key of keys.
func (c *tokenCache) get(token string, now time.Time, leeway time.Duration, keys *keySet) (*Claims, bool) {
	if len(token) < 8 {
		return nil, false
	}
	s := c.shard(token)
	s.mu.RLock()
	e := s.entries[cacheKey(token)]
	s.mu.RUnlock()
	if e == nil || e.token != token || !now.Before(e.claims.ExpiresAt.Add(leeway)) || keys.byID[e.key.id] != e.key {
		return nil, false
	}
	return e.claims, true
}

// put keeps the claims of a token that passed every check, and the key
// that verified it, making room by dropping expired entries first, then
// arbitrary ones.
func (c *tokenCache) put(token string, claims *Claims, key *signingKey, now time.Time) {
	if len(token) < 8 {
		return
	}
	size := int64(len(token) + len(claims.raw) + entryOverhead)
	s := c.shard(token)
	s.mu.Lock()
	defer s.mu.Unlock()
	k := cacheKey(token)
	if old, ok := s.entries[k]; ok {
		if old.token == token {
			return
		}
		s.drop(k, old)
	}
	if len(s.entries) >= c.maxEntries || s.bytes+size > c.maxBytes {
		s.evict(now, c.maxEntries, c.maxBytes-size)
	}
	s.entries[k] = &cacheEntry{token: token, claims: claims, key: key}
	s.bytes += size
}

// evict drops expired entries, then arbitrary ones (map order), until the
// shard holds fewer than maxEntries and at most maxBytes; it drops at least
// an eighth of a full shard, so evictions are rare. Callers hold mu.
func (s *cacheShard) evict(now time.Time, maxEntries int, maxBytes int64) {
	for k, e := range s.entries {
		if !now.Before(e.claims.ExpiresAt) {
			s.drop(k, e)
		}
	}
	target := min(maxEntries-1, maxEntries-maxEntries/8)
	for k, e := range s.entries {
		if len(s.entries) <= target && s.bytes <= maxBytes {
			break
		}
		s.drop(k, e)
	}
}

// drop removes one entry. Callers hold mu.
func (s *cacheShard) drop(k string, e *cacheEntry) {
	delete(s.entries, k)
	s.bytes -= int64(len(e.token) + len(e.claims.raw) + entryOverhead)
}

// clear empties the cache: a key was removed, so cached tokens it signed
// must be verified again (and fail).
func (c *tokenCache) clear() {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		s.entries = map[string]*cacheEntry{}
		s.bytes = 0
		s.mu.Unlock()
	}
}

// len is the number of cached tokens, for tests.
func (c *tokenCache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.entries)
		s.mu.RUnlock()
	}
	return n
}
