package ginjwt

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func failLogin(h *harness, username, remote, xff string) int {
	r := req{path: "/auth/token", json: map[string]string{"username": username, "password": "wrong"}, remote: remote}
	if xff != "" {
		r.header = http.Header{"X-Forwarded-For": {xff}}
	}
	return h.do(r).Code
}

func TestThrottlePerAccount(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, func(c *Config) { c.Throttle = Throttle{PerAccount: 3, PerIP: 100, Window: 10 * time.Minute} })
	h.user("alice")
	for i := range 3 {
		if code := failLogin(h, "alice", fmt.Sprintf("192.0.2.%d:1", i), ""); code != 401 {
			t.Fatalf("failure %d answered %d", i, code)
		}
	}
	// From any address, even with the right password, and whatever the case.
	w := h.do(req{path: "/auth/token", json: map[string]string{"username": "ALICE", "password": "pw-alice"}, remote: "192.0.2.99:1"})
	wantError(t, w, 429, "too_many_requests")
	// An unrelated account is not affected.
	wantError(t, h.do(req{path: "/auth/token", json: map[string]string{"username": "bob", "password": "x"}}), 401, "invalid_credentials")

	h.clock.Advance(20 * time.Minute)
	h.login("alice")
}

func TestThrottlePerIPIgnoresForgedForwardedFor(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, func(c *Config) { c.Throttle = Throttle{PerAccount: 100, PerIP: 3} })
	for i := range 3 {
		failLogin(h, fmt.Sprintf("user%d", i), "192.0.2.7:1", fmt.Sprintf("203.0.113.%d", i))
	}
	// A new X-Forwarded-For from an untrusted peer does not make a new client.
	if code := failLogin(h, "someone", "192.0.2.7:2", "198.51.100.1"); code != 429 {
		t.Fatalf("4th failure from one peer with a forged X-Forwarded-For answered %d, want 429", code)
	}
	if code := failLogin(h, "someone", "192.0.2.8:1", ""); code != 401 {
		t.Fatalf("another peer answered %d, want 401", code)
	}
}

func TestThrottlePerIPBehindTrustedProxy(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, func(c *Config) {
		c.Throttle = Throttle{PerAccount: 100, PerIP: 2}
		c.TrustedProxies = []string{"10.0.0.0/8"}
	})
	for i := range 2 {
		failLogin(h, fmt.Sprintf("u%d", i), "10.0.0.1:1", "203.0.113.5")
	}
	if code := failLogin(h, "u9", "10.0.0.2:1", "203.0.113.5"); code != 429 {
		t.Fatalf("same client through another proxy answered %d, want 429", code)
	}
	if code := failLogin(h, "u9", "10.0.0.1:1", "203.0.113.6"); code != 401 {
		t.Fatalf("another client through the proxy answered %d, want 401", code)
	}
}

func TestThrottleSuccessClearsAccount(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, func(c *Config) { c.Throttle = Throttle{PerAccount: 3, PerIP: 100} })
	h.user("alice")
	for range 2 {
		failLogin(h, "alice", "192.0.2.1:1", "")
	}
	h.login("alice")
	for range 2 {
		if code := failLogin(h, "alice", "192.0.2.1:1", ""); code != 401 {
			t.Fatalf("after a success, failure answered %d", code)
		}
	}
}

// failOnce starts an attempt and reports it failed, as a wrong password
// would; when the throttle refuses, it returns the announced wait.
func failOnce(t *testing.T, th *throttle, login, ip string) (time.Duration, bool) {
	t.Helper()
	at, err := th.begin(context.Background(), login, "", ip)
	var refused *throttled
	if errors.As(err, &refused) {
		return refused.retryAfter, false
	}
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	at.fail()
	return 0, true
}

func TestThrottleSlidingWindow(t *testing.T) {
	t.Parallel()
	clk := newClock()
	clk.now = clk.now.Truncate(time.Minute) // the start of a window
	th := newThrottle(Throttle{PerAccount: 4, PerIP: 1000, Window: time.Minute}, clk.Now)
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

// TestThrottleCountsConcurrentAttempts: attempts in flight count before
// their password check ends, so a burst of guesses cannot exceed the limit.
func TestThrottleCountsConcurrentAttempts(t *testing.T) {
	t.Parallel()
	clk := newClock()
	th := newThrottle(Throttle{PerAccount: 10, PerIP: 1000, Window: time.Minute}, clk.Now)
	var mu sync.Mutex
	passed, inFlight, peak := 0, 0, 0
	var wg sync.WaitGroup
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			at, err := th.begin(context.Background(), "victim", "", "192.0.2.1")
			if err != nil {
				if !errors.Is(err, ErrTooManyRequests) {
					t.Errorf("begin: %v", err)
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
			at.fail()
		}()
	}
	wg.Wait()
	if passed != 10 || peak > 10 {
		t.Fatalf("%d of 200 concurrent guesses were checked (at most %d at once), want 10", passed, peak)
	}
}

// TestThrottleWaitsForOutcomes: correct logins beyond the limit wait for the
// ones ahead of them instead of being refused, never more than the limit in
// flight at once (failures included).
func TestThrottleWaitsForOutcomes(t *testing.T) {
	t.Parallel()
	th := newThrottle(Throttle{PerAccount: 10, PerIP: 1000, Window: time.Minute}, newClock().Now)
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
			at, err := th.begin(context.Background(), "alice", "", "192.0.2.1")
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
			at.succeed()
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
	if f, n := throttleState(th); f[accountKey("alice")] != 0 || f[ipKey("192.0.2.9")] != 4 || n != 0 {
		t.Fatalf("after the successes: failures %q, %d keys in flight", f, n)
	}
}

// TestThrottleNoOutcome: an attempt that ends without an outcome counts
// nothing and frees its place; reporting twice counts once.
func TestThrottleNoOutcome(t *testing.T) {
	t.Parallel()
	th := newThrottle(Throttle{PerAccount: 1, PerIP: 1000, Window: time.Minute}, newClock().Now)
	ctx := context.Background()
	for range 5 {
		at, err := th.begin(ctx, "bob", "", "192.0.2.1")
		if err != nil {
			t.Fatalf("begin after abandoned attempts: %v", err)
		}
		at.abandon()
		at.fail() // too late: the attempt has ended
	}
	if f, n := throttleState(th); len(f) != 0 || n != 0 {
		t.Fatalf("abandoned attempts left failures %v and %d keys in flight", f, n)
	}
	var none *attempt // throttling off
	none.fail()
	none.succeed()
	none.abandon()
}

// TestThrottleWaitIsBounded: a login waiting for the attempts ahead of it
// gives up when its context ends (the client went away, or the handler's
// MaxWait passed).
func TestThrottleWaitIsBounded(t *testing.T) {
	t.Parallel()
	th := newThrottle(Throttle{PerAccount: 1, PerIP: 1000, Window: time.Minute}, newClock().Now)
	ahead, err := th.begin(context.Background(), "carol", "", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err = th.begin(ctx, "carol", "", "192.0.2.2"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("past the deadline: %v; want context.DeadlineExceeded", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := th.begin(ctx, "carol", "", "192.0.2.3"); done <- err }()
	for {
		th.mu.Lock()
		waiting := th.flights[accountKey("carol")].changed != nil
		th.mu.Unlock()
		if waiting {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) || errors.Is(err, ErrTooManyRequests) {
		t.Fatalf("client gone while waiting: %v; want context.Canceled", err)
	}
	ahead.succeed()
	if f, n := throttleState(th); len(f) != 0 || n != 0 {
		t.Fatalf("failures %v and %d keys in flight; want none", f, n)
	}
}

// TestThrottleTableFull: past its table's size a window keeps counting, in
// shared buckets that may over-count but never under-count, and its memory
// stays bounded.
func TestThrottleTableFull(t *testing.T) {
	t.Parallel()
	clk := newClock()
	clk.now = clk.now.Truncate(time.Minute)
	th := newThrottle(Throttle{PerAccount: 3, PerIP: 1 << 30, Window: time.Minute}, clk.Now)
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
		if got := th.estimate(accountKey(login), now); got < float64(n) {
			t.Errorf("%s: counted %v, failed %d times: the table lost failures", login, got, n)
		}
	}
	th.mu.Unlock()
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
	if got := th.estimate(accountKey("late0"), clk.Now()); got < 3 {
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

// throttleState is the throttle's exact failure counts (both windows
// added), the total of its overflow buckets under "#overflow", and how many
// keys have attempts in flight.
func throttleState(th *throttle) (map[string]uint32, int) {
	th.mu.Lock()
	defer th.mu.Unlock()
	f := map[string]uint32{}
	for _, w := range []*failures{th.prev, th.cur} {
		for k, n := range w.exact {
			f[k] += n
		}
		for _, n := range w.overflow {
			if n > 0 {
				f["#overflow"] += n
			}
		}
	}
	return f, len(th.flights)
}

func TestThrottleKeys(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 70_000)
	if k := accountKey(long); len(k) > 64 || k != accountKey(strings.ToUpper(long)) {
		t.Fatalf("long login key: %d bytes", len(k))
	}
	if ipKey("2001:db8::1") != ipKey("2001:db8::ffff:1") || ipKey("2001:db8::1") == ipKey("2001:db8:0:1::1") {
		t.Fatal("IPv6 clients are not bucketed by /64")
	}
	if ipKey("192.0.2.1") == ipKey("192.0.2.2") {
		t.Fatal("IPv4 clients share a bucket")
	}
}

func TestClientIPResolution(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		trusted []string
		remote  string
		xff     []string
		realIP  string
		want    string
		chain   []string
	}{
		{"no proxies", nil, "192.0.2.1:5", []string{"203.0.113.9"}, "", "192.0.2.1", nil},
		{"untrusted peer", []string{"10.0.0.0/8"}, "192.0.2.1:5", []string{"203.0.113.9"}, "", "192.0.2.1", nil},
		{"trusted peer", []string{"10.0.0.0/8"}, "10.1.2.3:5", []string{"203.0.113.9"}, "", "203.0.113.9", []string{"203.0.113.9"}},
		{"trusted hops", []string{"10.0.0.0/8"}, "10.1.2.3:5", []string{"198.51.100.1, 203.0.113.9, 10.9.9.9"}, "", "203.0.113.9", []string{"198.51.100.1", "203.0.113.9", "10.9.9.9"}},
		{"two headers", []string{"10.0.0.0/8"}, "10.1.2.3:5", []string{"198.51.100.1", "203.0.113.9"}, "", "203.0.113.9", []string{"198.51.100.1", "203.0.113.9"}},
		{"all trusted", []string{"10.0.0.0/8"}, "10.1.2.3:5", []string{"10.0.0.5, 10.0.0.6"}, "", "10.0.0.5", []string{"10.0.0.5", "10.0.0.6"}},
		{"garbage entry", []string{"10.0.0.0/8"}, "10.1.2.3:5", []string{"not-an-ip, 10.0.0.6"}, "", "10.1.2.3", []string{"10.0.0.6"}},
		{"invalid UTF-8 entry", []string{"10.0.0.0/8"}, "10.1.2.3:5", []string{"\xff\xfe, 203.0.113.9"}, "", "203.0.113.9", []string{"203.0.113.9"}},
		{"ipv6 peer", nil, "[2001:db8::1]:443", nil, "", "2001:db8::1", nil},
		{"ipv6 client behind proxy", []string{"::1"}, "[::1]:443", []string{"2001:db8::7"}, "", "2001:db8::7", []string{"2001:db8::7"}},
		{"ipv4-mapped peer", []string{"10.0.0.1"}, "[::ffff:10.0.0.1]:80", []string{"203.0.113.4"}, "", "203.0.113.4", []string{"203.0.113.4"}},
		{"x-real-ip", []string{"10.0.0.1"}, "10.0.0.1:80", nil, "203.0.113.8", "203.0.113.8", nil},
		{"x-real-ip untrusted", nil, "192.0.2.1:80", nil, "203.0.113.8", "192.0.2.1", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := newProxies(tc.trusted)
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if tc.realIP != "" {
				r.Header.Set("X-Real-IP", tc.realIP)
			}
			f := p.facts(r)
			if f.ClientIP != tc.want || !slices.Equal(f.ForwardedFor, tc.chain) {
				t.Fatalf("got %q %q, want %q %q", f.ClientIP, f.ForwardedFor, tc.want, tc.chain)
			}
		})
	}
	if _, err := newProxies([]string{"10.0.0.0/33"}); err == nil {
		t.Fatal("a bad CIDR was accepted")
	}
}
