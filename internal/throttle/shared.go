package throttle

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	store "github.com/ginjwt/ginjwt/throttle"
)

// Shared configures a throttle whose counts are kept in a store that
// several instances share (see [NewShared]).
type Shared struct {
	// Store keeps the counts.
	Store store.Store
	// Lease is how long an attempt stays in flight in the store without
	// an outcome before it counts as a failure (its instance died, or lost
	// the store).
	Lease time.Duration
	// OnError is told when an outcome could not be written; nil drops it.
	OnError func(error)
}

// NewShared returns a throttle with the limits of cfg that counts in
// sh.Store, reading the time from now. It keeps nothing in memory but the
// channel that wakes this process's waiters early.
func NewShared(cfg Config, now func() time.Time, sh Shared) *Throttle {
	t := New(cfg, now)
	t.shared = &sh
	t.woken = make(chan struct{})
	return t
}

// storeKey is a bucket key as a store keeps it: its kind and 128 bits of
// its SHA-256, so that a store holds neither names nor addresses, nor
// anything unprintable.
func storeKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return key[:1] + ":" + base64.RawURLEncoding.EncodeToString(sum[:16])
}

// storeAttempt is a's record in the store.
func (t *Throttle) storeAttempt(buckets []bucket) *store.Attempt {
	sa := &store.Attempt{Window: t.window, Lease: t.shared.Lease, Buckets: make([]store.Bucket, len(buckets))}
	for i, b := range buckets {
		sa.Buckets[i] = store.Bucket{Key: storeKey(b.key), Limit: b.limit, ClearOnSuccess: b.key[:len(ipPrefix)] != ipPrefix}
	}
	return sa
}

func newAttemptID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// checkShared is Check with a shared store: nothing, since Begin's Admit
// refuses as well, and a round trip to the store costs what the account's
// lookup that Check would spare costs.
func (t *Throttle) checkShared(context.Context, string, string) error { return nil }

// storeError is the error of a store that could not answer: it wraps
// store.ErrUnavailable whatever the store's own error says.
func storeError(err error) error {
	if errors.Is(err, store.ErrUnavailable) {
		return fmt.Errorf("throttle: %w", err)
	}
	return fmt.Errorf("throttle: %w: %w", store.ErrUnavailable, err)
}

// Backoff bounds of a waiter polling the store while attempts in flight
// (possibly in other instances) fill a limit; an attempt of this process
// that ends wakes it at once.
const (
	firstPoll = 5 * time.Millisecond
	maxPoll   = 100 * time.Millisecond
)

// beginShared is Begin in the store. This process first holds the attempt
// to its own attempts in flight: no more than a bucket's limit of them ask
// the store at once (the store would find the rest busy), so a flood of
// one account costs the store about its limit of queries at a time.
func (t *Throttle) beginShared(ctx context.Context, a *Attempt) (*Attempt, error) {
	if err := t.enterLocal(ctx, a.buckets); err != nil {
		return nil, err
	}
	a.rec = t.storeAttempt(a.buckets)
	a.rec.ID = newAttemptID()
	poll := firstPoll
	for {
		t.mu.Lock()
		woken := t.woken
		t.mu.Unlock()
		d, err := t.shared.Store.Admit(ctx, a.rec, t.now())
		switch {
		case err != nil:
			t.leaveLocal(a.buckets)
			return nil, storeError(err)
		case d.Admitted:
			return a, nil
		case d.RetryAfter > 0:
			t.leaveLocal(a.buckets)
			return nil, &Refused{RetryAfter: d.RetryAfter}
		}
		a.rec.Again = true
		timer := time.NewTimer(poll)
		select {
		case <-woken:
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			t.leaveLocal(a.buckets)
			return nil, fmt.Errorf("throttle: waiting for earlier logins: %w", ctx.Err())
		}
		timer.Stop()
		poll = min(2*poll, maxPoll)
	}
}

// enterLocal counts an attempt of this process in flight on buckets once
// each has fewer than its limit, waiting for this process's attempts to
// end until then, or until ctx ends.
func (t *Throttle) enterLocal(ctx context.Context, buckets []bucket) error {
	for {
		t.mu.Lock()
		woken, full := t.woken, false
		for _, b := range buckets {
			if fl := t.flights[b.key]; fl != nil && fl.n >= b.limit {
				full = true
				break
			}
		}
		if !full {
			for _, b := range buckets {
				fl := t.flights[b.key]
				if fl == nil {
					fl = &flight{}
					t.flights[b.key] = fl
				}
				fl.n++
			}
			t.mu.Unlock()
			return nil
		}
		t.mu.Unlock()
		select {
		case <-woken:
		case <-ctx.Done():
			return fmt.Errorf("throttle: waiting for earlier logins: %w", ctx.Err())
		}
	}
}

// leaveLocal takes an attempt of this process out of flight and wakes the
// waiters.
func (t *Throttle) leaveLocal(buckets []bucket) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, b := range buckets {
		if fl := t.flights[b.key]; fl != nil {
			if fl.n--; fl.n <= 0 {
				delete(t.flights, b.key)
			}
		}
	}
	close(t.woken)
	t.woken = make(chan struct{})
}

// endTimeout bounds the write of an outcome, which runs whether or not the
// request is still there.
const endTimeout = 30 * time.Second

// endShared writes a's outcome to the store and wakes this process's
// waiters. An outcome that cannot be written is reported; the attempt's
// lease then makes it a failure.
func (a *Attempt) endShared(o store.Outcome) {
	t := a.t
	t.mu.Lock()
	if a.done {
		t.mu.Unlock()
		return
	}
	a.done = true
	t.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), endTimeout)
	defer cancel()
	if err := t.shared.Store.End(ctx, a.rec, o, t.now()); err != nil && t.shared.OnError != nil {
		t.shared.OnError(fmt.Errorf("throttle: the outcome of a login was not recorded (it counts as a failure when its lease passes): %w", err))
	}
	t.leaveLocal(a.buckets)
}

// stateShared is State read from the store, when it can tell (the SQL and
// Redis stores can).
func (t *Throttle) stateShared() State {
	st, ok := t.shared.Store.(interface {
		State(ctx context.Context, window time.Duration, now time.Time) (map[string]int64, int, error)
	})
	if !ok {
		return State{}
	}
	f, n, err := st.State(context.Background(), t.window, t.now())
	if err != nil {
		return State{Failures: map[string]uint32{"#error": 1}}
	}
	s := State{Failures: map[string]uint32{}, InFlight: n}
	for k, v := range f {
		if v != 0 {
			s.Failures[k] = uint32(v)
		}
	}
	return s
}
