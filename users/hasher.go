package users

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Hasher hashes and checks passwords with a bound on how many run at once.
// Each argon2id hash holds its memory cost (19 MiB by default) while it
// runs, so without a bound 500 parallel logins would need 500 times that;
// with one, callers beyond the bound wait for a slot, for as long as their
// context allows and at most [Hasher.SetMaxWait]'s bound, so that a hash
// nobody waits for any more is never computed.
//
// The zero Hasher uses [DefaultParams] and runtime.GOMAXPROCS(0) slots, and
// has no wait bound. A Hasher is safe for concurrent use and must not be
// copied after first use.
type Hasher struct {
	params  Params
	slots   int
	maxWait atomic.Int64 // nanoseconds; 0 is no bound

	once sync.Once
	sem  chan struct{}

	// Test hooks; nil means the real thing.
	hashFn  func(password string, p Params) (string, error)
	checkFn func(encoded, password string) (bool, error)
	onWait  func() // called when a caller finds every slot taken
}

// NewHasher returns a Hasher that hashes with p (zero fields take their
// defaults) and runs at most maxConcurrent hashes or checks at a time;
// maxConcurrent ≤ 0 means runtime.GOMAXPROCS(0).
//
// It panics when p fails [Params.Validate], so that bad parameters stop a
// program at start-up instead of failing every registration; call Validate
// first to get an error instead.
func NewHasher(p Params, maxConcurrent int) *Hasher {
	p = p.WithDefaults()
	if err := p.Validate(); err != nil {
		panic(err.Error())
	}
	h := &Hasher{params: p, slots: maxConcurrent}
	h.init()
	return h
}

func (h *Hasher) init() {
	h.once.Do(func() {
		h.params = h.params.WithDefaults()
		if h.slots <= 0 {
			h.slots = runtime.GOMAXPROCS(0)
		}
		h.sem = make(chan struct{}, h.slots)
	})
}

// Params returns the parameters of new hashes, defaults filled in.
func (h *Hasher) Params() Params {
	h.init()
	return h.params
}

// SetMaxWait bounds how long Hash and Check wait for a slot when every slot
// is taken: a caller that has waited d without getting one fails with
// [ErrBusy], wrapped, and hashes nothing. d ≤ 0 removes the bound (the
// default): callers then wait as long as their context allows. Set it a
// little under the server's write timeout, so that a login that cannot be
// served in time is answered 503 instead of having its connection closed
// unanswered. It may be called at any time; it applies to the waits that
// start afterwards.
func (h *Hasher) SetMaxWait(d time.Duration) {
	h.maxWait.Store(int64(max(d, 0)))
}

// MaxWait returns the bound set by [Hasher.SetMaxWait]; 0 means none.
func (h *Hasher) MaxWait() time.Duration {
	return time.Duration(h.maxWait.Load())
}

// Hash waits for a slot, then returns [HashPassword](password, h.Params()).
// It fails with ctx's error, wrapped, when ctx ends before a slot frees up,
// with [ErrBusy], wrapped, when none frees up within the wait bound, and
// otherwise as HashPassword does.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	release, err := h.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	if h.hashFn != nil {
		return h.hashFn(password, h.params)
	}
	return HashPassword(password, h.params)
}

// Check waits for a slot, then returns [CheckPassword](encoded, password).
// It fails with ctx's error, wrapped, when ctx ends before a slot frees up,
// with [ErrBusy], wrapped, when none frees up within the wait bound, and
// otherwise as CheckPassword does.
func (h *Hasher) Check(ctx context.Context, encoded, password string) (bool, error) {
	release, err := h.acquire(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	if h.checkFn != nil {
		return h.checkFn(encoded, password)
	}
	return CheckPassword(encoded, password)
}

// acquire takes a slot, waiting while all are taken (until ctx ends or the
// wait bound passes), and returns the func that gives it back.
func (h *Hasher) acquire(ctx context.Context) (release func(), err error) {
	h.init()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("users: waiting to hash: %w", err)
	}
	release = func() { <-h.sem }
	select {
	case h.sem <- struct{}{}:
		return release, nil
	default:
	}
	if h.onWait != nil {
		h.onWait()
	}
	var expired <-chan time.Time
	bound := h.MaxWait()
	if bound > 0 {
		timer := time.NewTimer(bound)
		defer timer.Stop()
		expired = timer.C
	}
	select {
	case h.sem <- struct{}{}:
		return release, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("users: waiting to hash: %w", ctx.Err())
	case <-expired:
		return nil, fmt.Errorf("users: no hashing slot within %v: %w", bound, ErrBusy)
	}
}

// ConcurrencyFor is how many hashes with p fit in memoryBudget bytes, at
// least one: the maxConcurrent of a Hasher whose hashing must never use
// more memory than the budget, whatever the number of logins waiting.
// With the default parameters (19 MiB a hash) a 64 MiB budget allows 3.
func ConcurrencyFor(p Params, memoryBudget int64) int {
	per := int64(p.WithDefaults().Memory) * 1024
	return int(max(1, memoryBudget/per))
}
