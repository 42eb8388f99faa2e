package throttle

import (
	"fmt"
	"testing"
	"time"
)

func TestSlidingWindow(t *testing.T) {
	t.Parallel()
	clk := newClock()
	clk.now = clk.now.Truncate(time.Minute) // the start of a window
	th := New(Config{PerAccount: 4, PerIP: 1000, Window: time.Minute}, clk.Now)
	for range 4 {
		if _, ok := failOnce(t, th, "a", "ip"); !ok {
			t.Fatal("refused below the limit")
		}
	}
	wait, ok := failOnce(t, th, "a", "ip")
	if ok || wait <= time.Minute || wait > 2*time.Minute {
		t.Fatalf("at the limit: wait %v ok %v", wait, ok)
	}
	// Half way through the next window, half the old failures still count.
	clk.Advance(time.Minute + 30*time.Second)
	if _, ok := failOnce(t, th, "a", "ip"); !ok {
		t.Fatal("2 weighted failures of 4 allowed should pass")
	}
	failOnce(t, th, "a", "ip") // counted: 2 weighted + 2
	wait, ok = failOnce(t, th, "a", "ip")
	if ok {
		t.Fatal("2 weighted + 2 failures should be refused")
	}
	clk.Advance(wait)
	if _, ok := failOnce(t, th, "a", "ip"); !ok {
		t.Fatalf("still refused after the announced wait %v", wait)
	}
}

// TestTableFull: past its table's size a window keeps counting, in shared
// buckets that may over-count but never under-count, and its memory stays
// bounded.
func TestTableFull(t *testing.T) {
	t.Parallel()
	clk := newClock()
	clk.now = clk.now.Truncate(time.Minute)
	th := New(Config{PerAccount: 3, PerIP: 1 << 30, Window: time.Minute}, clk.Now)
	th.maxKeys, th.nBuckets = 8, 16
	th.cur, th.prev = th.newFailures(), th.newFailures()
	const names = 200
	truth := map[string]int{}
	for i := range names {
		for range i%3 + 1 {
			login := fmt.Sprintf("user%d", i)
			if _, ok := failOnce(t, th, login, "192.0.2.1"); ok {
				truth[login]++
			}
		}
	}
	if len(th.cur.exact) > 8 || len(th.cur.overflow) != 16 {
		t.Fatalf("table grew to %d keys and %d buckets; want at most 8 and 16", len(th.cur.exact), len(th.cur.overflow))
	}
	now := clk.Now()
	th.mu.Lock()
	for login, n := range truth {
		if got := th.estimate(loginKey(login), now); got < float64(n) {
			t.Errorf("%s: counted %v, failed %d times: the table lost failures", login, got, n)
		}
	}
	th.mu.Unlock()
	if th.State().Failures["#overflow"] == 0 {
		t.Fatal("State does not report the overflow buckets")
	}
	// Names never seen before are still counted: none gets more than the limit.
	for i := range 50 {
		login := fmt.Sprintf("late%d", i)
		for range 3 {
			failOnce(t, th, login, "192.0.2.1")
		}
		if _, ok := failOnce(t, th, login, "192.0.2.1"); ok {
			t.Fatalf("%s got a 4th guess past a full table", login)
		}
	}
	// A window later the old counts weigh in; two windows later they are gone.
	clk.Advance(time.Minute)
	th.mu.Lock()
	th.advance(clk.Now())
	if got := th.estimate(loginKey("late0"), clk.Now()); got < 3 {
		th.mu.Unlock()
		t.Fatalf("the previous window's overflow count was lost: %v", got)
	}
	th.mu.Unlock()
	clk.Advance(2 * time.Minute)
	if _, ok := failOnce(t, th, "late0", "192.0.2.1"); !ok {
		t.Fatal("refused two windows later")
	}
	if th.prev.overflow != nil || th.cur.overflow != nil {
		t.Fatal("the overflow buckets outlived their windows")
	}
}
