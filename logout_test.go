package ginjwt

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/users"
)

// wantLoggedOut checks the answer every logout that gets that far gives,
// whatever the token was (RFC 7009 §2.2).
func wantLoggedOut(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	if w.Code != http.StatusOK || w.Body.String() != `{"result":"logged_out","message":"logged out","detail":"logged out"}` {
		t.Fatalf("want 200 logged out, got %d %s", w.Code, w.Body)
	}
}

// foreignTokens are tokens ginjwt did not sign: another key's pair.
func foreignTokens(t *testing.T) *Issued {
	t.Helper()
	other, err := New(Config{SigningKey: []byte("another secret of thirty-two byt"), Routes: Routes{Paths: Paths{Obtain: "-"}}})
	if err != nil {
		t.Fatal(err)
	}
	u := users.NewUser("alice")
	u.ID = "someone"
	p, err := other.issueSession(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLogoutAnswers200ForAnyToken: a logout answers 200 whether or not the
// token could end a session — garbage, malformed, forged or an expired
// access token end nothing and say nothing — while an authentic token
// still revokes its session, and a logout with no token is a bad request.
func TestLogoutAnswers200ForAnyToken(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		h := newHarness(t, db, nil)
		h.user("alice")
		p := h.login("alice")
		expired := h.login("alice")
		h.clock.Advance(10 * time.Minute) // expired.Access (5 min) has expired
		p = pairBody{Access: refreshed(t, h, p.Refresh), Refresh: p.Refresh}
		foreign := foreignTokens(t)

		for name, r := range map[string]req{
			"garbage":             {path: "/auth/token/logout", json: refreshBody("garbage")},
			"two parts":           {path: "/auth/token/logout", json: refreshBody("a.b")},
			"bad base64":          {path: "/auth/token/logout", json: refreshBody("a.b.c")},
			"newline":             {path: "/auth/token/logout", json: refreshBody("a.b\n.c")},
			"forged refresh":      {path: "/auth/token/logout", json: refreshBody(foreign.Refresh)},
			"forged access":       {method: "POST", path: "/auth/token/logout", bearer: foreign.Access},
			"expired access":      {method: "POST", path: "/auth/token/logout", bearer: expired.Access},
			"garbage bearer":      {method: "POST", path: "/auth/token/logout", bearer: "garbage"},
			"empty bearer":        {method: "POST", path: "/auth/token/logout", header: http.Header{"Authorization": {"Bearer "}}},
			"form garbage":        {path: "/auth/token/logout", form: url.Values{"refresh": {"x"}}},
			"tampered refresh":    {path: "/auth/token/logout", json: refreshBody(p.Refresh[:len(p.Refresh)-2] + "AA")},
			"access as body, bad": {path: "/auth/token/logout", json: refreshBody(expired.Access + "x")},
		} {
			t.Run(name, func(t *testing.T) {
				w := h.do(r)
				wantLoggedOut(t, w)
			})
		}
		// None of them ended a session.
		wantStatus(t, h.do(req{path: "/api/hello", bearer: p.Access}), 200)
		wantStatus(t, h.do(req{path: "/auth/token/refresh", json: refreshBody(expired.Refresh)}), 200)

		for name, tc := range map[string]struct {
			r      req
			status int
			code   string
		}{
			"no token":        {req{method: "POST", path: "/auth/token/logout"}, 400, "bad_request"},
			"empty JSON":      {req{path: "/auth/token/logout", json: `{}`}, 400, "bad_request"},
			"empty refresh":   {req{path: "/auth/token/logout", json: refreshBody("")}, 400, "bad_request"},
			"malformed JSON":  {req{path: "/auth/token/logout", json: `{"refresh":`}, 400, "bad_request"},
			"body and header": {req{path: "/auth/token/logout", json: refreshBody(p.Refresh), bearer: p.Refresh}, 400, "bad_request"},
		} {
			t.Run(name, func(t *testing.T) { wantError(t, h.do(tc.r), tc.status, tc.code) })
		}
		wantStatus(t, h.do(req{path: "/api/hello", bearer: p.Access}), 200)

		// An authentic token still ends its session.
		w := h.do(req{path: "/auth/token/logout", json: refreshBody(p.Refresh)})
		wantLoggedOut(t, w)
		wantError(t, h.do(req{path: "/api/hello", bearer: p.Access}), 401, "token_revoked")
		wantError(t, h.do(req{path: "/auth/token/refresh", json: refreshBody(p.Refresh)}), 401, "token_revoked")
	})
}

// refreshed returns a fresh access token for refresh.
func refreshed(t *testing.T, h *harness, refresh string) string {
	t.Helper()
	w := h.do(req{path: "/auth/token/refresh", json: refreshBody(refresh)})
	wantStatus(t, w, 200)
	var p pairBody
	decode(t, w, &p)
	return p.Access
}

// TestCookieLogoutAnswers200ForAnyToken: in the cookie modes too a broken
// token is logged out with 200 and ends nothing, while a foreign origin
// and a missing CSRF token still refuse the logout of an authentic
// session, changing nothing.
func TestCookieLogoutAnswers200ForAnyToken(t *testing.T) {
	t.Parallel()
	h := cookieHarness(t, nil, OneCookie, nil)
	h.user("alice")
	b := newBrowser(t, h)
	b.login("alice")
	names := h.auth.cfg.Transport.Cookies
	good := *b.jar[names.RefreshName]

	// A garbage refresh cookie: 200, nothing cleared by POST, nothing revoked.
	b.jar[names.RefreshName] = &http.Cookie{Name: names.RefreshName, Value: "garbage", Path: good.Path}
	w := b.do(req{method: "POST", path: "/auth/token/logout", header: b.csrf()})
	wantLoggedOut(t, w)
	wantStatus(t, b.do(req{path: "/api/hello"}), 200)

	// The authentic cookie without the CSRF header, or from another origin:
	// 403 and the session lives.
	b.jar[names.RefreshName] = &good
	wantError(t, b.do(req{method: "POST", path: "/auth/token/logout"}), 403, "csrf_failed")
	wantError(t, b.do(req{method: "POST", path: "/auth/token/logout", header: http.Header{"Origin": {"https://evil.example"}}}), 403, "csrf_failed")
	wantStatus(t, b.do(req{path: "/api/hello"}), 200)

	// No cookie at all: POST is a bad request, DELETE resets the browser.
	empty := newBrowser(t, h)
	wantError(t, empty.do(req{method: "POST", path: "/auth/token/logout"}), 400, "bad_request")
	wantStatus(t, empty.do(req{method: "DELETE", path: "/auth/token/logout"}), 200)

	// The authentic cookie with the CSRF header ends the session.
	w = b.do(req{method: "POST", path: "/auth/token/logout", header: b.csrf()})
	wantLoggedOut(t, w)
	wantError(t, b.do(req{path: "/api/hello"}), 401, "token_revoked")
}
