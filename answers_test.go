package ginjwt

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// rfc3339Seconds is the one form of every time in a JSON answer.
var rfc3339Seconds = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)

// timesIn collects the values of the members of v (decoded JSON) whose name
// says they hold a time ("…_at", "last_login"), with their paths.
func timesIn(path string, v any, out map[string]any) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if strings.HasSuffix(k, "_at") || k == "last_login" {
				out[path+"."+k] = x
			}
			timesIn(path+"."+k, x, out)
		}
	case []any:
		for _, x := range v {
			timesIn(path+"[]", x, out)
		}
	}
}

func decodeAny(t *testing.T, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatalf("%d %q: %v", w.Code, w.Body, err)
	}
	return m
}

// TestAnswersWriteTimesOneWay: every time in every JSON answer — verify,
// sessions, users/me, the cookie modes' login and refresh — is RFC 3339 in
// UTC to the whole second, even when the server's clock has nanoseconds
// and another time zone, and the database keeps microseconds.
func TestAnswersWriteTimesOneWay(t *testing.T) {
	t.Parallel()
	zone := time.FixedZone("UTC+05:30", 5*3600+1800)
	ck := newClock()
	ck.Advance(123456789 * time.Nanosecond)
	odd := func(c *Config) {
		c.Clock = func() time.Time { return ck.Now().In(zone) }
		c.Accounts.UpdateLastLogin = true
		c.Registry.Devices = true
	}
	h := newHarness(t, nil, odd)
	h.user("alice")
	p := h.login("alice")
	ck.Advance(1500 * time.Millisecond)
	h.clock.Advance(1500 * time.Millisecond)

	seen := map[string]any{}
	answers := map[string]*httptest.ResponseRecorder{
		"verify":   h.do(req{path: "/auth/token/verify", json: map[string]string{"token": p.Access}}),
		"sessions": h.do(req{path: "/auth/sessions", bearer: p.Access}),
		"me":       h.do(req{path: "/auth/users/me", bearer: p.Access}),
	}
	for _, mode := range []Mode{OneCookie, TwoCookies} {
		c := cookieHarness(t, nil, mode, odd)
		c.user("alice")
		b := newBrowser(t, c)
		answers[mode.String()+" login"] = b.login("alice")
		answers[mode.String()+" refresh"] = b.do(req{method: "POST", path: "/auth/token/refresh", header: b.csrf()})
	}
	for name, w := range answers {
		wantStatus(t, w, 200)
		timesIn(name, decodeAny(t, w), seen)
	}
	for _, want := range []string{
		"verify.expires_at",
		"sessions.sessions[].created_at", "sessions.sessions[].last_used_at", "sessions.sessions[].expires_at",
		"me.created_at", "me.updated_at", "me.last_login",
		"cookie login.access_expires_at", "cookie login.refresh_expires_at",
		"two-cookie refresh.access_expires_at", "two-cookie refresh.refresh_expires_at",
	} {
		if _, ok := seen[want]; !ok {
			t.Errorf("no %s among the times seen: %v", want, seen)
		}
	}
	for path, v := range seen {
		s, ok := v.(string)
		if !ok || !rfc3339Seconds.MatchString(s) {
			t.Errorf("%s = %#v, want RFC 3339 UTC seconds", path, v)
		}
	}
}

// TestLoginAnswerCarriesTokenTypeAndExpiresIn: a login or refresh that
// returns a token says how to send it (token_type, the configured scheme)
// and for how long the access token lives (expires_in, seconds); an access
// token cut short by the end of its session says so; the cookie modes'
// bodies carry expires_in but no token and no token_type.
func TestLoginAnswerCarriesTokenTypeAndExpiresIn(t *testing.T) {
	t.Parallel()
	type answer struct {
		Access, Refresh, Token string
		TokenType              *string `json:"token_type"`
		ExpiresIn              *int64  `json:"expires_in"`
	}
	check := func(t *testing.T, w *httptest.ResponseRecorder, scheme string, lo, hi int64) answer {
		t.Helper()
		wantStatus(t, w, 200)
		var a answer
		decode(t, w, &a)
		if a.TokenType == nil || *a.TokenType != scheme {
			t.Fatalf("token_type in %s, want %q", w.Body, scheme)
		}
		if a.ExpiresIn == nil || *a.ExpiresIn < lo || *a.ExpiresIn > hi {
			t.Fatalf("expires_in in %s, want %d..%d", w.Body, lo, hi)
		}
		return a
	}
	t.Run("json", func(t *testing.T) {
		h := newHarness(t, nil, func(c *Config) {
			c.Tokens.AccessTTL, c.Tokens.RefreshTTL, c.Tokens.DisableRefreshRotation = 10*time.Minute, 30*time.Minute, true
		})
		h.user("alice")
		h.clock.Advance(700 * time.Millisecond) // iat with milliseconds, exp whole seconds
		w := h.do(req{path: "/auth/token", json: map[string]string{"username": "alice", "password": "pw-alice"}})
		p := check(t, w, "Bearer", 599, 600)
		if p.Access == "" || p.Refresh == "" {
			t.Fatalf("login: %s", w.Body)
		}
		// Refresh 25 minutes later: the session ends in 5, so does the token.
		h.clock.Advance(25 * time.Minute)
		w = h.do(req{path: "/auth/token/refresh", json: map[string]string{"refresh": p.Refresh}})
		r := check(t, w, "Bearer", 299, 300)
		// The token_type is what the middleware accepts.
		wantStatus(t, h.do(req{path: "/api/hello", header: http.Header{"Authorization": {"Bearer " + r.Access}}}), 200)
	})
	t.Run("another scheme", func(t *testing.T) {
		h := newHarness(t, nil, func(c *Config) { c.Transport.AuthScheme = "JWT"; c.Tokens.DisableRefreshRotation = true })
		h.user("alice")
		w := h.do(req{path: "/auth/token", json: map[string]string{"username": "alice", "password": "pw-alice"}})
		p := check(t, w, "JWT", 299, 300)
		w = h.do(req{path: "/auth/token/refresh", json: map[string]string{"refresh": p.Refresh}})
		if r := check(t, w, "JWT", 299, 300); r.Refresh != "" || r.Access == "" {
			t.Fatalf("refresh without rotation: %s", w.Body)
		}
		wantStatus(t, h.do(req{path: "/api/hello", header: http.Header{"Authorization": {"JWT " + p.Access}}}), 200)
	})
	t.Run("sliding", func(t *testing.T) {
		h := newHarness(t, nil, func(c *Config) { c.Tokens.Sliding = true; c.Tokens.SlidingTTL = 2 * time.Minute })
		h.user("alice")
		w := h.do(req{path: "/auth/token", json: map[string]string{"username": "alice", "password": "pw-alice"}})
		if a := check(t, w, "Bearer", 119, 120); a.Token == "" {
			t.Fatalf("sliding login: %s", w.Body)
		}
	})
	for _, mode := range []Mode{OneCookie, TwoCookies} {
		t.Run(mode.String(), func(t *testing.T) {
			h := cookieHarness(t, nil, mode, nil)
			h.user("alice")
			b := newBrowser(t, h)
			w := b.login("alice")
			m := decodeAny(t, w)
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if want := []string{"access_expires_at", "csrf_token", "expires_in", "refresh_expires_at"}; !slices.Equal(keys, want) {
				t.Fatalf("cookie-mode login body has %v, want %v: %s", keys, want, w.Body)
			}
			if n, _ := m["expires_in"].(float64); n < 299 || n > 300 {
				t.Fatalf("expires_in %v", m["expires_in"])
			}
		})
	}
}

// TestResultBodies: every answer that reports an action done has one
// shape, {"result", "message"} plus the sessions or tokens it acted on.
func TestResultBodies(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	h.user("alice")
	one, two, three := h.login("alice"), h.login("alice"), h.login("alice")
	sid := func(access string) string {
		c, err := h.auth.parse(access)
		if err != nil {
			t.Fatal(err)
		}
		return c.SessionID
	}
	body := func(t *testing.T, w *httptest.ResponseRecorder, result string, keys ...string) map[string]any {
		t.Helper()
		wantStatus(t, w, 200)
		m := decodeAny(t, w)
		if m["result"] != result || m["message"] == "" || m["message"] == nil {
			t.Fatalf("want result %s with a message: %s", result, w.Body)
		}
		want := append([]string{"message", "result"}, keys...)
		slices.Sort(want)
		got := make([]string, 0, len(m))
		for k := range m {
			got = append(got, k)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("members %v, want %v: %s", got, want, w.Body)
		}
		return m
	}
	m := body(t, h.do(req{method: "DELETE", path: "/auth/sessions/" + sid(two.Access), bearer: one.Access}), ResultSessionRevoked, "sessions")
	if got := m["sessions"].([]any); len(got) != 1 || got[0] != sid(two.Access) {
		t.Fatalf("sessions: %v", got)
	}
	m = body(t, h.do(req{path: "/auth/token/expire", json: map[string]string{"token": three.Refresh}, bearer: one.Access}), ResultTokensExpired, "tokens")
	if m["tokens"] != float64(2) {
		t.Fatalf("tokens: %v", m["tokens"])
	}
	// Nothing left but the caller's: an empty list, not a missing one.
	m = body(t, h.do(req{method: "DELETE", path: "/auth/sessions?keep=current", bearer: one.Access}), ResultSessionsRevoked, "sessions")
	if got := m["sessions"].([]any); len(got) != 0 {
		t.Fatalf("sessions: %v", got)
	}
	four := h.login("alice")
	m = body(t, h.do(req{method: "DELETE", path: "/auth/sessions?keep=current", bearer: one.Access}), ResultSessionsRevoked, "sessions")
	if got := m["sessions"].([]any); len(got) != 1 || got[0] != sid(four.Access) {
		t.Fatalf("sessions: %v", got)
	}
	body(t, h.do(req{method: "DELETE", path: "/auth/sessions", bearer: one.Access}), ResultLoggedOutEverywhere)
	// Logout keeps its old "detail" beside result and message.
	body(t, h.do(req{path: "/auth/token/logout", json: map[string]string{"refresh": one.Refresh}}), ResultLoggedOut, "detail")
	body(t, h.do(req{path: "/auth/token/logout", json: map[string]string{"refresh": "not a token"}}), ResultLoggedOut, "detail")
}
