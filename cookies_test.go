package ginjwt

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/testdb"
)

// browser is a cookie jar in front of a harness: it stores what responses
// set (and delete) and sends back the cookies whose Path matches, as a
// browser would. Every request carries the server's own Origin unless the
// test says otherwise.
type browser struct {
	t      *testing.T
	h      *harness
	jar    map[string]*http.Cookie
	origin string
	last   *httptest.ResponseRecorder
}

const serverOrigin = "http://example.com" // httptest.NewRequest's Host

// The default cookie names with Secure cookies (the default).
const (
	cookieAccess          = "__Host-jwt_access"
	cookieAccessPayload   = "__Host-jwt_access_payload"
	cookieAccessSignature = "__Host-jwt_access_signature"
	cookieRefresh         = "__Secure-jwt_refresh"
	cookieCSRF            = "__Host-csrftoken"
)

func newBrowser(t *testing.T, h *harness) *browser {
	return &browser{t: t, h: h, jar: map[string]*http.Cookie{}, origin: serverOrigin}
}

func (b *browser) do(r req) *httptest.ResponseRecorder {
	b.t.Helper()
	if r.header == nil {
		r.header = http.Header{}
	}
	if b.origin != "" && r.header.Get("Origin") == "" && r.method != "GET" {
		r.header.Set("Origin", b.origin)
	}
	var pairs []string
	for _, c := range b.jar {
		if pathMatch(r.path, c.Path) {
			pairs = append(pairs, c.Name+"="+c.Value)
		}
	}
	if len(pairs) > 0 {
		r.header.Set("Cookie", strings.Join(pairs, "; "))
	}
	w := b.h.do(r)
	for _, c := range w.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(b.jar, c.Name)
			continue
		}
		b.jar[c.Name] = c
	}
	b.last = w
	return w
}

// csrf returns the headers an SPA sends on unsafe requests.
func (b *browser) csrf() http.Header {
	h := http.Header{}
	if c := b.jar[b.h.auth.cfg.Transport.Cookies.CSRFName]; c != nil {
		h.Set("X-CSRF-Token", c.Value)
	}
	return h
}

func pathMatch(reqPath, cookiePath string) bool {
	reqPath, _, _ = strings.Cut(reqPath, "?")
	if cookiePath == "" || cookiePath == "/" {
		return true
	}
	return reqPath == cookiePath || strings.HasPrefix(reqPath, strings.TrimSuffix(cookiePath, "/")+"/")
}

func (b *browser) login(username string) *httptest.ResponseRecorder {
	b.t.Helper()
	w := b.do(req{path: "/auth/token", json: map[string]string{"username": username, "password": "pw-" + username}})
	wantStatus(b.t, w, 200)
	return w
}

func cookieHarness(t *testing.T, db *gorm.DB, mode Mode, edit func(*Config)) *harness {
	return newHarness(t, db, func(c *Config) {
		c.Mode = mode
		if edit != nil {
			edit(c)
		}
	})
}

func setCookies(w *httptest.ResponseRecorder) map[string]*http.Cookie {
	out := map[string]*http.Cookie{}
	for _, c := range w.Result().Cookies() {
		out[c.Name] = c
	}
	return out
}

func TestCookieAttributes(t *testing.T) {
	t.Parallel()
	for _, mode := range []Mode{OneCookie, TwoCookies} {
		t.Run(mode.String(), func(t *testing.T) {
			h := cookieHarness(t, nil, mode, nil)
			h.user("alice")
			b := newBrowser(t, h)
			w := b.login("alice")
			set := setCookies(w)
			type want struct {
				path     string
				httpOnly bool
				maxAge   int
			}
			wants := map[string]want{
				cookieRefresh: {"/auth/token", true, int((24 * time.Hour).Seconds())},
				cookieCSRF:    {"/", false, int((24 * time.Hour).Seconds())},
			}
			if mode == OneCookie {
				wants[cookieAccess] = want{"/", true, 300}
			} else {
				wants[cookieAccessPayload] = want{"/", false, 300}
				wants[cookieAccessSignature] = want{"/", true, 300}
			}
			if len(set) != len(wants) {
				t.Fatalf("cookies set: %v", set)
			}
			for name, wnt := range wants {
				c := set[name]
				if c == nil {
					t.Fatalf("no %s cookie", name)
				}
				if c.Path != wnt.path || c.HttpOnly != wnt.httpOnly || c.MaxAge != wnt.maxAge || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Domain != "" {
					t.Errorf("%s: path %q httpOnly %v maxAge %d secure %v sameSite %v domain %q", name, c.Path, c.HttpOnly, c.MaxAge, c.Secure, c.SameSite, c.Domain)
				}
			}
			body := w.Body.String()
			if strings.Contains(body, "refresh\"") || strings.Contains(body, set[cookieRefresh].Value) || strings.Contains(body, `"access"`) {
				t.Fatalf("a token is in the body: %s", body)
			}
			var cb cookieBody
			decode(t, w, &cb)
			if cb.CSRFToken != set[cookieCSRF].Value || cb.AccessExpiresAt.IsZero() || cb.RefreshExpiresAt == nil {
				t.Fatalf("body %s", body)
			}
			if mode == TwoCookies {
				// The payload half is what a script reads: header.payload.
				parts := strings.Split(set[cookieAccessPayload].Value, ".")
				raw, err := base64.RawURLEncoding.DecodeString(parts[1])
				var claims map[string]any
				if len(parts) != 2 || err != nil || json.Unmarshal(raw, &claims) != nil || claims["username"] != "alice" {
					t.Fatalf("payload cookie %q", set[cookieAccessPayload].Value)
				}
				if strings.Contains(set[cookieAccessSignature].Value, ".") {
					t.Fatal("the signature cookie has a dot")
				}
			}
		})
	}
}

func TestCookieAttributesConfigured(t *testing.T) {
	t.Parallel()
	h := cookieHarness(t, nil, OneCookie, func(c *Config) {
		c.Transport.Cookies = Cookies{HostPrefix: true, SameSite: http.SameSiteStrictMode, AccessName: "acc"}
	})
	h.user("alice")
	b := newBrowser(t, h)
	set := setCookies(b.login("alice"))
	for _, name := range []string{"__Host-acc", "__Host-csrftoken", "__Secure-jwt_refresh"} {
		c := set[name]
		if c == nil || c.SameSite != http.SameSiteStrictMode || !c.Secure {
			t.Fatalf("%s: %+v (all: %v)", name, c, set)
		}
	}
	wantStatus(t, b.do(req{path: "/api/hello"}), 200)

	d := cookieHarness(t, nil, OneCookie, func(c *Config) { c.Transport.Cookies.Domain = "example.com"; c.Transport.Cookies.Insecure = true })
	d.user("bob")
	for _, c := range setCookies(newBrowser(t, d).login("bob")) {
		if c.Domain != "example.com" || c.Secure {
			t.Fatalf("%s: domain %q secure %v", c.Name, c.Domain, c.Secure)
		}
	}
	for name, cfg := range map[string]Cookies{
		"prefix and insecure": {HostPrefix: true, Insecure: true},
		"prefix and domain":   {HostPrefix: true, Domain: "example.com"},
		"none and insecure":   {SameSite: http.SameSiteNoneMode, Insecure: true},
		"bad name":            {AccessName: "a b"},
		"bad domain":          {Domain: "exa mple.com"},
	} {
		if _, err := New(Config{SigningKey: testSecret, Mode: OneCookie, Transport: Transport{Cookies: cfg}, Routes: Routes{Paths: Paths{Obtain: "-"}}}); err == nil || !strings.Contains(err.Error(), "Config.Transport.Cookies") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestCookieFlow is the README's session through cookies, on both
// databases, in both cookie modes.
func TestCookieFlow(t *testing.T) {
	for _, mode := range []Mode{OneCookie, TwoCookies} {
		t.Run(mode.String(), func(t *testing.T) {
			testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
				h := cookieHarness(t, db, mode, nil)
				h.user("alice")
				b := newBrowser(t, h)
				b.login("alice")
				wantStatus(t, b.do(req{path: "/api/hello"}), 200)
				w := b.do(req{path: "/api/echo", json: `{"n":1}`, header: b.csrf()})
				wantStatus(t, w, 200)
				if w.Body.String() != `{"n":1}` {
					t.Fatalf("echo %s", w.Body)
				}
				// Verify with no body: the browser's own session.
				wantStatus(t, b.do(req{method: "POST", path: "/auth/token/verify", header: b.csrf()}), 200)

				before := b.jar[cookieCSRF].Value
				h.clock.Advance(6 * time.Minute)
				wantError(t, b.do(req{path: "/api/hello"}), 401, "token_expired") // a browser would have dropped the cookie
				w = b.do(req{method: "POST", path: "/auth/token/refresh", header: b.csrf()})
				wantStatus(t, w, 200)
				if strings.Contains(w.Body.String(), `"access"`) || strings.Contains(w.Body.String(), `"refresh"`) {
					t.Fatalf("refresh put a token in the body: %s", w.Body)
				}
				if b.jar[cookieCSRF].Value != before {
					t.Fatal("the CSRF token changed within the session")
				}
				wantStatus(t, b.do(req{path: "/api/hello"}), 200)

				w = b.do(req{method: "DELETE", path: "/auth/token/logout", header: b.csrf()})
				wantStatus(t, w, 200)
				cleared := setCookies(w)
				for _, name := range []string{cookieAccess, cookieAccessPayload, cookieAccessSignature, cookieCSRF, cookieRefresh} {
					c := cleared[name]
					wantPath := "/"
					if name == cookieRefresh {
						wantPath = "/auth/token"
					}
					if c == nil || c.MaxAge >= 0 || c.Value != "" || c.Path != wantPath {
						t.Fatalf("%s not cleared: %+v", name, c)
					}
				}
				if len(b.jar) != 0 {
					t.Fatalf("cookies left: %v", b.jar)
				}
				wantError(t, b.do(req{path: "/api/hello"}), 401, "token_missing")
				// The session is revoked, not only forgotten by the browser.
				var sessions int64
				h.db.Table("ginjwt_tokens").Where("revoked_at IS NULL AND type = 'refresh'").Count(&sessions)
				if sessions != 0 {
					t.Fatalf("%d live refresh tokens after logout", sessions)
				}
			})
		})
	}
}

func TestCSRFFailures(t *testing.T) {
	t.Parallel()
	h := cookieHarness(t, nil, TwoCookies, func(c *Config) { c.Transport.CSRF.TrustedOrigins = []string{"https://app.example.net"} })
	h.user("alice")
	b := newBrowser(t, h)
	b.login("alice")
	good := b.csrf()
	with := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	cases := []struct {
		name   string
		origin string
		header http.Header
		body   any
		ct     string
		https  bool
		status int
	}{
		{"valid", serverOrigin, good, `{}`, "", false, 200},
		{"trusted other origin", "https://app.example.net", good, `{}`, "", false, 200},
		{"own origin, default port", "http://EXAMPLE.com:80", good, `{}`, "", false, 200},
		{"missing header", serverOrigin, nil, `{}`, "", false, 403},
		{"wrong value", serverOrigin, with("X-CSRF-Token", "wrong"), `{}`, "", false, 403},
		{"foreign origin", "https://evil.example", good, `{}`, "", false, 403},
		{"null origin", "null", good, `{}`, "", false, 403},
		{"cross-site fetch without origin", "", with("X-CSRF-Token", good.Get("X-CSRF-Token"), "Sec-Fetch-Site", "cross-site"), `{}`, "", false, 403},
		{"text/plain form without token", serverOrigin, nil, "a=b", "text/plain", false, 403},
		{"https without origin or referer", "", good, `{}`, "", true, 403},
		{"https without origin, own referer", "", with("X-CSRF-Token", good.Get("X-CSRF-Token"), "Referer", "https://example.com/page"), `{}`, "", true, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hdr := http.Header{}
			for k, v := range tc.header {
				hdr[k] = v
			}
			if tc.origin != "" {
				hdr.Set("Origin", tc.origin)
			} else {
				hdr.Set("Origin", "")
			}
			path := "/api/echo"
			if tc.https {
				path = "https://example.com/api/echo"
			}
			r := req{path: path, json: tc.body, header: hdr}
			if tc.ct != "" {
				r.json, r.method = nil, "POST"
				hdr.Set("Content-Type", tc.ct)
			}
			saved := b.origin
			b.origin = ""
			w := b.do(r)
			b.origin = saved
			if tc.status == 200 {
				wantStatus(t, w, 200)
			} else {
				wantError(t, w, tc.status, "csrf_failed")
			}
		})
	}
}

// TestPlantedCSRFValueIsRefused: an attacker who can write cookies for the
// domain plants the same value as cookie and header; it is not the session's
// HMAC, so it fails.
func TestPlantedCSRFValueIsRefused(t *testing.T) {
	t.Parallel()
	h := cookieHarness(t, nil, OneCookie, nil)
	h.user("alice")
	b := newBrowser(t, h)
	b.login("alice")
	b.jar[cookieCSRF].Value = "planted"
	wantError(t, b.do(req{path: "/api/echo", json: `{}`, header: http.Header{"X-Csrf-Token": {"planted"}}}), 403, "csrf_failed")
	// Another session's real token, planted: bound to another sid, refused too.
	other := newBrowser(t, h)
	other.login("alice")
	b.jar[cookieCSRF].Value = other.jar[cookieCSRF].Value
	wantError(t, b.do(req{path: "/api/echo", json: `{}`, header: other.csrf()}), 403, "csrf_failed")
}

func TestCSRFProtectsRefreshAndLogout(t *testing.T) {
	t.Parallel()
	h := cookieHarness(t, nil, OneCookie, nil)
	h.user("alice")
	b := newBrowser(t, h)
	b.login("alice")
	refreshBefore := b.jar[cookieRefresh].Value
	accessBefore := b.jar[cookieAccess].Value
	wantError(t, b.do(req{method: "POST", path: "/auth/token/refresh"}), 403, "csrf_failed")
	wantError(t, b.do(req{method: "POST", path: "/auth/token/logout"}), 403, "csrf_failed")
	wantError(t, b.do(req{method: "DELETE", path: "/auth/token/logout", header: http.Header{"Origin": {"https://evil.example"}}}), 403, "csrf_failed")
	// Nothing changed: same cookies, and the session still works.
	if b.jar[cookieRefresh].Value != refreshBefore || b.jar[cookieAccess].Value != accessBefore {
		t.Fatal("a refused request changed the cookies")
	}
	wantStatus(t, b.do(req{path: "/api/hello"}), 200)
	wantStatus(t, b.do(req{method: "POST", path: "/auth/token/refresh", header: b.csrf()}), 200)
	// A Bearer request needs no CSRF token: nothing ambient to forge.
	c, _ := h.auth.ParseToken(b.jar[cookieAccess].Value)
	if c == nil {
		t.Fatal("no access token in the jar")
	}
	wantStatus(t, h.do(req{path: "/api/echo", json: `{}`, bearer: b.jar[cookieAccess].Value}), 200)
}

func TestLoginOriginCheck(t *testing.T) {
	t.Parallel()
	h := cookieHarness(t, nil, OneCookie, nil)
	h.user("alice")
	creds := map[string]string{"username": "alice", "password": "pw-alice"}
	wantError(t, h.do(req{path: "/auth/token", json: creds, header: http.Header{"Origin": {"https://evil.example"}}}), 403, "csrf_failed")
	wantError(t, h.do(req{path: "/auth/token", json: creds, header: http.Header{"Origin": {"null"}}}), 403, "csrf_failed")
	wantStatus(t, h.do(req{path: "/auth/token", json: creds, header: http.Header{"Origin": {serverOrigin}}}), 200)
	wantStatus(t, h.do(req{path: "/auth/token", json: creds}), 200)
}

func TestTwoCookieTampering(t *testing.T) {
	t.Parallel()
	h := cookieHarness(t, nil, TwoCookies, nil)
	h.user("alice")
	h.user("mallory", "admin")
	alice := newBrowser(t, h)
	alice.login("alice")
	mallory := newBrowser(t, h)
	mallory.login("mallory")
	payload, sig := alice.jar[cookieAccessPayload].Value, alice.jar[cookieAccessSignature].Value

	// Edit the readable half: claim perms admin.
	parts := strings.Split(payload, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims map[string]any
	_ = json.Unmarshal(raw, &claims)
	claims["perms"] = []string{"admin"}
	edited, _ := json.Marshal(claims)
	cases := map[string][2]string{
		"edited payload":           {parts[0] + "." + base64.RawURLEncoding.EncodeToString(edited), sig},
		"another user's signature": {payload, mallory.jar[cookieAccessSignature].Value},
		"another user's payload":   {mallory.jar[cookieAccessPayload].Value, sig},
		"missing signature":        {payload, ""},
		"missing payload":          {"", sig},
		"extra dot in payload":     {payload + ".x", sig},
		"dot in signature":         {payload, sig + ".x"},
		"whole token in payload":   {payload + "." + sig, sig},
	}
	for name, halves := range cases {
		t.Run(name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/api/admin", nil)
			if halves[0] != "" {
				r.AddCookie(&http.Cookie{Name: cookieAccessPayload, Value: halves[0]})
			}
			if halves[1] != "" {
				r.AddCookie(&http.Cookie{Name: cookieAccessSignature, Value: halves[1]})
			}
			w := httptest.NewRecorder()
			h.engine.ServeHTTP(w, r)
			wantError(t, w, 401, "token_invalid")
		})
	}
}

// TestHeaderComesBeforeCookies: a Bearer token and cookies of another user
// are never merged; the header wins, even when it is broken.
func TestHeaderComesBeforeCookies(t *testing.T) {
	t.Parallel()
	h := cookieHarness(t, nil, OneCookie, nil)
	h.user("alice")
	h.user("bob")
	b := newBrowser(t, h)
	b.login("alice")
	other := newBrowser(t, h)
	other.login("bob")
	w := b.do(req{path: "/api/hello", bearer: other.jar[cookieAccess].Value})
	wantStatus(t, w, 200)
	if !strings.Contains(w.Body.String(), `"user":"bob"`) {
		t.Fatalf("header did not win: %s", w.Body)
	}
	wantError(t, b.do(req{path: "/api/hello", bearer: "broken"}), 401, "token_invalid")
	wantStatus(t, b.do(req{path: "/api/hello"}), 200)
}

func TestCookieLoginAndLogoutHelpers(t *testing.T) {
	t.Parallel()
	h := cookieHarness(t, nil, TwoCookies, nil)
	u := h.user("alice")
	h.engine.POST("/my/login", func(c *gin.Context) {
		if _, err := h.auth.Login(c, u); err != nil {
			AbortWithError(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	})
	h.engine.POST("/my/logout", func(c *gin.Context) {
		if err := h.auth.Logout(c); err != nil {
			AbortWithError(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	})
	b := newBrowser(t, h)
	wantStatus(t, b.do(req{method: "POST", path: "/my/login"}), 204)
	if b.jar[cookieAccessPayload] == nil || b.jar[cookieRefresh] == nil || b.jar[cookieCSRF] == nil {
		t.Fatalf("Login set %v", b.jar)
	}
	wantStatus(t, b.do(req{path: "/api/hello"}), 200)
	// The refresh cookie's Path does not reach /my/logout: the access
	// cookies name the session, with the CSRF check.
	wantError(t, b.do(req{method: "POST", path: "/my/logout"}), 403, "csrf_failed")
	wantStatus(t, b.do(req{method: "POST", path: "/my/logout", header: b.csrf()}), 204)
	if len(b.jar) != 0 {
		t.Fatalf("Logout left %v", b.jar)
	}
	if n := h.auth.Registry().SessionRevoked(mustSession(t, h)); !n {
		t.Fatal("Logout did not revoke the session")
	}
}

func mustSession(t *testing.T, h *harness) string {
	t.Helper()
	var sid string
	if err := h.db.Table("ginjwt_tokens").Select("session_id").Limit(1).Scan(&sid).Error; err != nil {
		t.Fatal(err)
	}
	return sid
}

func TestDeleteLogoutClearsStaleCookies(t *testing.T) {
	t.Parallel()
	h := cookieHarness(t, nil, OneCookie, nil)
	b := newBrowser(t, h)
	b.jar[cookieAccess] = &http.Cookie{Name: cookieAccess, Value: "stale", Path: "/"}
	b.jar[cookieRefresh] = &http.Cookie{Name: cookieRefresh, Value: "garbage", Path: "/auth/token"}
	wantStatus(t, b.do(req{method: "DELETE", path: "/auth/token/logout"}), 200)
	if len(b.jar) != 0 {
		t.Fatalf("cookies left: %v", b.jar)
	}
}

// TestRefreshRefusesForeignOriginsWhateverCarriesTheToken: in cookie modes
// a refresh answers with cookies, so another site posting its own refresh
// token in a form must not plant its session in the victim's browser.
func TestRefreshRefusesForeignOriginsWhateverCarriesTheToken(t *testing.T) {
	t.Parallel()
	h := cookieHarness(t, nil, OneCookie, nil)
	h.user("mallory")
	attacker := newBrowser(t, h)
	attacker.login("mallory")
	stolen := attacker.jar[cookieRefresh].Value
	victim := newBrowser(t, h)
	victim.origin = "https://evil.example"
	for _, path := range []string{"/auth/token/refresh", "/auth/token/logout"} {
		w := victim.do(req{path: path, form: url.Values{"refresh": {stolen}}})
		wantError(t, w, 403, "csrf_failed")
	}
	if len(victim.jar) != 0 {
		t.Fatalf("the refused refresh set cookies: %v", victim.jar)
	}
}

// TestCookieCacheHitsKeepEveryCheck: a token found in the verified-token
// cache from its cookies (read unchecked, halves not joined) is refused or
// let through exactly as one verified afresh: tampered halves, a missing
// or wrong CSRF token, a foreign origin, an unplain first cookie.
func TestCookieCacheHitsKeepEveryCheck(t *testing.T) {
	t.Parallel()
	for _, mode := range []Mode{OneCookie, TwoCookies} {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			h := cookieHarness(t, nil, mode, nil)
			h.user("alice")
			b := newBrowser(t, h)
			b.login("alice")
			wantStatus(t, b.do(req{path: "/api/hello"}), 200)
			before := h.auth.Stats().CacheHits
			wantStatus(t, b.do(req{path: "/api/hello"}), 200)
			if h.auth.Stats().CacheHits != before+1 {
				t.Fatal("the second cookie request was not a cache hit")
			}
			// Unsafe requests: every CSRF check still runs on a hit, the
			// second good one with the session's token kept in the entry.
			wantError(t, b.do(req{path: "/api/echo", json: `{}`}), 403, "csrf_failed")
			wantError(t, b.do(req{path: "/api/echo", json: `{}`, header: http.Header{"X-Csrf-Token": {"wrong"}}}), 403, "csrf_failed")
			wantError(t, b.do(req{path: "/api/echo", json: `{}`, header: http.Header{"X-Csrf-Token": {b.csrf().Get("X-Csrf-Token")}, "Origin": {"https://evil.example"}}}), 403, "csrf_failed")
			wantStatus(t, b.do(req{path: "/api/echo", json: `{}`, header: b.csrf()}), 200)
			wantStatus(t, b.do(req{path: "/api/echo", json: `{}`, header: b.csrf()}), 200)
			csrfValue := b.jar[cookieCSRF].Value
			b.jar[cookieCSRF].Value = "planted"
			wantError(t, b.do(req{path: "/api/echo", json: `{}`, header: http.Header{"X-Csrf-Token": {"planted"}}}), 403, "csrf_failed")
			b.jar[cookieCSRF].Value = csrfValue

			send := func(cookies string) *httptest.ResponseRecorder {
				r := httptest.NewRequest("GET", "/api/hello", nil)
				r.Header.Set("Cookie", cookies)
				w := httptest.NewRecorder()
				h.engine.ServeHTTP(w, r)
				return w
			}
			if mode == OneCookie {
				token := b.jar[cookieAccess].Value
				// A first cookie of the name that is not a plain value is
				// skipped, as net/http skips it: the second one counts.
				wantStatus(t, send(cookieAccess+"=not plain; "+cookieAccess+"="+token), 200)
				wantStatus(t, send(cookieAccess+`="`+token+`"`), 200)
				wantError(t, send(cookieAccess+"="+token+"x"), 401, "token_invalid")
				return
			}
			payload, sig := b.jar[cookieAccessPayload].Value, b.jar[cookieAccessSignature].Value
			dot := strings.IndexByte(payload, '.')
			for name, halves := range map[string][2]string{
				"dot moved into the signature": {payload[:dot], payload[dot+1:] + "." + sig},
				"signature in the payload":     {payload + "." + sig[:10], sig[10:]},
				"whole token in payload":       {payload + "." + sig, sig},
				"extra dot in payload":         {payload + ".x", sig},
				"signature cut":                {payload, sig[:len(sig)-1]},
				"missing signature":            {payload, ""},
			} {
				t.Run(name, func(t *testing.T) {
					cookies := cookieAccessPayload + "=" + halves[0]
					if halves[1] != "" {
						cookies += "; " + cookieAccessSignature + "=" + halves[1]
					}
					wantError(t, send(cookies), 401, "token_invalid")
				})
			}
			wantStatus(t, send(cookieAccessSignature+"="+sig+"; "+cookieAccessPayload+"="+payload), 200)
		})
	}
}
