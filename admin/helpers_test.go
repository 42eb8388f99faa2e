package admin_test

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/admin"
	"github.com/ginjwt/ginjwt/users"
)

func init() { gin.SetMode(gin.TestMode) }

var testSecret = []byte("0123456789abcdef0123456789abcdef")

// site is a gin.Engine with ginjwt (registry and devices on) and the admin
// pages mounted on a real database, and an API route to try tokens on.
type site struct {
	t      testing.TB
	engine *gin.Engine
	auth   *ginjwt.Auth
	admin  *admin.Admin
	store  *users.Store
	db     *gorm.DB
}

func newSite(t testing.TB, db *gorm.DB, edit func(*admin.Config), editAuth ...func(*ginjwt.Config)) *site {
	t.Helper()
	s, err := tryNewSite(t, db, edit, editAuth...)
	if err != nil {
		t.Fatalf("admin.Mount: %v", err)
	}
	return s
}

// tryNewSite is newSite that returns admin.Mount's error.
func tryNewSite(t testing.TB, db *gorm.DB, edit func(*admin.Config), editAuth ...func(*ginjwt.Config)) (*site, error) {
	t.Helper()
	ctx := context.Background()
	if err := ginjwt.Migrate(ctx, db); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	store := users.NewStore(db, users.WithHasher(users.NewHasher(users.Params{Memory: 64, Iterations: 1, Parallelism: 1}, 0)))
	cfg := ginjwt.Config{SigningKey: testSecret, DB: db, Users: store, Logger: slog.New(slog.DiscardHandler)}
	cfg.Registry.Devices = true
	cfg.Limits.Throttle.Disabled = true
	for _, f := range editAuth {
		f(&cfg)
	}
	e := gin.New()
	auth, err := ginjwt.Mount(e, cfg)
	if err != nil {
		t.Fatalf("ginjwt.Mount: %v", err)
	}
	t.Cleanup(func() { _ = auth.Close(context.Background()) })
	acfg := admin.Config{Users: store, Logger: slog.New(slog.DiscardHandler)}
	if edit != nil {
		edit(&acfg)
	}
	adm, err := admin.Mount(e, auth, acfg)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = adm.Close(context.Background()) })
	e.GET("/api/hello", ginjwt.RequireLogin(), func(c *gin.Context) {
		claims, _ := ginjwt.ClaimsFrom(c)
		c.JSON(http.StatusOK, gin.H{"user": claims.UserID})
	})
	return &site{t: t, engine: e, auth: auth, admin: adm, store: store, db: db}, nil
}

// user creates an active user with password "pw-<username>-long".
func (s *site) user(username string, edit func(*users.User)) *users.User {
	s.t.Helper()
	u := users.NewUser(username)
	if edit != nil {
		edit(u)
	}
	if err := s.store.Create(context.Background(), u, password(username)); err != nil {
		s.t.Fatalf("create %q: %v", username, err)
	}
	return u
}

func password(username string) string { return "pw-" + username + "-long" }

func staff(u *users.User) { u.IsStaff = true }

type pair struct{ Access, Refresh string }

// login logs username in with the User-Agent ua from ip, through the API.
func (s *site) login(username, ua, ip string) pair {
	s.t.Helper()
	body, _ := json.Marshal(map[string]string{"username": username, "password": password(username)})
	r := httptest.NewRequest(http.MethodPost, "/auth/token", strings.NewReader(string(body)))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("User-Agent", ua)
	r.RemoteAddr = ip + ":1234"
	w := httptest.NewRecorder()
	s.engine.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		s.t.Fatalf("login %s: %d %s", username, w.Code, w.Body)
	}
	var p struct{ Access, Refresh string }
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		s.t.Fatal(err)
	}
	return pair{p.Access, p.Refresh}
}

// do sends a request; a non-nil form makes it a POST.
func (s *site) do(method, path, bearer string, form url.Values) *httptest.ResponseRecorder {
	s.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, path, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if bearer != "" {
		r.Header.Set("Authorization", "Bearer "+bearer)
	}
	r.RemoteAddr = "198.51.100.7:4444"
	w := httptest.NewRecorder()
	s.engine.ServeHTTP(w, r)
	return w
}

func (s *site) get(path, bearer string) *httptest.ResponseRecorder {
	return s.do(http.MethodGet, path, bearer, nil)
}

func (s *site) post(path, bearer string, form url.Values) *httptest.ResponseRecorder {
	if form == nil {
		form = url.Values{}
	}
	return s.do(http.MethodPost, path, bearer, form)
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// csrf reads the CSRF token of the forms of a page served to bearer.
func (s *site) csrf(bearer string) string {
	s.t.Helper()
	w := s.get("/auth/admin/users/new", bearer)
	m := csrfRE.FindStringSubmatch(w.Body.String())
	if w.Code != http.StatusOK || m == nil {
		s.t.Fatalf("no CSRF token: %d %s", w.Code, w.Body)
	}
	return html.UnescapeString(m[1])
}

// apiStatus is the status of GET /api/hello with the access token.
func (s *site) apiStatus(access string) int {
	return s.get("/api/hello", access).Code
}

// refreshStatus is the status of a refresh with the refresh token.
func (s *site) refreshStatus(refresh string) int {
	s.t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/auth/token/refresh", strings.NewReader(`{"refresh":"`+refresh+`"}`))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	s.engine.ServeHTTP(w, r)
	return w.Code
}

// isHTML fails the test unless w is an HTML answer with status want.
func isHTML(t testing.TB, w *httptest.ResponseRecorder, want int) {
	t.Helper()
	if w.Code != want {
		t.Fatalf("status %d, want %d: %s", w.Code, want, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); want != http.StatusSeeOther && !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("Content-Type %q, want text/html", ct)
	}
}

func contains(t testing.TB, w *httptest.ResponseRecorder, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(w.Body.String(), s) {
			t.Fatalf("page lacks %q:\n%s", s, w.Body)
		}
	}
}

func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var (
	deviceLink  = regexp.MustCompile(`href="/auth/admin/devices/(\d+)"`)
	networkLink = regexp.MustCompile(`href="/auth/admin/networks/(\d+)"`)
)

const (
	iPhoneUA  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
	firefoxUA = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
)

// withSessions turns ginjwt's session login on, over plain HTTP.
func withSessions(c *ginjwt.Config) {
	c.SessionLogin.Enabled = true
	c.Transport.Cookies.Insecure = true
}

// browser is a client with a cookie jar, as a browser is.
type browser struct {
	s   *site
	jar map[string]*http.Cookie
}

func (s *site) browser() *browser { return &browser{s: s, jar: map[string]*http.Cookie{}} }

// do sends a request with the jar's cookies and the site's Origin on
// unsafe methods, and keeps the cookies the answer sets.
func (b *browser) do(method, path string, form url.Values) *httptest.ResponseRecorder {
	b.s.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, path, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if method != http.MethodGet {
		r.Header.Set("Origin", "http://example.com")
	}
	r.Header.Set("User-Agent", firefoxUA)
	r.RemoteAddr = "198.51.100.8:5555"
	for _, c := range b.jar {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	b.s.engine.ServeHTTP(w, r)
	for _, c := range w.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(b.jar, c.Name)
		} else {
			b.jar[c.Name] = c
		}
	}
	return w
}

// login logs in through the session login form.
func (b *browser) login(username string) {
	b.s.t.Helper()
	page := b.do(http.MethodGet, "/auth/login", nil)
	m := csrfRE.FindStringSubmatch(page.Body.String())
	if page.Code != http.StatusOK || m == nil {
		b.s.t.Fatalf("login form: %d %s", page.Code, page.Body)
	}
	w := b.do(http.MethodPost, "/auth/login", url.Values{"username": {username}, "password": {password(username)}, "csrf_token": {html.UnescapeString(m[1])}})
	if w.Code != http.StatusSeeOther && w.Code != http.StatusFound {
		b.s.t.Fatalf("login %s: %d %s", username, w.Code, w.Body)
	}
}

// csrf reads the CSRF token from a page's form.
func (b *browser) csrf() string {
	b.s.t.Helper()
	w := b.do(http.MethodGet, "/auth/admin/users/new", nil)
	m := csrfRE.FindStringSubmatch(w.Body.String())
	if w.Code != http.StatusOK || m == nil {
		b.s.t.Fatalf("no CSRF token: %d %s", w.Code, w.Body)
	}
	return html.UnescapeString(m[1])
}

// csrfOf is the CSRF token ginjwt hands this browser's session, read from
// its cookie.
func (b *browser) csrfOf() string {
	for name, c := range b.jar {
		if strings.Contains(name, "csrftoken") {
			return c.Value
		}
	}
	return ""
}
