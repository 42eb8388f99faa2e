package ginjwt

import (
	"fmt"
	"net/http"
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
	h := newHarness(t, nil, func(c *Config) { c.Limits.Throttle = Throttle{PerAccount: 3, PerIP: 100, Window: 10 * time.Minute} })
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
	h := newHarness(t, nil, func(c *Config) { c.Limits.Throttle = Throttle{PerAccount: 100, PerIP: 3} })
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
		c.Limits.Throttle = Throttle{PerAccount: 100, PerIP: 2}
		c.Transport.TrustedProxies = []string{"10.0.0.0/8"}
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
	h := newHarness(t, nil, func(c *Config) { c.Limits.Throttle = Throttle{PerAccount: 3, PerIP: 100} })
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
