// Package storetest checks a [throttle.Store] against the contract that
// ginjwt's login throttle relies on. Every store runs it:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) throttle.Store { return myStore(t) })
//	}
//
// Each test uses bucket keys of its own, so stores may be shared.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt/throttle"
)

// Run runs the conformance tests as subtests of t, each on a store from
// newStore.
func Run(t *testing.T, newStore func(t *testing.T) throttle.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s throttle.Store)
	}{
		{"FailuresReachTheLimit", failuresReachTheLimit},
		{"InFlightFillsTheLimit", inFlightFillsTheLimit},
		{"SuccessClears", successClears},
		{"AbandonCountsNothing", abandonCountsNothing},
		{"LapsedLeaseIsOneFailure", lapsedLeaseIsOneFailure},
		{"WindowSlides", windowSlides},
		{"ParallelGuesses", parallelGuesses},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newStore(t))
		})
	}
}

var epoch = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func random() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// attempt returns a new attempt on the buckets name (cleared by a success,
// limit 3) and ip (kept, limit 5).
func attempt(name, ip string) *throttle.Attempt {
	return &throttle.Attempt{
		ID:      random(),
		Buckets: []throttle.Bucket{{Key: name, Limit: 3, ClearOnSuccess: true}, {Key: ip, Limit: 5}},
		Window:  time.Minute,
		Lease:   10 * time.Second,
	}
}

func admit(t *testing.T, s throttle.Store, a *throttle.Attempt, now time.Time) throttle.Decision {
	t.Helper()
	d, err := s.Admit(context.Background(), a, now)
	if err != nil {
		t.Fatalf("Admit: %v", err)
	}
	return d
}

func end(t *testing.T, s throttle.Store, a *throttle.Attempt, o throttle.Outcome, now time.Time) {
	t.Helper()
	if err := s.End(context.Background(), a, o, now); err != nil {
		t.Fatalf("End: %v", err)
	}
}

func check(t *testing.T, s throttle.Store, a *throttle.Attempt, now time.Time) time.Duration {
	t.Helper()
	d, err := s.Check(context.Background(), a, now)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	return d
}

// fail admits and fails one attempt, which must be admitted.
func fail(t *testing.T, s throttle.Store, name, ip string, now time.Time) {
	t.Helper()
	a := attempt(name, ip)
	if d := admit(t, s, a, now); !d.Admitted {
		t.Fatalf("attempt refused: %+v", d)
	}
	end(t, s, a, throttle.Failed, now)
}

func failuresReachTheLimit(t *testing.T, s throttle.Store) {
	name, ip := random(), random()
	now := epoch.Add(10 * time.Second)
	for range 3 {
		if d := check(t, s, attempt(name, ip), now); d != 0 {
			t.Fatalf("Check before the limit: retry after %v", d)
		}
		fail(t, s, name, ip, now)
	}
	d := admit(t, s, attempt(name, ip), now)
	if d.Admitted || d.RetryAfter <= 0 || d.RetryAfter > 2*time.Minute {
		t.Fatalf("after 3 failures: %+v; want refused for up to two windows", d)
	}
	if c := check(t, s, attempt(name, ip), now); c != d.RetryAfter {
		t.Fatalf("Check says retry after %v, Admit %v", c, d.RetryAfter)
	}
	// Another name from the same address: 2 more failures reach its 5.
	other := random()
	fail(t, s, other, ip, now)
	fail(t, s, random(), ip, now)
	if d := admit(t, s, attempt(random(), ip), now); d.Admitted || d.RetryAfter <= 0 {
		t.Fatalf("after 5 failures from one address: %+v; want refused", d)
	}
}

func inFlightFillsTheLimit(t *testing.T, s throttle.Store) {
	name, ip := random(), random()
	now := epoch.Add(10 * time.Second)
	fail(t, s, name, ip, now)
	var flying []*throttle.Attempt
	for range 2 {
		a := attempt(name, ip)
		if d := admit(t, s, a, now); !d.Admitted {
			t.Fatalf("attempt refused: %+v", d)
		}
		flying = append(flying, a)
	}
	if d := admit(t, s, attempt(name, ip), now); d.Admitted || d.RetryAfter != 0 {
		t.Fatalf("1 failure + 2 in flight, limit 3: %+v; want busy", d)
	}
	end(t, s, flying[0], throttle.Abandoned, now)
	late := attempt(name, ip)
	if d := admit(t, s, late, now); !d.Admitted {
		t.Fatalf("after one ended without outcome: %+v; want admitted", d)
	}
	end(t, s, flying[1], throttle.Failed, now)
	end(t, s, late, throttle.Failed, now)
	if d := admit(t, s, attempt(name, ip), now); d.Admitted || d.RetryAfter <= 0 {
		t.Fatalf("3 failures: %+v; want refused", d)
	}
}

func successClears(t *testing.T, s throttle.Store) {
	name, ip := random(), random()
	now := epoch.Add(10 * time.Second)
	fail(t, s, name, ip, now)
	fail(t, s, name, ip, now)
	a := attempt(name, ip)
	if d := admit(t, s, a, now); !d.Admitted {
		t.Fatalf("attempt refused: %+v", d)
	}
	end(t, s, a, throttle.Succeeded, now)
	// The name's count is cleared (3 more failures pass), the address's
	// is not (2 + 3 = 5 reaches its limit).
	for range 3 {
		fail(t, s, name, ip, now)
	}
	if d := admit(t, s, attempt(random(), ip), now); d.Admitted || d.RetryAfter <= 0 {
		t.Fatalf("a success cleared the address's failures: %+v", d)
	}
}

func abandonCountsNothing(t *testing.T, s throttle.Store) {
	name, ip := random(), random()
	now := epoch.Add(10 * time.Second)
	for range 10 {
		a := attempt(name, ip)
		if d := admit(t, s, a, now); !d.Admitted {
			t.Fatalf("attempt refused after abandoned ones: %+v", d)
		}
		end(t, s, a, throttle.Abandoned, now)
		end(t, s, a, throttle.Failed, now) // after the first End: nothing
	}
	if d := check(t, s, attempt(name, ip), now); d != 0 {
		t.Fatalf("abandoned attempts counted: retry after %v", d)
	}
}

func lapsedLeaseIsOneFailure(t *testing.T, s throttle.Store) {
	name, ip := random(), random()
	now := epoch.Add(10 * time.Second)
	lost := attempt(name, ip) // its instance dies: no End
	if d := admit(t, s, lost, now); !d.Admitted {
		t.Fatalf("attempt refused: %+v", d)
	}
	late := attempt(name, ip) // ends after its lease, as a failure
	if d := admit(t, s, late, now); !d.Admitted {
		t.Fatalf("attempt refused: %+v", d)
	}
	now = now.Add(11 * time.Second) // both leases passed
	fail(t, s, name, ip, now)       // the lost one counted here, this one too
	end(t, s, late, throttle.Failed, now)
	// lost + late + the one in between: 3 failures, not 4, and refused.
	d := admit(t, s, attempt(name, ip), now)
	if d.Admitted || d.RetryAfter <= 0 {
		t.Fatalf("after a lapsed lease and two failures: %+v; want refused", d)
	}
	// The address has lost, late and one more: 3 of its 5, and a fourth
	// now leaves room for one more, unless late was counted twice.
	fail(t, s, random(), ip, now)
	if d := admit(t, s, attempt(random(), ip), now); !d.Admitted {
		t.Fatalf("a lapsed lease counted twice: %+v", d)
	}
}

func windowSlides(t *testing.T, s throttle.Store) {
	name, ip := random(), random()
	now := epoch.Add(50 * time.Second) // 10 s before the window ends
	for range 3 {
		fail(t, s, name, ip, now)
	}
	d := admit(t, s, attempt(name, ip), now)
	if d.Admitted {
		t.Fatal("admitted past the limit")
	}
	// The count slides out with the window: 3 in the previous window
	// weigh less than 3 once a third of the next has passed.
	if d := admit(t, s, attempt(name, ip), now.Add(d.RetryAfter)); !d.Admitted {
		t.Fatalf("still refused after the retry-after: %+v", d)
	}
	if c := check(t, s, attempt(name, ip), now.Add(2*time.Minute)); c != 0 {
		t.Fatalf("two windows later: retry after %v", c)
	}
}

// parallelGuesses: 40 goroutines guess at once, each retrying while busy:
// at most the limit are admitted.
func parallelGuesses(t *testing.T, s throttle.Store) {
	name := random()
	now := epoch.Add(10 * time.Second)
	var admitted, refused atomic.Int64
	var wg sync.WaitGroup
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := attempt(name, random())
			for {
				d, err := s.Admit(context.Background(), a, now)
				if err != nil {
					t.Errorf("Admit: %v", err)
					return
				}
				if d.RetryAfter > 0 {
					refused.Add(1)
					return
				}
				if d.Admitted {
					admitted.Add(1)
					if err := s.End(context.Background(), a, throttle.Failed, now); err != nil {
						t.Errorf("End: %v", err)
					}
					return
				}
				time.Sleep(time.Millisecond)
			}
		}()
	}
	wg.Wait()
	if admitted.Load() != 3 || refused.Load() != 37 {
		t.Fatalf("40 parallel guesses: %d admitted, %d refused; want 3 and 37", admitted.Load(), refused.Load())
	}
}
