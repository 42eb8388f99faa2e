package clientip

import (
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("198.51.100.1, ", 40) + "203.0.113.9"
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
		{"long chain", []string{"10.0.0.0/8"}, "10.1.2.3:5", []string{long}, "", "203.0.113.9", append(slices.Repeat([]string{"198.51.100.1"}, maxChain-1), "203.0.113.9")},
		{"ipv6 peer", nil, "[2001:db8::1]:443", nil, "", "2001:db8::1", nil},
		{"ipv6 client behind proxy", []string{"::1"}, "[::1]:443", []string{"2001:db8::7"}, "", "2001:db8::7", []string{"2001:db8::7"}},
		{"ipv4-mapped peer", []string{"10.0.0.1"}, "[::ffff:10.0.0.1]:80", []string{"203.0.113.4"}, "", "203.0.113.4", []string{"203.0.113.4"}},
		{"x-real-ip", []string{"10.0.0.1"}, "10.0.0.1:80", nil, "203.0.113.8", "203.0.113.8", nil},
		{"x-real-ip untrusted", nil, "192.0.2.1:80", nil, "203.0.113.8", "192.0.2.1", nil},
		{"peer not an address", []string{"10.0.0.0/8"}, "pipe", []string{"203.0.113.9"}, "", "pipe", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := New(tc.trusted)
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest("GET", "/", nil)
			req.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			if tc.realIP != "" {
				req.Header.Set("X-Real-IP", tc.realIP)
			}
			ip, chain := r.Resolve(req)
			if ip != tc.want || !slices.Equal(chain, tc.chain) {
				t.Fatalf("got %q %q, want %q %q", ip, chain, tc.want, tc.chain)
			}
		})
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"10.0.0.0/33", "nope", "10.0.0.0/8/1", ""} {
		if _, err := New([]string{"10.0.0.1", bad}); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
	r, err := New([]string{"10.1.2.3/8", "2001:db8::1", "192.0.2.7"})
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]bool{
		"10.200.0.1":       true, // the range, masked
		"::ffff:10.0.0.1":  true, // IPv4-mapped
		"2001:db8::1":      true,
		"2001:db8::2":      false,
		"192.0.2.7":        true,
		"192.0.2.8":        false,
		"::ffff:192.0.2.8": false,
		"11.0.0.1":         false,
	} {
		if got := r.Trusted(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Trusted(%s) = %v, want %v", addr, got, want)
		}
	}
	var zero Resolver
	if zero.Trusted(netip.MustParseAddr("127.0.0.1")) {
		t.Error("the zero Resolver trusts a proxy")
	}
}
