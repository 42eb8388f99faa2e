package ginjwt

import (
	"crypto/sha256"
	"math"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// throttle counts failed logins per login name and per client IP with a
// sliding-window counter: the count in the current fixed window plus the
// previous window's count weighted by how much of it still overlaps the
// sliding one. Memory is two maps per kind, emptied as windows pass.
type throttle struct {
	perAccount, perIP int
	window            time.Duration
	now               func() time.Time

	mu       sync.Mutex
	start    time.Time // of the current window
	cur      map[string]int
	prev     map[string]int
	maxCount int // entries per window before new keys stop being tracked
}

func newThrottle(cfg Throttle, now func() time.Time) *throttle {
	return &throttle{
		perAccount: cfg.PerAccount, perIP: cfg.PerIP, window: cfg.Window, now: now,
		cur: map[string]int{}, prev: map[string]int{}, maxCount: 1 << 20,
	}
}

// accountKey is the bucket of a login name: lower-cased, and hashed when
// long, so a 64 KiB name costs 32 bytes of memory.
func accountKey(login string) string {
	login = strings.ToLower(strings.TrimSpace(login))
	if len(login) > 64 {
		sum := sha256.Sum256([]byte(login))
		return "a\x00#" + string(sum[:])
	}
	return "a\x00" + login
}

// ipKey is the bucket of a client address: IPv4 alone, IPv6 by its /64,
// since one client holds a whole /64 and could otherwise use a fresh
// address per attempt.
func ipKey(ip string) string {
	if addr, err := netip.ParseAddr(ip); err == nil && addr.Is6() && !addr.Is4In6() {
		p, _ := addr.Prefix(64)
		return "i\x00" + p.String()
	}
	return "i\x00" + ip
}

// advance moves the windows forward to now. Callers hold mu.
func (t *throttle) advance(now time.Time) {
	if t.start.IsZero() {
		t.start = now.Truncate(t.window)
	}
	switch elapsed := now.Sub(t.start); {
	case elapsed >= 2*t.window:
		t.prev, t.cur = map[string]int{}, map[string]int{}
		t.start = now.Truncate(t.window)
	case elapsed >= t.window:
		t.prev, t.cur = t.cur, map[string]int{}
		t.start = t.start.Add(t.window)
	}
}

// estimate is the sliding count of key at now. Callers hold mu.
func (t *throttle) estimate(key string, now time.Time) float64 {
	overlap := 1 - float64(now.Sub(t.start))/float64(t.window)
	return float64(t.cur[key]) + float64(t.prev[key])*overlap
}

// allow reports whether a login for login from ip may be attempted, and
// when it may, counts the attempt as a failure at once, under the same
// lock: a thousand concurrent guesses cannot all pass before the first
// failure is counted. succeed takes the count back. When it may not, wait
// is how long until it may.
func (t *throttle) allow(login, ip string) (wait time.Duration, ok bool) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.advance(now)
	account, client := accountKey(login), ipKey(ip)
	wait = max(t.waitFor(account, t.perAccount, now), t.waitFor(client, t.perIP, now))
	if wait > 0 {
		return wait, false
	}
	t.count(account)
	t.count(client)
	return 0, true
}

// count adds a failure to key in the current window. Callers hold mu.
func (t *throttle) count(key string) {
	if _, tracked := t.cur[key]; tracked || len(t.cur) < t.maxCount {
		t.cur[key]++
	}
}

// waitFor is how long until key's sliding count drops below limit, 0 when it
// is below already. Callers hold mu.
func (t *throttle) waitFor(key string, limit int, now time.Time) time.Duration {
	if t.estimate(key, now) < float64(limit) {
		return 0
	}
	cur, prev := float64(t.cur[key]), float64(t.prev[key])
	// The count falls as the previous window slides out: solve
	// cur + prev*(1-x) < limit for the fraction x of the window elapsed.
	if cur < float64(limit) && prev > 0 {
		x := 1 - (float64(limit)-cur)/prev
		at := t.start.Add(time.Duration(math.Ceil(x*float64(t.window))) + time.Millisecond)
		if d := at.Sub(now); d > 0 {
			return d
		}
	}
	// Otherwise the current window must end and slide out in turn.
	next := t.start.Add(t.window)
	x := 1 - float64(limit)/cur
	if x < 0 {
		x = 0
	}
	return next.Add(time.Duration(math.Ceil(x*float64(t.window))) + time.Millisecond).Sub(now)
}

// succeed takes back what allow counted for a login that succeeded, and
// clears the failures of its login name.
func (t *throttle) succeed(login, ip string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	key := accountKey(login)
	delete(t.cur, key)
	delete(t.prev, key)
	if n := t.cur[ipKey(ip)]; n > 0 {
		t.cur[ipKey(ip)] = n - 1
	}
}
