// Package throttle counts failed logins per account, per name typed and per
// client IP over a sliding window, and admits a login only while the
// failures plus the logins in flight stay below the limits.
//
// A login is admitted by [Throttle.Begin] and reports its outcome on the
// returned [Attempt]: [Attempt.Fail] (a wrong password), [Attempt.Succeed]
// (which clears the failures of the name and account) or [Attempt.Abandon]
// (no outcome: nothing is counted). A login refused on its failures gets a
// [*Refused] carrying how long until it may be tried.
package throttle

import (
	"context"
	"fmt"
	"hash/maphash"
	"strings"
	"sync"
	"time"

	store "github.com/ginjwt/ginjwt/throttle"
)

// Config are the limits of a [Throttle]. Every field must be positive.
type Config struct {
	// PerAccount is how many failures one account, and one name typed,
	// may have in Window.
	PerAccount int
	// PerIP is how many failures one client IP (an IPv6 /64) may have in
	// Window.
	PerIP int
	// Window is the period the counts cover.
	Window time.Duration
}

// Throttle counts failed logins per account and per client IP with a
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
// one entry per key of each attempt in flight. It is safe for concurrent
// use.
type Throttle struct {
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

	// shared, when set, keeps the counts in a store instead; woken is
	// closed, and replaced, whenever an attempt of this process ends.
	shared *Shared
	woken  chan struct{}
}

// New returns a throttle with the limits of cfg, reading the time from now.
func New(cfg Config, now func() time.Time) *Throttle {
	t := &Throttle{
		perAccount: cfg.PerAccount, perIP: cfg.PerIP, window: cfg.Window, now: now,
		flights: map[string]*flight{}, seed: maphash.MakeSeed(), maxKeys: tableKeys, nBuckets: overflowBuckets,
	}
	t.cur, t.prev = t.newFailures(), t.newFailures()
	return t
}

// Refused is the error of a login refused on its failures: it may be tried
// again after RetryAfter.
type Refused struct {
	RetryAfter time.Duration
}

func (e *Refused) Error() string {
	return fmt.Sprintf("throttle: too many failed logins; try again in %v", e.RetryAfter)
}

// flight is the attempts in flight of one key, and the channel their
// waiters wait on: closed, and replaced, each time one of them ends.
type flight struct {
	n       int
	changed chan struct{}
}

// bucket is one count an attempt is held to.
type bucket struct {
	key   string
	limit int
}

// Attempt is a login admitted by the throttle, in flight until one of
// Succeed, Fail or Abandon reports its outcome; the first report counts,
// later ones do nothing. The methods of a nil Attempt do nothing.
type Attempt struct {
	t       *Throttle
	buckets []bucket
	done    bool           // under t.mu
	rec     *store.Attempt // with a shared store
}

// buckets are the counts a login is held to: the name typed, the account
// it resolves to (when known), and the client IP.
// The name typed keeps a limit of its own so that whether a name resolves
// to an account does not change how it is throttled (that would tell which
// names exist); only names of one account also share the account's.
func (t *Throttle) buckets(login, account, ip string) []bucket {
	b := []bucket{{loginKey(login), t.perAccount}, {ipKey(ip), t.perIP}}
	if account != "" {
		b = append(b, bucket{accountKey(account), t.perAccount})
	}
	return b
}

// Check reports whether a login named login from ip is refused on its
// failures so far, before its account is resolved (which costs a database
// read): a [*Refused] when it is, nil when it may be tried.
func (t *Throttle) Check(ctx context.Context, login, ip string) error {
	if t.shared != nil {
		return t.checkShared(ctx, login, ip)
	}
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.advance(now)
	if d := t.failed(t.buckets(login, "", ip), now); d > 0 {
		return &Refused{RetryAfter: d}
	}
	return nil
}

// failed is how long until the failures of every bucket are below their
// limits. Callers hold mu.
func (t *Throttle) failed(buckets []bucket, now time.Time) (wait time.Duration) {
	for _, b := range buckets {
		wait = max(wait, t.waitFor(b.key, b.limit, now))
	}
	return wait
}

// Begin admits a login of login (typed), resolved to account ("" when
// unknown), from ip. It refuses with a [*Refused] when failures have
// reached a limit. When only attempts in flight stand in the way, it waits
// for their outcomes, then decides again; when ctx ends first it fails with
// ctx's error, wrapped.
func (t *Throttle) Begin(ctx context.Context, login, account, ip string) (*Attempt, error) {
	a := &Attempt{t: t, buckets: t.buckets(login, account, ip)}
	if t.shared != nil {
		return t.beginShared(ctx, a)
	}
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
			return nil, fmt.Errorf("throttle: waiting for earlier logins: %w", ctx.Err())
		}
	}
}

// admit starts a when its buckets allow, or returns the channel to wait on
// when attempts in flight stand in the way, or refuses a.
func (t *Throttle) admit(a *Attempt) (wait <-chan struct{}, err error) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.advance(now)
	if d := t.failed(a.buckets, now); d > 0 {
		return nil, &Refused{RetryAfter: d}
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
func (a *Attempt) end(outcome func(t *Throttle)) {
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

// Succeed reports that the password was right: the failures of the name
// typed and of its account are cleared (the IP's are not: one good account
// must not reset a guesser's count).
func (a *Attempt) Succeed() {
	if a != nil && a.t.shared != nil {
		a.endShared(store.Succeeded)
		return
	}
	a.end(func(t *Throttle) {
		for _, b := range a.buckets {
			if !strings.HasPrefix(b.key, ipPrefix) {
				t.cur.clear(b.key)
				t.prev.clear(b.key)
			}
		}
	})
}

// Fail reports a wrong password, an unknown login or an inactive account:
// one failure in each bucket.
func (a *Attempt) Fail() {
	if a != nil && a.t.shared != nil {
		a.endShared(store.Failed)
		return
	}
	a.end(func(t *Throttle) {
		for _, b := range a.buckets {
			t.cur.add(b.key)
		}
	})
}

// Abandon reports that the login had no outcome (the database or the
// hashing capacity was unavailable, the client went away): nothing is
// counted.
func (a *Attempt) Abandon() {
	if a != nil && a.t.shared != nil {
		a.endShared(store.Abandoned)
		return
	}
	a.end(nil)
}
