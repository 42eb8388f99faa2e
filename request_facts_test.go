package ginjwt

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestRequestFactsInEvents: an event records the client through the
// trusted proxies, the forwarded chain's addresses and the first 2 KiB of
// the User-Agent; a forged X-Forwarded-For from an untrusted peer changes
// nothing.
func TestRequestFactsInEvents(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, func(c *Config) { c.Transport.TrustedProxies = []string{"10.0.0.0/8"} })
	h.user("alice")
	var (
		mu   sync.Mutex
		seen []RequestFacts
	)
	h.auth.Subscribe(LoggedIn, func(_ context.Context, e Event) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, e.Request)
	})
	creds := map[string]string{"username": "alice", "password": "pw-alice"}
	hdr := http.Header{
		"X-Forwarded-For": {"198.51.100.1, not-an-address, 203.0.113.9, 10.9.9.9"},
		"User-Agent":      {strings.Repeat("u", 3000)},
	}
	cases := []struct {
		remote, client string
		chain          []string
	}{
		{"10.0.0.1:443", "203.0.113.9", []string{"198.51.100.1", "203.0.113.9", "10.9.9.9"}},
		{"192.0.2.5:443", "192.0.2.5", nil},
	}
	for _, tc := range cases {
		wantStatus(t, h.do(req{path: "/auth/token", json: creds, header: hdr, remote: tc.remote}), 200)
		mu.Lock()
		got := seen[len(seen)-1]
		mu.Unlock()
		if got.ClientIP != tc.client || !slices.Equal(got.ForwardedFor, tc.chain) || got.UserAgent != strings.Repeat("u", maxUserAgent) {
			t.Errorf("from %s: client %q, chain %q, User-Agent of %d bytes; want %q, %q, %d bytes",
				tc.remote, got.ClientIP, got.ForwardedFor, len(got.UserAgent), tc.client, tc.chain, maxUserAgent)
		}
	}
}

// TestForwardedProtoFromTrustedProxy: a trusted proxy's X-Forwarded-Proto
// makes the request's own origin https for the CSRF origin check; the same
// header from any other peer is ignored.
func TestForwardedProtoFromTrustedProxy(t *testing.T) {
	t.Parallel()
	h := cookieHarness(t, nil, OneCookie, func(c *Config) { c.Transport.TrustedProxies = []string{"10.0.0.0/8"} })
	h.user("alice")
	creds := map[string]string{"username": "alice", "password": "pw-alice"}
	hdr := http.Header{"Origin": {"https://example.com"}, "X-Forwarded-Proto": {"HTTPS"}}
	wantStatus(t, h.do(req{path: "/auth/token", json: creds, header: hdr, remote: "10.0.0.1:443"}), 200)
	wantError(t, h.do(req{path: "/auth/token", json: creds, header: hdr, remote: "192.0.2.5:443"}), 403, "csrf_failed")
}
