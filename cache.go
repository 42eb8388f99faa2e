package ginjwt

import (
	"sync"
	"sync/atomic"
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

func (c *Cache) resolve(def Cache) {
	if c.MaxEntries <= 0 {
		c.MaxEntries = def.MaxEntries
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = def.MaxBytes
	}
}

const cacheShards = 16

// entryOverhead approximates what an entry costs beyond its token and
// payload bytes: the map slot and the Claims.
const entryOverhead = 256

// tokenCache is the verified-token cache, sharded to keep lock contention
// off the hot path. The bounds hold for the cache as a whole, not per
// shard: tokens never spread evenly over the shards, and a per-shard share
// of the bounds turned a working set the size of MaxEntries into misses
// (91 % hits for 10,000 tokens round-robin in a cache of 10,000).
type tokenCache struct {
	shards     [cacheShards]cacheShard
	maxEntries int64
	maxBytes   int64
	// count and size are the entries and their bytes over every shard,
	// changed under the lock of the shard that changes.
	count, size atomic.Int64
}

type cacheShard struct {
	mu      sync.RWMutex
	entries map[string]*cacheEntry
	bytes   int64      // the size of this shard's entries
	stats   cacheStats // hits and misses, for Auth.Stats (stats.go)
}

// cacheEntry is a verified token's claims and the key that verified it: an
// entry counts only while that key has not been removed from the set, so a
// request that raced with RemoveKey cannot leave a token of the removed key
// behind.
type cacheEntry struct {
	token  string
	claims *Claims
	key    *signingKey
	// csrf is the CSRF token of the claims' session, computed by the first
	// cookie request that needs it (see Auth.sessionCSRF).
	csrf atomic.Pointer[string]
}

// cacheKeyLen is the length of a token's map key: the end of its
// signature, unique between tokens and much shorter to hash than the whole
// token, which the entry holds and a hit compares in full.
const cacheKeyLen = 64

// cacheKey is the map key of a token.
func cacheKey(token string) string {
	if len(token) > cacheKeyLen {
		return token[len(token)-cacheKeyLen:]
	}
	return token
}

// tokenRef is a token as a request presents it, not joined: whole (sig ""),
// or the halves of the TwoCookies mode, head "." sig, so that a cache hit
// costs no string for the joined token.
type tokenRef struct{ head, sig string }

// len is the length of the whole token.
func (t tokenRef) len() int {
	if t.sig == "" {
		return len(t.head)
	}
	return len(t.head) + 1 + len(t.sig)
}

// is reports whether the whole token is s.
func (t tokenRef) is(s string) bool {
	if t.sig == "" {
		return s == t.head
	}
	n := len(t.head)
	return len(s) == t.len() && s[:n] == t.head && s[n] == '.' && s[n+1:] == t.sig
}

// key returns the token's map key (see cacheKey) as bytes: a view of the
// token when it is whole or the signature is long enough, else copied into
// buf. Read-only.
func (t tokenRef) key(buf *[cacheKeyLen]byte) []byte {
	if t.sig == "" {
		return bytesOf(cacheKey(t.head))
	}
	if len(t.sig) >= cacheKeyLen {
		return bytesOf(t.sig[len(t.sig)-cacheKeyLen:])
	}
	n := min(t.len(), cacheKeyLen)
	tail := n - len(t.sig) // bytes before the signature: part of head, and the dot
	copy(buf[:], t.head[len(t.head)-(tail-1):])
	buf[tail-1] = '.'
	copy(buf[tail:], t.sig)
	return buf[:n]
}

func newTokenCache(cfg Cache) *tokenCache {
	c := &tokenCache{maxEntries: int64(max(1, cfg.MaxEntries)), maxBytes: max(1, cfg.MaxBytes)}
	for i := range c.shards {
		c.shards[i].entries = map[string]*cacheEntry{}
	}
	return c
}

// shard picks a shard from a token's map key: the end of its signature,
// whose characters differ between any two tokens.
func (c *tokenCache) shard(k []byte) *cacheShard {
	return &c.shards[shardIndex(k)]
}

func shardIndex(k []byte) int {
	n := len(k)
	return int((k[n-1] ^ k[n-2] ^ k[n-3] ^ k[n/2]) % cacheShards)
}

// get returns the claims of token if they are cached, unexpired at now
// (with leeway), and verified by a key still in the set.
func (c *tokenCache) get(token string, now time.Time, leeway time.Duration) (*Claims, bool) {
	e := c.entry(tokenRef{head: token}, now, leeway)
	if e == nil {
		return nil, false
	}
	return e.claims, true
}

// entry returns the entry of the token t if it is cached, unexpired at now
// (with leeway), and verified by a key still in the set; nil otherwise. A
// hit is counted in the shard's stats; the caller counts a miss (missed)
// when it goes on to verify the token.
func (c *tokenCache) entry(t tokenRef, now time.Time, leeway time.Duration) *cacheEntry {
	if t.len() < 8 {
		return nil
	}
	var buf [cacheKeyLen]byte
	k := t.key(&buf)
	s := c.shard(k)
	s.mu.RLock()
	e := s.entries[string(k)] // no copy: a conversion in a map index
	s.mu.RUnlock()
	if e != nil && e.claims.external {
		leeway = 0 // another issuer's token: its verifier applied its own leeway once
	}
	if e == nil || !t.is(e.token) || !now.Before(e.claims.ExpiresAt.Add(leeway)) || e.key.removed.Load() {
		return nil
	}
	s.stats.hits.Add(1)
	return e
}

// missed counts a lookup of token that found nothing usable.
func (c *tokenCache) missed(token string) {
	s := &c.shards[0]
	if len(token) >= 8 {
		s = c.shard(bytesOf(cacheKey(token)))
	}
	s.stats.misses.Add(1)
}

// entrySize is what an entry of token with claims counts against MaxBytes.
func entrySize(token string, claims *Claims) int64 {
	return int64(len(token) + len(claims.raw) + entryOverhead)
}

// put keeps the claims of a token that passed every check, and the key
// that verified it, making room by dropping expired entries first, then
// arbitrary ones. It returns the token's entry: the new one, or the one
// already there; nil when the token is not kept (it does not fit).
func (c *tokenCache) put(token string, claims *Claims, key *signingKey, now time.Time) *cacheEntry {
	if len(token) < 8 {
		return nil
	}
	size := entrySize(token, claims)
	if size > c.maxBytes {
		return nil
	}
	k := cacheKey(token)
	i := shardIndex(bytesOf(k))
	s := &c.shards[i]
	if c.count.Load() >= c.maxEntries || c.size.Load()+size > c.maxBytes {
		c.makeRoom(i, now, size)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.entries[k]; ok {
		if old.token == token {
			return old
		}
		s.drop(c, k, old)
	}
	if !c.reserve(size) {
		return nil // concurrent puts took the room made: not kept this time
	}
	e := &cacheEntry{token: token, claims: claims, key: key}
	s.entries[k] = e
	s.bytes += size
	return e
}

// reserve counts an entry of size bytes in when the bounds allow it. The
// totals never pass the bounds, not even for an instant.
func (c *tokenCache) reserve(size int64) bool {
	for {
		n := c.count.Load()
		if n >= c.maxEntries {
			return false
		}
		if c.count.CompareAndSwap(n, n+1) {
			break
		}
	}
	for {
		b := c.size.Load()
		if b+size > c.maxBytes {
			c.count.Add(-1)
			return false
		}
		if c.size.CompareAndSwap(b, b+size) {
			return true
		}
	}
}

// makeRoom drops entries until an entry of size bytes fits and a batch of
// about 1/128 of MaxEntries more would, so that room is made rarely: from
// the shard first (shard index first, where the new token goes; tokens spread over the shards
// as they arrive), its expired entries first, then arbitrary ones (map
// order), then from the next shards alike if that was not enough. It
// takes one shard's lock at a time.
func (c *tokenCache) makeRoom(first int, now time.Time, size int64) {
	wantCount := c.maxEntries - max(1, c.maxEntries/128)
	wantSize := c.maxBytes - size
	roomy := func() bool { return c.count.Load() <= wantCount && c.size.Load() <= wantSize }
	for i := range cacheShards {
		s := &c.shards[(first+i)%cacheShards]
		s.mu.Lock()
		for k, e := range s.entries {
			if !now.Before(e.claims.ExpiresAt) {
				s.drop(c, k, e)
			}
		}
		for k, e := range s.entries {
			if roomy() {
				break
			}
			s.drop(c, k, e)
		}
		s.mu.Unlock()
		if roomy() {
			return
		}
	}
}

// drop removes one entry. Callers hold s.mu.
func (s *cacheShard) drop(c *tokenCache, k string, e *cacheEntry) {
	delete(s.entries, k)
	size := entrySize(e.token, e.claims)
	s.bytes -= size
	c.size.Add(-size)
	c.count.Add(-1)
}

// clear empties the cache: a key was removed, so cached tokens it signed
// must be verified again (and fail).
func (c *tokenCache) clear() {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		c.count.Add(-int64(len(s.entries)))
		c.size.Add(-s.bytes)
		s.entries = map[string]*cacheEntry{}
		s.bytes = 0
		s.mu.Unlock()
	}
}

// len is the number of cached tokens.
func (c *tokenCache) len() int { return int(c.count.Load()) }
