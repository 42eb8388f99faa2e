package ginjwt

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
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
