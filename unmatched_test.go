package ginjwt

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// serve sends one request to h.
func serve(h http.Handler, method, target string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// wantGinPlain404 checks gin's own answer for an unmatched request.
func wantGinPlain404(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	if w.Code != 404 || w.Body.String() != "404 page not found" {
		t.Fatalf("want gin's own 404, got %d %q", w.Code, w.Body)
	}
}

// mountOn mounts ginjwt on r with the harness's database and users.
func mountOn(t *testing.T, r gin.IRouter, h *harness, edit func(*Config)) *Auth {
	t.Helper()
	cfg := Config{SigningKey: testSecret, DB: h.db, Users: h.store}
	if edit != nil {
		edit(&cfg)
	}
	auth, err := Mount(r, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = auth.Close(context.Background()) })
	return auth
}

func wantAllow(t *testing.T, w *httptest.ResponseRecorder, allow string) {
	t.Helper()
	wantError(t, w, http.StatusMethodNotAllowed, "method_not_allowed")
	if got := w.Header().Get("Allow"); got != allow {
		t.Fatalf("Allow: %q, want %q", got, allow)
	}
}

// TestUnmatchedUnderPrefixIsJSON: a path under the prefix that is no
// endpoint is 404 not_found in JSON; an endpoint's path with a method it
// does not serve is 405 method_not_allowed with Allow. Paths outside the
// prefix keep gin's answer, or the application's own NoRoute, set before
// or after Mount.
func TestUnmatchedUnderPrefixIsJSON(t *testing.T) {
	t.Parallel()
	appNoRoute := func(c *gin.Context) { c.JSON(404, gin.H{"app": "no route"}) }
	for _, tc := range []struct {
		name          string
		before, after bool // the application's NoRoute, set before or after Mount
	}{
		{name: "no NoRoute"},
		{name: "NoRoute before Mount", before: true},
		{name: "NoRoute after Mount", after: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			update := func(c *Config) { c.Tokens.AllowRefreshUpdate = true }
			h := newHarness(t, nil, update)
			if tc.before {
				h.engine = gin.New()
				h.engine.NoRoute(appNoRoute)
				mountOn(t, h.engine, h, update)
			}
			if tc.after {
				h.engine.NoRoute(appNoRoute)
			}
			for _, target := range []string{"/auth/nope", "/auth", "/auth/", "/auth/token/nope", "/auth/users/me/x", "/auth/sessions/a/b", "/auth//token"} {
				w := serve(h.engine, "GET", target)
				wantError(t, w, 404, "not_found")
				if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Fatalf("%s: Content-Type %q", target, ct)
				}
			}
			for _, tr := range []struct{ method, target, allow string }{
				{"GET", "/auth/token", "POST"},
				{"PUT", "/auth/token/refresh", "POST"},
				{"PATCH", "/auth/token/update", "POST"},
				{"GET", "/auth/token/verify", "POST"},
				{"DELETE", "/auth/token/logout", "POST"}, // JSON mode: DELETE is the cookie modes'
				{"POST", "/auth/sessions", "DELETE, GET"},
				{"GET", "/auth/sessions/some-id", "DELETE"},
				{"POST", "/auth/jwks.json", "GET"},
				{"HEAD", "/auth/jwks.json", "GET"},
				{"DELETE", "/auth/users/me", "GET"},
				{"POST", "/auth/users/42", "GET"},
				{"CONNECT", "/auth/token", "POST"},
				{"FOO", "/auth/token", "POST"},
			} {
				wantAllow(t, serve(h.engine, tr.method, tr.target), tr.allow)
			}
			// Outside the prefix: gin's answer or the application's.
			for _, target := range []string{"/api/nope", "/authx", "/", "/aut"} {
				w := serve(h.engine, "GET", target)
				if tc.before || tc.after {
					if w.Code != 404 || w.Body.String() != `{"app":"no route"}` {
						t.Fatalf("%s: %d %q, want the application's NoRoute", target, w.Code, w.Body)
					}
				} else {
					wantGinPlain404(t, w)
				}
			}
			// Routes still answer; so does a route of the application's own
			// under the prefix.
			h.engine.GET("/auth/custom", func(c *gin.Context) { c.JSON(200, gin.H{"custom": true}) })
			h.engine.GET("/api/mine", func(c *gin.Context) { c.JSON(200, gin.H{"mine": true}) })
			wantStatus(t, serve(h.engine, "GET", "/auth/custom"), 200)
			wantStatus(t, serve(h.engine, "GET", "/auth/jwks.json"), 200)
			wantStatus(t, serve(h.engine, "GET", "/api/mine"), 200)
		})
	}
}

// TestUnmatchedCookieModeAllow: the cookie modes serve DELETE on logout.
func TestUnmatchedCookieModeAllow(t *testing.T) {
	t.Parallel()
	h := cookieHarness(t, nil, TwoCookies, nil)
	wantAllow(t, serve(h.engine, "GET", "/auth/token/logout"), "DELETE, POST")
}

// TestUnmatchedWithEngineOptions: the application's 405 handling
// (HandleMethodNotAllowed, NoMethod) keeps its own paths; trailing slashes
// follow the engine's RedirectTrailingSlash; an OPTIONS preflight reaches
// a CORS middleware installed after Mount.
func TestUnmatchedWithEngineOptions(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	h.engine.HandleMethodNotAllowed = true
	h.engine.NoMethod(func(c *gin.Context) { c.JSON(405, gin.H{"app": "no method"}) })
	if w := serve(h.engine, "POST", "/api/public"); w.Code != 405 || w.Body.String() != `{"app":"no method"}` {
		t.Fatalf("the application's NoMethod: %d %q", w.Code, w.Body)
	}
	wantAllow(t, serve(h.engine, "GET", "/auth/token"), "POST")

	// gin redirects a trailing slash by default (307 for POST); with the
	// redirect off, the path is no endpoint.
	if w := serve(h.engine, "POST", "/auth/token/"); w.Code != http.StatusTemporaryRedirect || w.Header().Get("Location") != "/auth/token" {
		t.Fatalf("trailing slash: %d %v", w.Code, w.Header())
	}
	h.engine.RedirectTrailingSlash = false
	wantError(t, serve(h.engine, "POST", "/auth/token/"), 404, "not_found")

	// OPTIONS is ginjwt's; a CORS preflight goes first to the handlers
	// after it, and is ginjwt's only when none answers.
	preflight := func(target string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("OPTIONS", target, nil)
		r.Header.Set("Origin", "https://app.example")
		r.Header.Set("Access-Control-Request-Method", "POST")
		w := httptest.NewRecorder()
		h.engine.ServeHTTP(w, r)
		return w
	}
	h.engine.HandleMethodNotAllowed = false // the application's NoMethod would answer the preflight
	wantAllow(t, serve(h.engine, "OPTIONS", "/auth/token"), "POST")
	wantError(t, serve(h.engine, "OPTIONS", "/auth/nope"), 404, "not_found")
	wantAllow(t, preflight("/auth/token"), "POST")
	h.engine.Use(func(c *gin.Context) {
		if c.Request.Method == "OPTIONS" && c.GetHeader("Access-Control-Request-Method") != "" {
			c.Header("Access-Control-Allow-Methods", "POST")
			c.AbortWithStatus(http.StatusNoContent)
		}
	})
	if w := preflight("/auth/token"); w.Code != http.StatusNoContent || w.Header().Get("Access-Control-Allow-Methods") != "POST" {
		t.Fatalf("preflight: %d %v", w.Code, w.Header())
	}
	wantAllow(t, serve(h.engine, "OPTIONS", "/auth/token"), "POST")
}

// TestUnmatchedHostilePaths: what a client puts in the path never reaches
// the answer or ginjwt's log.
func TestUnmatchedHostilePaths(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	for _, target := range []string{
		"/auth/%0Aforged%20log%20line",
		"/auth/%1B%5B31mred%1B%5B0m",
		"/auth/%3Cscript%3Ealert(1)%3C/script%3E",
		"/auth/..%2F..%2Fetc%2Fpasswd",
		"/auth/" + strings.Repeat("a", 8<<10),
		"/auth/token%00",
		"/auth/%FF%FE",
	} {
		for _, method := range []string{"GET", "POST", "DELETE"} {
			w := serve(h.engine, method, target)
			wantError(t, w, 404, "not_found")
			for _, bad := range []string{"forged", "\x1b", "<script", "passwd", "aaaa", "\x00", "\xff"} {
				if strings.Contains(w.Body.String(), bad) {
					t.Fatalf("%s %s: the answer repeats the path: %q", method, target, w.Body)
				}
			}
		}
	}
	if logs := h.logs.String(); bytes.ContainsAny([]byte(logs), "\x1b\x00") || strings.Contains(logs, "forged log line") {
		t.Fatalf("the path reached the log: %q", logs)
	}
}

// TestUnmatchedRootPrefix: with Config.Routes.Prefix "/", ginjwt owns only its
// endpoints' paths (405); every other unmatched path is the
// application's.
func TestUnmatchedRootPrefix(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, func(c *Config) { c.Routes.Prefix = "/" })
	wantAllow(t, serve(h.engine, "GET", "/token"), "POST")
	wantGinPlain404(t, serve(h.engine, "GET", "/nope"))
	wantGinPlain404(t, serve(h.engine, "GET", "/token/nope"))
}

// TestUnmatchedOnRouterGroup: mounted on a group, ginjwt cannot reach the
// engine's unmatched requests by itself (gin's answer stays); with
// engine.Use(auth.Unmatched()) it answers below the group, and only there.
func TestUnmatchedOnRouterGroup(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	for _, install := range []bool{false, true} {
		e := gin.New()
		auth := mountOn(t, e.Group("/v1"), h, nil)
		if install {
			e.Use(auth.Unmatched())
		}
		wantStatus(t, serve(e, "GET", "/v1/auth/jwks.json"), 200)
		if !install {
			wantGinPlain404(t, serve(e, "GET", "/v1/auth/nope"))
			wantGinPlain404(t, serve(e, "GET", "/v1/auth/token"))
			continue
		}
		wantError(t, serve(e, "GET", "/v1/auth/nope"), 404, "not_found")
		wantAllow(t, serve(e, "GET", "/v1/auth/token"), "POST")
		wantGinPlain404(t, serve(e, "GET", "/auth/nope"))
		wantGinPlain404(t, serve(e, "GET", "/v1/other"))
	}
}

func TestMatchRoute(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pattern, path string
		want          bool
	}{
		{"/auth/token", "/auth/token", true},
		{"/auth/token", "/auth/token/", false},
		{"/auth/token", "/auth/tokens", false},
		{"/auth/token", "/auth", false},
		{"/auth/sessions/:id", "/auth/sessions/x", true},
		{"/auth/sessions/:id", "/auth/sessions/", false},
		{"/auth/sessions/:id", "/auth/sessions/x/y", false},
		{"/auth/sessions/:id", "/auth/sessions", false},
		{"/token", "/token", true},
		{"", "", true},
	} {
		if got := matchRoute(tc.pattern, tc.path); got != tc.want {
			t.Errorf("matchRoute(%q, %q) = %v", tc.pattern, tc.path, got)
		}
	}
}
