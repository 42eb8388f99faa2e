package ginjwt

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// wantPrefixRules checks what browsers enforce of the cookie name prefixes
// (RFC 6265bis §4.1.3) on every cookie an answer sets: a browser would drop
// a cookie that breaks them.
func wantPrefixRules(t *testing.T, set []*http.Cookie) {
	t.Helper()
	for _, c := range set {
		lower := strings.ToLower(c.Name)
		if strings.HasPrefix(lower, "__host-") && (!c.Secure || c.Path != "/" || c.Domain != "") {
			t.Errorf("%s: a __Host- cookie with secure %v path %q domain %q", c.Name, c.Secure, c.Path, c.Domain)
		}
		if strings.HasPrefix(lower, "__secure-") && !c.Secure {
			t.Errorf("%s: a __Secure- cookie without Secure", c.Name)
		}
	}
}

func cookieNames(set []*http.Cookie) []string {
	var names []string
	for _, c := range set {
		names = append(names, c.Name)
	}
	slices.Sort(names)
	return names
}

// TestCookieNamePrefixes: with Secure cookies the default names carry the
// prefixes (__Host- for Path=/, __Secure- for the refresh cookie and with a
// Domain); names set explicitly are kept as given; login and logout set and
// clear the same names, each within its prefix's rules.
func TestCookieNamePrefixes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		mode    Mode
		cookies Cookies
		want    []string // sorted
		secure  bool
		domain  string
	}{
		{"secure one cookie", OneCookie, Cookies{},
			[]string{"__Host-csrftoken", "__Host-jwt_access", "__Secure-jwt_refresh"}, true, ""},
		{"secure two cookies", TwoCookies, Cookies{},
			[]string{"__Host-csrftoken", "__Host-jwt_access_payload", "__Host-jwt_access_signature", "__Secure-jwt_refresh"}, true, ""},
		{"secure with a domain", TwoCookies, Cookies{Domain: "example.com"},
			[]string{"__Secure-csrftoken", "__Secure-jwt_access_payload", "__Secure-jwt_access_signature", "__Secure-jwt_refresh"}, true, "example.com"},
		{"insecure", OneCookie, Cookies{Insecure: true},
			[]string{"csrftoken", "jwt_access", "jwt_refresh"}, false, ""},
		{"explicit names kept", OneCookie, Cookies{AccessName: "session", RefreshName: "__Secure-renew", CSRFName: "xsrf"},
			[]string{"__Secure-renew", "session", "xsrf"}, true, ""},
		{"explicit __Host- name", TwoCookies, Cookies{PayloadName: "__Host-p", SignatureName: "sig"},
			[]string{"__Host-csrftoken", "__Host-p", "__Secure-jwt_refresh", "sig"}, true, ""},
		{"explicit names with a domain", OneCookie, Cookies{AccessName: "a", Domain: "example.com"},
			[]string{"__Secure-csrftoken", "__Secure-jwt_refresh", "a"}, true, "example.com"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := cookieHarness(t, nil, tc.mode, func(c *Config) { c.Transport.Cookies = tc.cookies })
			h.user("alice")
			b := newBrowser(t, h)
			set := b.login("alice").Result().Cookies()
			if got := cookieNames(set); !slices.Equal(got, tc.want) {
				t.Fatalf("login set %v, want %v", got, tc.want)
			}
			for _, c := range set {
				if c.Secure != tc.secure || c.Domain != tc.domain {
					t.Errorf("%s: secure %v domain %q", c.Name, c.Secure, c.Domain)
				}
			}
			wantPrefixRules(t, set)
			// The cookies authenticate, refresh and log out under those names.
			wantStatus(t, b.do(req{path: "/api/hello"}), 200)
			wantStatus(t, b.do(req{method: "POST", path: "/auth/token/refresh", header: b.csrf()}), 200)
			w := b.do(req{method: "DELETE", path: "/auth/token/logout", header: b.csrf()})
			wantStatus(t, w, 200)
			cleared := w.Result().Cookies()
			wantPrefixRules(t, cleared)
			for _, name := range tc.want {
				if !slices.Contains(cookieNames(cleared), name) {
					t.Errorf("logout did not clear %s (cleared %v)", name, cookieNames(cleared))
				}
			}
			if len(b.jar) != 0 {
				t.Fatalf("cookies left after logout: %v", b.jar)
			}
		})
	}
}

// TestCookieNamePrefixErrors: a name whose prefix cannot hold is a
// configuration error that names the field.
func TestCookieNamePrefixErrors(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		cookies Cookies
		field   string
	}{
		"__Host- refresh cookie":   {Cookies{RefreshName: "__Host-r"}, "Config.Transport.Cookies.RefreshName"},
		"__host- in lower case":    {Cookies{RefreshName: "__host-r"}, "Config.Transport.Cookies.RefreshName"},
		"__Host- with a domain":    {Cookies{AccessName: "__Host-a", Domain: "example.com"}, "Config.Transport.Cookies.AccessName"},
		"__Host- and insecure":     {Cookies{CSRFName: "__Host-x", Insecure: true}, "Config.Transport.Cookies.CSRFName"},
		"__Secure- and insecure":   {Cookies{PayloadName: "__SECURE-p", Insecure: true}, "Config.Transport.Cookies.PayloadName"},
		"not a token":              {Cookies{SignatureName: "a;b"}, "Config.Transport.Cookies.SignatureName"},
		"control character":        {Cookies{AccessName: "a\x01"}, "Config.Transport.Cookies.AccessName"},
		"HostPrefix with a domain": {Cookies{HostPrefix: true, Domain: "example.com"}, "Config.Transport.Cookies.HostPrefix"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := New(Config{SigningKey: testSecret, Mode: OneCookie, Transport: Transport{Cookies: tc.cookies}, Routes: Routes{Paths: Paths{Obtain: "-"}}})
			if err == nil || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("want an error naming %s, got %v", tc.field, err)
			}
		})
	}
}
