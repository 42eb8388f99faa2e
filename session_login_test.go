package ginjwt

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	gormsessions "github.com/gin-contrib/sessions/gorm"
	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/testdb"
)

var csrfInput = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

const testUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"

// formLogin logs in through the form as a browser does: GET the form, POST
// it back with its CSRF token.
func formLogin(b *browser, username, password, next string) *httptest.ResponseRecorder {
	b.t.Helper()
	ua := http.Header{"User-Agent": {testUA}}
	page := b.do(req{path: "/auth/login", header: ua})
	wantStatus(b.t, page, http.StatusOK)
	m := csrfInput.FindStringSubmatch(page.Body.String())
	if m == nil {
		b.t.Fatalf("the login form has no CSRF field: %s", page.Body)
	}
	return b.do(req{path: "/auth/login", header: http.Header{"User-Agent": {testUA}},
		form: url.Values{"username": {username}, "password": {password}, "next": {next}, CSRFField: {m[1]}}})
}

// cookie is the value of the browser's cookie name, "" without one.
func (b *browser) cookie(name string) string {
	if c := b.jar[name]; c != nil {
		return c.Value
	}
	return ""
}

// formCSRF is the CSRF cookie's value: what a page of the session carries
// in its forms.
func (b *browser) formCSRF() string { return b.cookie("csrftoken") }

// clone is another browser with the same cookies: a thief's.
func (b *browser) clone() *browser {
	o := newBrowser(b.t, b.h)
	for k, c := range b.jar {
		cc := *c
		o.jar[k] = &cc
	}
	return o
}

// sessionHarness is a harness with session login on, its cookies usable
// over plain HTTP, and a form-posting route.
func sessionHarness(t *testing.T, db *gorm.DB, edit func(*Config)) *harness {
	h := newHarness(t, db, func(c *Config) {
		c.SessionLogin.Enabled = true
		c.Registry.Devices = true
		c.Transport.Cookies.Insecure = true
		if edit != nil {
			edit(c)
		}
	})
	h.engine.POST("/api/form", RequireLogin(), func(c *gin.Context) {
		claims, _ := ClaimsFrom(c)
		c.String(http.StatusOK, "posted %s by %s", c.PostForm("note"), claims.Username)
	})
	h.engine.GET("/api/csrf", RequireLogin(), func(c *gin.Context) { c.String(http.StatusOK, h.auth.CSRFToken(c)) })
	return h
}

func TestSessionLoginUserPath(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		h := sessionHarness(t, db, nil)
		h.user("alice", "perm1")
		b := newBrowser(t, h)

		w := formLogin(b, "alice", "pw-alice", "/api/hello")
		wantStatus(t, w, http.StatusSeeOther)
		if loc := w.Header().Get("Location"); loc != "/api/hello" {
			t.Fatalf("redirected to %q, want /api/hello", loc)
		}
		if b.cookie("ginjwt_session") == "" {
			t.Fatalf("no session cookie: %v", w.Header()["Set-Cookie"])
		}
		for _, c := range w.Header()["Set-Cookie"] {
			if strings.HasPrefix(c, "ginjwt_session=") && (!strings.Contains(c, "HttpOnly") || !strings.Contains(c, "SameSite=Lax")) {
				t.Fatalf("session cookie without HttpOnly/SameSite: %s", c)
			}
			if strings.HasPrefix(c, "jwt_") {
				t.Fatalf("a session login set a token cookie: %s", c)
			}
		}
		if strings.Contains(b.cookie("ginjwt_session"), ".ey") {
			t.Fatalf("the session cookie shows the token: %s", b.cookie("ginjwt_session"))
		}

		w = b.do(req{path: "/api/hello"})
		wantStatus(t, w, http.StatusOK)
		if !strings.Contains(w.Body.String(), `"alice"`) {
			t.Fatalf("hello: %s", w.Body)
		}
		wantStatus(t, b.do(req{path: "/api/perm1"}), http.StatusOK)
		wantError(t, b.do(req{path: "/api/admin"}), http.StatusForbidden, "permission_denied")

		// The session is a registry session: listed, with its device, current.
		w = b.do(req{path: "/auth/sessions"})
		wantStatus(t, w, http.StatusOK)
		var list struct {
			Sessions []sessionView `json:"sessions"`
		}
		decode(t, w, &list)
		if len(list.Sessions) != 1 || !list.Sessions[0].Current || list.Sessions[0].Device == nil || list.Sessions[0].Device.Browser != "Chrome" {
			t.Fatalf("sessions: %s", w.Body)
		}

		// A form posted with the session's CSRF token passes.
		w = b.do(req{path: "/api/form", form: url.Values{"note": {"hi"}, CSRFField: {b.formCSRF()}}})
		wantStatus(t, w, http.StatusOK)
		if w.Body.String() != "posted hi by alice" {
			t.Fatalf("form: %q", w.Body)
		}
		// The token a page embeds is the one the CSRF cookie holds.
		if got := b.do(req{path: "/api/csrf"}).Body.String(); got != b.formCSRF() || got == "" {
			t.Fatalf("CSRFToken %q, cookie %q", got, b.formCSRF())
		}

		// Logout: the session is revoked, the cookies cleared.
		w = b.do(req{path: "/auth/logout", form: url.Values{CSRFField: {b.formCSRF()}}})
		wantStatus(t, w, http.StatusSeeOther)
		if b.cookie("ginjwt_session") != "" {
			t.Fatal("the session cookie survived the logout")
		}
		wantError(t, b.do(req{path: "/api/hello"}), http.StatusUnauthorized, "token_missing")
	})
}

func TestSessionRefusedOnItsNextRequest(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		h := sessionHarness(t, db, nil)
		h.user("alice")
		ctx := context.Background()

		t.Run("a stolen cookie after logout", func(t *testing.T) {
			b := newBrowser(t, h)
			wantStatus(t, formLogin(b, "alice", "pw-alice", ""), http.StatusSeeOther)
			thief := b.clone()
			wantStatus(t, thief.do(req{path: "/api/hello"}), http.StatusOK)
			wantStatus(t, b.do(req{path: "/auth/logout", form: url.Values{CSRFField: {b.formCSRF()}}}), http.StatusSeeOther)
			// The cookie store's cookie still decodes: the registry refuses it.
			wantError(t, thief.do(req{path: "/api/hello"}), http.StatusUnauthorized, "token_revoked")
		})

		t.Run("revoked through the API from another session", func(t *testing.T) {
			b := newBrowser(t, h)
			wantStatus(t, formLogin(b, "alice", "pw-alice", ""), http.StatusSeeOther)
			pair := h.login("alice")
			var list struct {
				Sessions []sessionView `json:"sessions"`
			}
			decode(t, h.do(req{path: "/auth/sessions", bearer: pair.Access}), &list)
			revoked := 0
			for _, s := range list.Sessions {
				if !s.Current {
					wantStatus(t, h.do(req{method: http.MethodDelete, path: "/auth/sessions/" + s.ID, bearer: pair.Access}), http.StatusOK)
					revoked++
				}
			}
			if revoked != 1 {
				t.Fatalf("revoked %d sessions, want the browser's 1: %+v", revoked, list.Sessions)
			}
			wantError(t, b.do(req{path: "/api/hello"}), http.StatusUnauthorized, "token_revoked")
			wantStatus(t, h.do(req{path: "/api/hello", bearer: pair.Access}), http.StatusOK)
		})

		t.Run("a password change", func(t *testing.T) {
			b := newBrowser(t, h)
			wantStatus(t, formLogin(b, "alice", "pw-alice", ""), http.StatusSeeOther)
			u, err := h.store.FindByUsername(ctx, "alice")
			if err != nil {
				t.Fatal(err)
			}
			if err := h.store.SetPassword(ctx, u.ID, "pw-alice"); err != nil {
				t.Fatal(err)
			}
			wantError(t, b.do(req{path: "/api/hello"}), http.StatusUnauthorized, "token_revoked")
		})

		t.Run("log out everywhere", func(t *testing.T) {
			b := newBrowser(t, h)
			wantStatus(t, formLogin(b, "alice", "pw-alice", ""), http.StatusSeeOther)
			u, _ := h.store.FindByUsername(ctx, "alice")
			if err := h.auth.LogoutEverywhere(ctx, u.ID); err != nil {
				t.Fatal(err)
			}
			wantError(t, b.do(req{path: "/api/hello"}), http.StatusUnauthorized, "token_revoked")
		})

		t.Run("expiry", func(t *testing.T) {
			// Renewed while used (a new access token each AccessTTL), it
			// ends with its refresh token, RefreshTTL after the login.
			b := newBrowser(t, h)
			wantStatus(t, formLogin(b, "alice", "pw-alice", ""), http.StatusSeeOther)
			h.clock.Advance(12 * time.Hour)
			wantStatus(t, b.do(req{path: "/api/hello"}), http.StatusOK)
			h.clock.Advance(11 * time.Hour)
			wantStatus(t, b.do(req{path: "/api/hello"}), http.StatusOK)
			h.clock.Advance(time.Hour + time.Second)
			wantError(t, b.do(req{path: "/api/hello"}), http.StatusUnauthorized, "token_expired")
		})
		t.Run("a renewal whose answer never arrived", func(t *testing.T) {
			// The browser keeps its old cookie (it left the page): its next
			// request renews again, and is no reuse of a stolen token.
			b := newBrowser(t, h)
			wantStatus(t, formLogin(b, "alice", "pw-alice", ""), http.StatusSeeOther)
			old := b.clone()
			h.clock.Advance(5*time.Minute + time.Second)
			wantStatus(t, b.do(req{path: "/api/hello"}), http.StatusOK)
			h.clock.Advance(time.Minute)
			wantStatus(t, old.do(req{path: "/api/hello"}), http.StatusOK)
			wantStatus(t, b.do(req{path: "/api/hello"}), http.StatusOK)
		})
		t.Run("a permission taken away", func(t *testing.T) {
			b := newBrowser(t, h)
			u, _ := h.store.FindByUsername(ctx, "alice")
			if err := h.store.SetPerms(ctx, u.ID, "perm1"); err != nil {
				t.Fatal(err)
			}
			wantStatus(t, formLogin(b, "alice", "pw-alice", ""), http.StatusSeeOther)
			wantStatus(t, b.do(req{path: "/api/perm1"}), http.StatusOK)
			if err := h.store.SetPerms(ctx, u.ID); err != nil {
				t.Fatal(err)
			}
			h.clock.Advance(5*time.Minute + time.Second) // Tokens.AccessTTL
			wantError(t, b.do(req{path: "/api/perm1"}), http.StatusForbidden, "permission_denied")
			wantStatus(t, b.do(req{path: "/api/hello"}), http.StatusOK)
		})
		t.Run("a deactivation", func(t *testing.T) {
			b := newBrowser(t, h)
			h.user("bob")
			wantStatus(t, formLogin(b, "bob", "pw-bob", ""), http.StatusSeeOther)
			u, _ := h.store.FindByUsername(ctx, "bob")
			if err := h.store.SetActive(ctx, u.ID, false); err != nil {
				t.Fatal(err)
			}
			wantError(t, b.do(req{path: "/api/hello"}), http.StatusUnauthorized, "token_revoked")
		})
		t.Run("a second login ends the first", func(t *testing.T) {
			b := newBrowser(t, h)
			wantStatus(t, formLogin(b, "alice", "pw-alice", ""), http.StatusSeeOther)
			first := b.clone()
			wantStatus(t, formLogin(b, "alice", "pw-alice", ""), http.StatusSeeOther)
			wantStatus(t, b.do(req{path: "/api/hello"}), http.StatusOK)
			wantError(t, first.do(req{path: "/api/hello"}), http.StatusUnauthorized, "token_revoked")
		})
	})
}

func TestSessionCSRF(t *testing.T) {
	h := sessionHarness(t, nil, nil)
	h.user("alice")
	b := newBrowser(t, h)
	wantStatus(t, formLogin(b, "alice", "pw-alice", ""), http.StatusSeeOther)
	token := b.formCSRF()

	for _, tc := range []struct {
		name   string
		form   url.Values
		header http.Header
	}{
		{"no token", url.Values{"note": {"x"}}, nil},
		{"a wrong token", url.Values{"note": {"x"}, CSRFField: {strings.Repeat("A", len(token))}}, nil},
		{"another origin", url.Values{"note": {"x"}, CSRFField: {token}}, http.Header{"Origin": {"https://evil.example"}}},
		{"an opaque origin", url.Values{"note": {"x"}, CSRFField: {token}}, http.Header{"Origin": {"null"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, b.do(req{path: "/api/form", form: tc.form, header: tc.header}), http.StatusForbidden, "csrf_failed")
		})
	}
	t.Run("a token planted as cookie and field both", func(t *testing.T) {
		evil := b.clone()
		planted := strings.Repeat("B", len(token))
		evil.jar["csrftoken"].Value = planted
		wantError(t, evil.do(req{path: "/api/form", form: url.Values{CSRFField: {planted}}}), http.StatusForbidden, "csrf_failed")
	})
	t.Run("the header instead of the field", func(t *testing.T) {
		w := b.do(req{path: "/api/form", form: url.Values{"note": {"h"}}, header: http.Header{"X-Csrf-Token": {token}}})
		wantStatus(t, w, http.StatusOK)
	})
	t.Run("an oversized form", func(t *testing.T) {
		big := url.Values{"note": {strings.Repeat("x", 128<<10)}, CSRFField: {token}}
		wantError(t, b.do(req{path: "/api/form", form: big}), http.StatusRequestEntityTooLarge, "body_too_large")
	})
	t.Run("a GET needs none", func(t *testing.T) {
		wantStatus(t, b.do(req{path: "/api/hello"}), http.StatusOK)
	})
}

func TestLoginFormRefusesForgery(t *testing.T) {
	h := sessionHarness(t, nil, nil)
	h.user("alice")

	t.Run("no CSRF token", func(t *testing.T) {
		b := newBrowser(t, h)
		w := b.do(req{path: "/auth/login", form: url.Values{"username": {"alice"}, "password": {"pw-alice"}}})
		wantStatus(t, w, http.StatusForbidden)
		if b.cookie("ginjwt_session") != "" {
			t.Fatal("a forged login started a session")
		}
	})
	t.Run("another site's form", func(t *testing.T) {
		b := newBrowser(t, h)
		page := b.do(req{path: "/auth/login"})
		token := csrfInput.FindStringSubmatch(page.Body.String())[1]
		w := b.do(req{path: "/auth/login", form: url.Values{"username": {"alice"}, "password": {"pw-alice"}, CSRFField: {token}},
			header: http.Header{"Origin": {"https://evil.example"}}})
		wantStatus(t, w, http.StatusForbidden)
		if b.cookie("ginjwt_session") != "" {
			t.Fatal("a cross-site login started a session")
		}
	})
	t.Run("an open redirect", func(t *testing.T) {
		for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example", "/x\r\nSet-Cookie: a=b", "javascript:alert(1)"} {
			b := newBrowser(t, h)
			w := formLogin(b, "alice", "pw-alice", next)
			wantStatus(t, w, http.StatusSeeOther)
			if loc := w.Header().Get("Location"); loc != "/" {
				t.Fatalf("next %q redirected to %q", next, loc)
			}
		}
	})
	t.Run("hostile input is escaped", func(t *testing.T) {
		b := newBrowser(t, h)
		w := formLogin(b, `<script>alert(1)</script>`, "nope", "")
		wantStatus(t, w, http.StatusUnauthorized)
		if strings.Contains(w.Body.String(), "<script>alert") || !strings.Contains(w.Body.String(), "&lt;script&gt;") {
			t.Fatalf("the login typed is not escaped: %s", w.Body)
		}
	})
	t.Run("a logout from another site", func(t *testing.T) {
		b := newBrowser(t, h)
		wantStatus(t, formLogin(b, "alice", "pw-alice", ""), http.StatusSeeOther)
		w := b.do(req{path: "/auth/logout", form: url.Values{CSRFField: {b.formCSRF()}}, header: http.Header{"Origin": {"https://evil.example"}}})
		wantStatus(t, w, http.StatusForbidden)
		wantStatus(t, b.do(req{path: "/api/hello"}), http.StatusOK)
	})
	t.Run("a tampered session cookie", func(t *testing.T) {
		b := newBrowser(t, h)
		wantStatus(t, formLogin(b, "alice", "pw-alice", ""), http.StatusSeeOther)
		v := []byte(b.cookie("ginjwt_session"))
		v[len(v)/2] ^= 1
		b.jar["ginjwt_session"].Value = string(v)
		wantError(t, b.do(req{path: "/api/hello"}), http.StatusUnauthorized, "token_invalid")
	})
}

// TestLoginFormThrottled: the form and the login endpoint count the same
// failures, and concurrent guessers through the form get no more guesses.
func TestLoginFormThrottled(t *testing.T) {
	h := sessionHarness(t, nil, func(c *Config) { c.Limits.Throttle.PerAccount = 5 })
	h.user("alice")
	var wg sync.WaitGroup
	codes := make(chan int, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes <- formLogin(newBrowser(t, h), "alice", fmt.Sprint("guess", i), "").Code
		}()
	}
	wg.Wait()
	close(codes)
	counts := map[int]int{}
	for c := range codes {
		counts[c]++
	}
	if counts[http.StatusUnauthorized] != 5 || counts[http.StatusTooManyRequests] != 15 {
		t.Fatalf("20 concurrent wrong guesses: %v, want 5 × 401 and 15 × 429", counts)
	}
	wantError(t, h.do(req{path: "/auth/token", json: map[string]string{"username": "alice", "password": "pw-alice"}}), http.StatusTooManyRequests, "too_many_requests")
	w := formLogin(newBrowser(t, h), "alice", "pw-alice", "")
	wantStatus(t, w, http.StatusTooManyRequests)
	if w.Header().Get("Retry-After") == "" {
		t.Fatal("a throttled form login has no Retry-After")
	}
}

// TestSessionLoginServerSideStore runs session login on a store that keeps
// sessions in the database (gin-contrib/sessions' GORM store): the cookie
// holds only the session's ID, and a logout deletes the row.
func TestSessionLoginServerSideStore(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		store := gormsessions.NewStore(db, false, []byte("0123456789abcdef0123456789abcdef"))
		h := sessionHarness(t, db, func(c *Config) { c.SessionLogin.Store = store })
		h.user("alice")
		b := newBrowser(t, h)
		wantStatus(t, formLogin(b, "alice", "pw-alice", ""), http.StatusSeeOther)
		var rows int64
		if err := db.Table("sessions").Count(&rows).Error; err != nil || rows != 1 {
			t.Fatalf("session rows: %d, %v", rows, err)
		}
		if len(b.cookie("ginjwt_session")) > 200 {
			t.Fatalf("the server-side store's cookie holds %d bytes", len(b.cookie("ginjwt_session")))
		}
		wantStatus(t, b.do(req{path: "/api/hello"}), http.StatusOK)
		stolen := b.cookie("ginjwt_session")
		wantStatus(t, b.do(req{path: "/auth/logout", form: url.Values{CSRFField: {b.formCSRF()}}}), http.StatusSeeOther)
		if err := db.Table("sessions").Count(&rows).Error; err != nil || rows != 0 {
			t.Fatalf("session rows after logout: %d, %v", rows, err)
		}
		thief := newBrowser(t, h)
		thief.jar["ginjwt_session"] = &http.Cookie{Name: "ginjwt_session", Value: stolen, Path: "/"}
		wantError(t, thief.do(req{path: "/api/hello"}), http.StatusUnauthorized, "token_missing")
	})
}

// TestSessionLoginDatabaseOutage stops a private PostgreSQL under session
// login with both stores: a login through the form answers 503 with
// Retry-After (and counts no failure), a cookie-store session keeps working
// from memory, a server-side session is 503 rather than "logged out", and
// all of it recovers once the database is back, without a restart.
func TestSessionLoginDatabaseOutage(t *testing.T) {
	t.Parallel()
	cluster := testdb.PrivatePostgres(t)
	db := cluster.DB(t)
	cookieSite := sessionHarness(t, db, nil)
	serverSite := sessionHarness(t, db, func(c *Config) {
		c.SessionLogin.Store = gormsessions.NewStore(db, false, []byte("0123456789abcdef0123456789abcdef"))
	})
	cookieSite.user("alice")
	inCookie, inServer := newBrowser(t, cookieSite), newBrowser(t, serverSite)
	wantStatus(t, formLogin(inCookie, "alice", "pw-alice", ""), http.StatusSeeOther)
	wantStatus(t, formLogin(inServer, "alice", "pw-alice", ""), http.StatusSeeOther)

	cluster.Stop(t)
	for range 12 { // more than Throttle.PerAccount
		w := formLogin(newBrowser(t, cookieSite), "alice", "pw-alice", "")
		wantStatus(t, w, http.StatusServiceUnavailable)
		if w.Header().Get("Retry-After") == "" {
			t.Fatal("503 without Retry-After")
		}
	}
	wantStatus(t, inCookie.do(req{path: "/api/hello"}), http.StatusOK)
	wantError(t, inServer.do(req{path: "/api/hello"}), http.StatusServiceUnavailable, "unavailable")

	cluster.Start(t)
	deadline := time.Now().Add(5 * time.Second)
	w := formLogin(newBrowser(t, cookieSite), "alice", "pw-alice", "")
	for w.Code == http.StatusServiceUnavailable && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		w = formLogin(newBrowser(t, cookieSite), "alice", "pw-alice", "")
	}
	wantStatus(t, w, http.StatusSeeOther)
	w = inServer.do(req{path: "/api/hello"})
	for w.Code == http.StatusServiceUnavailable && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		w = inServer.do(req{path: "/api/hello"})
	}
	wantStatus(t, w, http.StatusOK)
}

// TestSessionLoginSlidingTokens: with sliding tokens the session holds the
// one sliding token, and lives for its refresh lifetime, not its short one.
func TestSessionLoginSlidingTokens(t *testing.T) {
	h := sessionHarness(t, nil, func(c *Config) {
		c.Tokens.Sliding = true
		c.Tokens.SlidingTTL = 5 * time.Minute
		c.Tokens.SlidingRefreshTTL = time.Hour
	})
	h.user("alice")
	b := newBrowser(t, h)
	wantStatus(t, formLogin(b, "alice", "pw-alice", ""), http.StatusSeeOther)
	h.clock.Advance(30 * time.Minute)
	wantStatus(t, b.do(req{path: "/api/hello"}), http.StatusOK)
	wantStatus(t, b.do(req{path: "/api/form", form: url.Values{CSRFField: {b.formCSRF()}}}), http.StatusOK)
	h.clock.Advance(31 * time.Minute)
	wantError(t, b.do(req{path: "/api/hello"}), http.StatusUnauthorized, "token_expired")
}

// TestSessionFixation: a session cookie planted in the victim's browser
// (cookie tossing, a shared machine) never becomes the victim's session:
// logging in starts a new session, with a new ID, in the GORM store too.
func TestSessionFixation(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		store := gormsessions.NewStore(db, false, []byte("0123456789abcdef0123456789abcdef"))
		h := sessionHarness(t, db, func(c *Config) { c.SessionLogin.Store = store })
		h.user("alice")
		h.user("mallory")
		mallory := newBrowser(t, h)
		wantStatus(t, formLogin(mallory, "mallory", "pw-mallory", ""), http.StatusSeeOther)
		victim := mallory.clone() // the planted cookies
		wantStatus(t, formLogin(victim, "alice", "pw-alice", ""), http.StatusSeeOther)
		if victim.cookie("ginjwt_session") == mallory.cookie("ginjwt_session") {
			t.Fatal("the login kept the planted session cookie")
		}
		w := mallory.do(req{path: "/api/hello"})
		if strings.Contains(w.Body.String(), "alice") {
			t.Fatalf("the planted cookie is now alice's: %s", w.Body)
		}
		wantStatus(t, victim.do(req{path: "/api/hello"}), http.StatusOK)
	})
}

// TestSessionFormBodyReachesTheHandler: reading the CSRF field from a
// chunked form (no Content-Length) leaves the body whole for the handler,
// over the limit too, in the cookie modes as with sessions.
func TestSessionFormBodyReachesTheHandler(t *testing.T) {
	h := sessionHarness(t, nil, nil)
	h.engine.POST("/api/len", func(c *gin.Context) {
		n, _ := io.Copy(io.Discard, c.Request.Body)
		c.String(http.StatusOK, "%d", n)
	})
	h.user("alice")
	b := newBrowser(t, h)
	wantStatus(t, formLogin(b, "alice", "pw-alice", ""), http.StatusSeeOther)
	for _, size := range []int{1 << 10, 100 << 10} {
		body := url.Values{CSRFField: {b.formCSRF()}, "data": {strings.Repeat("x", size)}}.Encode()
		r := httptest.NewRequest(http.MethodPost, "/api/len", io.NopCloser(strings.NewReader(body)))
		r.ContentLength = -1 // chunked
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Origin", serverOrigin)
		for _, c := range b.jar {
			r.AddCookie(c)
		}
		w := httptest.NewRecorder()
		h.engine.ServeHTTP(w, r)
		if w.Body.String() != fmt.Sprint(len(body)) {
			t.Fatalf("%d-byte form: the handler read %s bytes", len(body), w.Body)
		}
	}
}

// TestSessionCSRFAlwaysOn: Transport.CSRF.Disabled (for APIs no browser
// calls) does not turn off the check of session requests, which only
// browsers make.
func TestSessionCSRFAlwaysOn(t *testing.T) {
	h := sessionHarness(t, nil, func(c *Config) { c.Transport.CSRF.Disabled = true })
	h.user("alice")
	b := newBrowser(t, h)
	wantStatus(t, formLogin(b, "alice", "pw-alice", ""), http.StatusSeeOther)
	w := b.do(req{path: "/api/form", form: url.Values{"note": {"forged"}}, header: http.Header{"Origin": {"https://evil.example"}}})
	wantError(t, w, http.StatusForbidden, "csrf_failed")
}

// TestSessionTooLargeForTheCookie: a user whose tokens do not fit the
// cookie store gets an error that says so, and no session is left behind.
func TestSessionTooLargeForTheCookie(t *testing.T) {
	h := sessionHarness(t, nil, nil)
	perms := make([]string, 150) // names that do not compress
	for i := range perms {
		sum := sha256.Sum256([]byte{byte(i)})
		perms[i] = hex.EncodeToString(sum[:12])
	}
	h.user("alice", perms...)
	w := formLogin(newBrowser(t, h), "alice", "pw-alice", "")
	wantStatus(t, w, http.StatusInternalServerError)
	if !strings.Contains(h.logs.String(), "SessionLogin.Store") {
		t.Fatalf("the log does not say what to do: %s", h.logs)
	}
	u, _ := h.store.FindByUsername(context.Background(), "alice")
	live, err := h.auth.Registry().Sessions(context.Background(), u.ID)
	if err != nil || len(live) != 0 {
		t.Fatalf("live sessions after the failed login: %v, %v", live, err)
	}
}

// TestSessionConcurrentRenewal: a page whose resources arrive together
// just after the access token expired renews the session once per request
// at the same moment, every one with the same old cookie: none is taken for
// the reuse of a rotated refresh token (which would revoke the session),
// every request passes, and the session goes on with any of the cookies
// they set.
func TestSessionConcurrentRenewal(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		h := sessionHarness(t, db, nil)
		h.user("alice")
		b := newBrowser(t, h)
		wantStatus(t, formLogin(b, "alice", "pw-alice", ""), http.StatusSeeOther)
		h.clock.Advance(5*time.Minute + time.Second)
		var wg sync.WaitGroup
		codes := make([]int, 8)
		browsers := make([]*browser, 8)
		for i := range codes {
			browsers[i] = b.clone()
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[i] = browsers[i].do(req{path: "/api/hello"}).Code
			}()
		}
		wg.Wait()
		for i, code := range codes {
			if code != http.StatusOK {
				t.Fatalf("request %d of 8 renewing at once: %d (%v)", i, code, codes)
			}
		}
		for _, nb := range browsers {
			wantStatus(t, nb.do(req{path: "/api/hello"}), http.StatusOK)
		}
		h.clock.Advance(time.Minute) // past the reuse grace
		wantStatus(t, browsers[7].do(req{path: "/api/hello"}), http.StatusOK)
		wantStatus(t, browsers[0].do(req{path: "/api/hello"}), http.StatusOK)
	})
}

// TestDropCookieAsNetHTTPReads: the session cookie left out of a login's
// request is gone for net/http too (which trims spaces around a name), so
// a store that saves under the ID its cookie names starts a new session.
func TestDropCookieAsNetHTTPReads(t *testing.T) {
	for _, h := range []string{"ginjwt_session =X", "a=1; ginjwt_session\t=X", "ginjwt_session=X; b=2"} {
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Cookie", h)
		dropCookie(r, "ginjwt_session")
		if c, err := r.Cookie("ginjwt_session"); err == nil {
			t.Errorf("%q: net/http still reads %q after dropCookie", h, c.Value)
		}
		if h == "ginjwt_session=X; b=2" {
			if c, err := r.Cookie("b"); err != nil || c.Value != "2" {
				t.Errorf("%q: the other cookie was dropped too", h)
			}
		}
	}
}

// TestSessionRenewalThatCannotBeSaved: a renewal whose tokens no longer
// fit the cookie (permissions granted since the login) serves its request
// and every later one, logged, never a 500 or a revoked session.
func TestSessionRenewalThatCannotBeSaved(t *testing.T) {
	h := sessionHarness(t, nil, nil)
	u := h.user("alice")
	b := newBrowser(t, h)
	wantStatus(t, formLogin(b, "alice", "pw-alice", ""), http.StatusSeeOther)
	perms := make([]string, 150) // names that do not compress
	for i := range perms {
		sum := sha256.Sum256([]byte{byte(i)})
		perms[i] = hex.EncodeToString(sum[:12])
	}
	if err := h.store.SetPerms(context.Background(), u.ID, perms...); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(5*time.Minute + time.Second)
	wantStatus(t, b.do(req{path: "/api/hello"}), http.StatusOK)
	h.clock.Advance(time.Minute)
	wantStatus(t, b.do(req{path: "/api/hello"}), http.StatusOK)
	if !strings.Contains(h.logs.String(), "saving a renewed session") {
		t.Fatalf("the failed save is not logged: %s", h.logs)
	}
}
