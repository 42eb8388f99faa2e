package users

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// within fails t when ch does not deliver before a generous deadline: a
// guard against hangs, never a timing assertion.
func within[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

func TestNewHasherDefaults(t *testing.T) {
	t.Parallel()
	h := NewHasher(Params{}, 0)
	if h.Params() != DefaultParams {
		t.Fatalf("Params() = %+v; want %+v", h.Params(), DefaultParams)
	}
	if cap(h.sem) != runtime.GOMAXPROCS(0) {
		t.Fatalf("slots = %d; want GOMAXPROCS = %d", cap(h.sem), runtime.GOMAXPROCS(0))
	}
	if got := cap(NewHasher(fastParams, 3).sem); got != 3 {
		t.Fatalf("slots = %d; want 3", got)
	}

	var zero Hasher
	if zero.Params() != DefaultParams {
		t.Fatalf("zero Hasher Params() = %+v; want %+v", zero.Params(), DefaultParams)
	}
	ok, err := zero.Check(context.Background(), mustHash(t, "pw", fastParams), "pw")
	if err != nil || !ok {
		t.Fatalf("zero Hasher Check = %v, %v; want true, nil", ok, err)
	}
}

func TestNewHasherPanicsOnBadParams(t *testing.T) {
	t.Parallel()
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(r.(string), "invalid argon2id parameters") {
			t.Fatalf("recover() = %v; want a panic naming the bad params", r)
		}
	}()
	NewHasher(Params{Memory: MaxMemory + 1}, 1)
}

func TestHasherHashAndCheck(t *testing.T) {
	t.Parallel()
	h := NewHasher(fastParams, 1)
	ctx := context.Background()
	encoded, err := h.Hash(ctx, "pw")
	if err != nil {
		t.Fatal(err)
	}
	if NeedsRehash(encoded, h.Params()) {
		t.Fatalf("Hash made %q, not with the hasher's params %+v", encoded, h.Params())
	}
	if ok, err := h.Check(ctx, encoded, "pw"); !ok || err != nil {
		t.Fatalf("Check(right) = %v, %v", ok, err)
	}
	if ok, err := h.Check(ctx, encoded, "wrong"); ok || err != nil {
		t.Fatalf("Check(wrong) = %v, %v", ok, err)
	}
	if _, err := h.Hash(ctx, ""); !errors.Is(err, ErrInvalidPassword) {
		t.Fatalf("Hash(\"\") error = %v; want ErrInvalidPassword", err)
	}
	if _, err := h.Check(ctx, "nonsense", "pw"); !errors.Is(err, ErrUnknownHash) {
		t.Fatalf("Check(nonsense) error = %v; want ErrUnknownHash", err)
	}
	if len(h.sem) != 0 {
		t.Fatalf("%d slots still held after the calls returned", len(h.sem))
	}
}

// gate is a hook that holds every caller until released, counting how many
// are inside at once.
type gate struct {
	inside, peak atomic.Int32
	entered      chan struct{}
	waiting      chan struct{}
	release      chan struct{}
}

func newGate(n int) *gate {
	return &gate{entered: make(chan struct{}, n), waiting: make(chan struct{}, n), release: make(chan struct{})}
}

func (g *gate) pass() {
	n := g.inside.Add(1)
	for {
		p := g.peak.Load()
		if n <= p || g.peak.CompareAndSwap(p, n) {
			break
		}
	}
	g.entered <- struct{}{}
	<-g.release
	g.inside.Add(-1)
}

// install routes h's hashing through g.
func (g *gate) install(h *Hasher) {
	h.hashFn = func(string, Params) (string, error) { g.pass(); return "hash", nil }
	h.checkFn = func(string, string) (bool, error) { g.pass(); return true, nil }
	h.onWait = func() { g.waiting <- struct{}{} }
}

func TestHasherBoundsConcurrency(t *testing.T) {
	t.Parallel()
	const slots, callers = 2, 10
	calls := map[string]func(h *Hasher) error{
		"Hash": func(h *Hasher) error {
			_, err := h.Hash(context.Background(), "pw")
			return err
		},
		"Check": func(h *Hasher) error {
			_, err := h.Check(context.Background(), "hash", "pw")
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := NewHasher(fastParams, slots)
			g := newGate(callers)
			g.install(h)

			var wg sync.WaitGroup
			errs := make(chan error, callers)
			for range callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs <- call(h)
				}()
			}
			// Every caller is accounted for: slots inside, the rest waiting.
			for i := range slots {
				within(t, g.entered, fmt.Sprintf("caller %d to enter", i+1))
			}
			for range callers - slots {
				select {
				case <-g.waiting:
				case <-g.entered:
					t.Fatalf("caller %d started hashing; want at most %d at once", g.inside.Load(), slots)
				case <-time.After(30 * time.Second):
					t.Fatal("timed out waiting for callers to wait")
				}
			}
			if n := g.inside.Load(); n != slots {
				t.Fatalf("%d callers hashing at once; want %d", n, slots)
			}
			close(g.release)
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatalf("call failed: %v", err)
				}
			}
			if p := g.peak.Load(); p != slots {
				t.Fatalf("peak concurrency %d; want %d", p, slots)
			}
			if len(h.sem) != 0 {
				t.Fatalf("%d slots still held", len(h.sem))
			}
		})
	}
}

func TestHasherContextEndsWhileWaiting(t *testing.T) {
	t.Parallel()
	h := NewHasher(fastParams, 1)
	g := newGate(2)
	g.install(h)
	holder := make(chan error, 1)
	go func() { _, err := h.Check(context.Background(), "hash", "pw"); holder <- err }()
	within(t, g.entered, "the holder to take the slot")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	waiter := make(chan error, 1)
	go func() { _, err := h.Hash(ctx, "pw"); waiter <- err }()
	within(t, g.waiting, "the second caller to wait")
	cancel()
	err := within(t, waiter, "the waiter to give up")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Hash error = %v; want context.Canceled", err)
	}
	if !strings.HasPrefix(err.Error(), "users: ") {
		t.Fatalf("error %q is not wrapped by the package", err)
	}
	if n := g.inside.Load(); n != 1 {
		t.Fatalf("%d inside after the waiter gave up; want only the holder", n)
	}
	close(g.release)
	if err := within(t, holder, "the holder to finish"); err != nil {
		t.Fatal(err)
	}
	if len(h.sem) != 0 {
		t.Fatalf("%d slots still held", len(h.sem))
	}
}

func TestHasherContextAlreadyDone(t *testing.T) {
	t.Parallel()
	h := NewHasher(fastParams, 1)
	calls := 0
	h.checkFn = func(string, string) (bool, error) { calls++; return true, nil }
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// A free slot must not win against a context that has already ended.
	for range 20 {
		if _, err := h.Check(ctx, "hash", "pw"); !errors.Is(err, context.Canceled) {
			t.Fatalf("Check error = %v; want context.Canceled", err)
		}
	}
	if calls != 0 {
		t.Fatalf("hashed %d times with a canceled context", calls)
	}
}

func TestConcurrencyFor(t *testing.T) {
	cases := []struct {
		p      Params
		budget int64
		want   int
	}{
		{DefaultParams, 64 << 20, 3},
		{DefaultParams, 1, 1},
		{Params{}, 190 << 20, 10},
		{Params{Memory: 64}, 1 << 20, 16},
	}
	for _, tc := range cases {
		if got := ConcurrencyFor(tc.p, tc.budget); got != tc.want {
			t.Errorf("ConcurrencyFor(%+v, %d) = %d, want %d", tc.p, tc.budget, got, tc.want)
		}
	}
}

func TestHasherMaxWait(t *testing.T) {
	t.Parallel()
	h := NewHasher(fastParams, 1)
	if h.MaxWait() != 0 {
		t.Fatalf("MaxWait() = %v; want 0 (no bound) by default", h.MaxWait())
	}
	g := newGate(2)
	g.install(h)
	holder := make(chan error, 1)
	go func() { _, err := h.Check(context.Background(), "hash", "pw"); holder <- err }()
	within(t, g.entered, "the holder to take the slot")

	h.SetMaxWait(20 * time.Millisecond)
	if h.MaxWait() != 20*time.Millisecond {
		t.Fatalf("MaxWait() = %v after SetMaxWait(20ms)", h.MaxWait())
	}
	for name, call := range map[string]func() error{
		"Check": func() error { _, err := h.Check(context.Background(), "hash", "pw"); return err },
		"Hash":  func() error { _, err := h.Hash(context.Background(), "pw"); return err },
	} {
		done := make(chan error, 1)
		go func() { done <- call() }()
		within(t, g.waiting, name+" to wait")
		err := within(t, done, name+" to give up")
		if !errors.Is(err, ErrBusy) || !strings.HasPrefix(err.Error(), "users: ") {
			t.Fatalf("%s error = %v; want a wrapped ErrBusy", name, err)
		}
	}
	if n := g.inside.Load(); n != 1 {
		t.Fatalf("%d inside after the waiters gave up; want only the holder", n)
	}

	// A context that ends first wins over the bound, and is told apart.
	h.SetMaxWait(time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	waiter := make(chan error, 1)
	go func() { _, err := h.Check(ctx, "hash", "pw"); waiter <- err }()
	within(t, g.waiting, "the third caller to wait")
	cancel()
	if err := within(t, waiter, "the canceled waiter"); !errors.Is(err, context.Canceled) || errors.Is(err, ErrBusy) {
		t.Fatalf("Check error = %v; want context.Canceled, not ErrBusy", err)
	}

	// Without a bound, a waiter gets the slot however long it takes.
	h.SetMaxWait(-1)
	if h.MaxWait() != 0 {
		t.Fatalf("MaxWait() = %v after SetMaxWait(-1); want 0", h.MaxWait())
	}
	patient := make(chan error, 1)
	go func() { _, err := h.Check(context.Background(), "hash", "pw"); patient <- err }()
	within(t, g.waiting, "the unbounded caller to wait")
	close(g.release)
	if err := within(t, holder, "the holder"); err != nil {
		t.Fatal(err)
	}
	if err := within(t, patient, "the unbounded caller"); err != nil {
		t.Fatalf("unbounded Check error = %v", err)
	}
	if len(h.sem) != 0 {
		t.Fatalf("%d slots still held", len(h.sem))
	}
}
