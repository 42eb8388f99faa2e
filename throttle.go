package ginjwt

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt/users"
)

// AccountKeyer is an optional [UserStore] method that lets the login
// throttle count an account's failures against one limit whatever name is
// typed for it (a username and an e-mail). [users.Store] implements it.
type AccountKeyer interface {
	// AccountKey returns a stable key of the account that login names for
	// Authenticate (such as its user ID), or "" when it names none. It
	// must not check a password, should cost one indexed read, and must
	// fail only when the store cannot answer (wrapping ErrUnavailable, or
	// a driver error, when the database is down): the login is then
	// answered with that error and counted nowhere.
	AccountKey(ctx context.Context, login string) (string, error)
}

// Bounds of the throttle's failure table. Each window keeps at most
// tableKeys exact counts (a key is at most 67 bytes), then counts further
// keys in overflowBuckets shared buckets.
const (
	tableKeys       = 1 << 16
	overflowBuckets = 1 << 20 // 4 MiB of uint32, made only when a window overflows
)

// throttle counts failed logins per account and per client IP with a
// sliding-window counter: the count in the current fixed window plus the
// previous window's count weighted by how much of it still overlaps the
// sliding one. It also tracks the attempts in flight, so that an attempt
// starts only while failures + attempts in flight stay below the limit:
// concurrent guesses cannot pass the limit, and concurrent correct logins
// wait for the outcomes ahead of them instead of being refused.
//
// Memory is bounded: two windows of at most tableKeys exact counts plus,
// once a window has overflowed, overflowBuckets shared counters (measured:
// 25 MiB with both windows full of the longest keys and overflowed), and
// one entry per key of each attempt in flight.
type throttle struct {
	perAccount, perIP int
	window            time.Duration
	now               func() time.Time

	mu        sync.Mutex
	start     time.Time // of the current window
	cur, prev *failures
	flights   map[string]*flight
	seed      maphash.Seed
	maxKeys   int // exact keys per window
	nBuckets  int // overflow buckets per window
}

func newThrottle(cfg Throttle, now func() time.Time) *throttle {
	t := &throttle{
		perAccount: cfg.PerAccount, perIP: cfg.PerIP, window: cfg.Window, now: now,
		flights: map[string]*flight{}, seed: maphash.MakeSeed(), maxKeys: tableKeys, nBuckets: overflowBuckets,
	}
	t.cur, t.prev = t.newFailures(), t.newFailures()
	return t
}

// failures are the counts of one window: exact per key until the table
// holds t.maxKeys keys, then, for keys not in it, in hashed buckets shared by
// many keys. A shared bucket over-counts (a key may be refused early),
// never under-counts: the throttle fails closed, never open.
type failures struct {
	exact    map[string]uint32
	overflow []uint32 // nil until exact is full
	seed     maphash.Seed
	maxKeys  int
	nBuckets int
}

func (t *throttle) newFailures() *failures {
	return &failures{exact: map[string]uint32{}, seed: t.seed, maxKeys: t.maxKeys, nBuckets: t.nBuckets}
}

func (f *failures) bucket(key string) *uint32 {
	return &f.overflow[maphash.String(f.seed, key)%uint64(len(f.overflow))]
}

// get is key's count. A key enters exact only before the window overflows,
// and once the window has overflowed a key not in exact is counted in its
// bucket alone, so no count is ever lost.
func (f *failures) get(key string) uint32 {
	if n, ok := f.exact[key]; ok {
		return n
	}
	if f.overflow != nil {
		return *f.bucket(key)
	}
	return 0
}

func (f *failures) add(key string) {
	if n, ok := f.exact[key]; ok {
		f.exact[key] = n + 1
		return
	}
	if f.overflow == nil && len(f.exact) < f.maxKeys {
		f.exact[key] = 1
		return
	}
	if f.overflow == nil {
		f.overflow = make([]uint32, f.nBuckets)
	}
	if b := f.bucket(key); *b < math.MaxUint32 {
		*b++
	}
}

// clear forgets key's count where it is its own; a shared bucket keeps it.
func (f *failures) clear(key string) { delete(f.exact, key) }

// flight is the attempts in flight of one key, and the channel their
// waiters wait on: closed, and replaced, each time one of them ends.
type flight struct {
	n       int
	changed chan struct{}
}

// accountKey is the bucket of a login name: lower-cased, and hashed when
// long, so a 64 KiB name costs 32 bytes of memory.
func accountKey(login string) string {
	return hashedKey("a\x00", strings.ToLower(strings.TrimSpace(login)))
}

// userKey is the bucket of an account resolved by [AccountKeyer].
func userKey(id string) string { return hashedKey("u\x00", id) }

func hashedKey(prefix, s string) string {
	if len(s) > 64 {
		sum := sha256.Sum256([]byte(s))
		return prefix + "#" + string(sum[:])
	}
	return prefix + s
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
		t.prev, t.cur = t.newFailures(), t.newFailures()
		t.start = now.Truncate(t.window)
	case elapsed >= t.window:
		t.prev, t.cur = t.cur, t.newFailures()
		t.start = t.start.Add(t.window)
	}
}

// estimate is the sliding count of key at now. Callers hold mu.
func (t *throttle) estimate(key string, now time.Time) float64 {
	overlap := 1 - float64(now.Sub(t.start))/float64(t.window)
	return float64(t.cur.get(key)) + float64(t.prev.get(key))*overlap
}

// waitFor is how long until key's sliding count drops below limit, 0 when it
// is below already. Callers hold mu.
func (t *throttle) waitFor(key string, limit int, now time.Time) time.Duration {
	if t.estimate(key, now) < float64(limit) {
		return 0
	}
	cur, prev := float64(t.cur.get(key)), float64(t.prev.get(key))
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
	x := max(1-float64(limit)/cur, 0)
	return next.Add(time.Duration(math.Ceil(x*float64(t.window))) + time.Millisecond).Sub(now)
}

// throttled is the refusal of a login: ErrTooManyRequests, to be tried
// again after retryAfter.
type throttled struct{ retryAfter time.Duration }

func (e *throttled) Error() string { return ErrTooManyRequests.Error() }
func (e *throttled) Unwrap() error { return ErrTooManyRequests }

// bucket is one count an attempt is held to.
type bucket struct {
	key   string
	limit int
}

// attempt is a login admitted by the throttle, in flight until one of
// succeed, fail or abandon reports its outcome; the first report counts,
// later ones do nothing. The methods of a nil attempt do nothing.
type attempt struct {
	t       *throttle
	buckets []bucket
	done    bool // under t.mu
}

// buckets are the counts a login is held to: the name typed, the account
// it resolves to (when known), and the client IP.
// The name typed keeps a limit of its own so that whether a name resolves
// to an account does not change how it is throttled (that would tell which
// names exist); only names of one account also share the account's.
func (t *throttle) buckets(login, account, ip string) []bucket {
	b := []bucket{{accountKey(login), t.perAccount}, {ipKey(ip), t.perIP}}
	if account != "" {
		b = append(b, bucket{userKey(account), t.perAccount})
	}
	return b
}

// refused reports whether a login named login from ip is refused on its
// failures so far, before its account is resolved (which costs a database
// read): it returns how long until it may be tried, 0 when it may.
func (t *throttle) refused(login, ip string) time.Duration {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.advance(now)
	return t.failed(t.buckets(login, "", ip), now)
}

// failed is how long until the failures of every bucket are below their
// limits. Callers hold mu.
func (t *throttle) failed(buckets []bucket, now time.Time) (wait time.Duration) {
	for _, b := range buckets {
		wait = max(wait, t.waitFor(b.key, b.limit, now))
	}
	return wait
}

// begin admits a login of login (typed), resolved to account ("" when
// unknown), from ip. It refuses with a *throttled when failures have
// reached a limit. When only attempts in flight stand in the way, it waits
// for their outcomes, then decides again; when ctx ends first it fails with
// ctx's error, wrapped.
func (t *throttle) begin(ctx context.Context, login, account, ip string) (*attempt, error) {
	a := &attempt{t: t, buckets: t.buckets(login, account, ip)}
	for {
		changed, err := t.admit(a)
		if err != nil {
			return nil, err
		}
		if changed == nil {
			return a, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, fmt.Errorf("ginjwt: waiting for earlier logins: %w", ctx.Err())
		}
	}
}

// admit starts a when its buckets allow, or returns the channel to wait on
// when attempts in flight stand in the way, or refuses a.
func (t *throttle) admit(a *attempt) (wait <-chan struct{}, err error) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.advance(now)
	if d := t.failed(a.buckets, now); d > 0 {
		return nil, &throttled{retryAfter: d}
	}
	for _, b := range a.buckets {
		if fl := t.flights[b.key]; fl != nil && t.estimate(b.key, now)+float64(fl.n) >= float64(b.limit) {
			if fl.changed == nil {
				fl.changed = make(chan struct{})
			}
			return fl.changed, nil
		}
	}
	for _, b := range a.buckets {
		fl := t.flights[b.key]
		if fl == nil {
			fl = &flight{}
			t.flights[b.key] = fl
		}
		fl.n++
	}
	return nil, nil
}

// end applies a's outcome, then takes a out of flight and wakes the
// attempts waiting on its buckets. Only the first call does anything.
func (a *attempt) end(outcome func(t *throttle)) {
	if a == nil {
		return
	}
	t := a.t
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if a.done {
		return
	}
	a.done = true
	t.advance(now)
	if outcome != nil {
		outcome(t)
	}
	for _, b := range a.buckets {
		fl := t.flights[b.key]
		fl.n--
		if fl.changed != nil {
			close(fl.changed)
			fl.changed = nil
		}
		if fl.n == 0 {
			delete(t.flights, b.key)
		}
	}
}

// succeed reports that the password was right: the failures of the name
// typed and of its account are cleared (the IP's are not: one good account
// must not reset a guesser's count).
func (a *attempt) succeed() {
	a.end(func(t *throttle) {
		for _, b := range a.buckets {
			if !strings.HasPrefix(b.key, "i\x00") {
				t.cur.clear(b.key)
				t.prev.clear(b.key)
			}
		}
	})
}

// fail reports a wrong password, an unknown login or an inactive account:
// one failure in each bucket.
func (a *attempt) fail() {
	a.end(func(t *throttle) {
		for _, b := range a.buckets {
			t.cur.add(b.key)
		}
	})
}

// abandon reports that the login had no outcome (the database or the
// hashing capacity was unavailable, the client went away): nothing is
// counted.
func (a *attempt) abandon() { a.end(nil) }

// admitLogin runs the throttle for a login of login by the client of facts:
// it resolves the account when the user store can, and waits for the turn
// of the attempt until turn ends (then 429, or 503 when the request itself
// ended). It returns the attempt (nil when throttling is off), or answers
// the request and returns false.
func (a *Auth) admitLogin(turn context.Context, c *gin.Context, login string, facts RequestFacts) (*attempt, bool) {
	if a.throttle == nil {
		return nil, true
	}
	ctx := c.Request.Context()
	var err error
	if wait := a.throttle.refused(login, facts.ClientIP); wait > 0 {
		err = &throttled{retryAfter: wait}
	}
	account := ""
	if k, ok := a.users.(AccountKeyer); ok && err == nil {
		if account, err = k.AccountKey(turn, login); err != nil {
			err = noOutcome(turn, err)
		}
	}
	var at *attempt
	if err == nil {
		at, err = a.throttle.begin(turn, login, account, facts.ClientIP)
		switch {
		case err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded):
			// The attempts ahead took all of MaxWait: try again shortly.
			err = &throttled{retryAfter: time.Second}
		case err != nil:
			err = noOutcome(turn, err)
		}
	}
	if err == nil {
		return at, true
	}
	var th *throttled
	if errors.As(err, &th) {
		c.Header("Retry-After", strconv.Itoa(max(1, int(math.Ceil(th.retryAfter.Seconds())))))
		a.events.emit(ctx, Event{Kind: LoginFailed, Time: a.now(), Login: login, Request: facts, Reason: "throttled", Err: ErrTooManyRequests})
	}
	AbortWithError(c, err)
	return nil, false
}

// noOutcome is the error of a login that ended without checking the
// password for a reason of the server's or the client's: a login whose
// context ended (the client went away, MaxWait passed before a hashing slot
// or the account's lookup) is answered 503 unavailable like a database
// outage, not 500.
func noOutcome(ctx context.Context, err error) error {
	if ctx.Err() != nil && !errors.Is(err, ErrUnavailable) && !errors.Is(err, ErrTooManyRequests) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

// boundHashWait gives the hashing of the user store (when it exposes its
// [users.Hasher], as users.Store does) the wait bound d, unless the
// application has set one of its own with SetMaxWait.
func boundHashWait(s UserStore, d time.Duration) {
	hs, ok := s.(interface{ Hasher() *users.Hasher })
	if !ok {
		return
	}
	if h := hs.Hasher(); h != nil && h.MaxWait() == 0 {
		h.SetMaxWait(d)
	}
}
