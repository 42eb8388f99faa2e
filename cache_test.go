package ginjwt

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestCacheServesRepeatedTokens(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	h.user("alice")
	p := h.login("alice")
	wantStatus(t, h.do(req{path: "/api/hello", bearer: p.Access}), 200)
	if n := h.auth.cache.len(); n != 1 {
		t.Fatalf("%d cached tokens after one request, want 1", n)
	}
	first, ok := h.auth.cache.get(p.Access, h.clock.Now(), 0)
	wantStatus(t, h.do(req{path: "/api/hello", bearer: p.Access}), 200)
	second, _ := h.auth.cache.get(p.Access, h.clock.Now(), 0)
	if !ok || first != second {
		t.Fatal("the second request did not use the cached claims")
	}
	// Revocation is checked on every request, cached or not.
	wantStatus(t, h.do(req{path: "/auth/token/logout", json: refreshBody(p.Refresh)}), 200)
	wantError(t, h.do(req{path: "/api/hello", bearer: p.Access}), 401, "token_revoked")
	// An entry never outlives the token.
	q := h.login("alice")
	wantStatus(t, h.do(req{path: "/api/hello", bearer: q.Access}), 200)
	h.clock.Advance(5 * time.Minute)
	wantError(t, h.do(req{path: "/api/hello", bearer: q.Access}), 401, "token_expired")
	// Refresh tokens are never cached as access tokens.
	wantError(t, h.do(req{path: "/api/hello", bearer: q.Refresh}), 401, "token_type_invalid")
	wantError(t, h.do(req{path: "/api/hello", bearer: q.Refresh}), 401, "token_type_invalid")
}

func TestCacheFlushedWhenAKeyIsRemoved(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	h.user("alice")
	p := h.login("alice")
	wantStatus(t, h.do(req{path: "/api/hello", bearer: p.Access}), 200)
	old := h.auth.KeyIDs()[0]
	next, _ := GenerateKey("HS256")
	if err := h.auth.RotateKey(next); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, h.do(req{path: "/api/hello", bearer: p.Access}), 200)
	parsed, key, err := h.auth.parseKey(p.Access, h.clock.Now())
	if key == nil {
		t.Fatal(err)
	}
	if err := h.auth.RemoveKey(old); err != nil {
		t.Fatal(err)
	}
	if n := h.auth.cache.len(); n != 0 {
		t.Fatalf("%d tokens still cached after RemoveKey", n)
	}
	// A request that parsed with the old set and puts after the removal
	// leaves an entry that does not count.
	h.auth.cache.put(p.Access, parsed, key, h.clock.Now())
	wantError(t, h.do(req{path: "/api/hello", bearer: p.Access}), 401, "token_invalid")
}

func TestCacheBounds(t *testing.T) {
	t.Parallel()
	clk := newClock()
	c := newTokenCache(Cache{MaxEntries: 160, MaxBytes: 1 << 30})
	claims := &Claims{ExpiresAt: clk.Now().Add(time.Hour), raw: make([]byte, 100)}
	key, _ := newSigningKey(Key{Algorithm: "HS256", Secret: testSecret})
	for i := range 10_000 {
		c.put(fmt.Sprintf("token-%08d-signature", i), claims, key, clk.Now())
	}
	if n := c.len(); n > 160 || n < 100 {
		t.Fatalf("%d entries, want at most 160 (and not emptied)", n)
	}
	small := newTokenCache(Cache{MaxEntries: 1 << 20, MaxBytes: 16 * 4096})
	for i := range 10_000 {
		small.put(fmt.Sprintf("token-%08d-signature", i), claims, key, clk.Now())
	}
	var bytes int64
	for i := range small.shards {
		bytes += small.shards[i].bytes
	}
	if bytes > 16*4096 {
		t.Fatalf("%d bytes cached, want at most %d", bytes, 16*4096)
	}
	// Expired entries go first.
	e := newTokenCache(Cache{MaxEntries: 16, MaxBytes: 1 << 30})
	expired := &Claims{ExpiresAt: clk.Now().Add(-time.Second)}
	for i := range 16 {
		e.put(fmt.Sprintf("old-token-%04d", i), expired, key, clk.Now())
	}
	e.put("fresh-token-0001", claims, key, clk.Now())
	if _, ok := e.get("fresh-token-0001", clk.Now(), 0); !ok {
		t.Fatal("the fresh token was not kept")
	}
}

// TestCacheComparesWholeTokens: two tokens that end alike share a map slot
// but never each other's claims.
func TestCacheComparesWholeTokens(t *testing.T) {
	t.Parallel()
	clk := newClock()
	key, _ := newSigningKey(Key{Algorithm: "HS256", Secret: testSecret})
	c := newTokenCache(Cache{MaxEntries: 1, MaxBytes: 1 << 20})
	tail := strings.Repeat("s", 64)
	a, b := "header.payloadA."+tail, "header.payloadB."+tail
	ca := &Claims{ID: "a", ExpiresAt: clk.Now().Add(time.Hour)}
	c.put(a, ca, key, clk.Now())
	if _, ok := c.get(b, clk.Now(), 0); ok {
		t.Fatal("a token was served the claims of another with the same signature tail")
	}
	c.put(b, &Claims{ID: "b", ExpiresAt: clk.Now().Add(time.Hour)}, key, clk.Now())
	if got, ok := c.get(b, clk.Now(), 0); !ok || got.ID != "b" {
		t.Fatalf("b: %v %v", got, ok)
	}
	if got, ok := c.get(a, clk.Now(), 0); ok && got.ID != "a" {
		t.Fatalf("a: %v", got)
	}
}

// TestCachedTokenInAMalformedHeader: a cached token read from an
// Authorization header that trimBearer refuses is refused as before the
// cache knew it: the cache's lookup reads the header unchecked.
func TestCachedTokenInAMalformedHeader(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	h.user("alice")
	p := h.login("alice")
	wantStatus(t, h.do(req{path: "/api/hello", bearer: p.Access}), 200)
	with := func(v string) http.Header { return http.Header{"Authorization": {v}} }
	wantStatus(t, h.do(req{path: "/api/hello", header: with("bearer   " + p.Access)}), 200)
	for name, v := range map[string]string{
		"trailing word":          "Bearer " + p.Access + " x",
		"tab inside":             "Bearer " + p.Access + "\t",
		"too long":               "Bearer" + strings.Repeat(" ", maxTokenLen) + p.Access,
		"too long, other scheme": "Basic" + strings.Repeat(" ", maxTokenLen) + p.Access,
	} {
		t.Run(name, func(t *testing.T) {
			wantError(t, h.do(req{path: "/api/hello", header: with(v)}), 401, "token_invalid")
		})
	}
	if s := h.auth.Stats(); s.CacheHits != 1 || s.CacheMisses != 1 {
		t.Fatalf("Stats = %+v, want 1 hit and 1 miss: refused headers are no lookup", s)
	}
}

// TestCacheHoldsItsWholeSize: a working set of MaxEntries tokens fits, all
// of it, however the tokens fall on the shards.
func TestCacheHoldsItsWholeSize(t *testing.T) {
	t.Parallel()
	clk := newClock()
	key, _ := newSigningKey(Key{Algorithm: "HS256", Secret: testSecret})
	claims := &Claims{ExpiresAt: clk.Now().Add(time.Hour), raw: make([]byte, 300)}
	c := newTokenCache(Cache{MaxEntries: 10_000, MaxBytes: 16 << 20})
	tokens := make([]string, 10_000)
	for i := range tokens {
		tokens[i] = "header.payload." + rand.Text()
		c.put(tokens[i], claims, key, clk.Now())
	}
	for round := range 3 {
		for _, tok := range tokens {
			if _, ok := c.get(tok, clk.Now(), 0); !ok {
				t.Fatalf("round %d: a token of a working set of MaxEntries was not kept (%d entries)", round, c.len())
			}
		}
	}
	// One more evicts a batch, never more than about 1/128 of the cache.
	c.put("header.payload."+rand.Text(), claims, key, clk.Now())
	if n := c.len(); n > 10_000 || n < 10_000-10_000/128-1 {
		t.Fatalf("%d entries after one more token, want between %d and 10000", n, 10_000-10_000/128-1)
	}
}

// TestCacheBoundsUnderConcurrentPuts: puts from many goroutines never take
// the cache past its bounds, and the totals agree with the shards.
func TestCacheBoundsUnderConcurrentPuts(t *testing.T) {
	t.Parallel()
	clk := newClock()
	now := clk.Now()
	key, _ := newSigningKey(Key{Algorithm: "HS256", Secret: testSecret})
	c := newTokenCache(Cache{MaxEntries: 500, MaxBytes: 400 * 600})
	var wg sync.WaitGroup
	var over atomic.Bool
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				claims := &Claims{ExpiresAt: now.Add(time.Duration(i%3-1) * time.Minute), raw: make([]byte, 100+i%300)}
				c.put(fmt.Sprintf("header.payload.%d-%08d-signature", g, i), claims, key, now)
				if c.len() > 500 || c.size.Load() > 400*600 {
					over.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	if over.Load() {
		t.Fatal("the cache went past its bounds")
	}
	var n, size int64
	for i := range c.shards {
		s := &c.shards[i]
		n += int64(len(s.entries))
		for _, e := range s.entries {
			size += entrySize(e.token, e.claims)
		}
	}
	if n != c.count.Load() || size != c.size.Load() {
		t.Fatalf("totals %d entries / %d B, shards %d / %d", c.count.Load(), c.size.Load(), n, size)
	}
}

// TestCacheFlushedWhenSetKeysReplacesTheSet: SetKeys replaces every key
// (even one of the same ID is a new key), so an entry a request puts after
// the swap with a key of the old set does not count, as with RemoveKey.
func TestCacheFlushedWhenSetKeysReplacesTheSet(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	h.user("alice")
	p := h.login("alice")
	wantStatus(t, h.do(req{path: "/api/hello", bearer: p.Access}), 200)
	parsed, key, err := h.auth.parseKey(p.Access, h.clock.Now())
	if key == nil {
		t.Fatal(err)
	}
	next, _ := GenerateKey("HS256")
	if err := h.auth.SetKeys([]Key{next}); err != nil {
		t.Fatal(err)
	}
	h.auth.cache.put(p.Access, parsed, key, h.clock.Now())
	wantError(t, h.do(req{path: "/api/hello", bearer: p.Access}), 401, "token_invalid")
}
