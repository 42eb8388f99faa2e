package ginjwt

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/users"
)

// TestJSONFlow is the README's curl session: obtain, call, refresh, verify,
// logout, on both databases.
func TestJSONFlow(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		h := newHarness(t, db, nil)
		u := h.user("alice", "perm1")

		p := h.login("alice")
		if p.Access == "" || p.Refresh == "" {
			t.Fatalf("pair = %+v", p)
		}
		w := h.do(req{path: "/api/hello", bearer: p.Access})
		wantStatus(t, w, 200)
		if !strings.Contains(w.Body.String(), `"user":"alice"`) {
			t.Fatalf("hello = %s", w.Body)
		}
		wantStatus(t, h.do(req{path: "/api/perm1", bearer: p.Access}), 200)
		wantError(t, h.do(req{path: "/api/admin", bearer: p.Access}), 403, "permission_denied")

		w = h.do(req{path: "/auth/token/refresh", json: map[string]string{"refresh": p.Refresh}})
		wantStatus(t, w, 200)
		var r pairBody
		decode(t, w, &r)
		// Rotation is on by default: a new access token and a new refresh token.
		if r.Access == "" || r.Access == p.Access || r.Refresh == "" || r.Refresh == p.Refresh {
			t.Fatalf("refresh answered %+v", r)
		}
		// The refresh token also travels as Bearer.
		wantStatus(t, h.do(req{method: "POST", path: "/auth/token/refresh", bearer: r.Refresh}), 200)

		w = h.do(req{path: "/auth/token/verify", json: map[string]string{"token": r.Access}})
		wantStatus(t, w, 200)
		if !strings.Contains(w.Body.String(), `"token_type":"access"`) {
			t.Fatalf("verify = %s", w.Body)
		}

		w = h.do(req{path: "/auth/users/me", bearer: r.Access})
		wantStatus(t, w, 200)
		body := w.Body.String()
		if !strings.Contains(body, `"id":"`+u.ID+`"`) || strings.Contains(strings.ToLower(body), "password") || strings.Contains(body, "argon2") {
			t.Fatalf("me = %s", body)
		}
		wantStatus(t, h.do(req{path: "/auth/users/" + u.ID, bearer: r.Access}), 200)
		bob := h.user("bob")
		wantError(t, h.do(req{path: "/auth/users/" + bob.ID, bearer: r.Access}), 403, "permission_denied")

		wantStatus(t, h.do(req{path: "/auth/token/logout", json: map[string]string{"refresh": p.Refresh}}), 200)
	})
}

func TestLoginWithFormAndEmail(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	u := h.user("carol")
	u.Email = "carol@example.com"
	if err := h.db.Save(u).Error; err != nil {
		t.Fatal(err)
	}
	w := h.do(req{path: "/auth/token", form: url.Values{"username": {"carol"}, "password": {"pw-carol"}}})
	wantStatus(t, w, 200)
	w = h.do(req{path: "/auth/token", json: map[string]string{"username": "Carol@Example.com", "password": "pw-carol"}})
	wantStatus(t, w, 200)
}

func TestLoginFailuresLookTheSame(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		h := newHarness(t, db, nil)
		h.user("alice")
		inactive := h.user("ivan")
		if err := h.store.SetActive(context.Background(), inactive.ID, false); err != nil {
			t.Fatal(err)
		}
		var bodies []string
		for _, creds := range []map[string]string{
			{"username": "alice", "password": "wrong"},
			{"username": "nobody", "password": "wrong"},
			{"username": "ivan", "password": "pw-ivan"},
		} {
			w := h.do(req{path: "/auth/token", json: creds})
			wantError(t, w, 401, "invalid_credentials")
			bodies = append(bodies, w.Body.String()+w.Header().Get("WWW-Authenticate"))
		}
		if bodies[0] != bodies[1] || bodies[1] != bodies[2] {
			t.Fatalf("failures differ:\n%s", strings.Join(bodies, "\n"))
		}
	})
}

func TestBadInputGetsItsCode(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	h.user("alice")
	p := h.login("alice")
	big := `{"username":"alice","password":"` + strings.Repeat("x", 70<<10) + `"}`

	cases := []struct {
		name   string
		r      req
		status int
		code   string
	}{
		{"malformed JSON", req{path: "/auth/token", json: `{"username":`}, 400, "bad_request"},
		{"JSON array", req{path: "/auth/token", json: `["alice"]`}, 400, "bad_request"},
		{"JSON null", req{path: "/auth/token", json: `null`}, 400, "bad_request"},
		{"trailing data", req{path: "/auth/token", json: `{"username":"alice","password":"pw-alice"} {}`}, 400, "bad_request"},
		{"number username", req{path: "/auth/token", json: `{"username":1,"password":"x"}`}, 400, "bad_request"},
		{"object password", req{path: "/auth/token", json: `{"username":"a","password":{}}`}, 400, "bad_request"},
		{"missing password", req{path: "/auth/token", json: `{"username":"alice"}`}, 400, "bad_request"},
		{"empty body", req{method: "POST", path: "/auth/token"}, 400, "bad_request"},
		{"text/plain", req{method: "POST", path: "/auth/token", header: http.Header{"Content-Type": {"text/plain"}}}, 400, "bad_request"},
		{"bad content type", req{method: "POST", path: "/auth/token", header: http.Header{"Content-Type": {"application/json; charset"}}}, 400, "bad_request"},
		{"repeated form field", req{path: "/auth/token", form: url.Values{"username": {"a", "b"}, "password": {"x"}}}, 400, "bad_request"},
		{"body too large", req{path: "/auth/token", json: big}, 413, "body_too_large"},
		{"refresh: none", req{method: "POST", path: "/auth/token/refresh"}, 401, "token_missing"},
		{"refresh: garbage", req{path: "/auth/token/refresh", json: map[string]string{"refresh": "garbage"}}, 401, "token_invalid"},
		{"refresh: access token", req{path: "/auth/token/refresh", json: map[string]string{"refresh": p.Access}}, 401, "token_type_invalid"},
		{"refresh: body and header", req{path: "/auth/token/refresh", json: map[string]string{"refresh": p.Refresh}, bearer: p.Refresh}, 400, "bad_request"},
		{"refresh: number", req{path: "/auth/token/refresh", json: `{"refresh": 12}`}, 400, "bad_request"},
		{"verify: missing", req{path: "/auth/token/verify", json: `{}`}, 400, "bad_request"},
		{"verify: garbage", req{path: "/auth/token/verify", json: map[string]string{"token": "a.b.c"}}, 401, "token_invalid"},
		{"logout: none", req{method: "POST", path: "/auth/token/logout"}, 400, "bad_request"},
		{"hello: no token", req{path: "/api/hello"}, 401, "token_missing"},
		{"hello: garbage", req{path: "/api/hello", bearer: "garbage"}, 401, "token_invalid"},
		{"hello: refresh token", req{path: "/api/hello", bearer: p.Refresh}, 401, "token_type_invalid"},
		{"hello: empty bearer", req{path: "/api/hello", header: http.Header{"Authorization": {"Bearer "}}}, 401, "token_invalid"},
		{"hello: huge header", req{path: "/api/hello", header: http.Header{"Authorization": {"Bearer " + strings.Repeat("a", 1<<20)}}}, 401, "token_invalid"},
		{"hello: basic auth", req{path: "/api/hello", header: http.Header{"Authorization": {"Basic YTpi"}}}, 401, "token_missing"},
		{"perm1: no token", req{path: "/api/perm1"}, 401, "token_missing"},
		{"me: no token", req{path: "/auth/users/me"}, 401, "token_missing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, h.do(tc.r), tc.status, tc.code)
		})
	}
}

func TestBodyLimitWithoutContentLength(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, func(c *Config) { c.Limits.MaxBodyBytes = 1 << 10 })
	r := httptest.NewRequest("POST", "/auth/token", strings.NewReader(`{"username":"`+strings.Repeat("a", 4<<10)+`","password":"x"}`))
	r.ContentLength = -1 // chunked: the limit must cut it off while reading
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.engine.ServeHTTP(w, r)
	wantError(t, w, 413, "body_too_large")
}

func TestExpiredAndNotYetValidOverHTTP(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	h.user("alice")
	p := h.login("alice")
	h.clock.Advance(-time.Minute)
	wantError(t, h.do(req{path: "/api/hello", bearer: p.Access}), 401, "token_not_yet_valid")
	h.clock.Advance(time.Minute + 5*time.Minute)
	wantError(t, h.do(req{path: "/api/hello", bearer: p.Access}), 401, "token_expired")
	wantError(t, h.do(req{path: "/auth/token/verify", json: map[string]string{"token": p.Access}}), 401, "token_expired")
	// The refresh token still works, and logout accepts it once expired too.
	wantStatus(t, h.do(req{path: "/auth/token/refresh", json: map[string]string{"refresh": p.Refresh}}), 200)
	h.clock.Advance(25 * time.Hour)
	wantError(t, h.do(req{path: "/auth/token/refresh", json: map[string]string{"refresh": p.Refresh}}), 401, "token_expired")
	wantStatus(t, h.do(req{path: "/auth/token/logout", json: map[string]string{"refresh": p.Refresh}}), 200)
}

func TestRefreshSeesDeactivationAndNewPerms(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		h := newHarness(t, db, nil)
		u := h.user("alice")
		p := h.login("alice")
		if err := h.store.SetPerms(context.Background(), u.ID, "admin"); err != nil {
			t.Fatal(err)
		}
		w := h.do(req{path: "/auth/token/refresh", json: map[string]string{"refresh": p.Refresh}})
		wantStatus(t, w, 200)
		var r pairBody
		decode(t, w, &r)
		wantStatus(t, h.do(req{path: "/api/admin", bearer: r.Access}), 200)

		if err := h.store.SetActive(context.Background(), u.ID, false); err != nil {
			t.Fatal(err)
		}
		wantError(t, h.do(req{path: "/auth/token/refresh", json: map[string]string{"refresh": p.Refresh}}), 401, "token_revoked")
	})
}

func TestRotateRefresh(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	h.user("alice")
	p := h.login("alice")
	w := h.do(req{path: "/auth/token/refresh", json: map[string]string{"refresh": p.Refresh}})
	wantStatus(t, w, 200)
	var r pairBody
	decode(t, w, &r)
	if r.Refresh == "" || r.Refresh == p.Refresh {
		t.Fatalf("rotation returned %+v", r)
	}
	nc, err := h.auth.ParseToken(r.Refresh, RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	oc, _ := h.auth.ParseToken(p.Refresh, RefreshToken)
	if nc.SessionID != oc.SessionID || nc.ID == oc.ID {
		t.Fatalf("rotated refresh: sid %s (old %s), jti %s (old %s)", nc.SessionID, oc.SessionID, nc.ID, oc.ID)
	}
	ac, _ := h.auth.ParseToken(r.Access, AccessToken)
	if ac.SessionID != oc.SessionID {
		t.Fatalf("access sid %s, session %s", ac.SessionID, oc.SessionID)
	}
}

func TestRefreshUpdate(t *testing.T) {
	t.Parallel()
	off := newHarness(t, nil, nil)
	off.user("alice")
	p := off.login("alice")
	wantStatus(t, off.do(req{path: "/auth/token/update", json: map[string]string{"refresh": p.Refresh}}), 404)

	h := newHarness(t, nil, func(c *Config) { c.Tokens.AllowRefreshUpdate = true })
	h.user("alice")
	p = h.login("alice")
	var kinds []EventKind
	h.auth.Subscribe(RefreshUpdated, func(_ context.Context, e Event) { kinds = append(kinds, e.Kind) })
	h.clock.Advance(time.Hour)
	w := h.do(req{path: "/auth/token/update", json: map[string]string{"refresh": p.Refresh}})
	wantStatus(t, w, 200)
	var r pairBody
	decode(t, w, &r)
	nc, err := h.auth.ParseToken(r.Refresh, RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if want := h.clock.Now().Add(24 * time.Hour); !nc.ExpiresAt.Equal(want) {
		t.Fatalf("updated refresh expires %v, want %v", nc.ExpiresAt, want)
	}
	if len(kinds) != 1 {
		t.Fatalf("RefreshUpdated events: %v", kinds)
	}
}

func TestSlidingTokens(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, func(c *Config) {
		c.Tokens.Sliding = true
		c.Tokens.SlidingTTL = time.Minute
		c.Tokens.SlidingRefreshTTL = time.Hour
	})
	h.user("alice")
	w := h.do(req{path: "/auth/token", json: map[string]string{"username": "alice", "password": "pw-alice"}})
	wantStatus(t, w, 200)
	var p pairBody
	decode(t, w, &p)
	if p.Token == "" || p.Access != "" || p.Refresh != "" {
		t.Fatalf("sliding login answered %s", w.Body)
	}
	wantStatus(t, h.do(req{path: "/api/hello", bearer: p.Token}), 200)
	h.clock.Advance(2 * time.Minute)
	wantError(t, h.do(req{path: "/api/hello", bearer: p.Token}), 401, "token_expired")

	w = h.do(req{path: "/auth/token/refresh", json: map[string]string{"token": p.Token}})
	wantStatus(t, w, 200)
	var next pairBody
	decode(t, w, &next)
	wantStatus(t, h.do(req{path: "/api/hello", bearer: next.Token}), 200)
	c, _ := h.auth.ParseToken(next.Token)
	first, _ := h.auth.parse(p.Token)
	if !c.RefreshExpiresAt.Equal(first.RefreshExpiresAt) || c.SessionID != first.SessionID {
		t.Fatalf("refresh_exp %v vs %v, sid %s vs %s", c.RefreshExpiresAt, first.RefreshExpiresAt, c.SessionID, first.SessionID)
	}
	h.clock.Advance(time.Hour)
	wantError(t, h.do(req{path: "/auth/token/refresh", json: map[string]string{"token": next.Token}}), 401, "token_expired")
}

func TestEventsOfAFlow(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	h.user("alice")
	var mu sync.Mutex
	var got []string
	unsubscribe := h.auth.Subscribe(AnyEvent, func(_ context.Context, e Event) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, e.Kind.String()+":"+e.Username+e.Login)
	})
	h.do(req{path: "/auth/token", json: map[string]string{"username": "alice", "password": "nope"}})
	p := h.login("alice")
	h.do(req{path: "/auth/token/refresh", json: map[string]string{"refresh": p.Refresh}})
	h.do(req{path: "/auth/token/verify", json: map[string]string{"token": p.Access}})
	h.do(req{path: "/auth/token/logout", json: map[string]string{"refresh": p.Refresh}})
	unsubscribe()
	unsubscribe()
	h.login("alice")
	want := "login_failed:alice token_obtained:alice logged_in:alice access_refreshed:alice token_validated:alice session_revoked:alice logged_out:alice"
	if strings.Join(got, " ") != want {
		t.Fatalf("events:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
}

func TestPanickingSubscriberDoesNotBreakTheRequest(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	h.user("alice")
	h.auth.Subscribe(LoggedIn, func(context.Context, Event) { panic("subscriber bug") })
	called := false
	h.auth.Subscribe(LoggedIn, func(context.Context, Event) { called = true })
	h.login("alice")
	if !called {
		t.Fatal("the subscriber after the panicking one was not called")
	}
	if !strings.Contains(h.logs.String(), "subscriber panicked") || !strings.Contains(h.logs.String(), "subscriber bug") {
		t.Fatalf("panic not logged: %s", h.logs)
	}
}

func TestParallelLogins(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		h := newHarness(t, db, func(c *Config) { c.Accounts.UpdateLastLogin = true })
		for i := range 4 {
			h.user(fmt.Sprintf("user%d", i))
		}
		var wg sync.WaitGroup
		errs := make(chan string, 40)
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				name := fmt.Sprintf("user%d", i%4)
				w := h.do(req{path: "/auth/token", json: map[string]string{"username": name, "password": "pw-" + name}, remote: fmt.Sprintf("198.51.100.%d:1", i)})
				if w.Code != 200 {
					errs <- fmt.Sprintf("%s: %d %s", name, w.Code, w.Body)
					return
				}
				var p pairBody
				decode(t, w, &p)
				if c, err := h.auth.ParseToken(p.Access); err != nil || c.Username != name {
					errs <- fmt.Sprintf("%s: %v %v", name, c, err)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
		u, err := h.store.FindByUsername(context.Background(), "user0")
		if err != nil || u.LastLogin == nil {
			t.Fatalf("last login not recorded: %+v %v", u, err)
		}
	})
}

func TestMountOnRouterGroupWithCustomPaths(t *testing.T) {
	t.Parallel()
	db := testdb.SQLite(t)
	if err := Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	store := users.NewStore(db, users.WithHasher(fastHasher()))
	if err := store.Create(context.Background(), users.NewUser("alice"), "pw-alice-long"); err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	v1 := r.Group("/v1")
	if _, err := Mount(v1, Config{SigningKey: testSecret, Users: store, Routes: Routes{Prefix: "/session", Paths: Paths{Obtain: "/login", Verify: "-"}}}); err != nil {
		t.Fatal(err)
	}
	v1.GET("/me", RequireLogin(), func(c *gin.Context) { c.String(200, "ok") })
	r.GET("/outside", RequireLogin(), func(c *gin.Context) { c.String(200, "never") })

	do := func(method, path, body, bearer string) *httptest.ResponseRecorder {
		rq := httptest.NewRequest(method, path, strings.NewReader(body))
		if body != "" {
			rq.Header.Set("Content-Type", "application/json")
		}
		if bearer != "" {
			rq.Header.Set("Authorization", "Bearer "+bearer)
		}
		w := httptest.NewRecorder()
		r.ServeHTTP(w, rq)
		return w
	}
	w := do("POST", "/v1/session/login", `{"username":"alice","password":"pw-alice-long"}`, "")
	wantStatus(t, w, 200)
	var p pairBody
	decode(t, w, &p)
	wantStatus(t, do("GET", "/v1/me", "", p.Access), 200)
	wantStatus(t, do("POST", "/v1/session/token/verify", `{"token":"x"}`, ""), 404)
	// A route outside the group is not covered by the middleware: loud 401.
	wantError(t, do("GET", "/outside", "", p.Access), 401, "token_missing")
}

func TestReplacedAndWrappedHandlers(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, func(c *Config) {
		c.Routes.Handlers.Verify = func(gin.HandlerFunc) gin.HandlerFunc {
			return func(c *gin.Context) { c.JSON(299, gin.H{"custom": true}) }
		}
		c.Routes.Handlers.Obtain = func(builtin gin.HandlerFunc) gin.HandlerFunc {
			return func(c *gin.Context) {
				c.Header("X-Wrapped", "yes")
				builtin(c)
			}
		}
	})
	h.user("alice")
	wantStatus(t, h.do(req{path: "/auth/token/verify", json: `{}`}), 299)
	w := h.do(req{path: "/auth/token", json: map[string]string{"username": "alice", "password": "pw-alice"}})
	wantStatus(t, w, 200)
	if w.Header().Get("X-Wrapped") != "yes" {
		t.Fatal("wrapper did not run")
	}
}

func TestRetryAfterIsWholeSeconds(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, func(c *Config) { c.Limits.Throttle.PerAccount = 2 })
	for range 2 {
		wantError(t, h.do(req{path: "/auth/token", json: map[string]string{"username": "x", "password": "y"}}), 401, "invalid_credentials")
	}
	w := h.do(req{path: "/auth/token", json: map[string]string{"username": "x", "password": "y"}})
	wantError(t, w, 429, "too_many_requests")
	secs, err := strconv.Atoi(w.Header().Get("Retry-After"))
	if err != nil || secs <= 0 || secs > int((30*time.Minute).Seconds()) {
		t.Fatalf("Retry-After = %q", w.Header().Get("Retry-After"))
	}
}
