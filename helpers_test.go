package ginjwt

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/users"
)

func init() { gin.SetMode(gin.TestMode) }

// testSecret is an HS256 secret for tests: 32 bytes.
var testSecret = []byte("0123456789abcdef0123456789abcdef")

// fastHasher makes password hashing cheap in tests that are not about it.
func fastHasher() *users.Hasher {
	return users.NewHasher(users.Params{Memory: 64, Iterations: 1, Parallelism: 1}, 0)
}

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Unix(1_800_000_000, 0)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// harness is a gin.Engine with ginjwt mounted on a real database, and the
// routes examples/basic has.
type harness struct {
	t      testing.TB
	engine *gin.Engine
	auth   *Auth
	db     *gorm.DB
	store  *users.Store
	clock  *clock
	logs   *bytes.Buffer
}

// newHarness mounts ginjwt on an engine over db (SQLite when nil), with the
// test clock, cheap hashing and a captured log; edit adjusts the Config.
func newHarness(t testing.TB, db *gorm.DB, edit func(*Config)) *harness {
	t.Helper()
	if db == nil {
		db = testdb.SQLite(t)
	}
	if err := Migrate(context.Background(), db); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	h := &harness{t: t, db: db, clock: newClock(), logs: &bytes.Buffer{}}
	h.store = users.NewStore(db, users.WithHasher(fastHasher()), users.WithClock(h.clock.Now))
	cfg := Config{
		SigningKey: testSecret,
		DB:         db,
		Users:      h.store,
		Clock:      h.clock.Now,
		Logger:     slog.New(slog.NewTextHandler(&lockedWriter{w: h.logs}, nil)),
	}
	if edit != nil {
		edit(&cfg)
	}
	h.engine = gin.New()
	auth, err := Mount(h.engine, cfg)
	if err != nil {
		t.Fatalf("Mount: %v", err)
	}
	h.auth = auth
	t.Cleanup(func() {
		if err := auth.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	api := h.engine.Group("/api")
	api.GET("/public", func(c *gin.Context) { c.JSON(200, gin.H{"public": true}) })
	api.GET("/hello", RequireLogin(), func(c *gin.Context) {
		claims, _ := ClaimsFrom(c)
		c.JSON(200, gin.H{"user": claims.Username})
	})
	api.GET("/perm1", RequirePerms("perm1"), func(c *gin.Context) { c.JSON(200, gin.H{"ok": "perm1"}) })
	api.GET("/admin", RequirePerms("admin"), func(c *gin.Context) { c.JSON(200, gin.H{"ok": "admin"}) })
	api.POST("/echo", RequireLogin(), func(c *gin.Context) {
		b, _ := io.ReadAll(c.Request.Body)
		c.Data(200, "application/json", b)
	})
	return h
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// user creates an active user with password "pw-<username>".
func (h *harness) user(username string, perms ...string) *users.User {
	h.t.Helper()
	u := users.NewUser(username)
	u.Perms = perms
	if err := h.store.Create(context.Background(), u, "pw-"+username); err != nil {
		h.t.Fatalf("create user %s: %v", username, err)
	}
	return u
}

// req is one request to the harness.
type req struct {
	method, path string
	json         any        // a JSON body; a string is sent as is
	form         url.Values // a form body
	bearer       string
	header       http.Header
	remote       string // RemoteAddr, default 192.0.2.1:1234
}

func (h *harness) do(r req) *httptest.ResponseRecorder {
	h.t.Helper()
	var body io.Reader
	ct := ""
	switch {
	case r.json != nil:
		if s, ok := r.json.(string); ok {
			body = strings.NewReader(s)
		} else {
			b, err := json.Marshal(r.json)
			if err != nil {
				h.t.Fatal(err)
			}
			body = bytes.NewReader(b)
		}
		ct = "application/json"
	case r.form != nil:
		body = strings.NewReader(r.form.Encode())
		ct = "application/x-www-form-urlencoded"
	}
	method := r.method
	if method == "" {
		method = http.MethodGet
		if body != nil {
			method = http.MethodPost
		}
	}
	hr := httptest.NewRequest(method, r.path, body)
	if ct != "" {
		hr.Header.Set("Content-Type", ct)
	}
	if r.bearer != "" {
		hr.Header.Set("Authorization", "Bearer "+r.bearer)
	}
	for k, vs := range r.header {
		hr.Header[k] = vs
	}
	hr.RemoteAddr = "192.0.2.1:1234"
	if r.remote != "" {
		hr.RemoteAddr = r.remote
	}
	w := httptest.NewRecorder()
	h.engine.ServeHTTP(w, hr)
	return w
}

// login logs username in and returns the pair, failing the test otherwise.
func (h *harness) login(username string) pairBody {
	h.t.Helper()
	w := h.do(req{path: "/auth/token", json: map[string]string{"username": username, "password": "pw-" + username}})
	if w.Code != http.StatusOK {
		h.t.Fatalf("login %s: %d %s", username, w.Code, w.Body)
	}
	var p pairBody
	decode(h.t, w, &p)
	return p
}

func decode(t testing.TB, w *httptest.ResponseRecorder, v any) {
	t.Helper()
	if err := json.Unmarshal(w.Body.Bytes(), v); err != nil {
		t.Fatalf("decode %q: %v", w.Body, err)
	}
}

// wantError checks an error answer's status and code.
func wantError(t testing.TB, w *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	var body ErrorBody
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("want %d %s, got %d with a body that is not an error: %q", status, code, w.Code, w.Body)
	}
	if w.Code != status || body.Error != code {
		t.Fatalf("want %d %s, got %d %s (%s)", status, code, w.Code, body.Error, body.Message)
	}
	if body.Message == "" {
		t.Fatalf("error %s has no message", code)
	}
}

func wantStatus(t testing.TB, w *httptest.ResponseRecorder, status int) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("want %d, got %d: %s", status, w.Code, w.Body)
	}
}
