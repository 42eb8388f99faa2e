package throttle

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"
)

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Unix(1_800_000_000, 0)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// failOnce starts an attempt and reports it failed, as a wrong password
// would; when the throttle refuses, it returns the announced wait.
func failOnce(t *testing.T, th *Throttle, login, ip string) (time.Duration, bool) {
	t.Helper()
	at, err := th.Begin(context.Background(), login, "", ip)
	var refused *Refused
	if errors.As(err, &refused) {
		return refused.RetryAfter, false
	}
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	at.Fail()
	return 0, true
}

// TestCheck: a login whose name or IP has reached its limit is refused
// before its account is resolved, with the wait Begin would announce.
func TestCheck(t *testing.T) {
	t.Parallel()
	th := New(Config{PerAccount: 2, PerIP: 3, Window: time.Minute}, newClock().Now)
	for range 2 {
		failOnce(t, th, "alice", "192.0.2.1")
	}
	var refused *Refused
	if err := th.Check(context.Background(), "ALICE ", "192.0.2.2"); !errors.As(err, &refused) || refused.RetryAfter <= 0 {
		t.Fatalf("Check of a name at its limit: %v; want a *Refused with a wait", err)
	}
	if err := th.Check(context.Background(), "bob", "192.0.2.2"); err != nil {
		t.Fatalf("Check of another name: %v", err)
	}
	failOnce(t, th, "bob", "192.0.2.1")
	if err := th.Check(context.Background(), "carol", "192.0.2.1"); !errors.As(err, &refused) {
		t.Fatalf("Check from an IP at its limit: %v; want a *Refused", err)
	}
}

// TestAccountSharesOneLimit: names that resolve to one account share its
// limit, and each name keeps its own.
func TestAccountSharesOneLimit(t *testing.T) {
	t.Parallel()
	th := New(Config{PerAccount: 2, PerIP: 100, Window: time.Minute}, newClock().Now)
	for _, login := range []string{"alice", "alice@example.com"} {
		at, err := th.Begin(context.Background(), login, "42", "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		at.Fail()
	}
	var refused *Refused
	if _, err := th.Begin(context.Background(), "ALICE@example.com", "42", "192.0.2.1"); !errors.As(err, &refused) {
		t.Fatalf("a third name of the account after 2 failures: %v; want a *Refused", err)
	}
	if err := th.Check(context.Background(), "ALICE@example.com", "192.0.2.1"); err != nil {
		t.Fatalf("the name itself has 1 failure of 2: %v", err)
	}
}

// TestCountsConcurrentAttempts: attempts in flight count before their
// password check ends, so a burst of guesses cannot exceed the limit.
func TestCountsConcurrentAttempts(t *testing.T) {
	t.Parallel()
	clk := newClock()
	th := New(Config{PerAccount: 10, PerIP: 1000, Window: time.Minute}, clk.Now)
	var mu sync.Mutex
	passed, inFlight, peak := 0, 0, 0
	var wg sync.WaitGroup
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			at, err := th.Begin(context.Background(), "victim", "", "192.0.2.1")
			if err != nil {
				var refused *Refused
				if !errors.As(err, &refused) {
					t.Errorf("Begin: %v", err)
				}
				return
			}
			mu.Lock()
			passed++
			inFlight++
			peak = max(peak, inFlight)
			mu.Unlock()
			runtime.Gosched()
			mu.Lock()
			inFlight--
			mu.Unlock()
			at.Fail()
		}()
	}
	wg.Wait()
	if passed != 10 || peak > 10 {
		t.Fatalf("%d of 200 concurrent guesses were checked (at most %d at once), want 10", passed, peak)
	}
}

// TestWaitsForOutcomes: correct logins beyond the limit wait for the ones
// ahead of them instead of being refused, never more than the limit in
// flight at once (failures included).
func TestWaitsForOutcomes(t *testing.T) {
	t.Parallel()
	th := New(Config{PerAccount: 10, PerIP: 1000, Window: time.Minute}, newClock().Now)
	for range 4 {
		failOnce(t, th, "alice", "192.0.2.9")
	}
	var mu sync.Mutex
	inFlight, peak := 0, 0
	var wg sync.WaitGroup
	errs := make(chan error, 30)
	for range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			at, err := th.Begin(context.Background(), "alice", "", "192.0.2.1")
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			inFlight++
			peak = max(peak, inFlight)
			mu.Unlock()
			runtime.Gosched()
			mu.Lock()
			inFlight--
			mu.Unlock()
			at.Succeed()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("a correct login was refused: %v", err)
	}
	// The first success cleared the 4 failures: 6, then 10, could be in flight.
	if peak > 10 {
		t.Fatalf("%d logins in flight at once; want at most 10", peak)
	}
	// The account's failures are cleared, the guessing IP's are not.
	if s := th.State(); s.Login("alice") != 0 || s.IP("192.0.2.9") != 4 || s.InFlight != 0 {
		t.Fatalf("after the successes: failures %q, %d keys in flight", s.Failures, s.InFlight)
	}
}

// TestNoOutcome: an attempt that ends without an outcome counts nothing
// and frees its place; reporting twice counts once.
func TestNoOutcome(t *testing.T) {
	t.Parallel()
	th := New(Config{PerAccount: 1, PerIP: 1000, Window: time.Minute}, newClock().Now)
	ctx := context.Background()
	for range 5 {
		at, err := th.Begin(ctx, "bob", "", "192.0.2.1")
		if err != nil {
			t.Fatalf("Begin after abandoned attempts: %v", err)
		}
		at.Abandon()
		at.Fail() // too late: the attempt has ended
	}
	if s := th.State(); len(s.Failures) != 0 || s.InFlight != 0 {
		t.Fatalf("abandoned attempts left failures %v and %d keys in flight", s.Failures, s.InFlight)
	}
	var none *Attempt // throttling off
	none.Fail()
	none.Succeed()
	none.Abandon()
}

// TestWaitIsBounded: a login waiting for the attempts ahead of it gives up
// when its context ends (the client went away, or the handler's MaxWait
// passed).
func TestWaitIsBounded(t *testing.T) {
	t.Parallel()
	th := New(Config{PerAccount: 1, PerIP: 1000, Window: time.Minute}, newClock().Now)
	ahead, err := th.Begin(context.Background(), "carol", "", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err = th.Begin(ctx, "carol", "", "192.0.2.2"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("past the deadline: %v; want context.DeadlineExceeded", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := th.Begin(ctx, "carol", "", "192.0.2.3"); done <- err }()
	for {
		th.mu.Lock()
		waiting := th.flights[loginKey("carol")].changed != nil
		th.mu.Unlock()
		if waiting {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	var refused *Refused
	if err := <-done; !errors.Is(err, context.Canceled) || errors.As(err, &refused) {
		t.Fatalf("client gone while waiting: %v; want context.Canceled", err)
	}
	ahead.Succeed()
	if s := th.State(); len(s.Failures) != 0 || s.InFlight != 0 {
		t.Fatalf("failures %v and %d keys in flight; want none", s.Failures, s.InFlight)
	}
}
