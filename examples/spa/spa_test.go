package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt/internal/browsertest"
	"github.com/ginjwt/ginjwt/users"
)

func init() { gin.SetMode(gin.TestMode) }

// statusLog records the status of every request the server answers.
type statusLog struct {
	mu   sync.Mutex
	seen []string
}

func (l *statusLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(rec, r)
		l.mu.Lock()
		defer l.mu.Unlock()
		l.seen = append(l.seen, fmt.Sprintf("%s %s %d", r.Method, r.URL.Path, rec.code))
	})
}

func (l *statusLog) last(prefix string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.seen) - 1; i >= 0; i-- {
		if strings.HasPrefix(l.seen[i], prefix) {
			return l.seen[i]
		}
	}
	return ""
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

// awaitPromise makes Evaluate wait for the promise an expression returns.
func awaitPromise(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }

// TestSinglePageInChromium drives the example page in headless Chromium: log
// in, read the user from the payload cookie, call the API with the CSRF
// header, refresh, be refused from another origin, log out.
func TestSinglePageInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	dir := t.TempDir()
	a, err := newApp(context.Background(), "sqlite:"+filepath.Join(dir, "spa.db"), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.close)
	store := users.NewStore(a.db)
	alice := users.NewUser("alice")
	alice.Perms = users.Perms{"perm1", "reports"}
	if err := store.Create(context.Background(), alice, "correct horse battery staple"); err != nil {
		t.Fatal(err)
	}
	log := &statusLog{}
	site := httptest.NewServer(log.wrap(a.handler))
	t.Cleanup(site.Close)
	// The attacker: another origin (another port) whose page posts a form
	// to the API as soon as it loads, with the victim's cookies.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<form id="f" method="POST" action="%s/api/notes" enctype="text/plain">
<input name='{"text":"forged","x":"' value='"}'></form><script>document.getElementById("f").submit()</script>`, site.URL)
	}))
	t.Cleanup(evil.Close)

	ctx := browsertest.New(t)
	var user, perms, docCookie string
	err = chromedp.Run(ctx,
		chromedp.Navigate(site.URL),
		chromedp.WaitVisible("#login", chromedp.ByID),
		chromedp.SendKeys("#username", "alice", chromedp.ByID),
		chromedp.SendKeys("#password", "correct horse battery staple", chromedp.ByID),
		chromedp.Click("#login-button", chromedp.ByID),
		chromedp.WaitVisible("#session", chromedp.ByID),
		chromedp.Text("#user", &user, chromedp.ByID),
		chromedp.Text("#perms", &perms, chromedp.ByID),
		chromedp.Evaluate(`document.cookie`, &docCookie),
	)
	if err != nil {
		t.Fatal(err)
	}
	if user != "alice" || !strings.Contains(perms, "reports") {
		t.Fatalf("the page rendered user %q, perms %q", user, perms)
	}
	t.Logf("document.cookie after login: %s", docCookie)
	for _, name := range []string{"jwt_access_payload=", "csrftoken="} {
		if !strings.Contains(docCookie, name) {
			t.Fatalf("document.cookie lacks %s: %q", name, docCookie)
		}
	}
	for _, name := range []string{"jwt_access_signature", "jwt_refresh"} {
		if strings.Contains(docCookie, name) {
			t.Fatalf("a script can read %s: %q", name, docCookie)
		}
	}
	// The HttpOnly halves exist all the same, in the browser's jar.
	var jar []*network.Cookie
	if err := chromedp.Run(ctx, chromedp.ActionFunc(func(ctx context.Context) error {
		var err error
		jar, err = network.GetCookies().WithURLs([]string{site.URL + "/", site.URL + "/auth/token/refresh"}).Do(ctx)
		return err
	})); err != nil {
		t.Fatal(err)
	}
	httpOnly := map[string]bool{}
	for _, c := range jar {
		httpOnly[c.Name] = c.HTTPOnly
	}
	if !httpOnly["jwt_access_signature"] || !httpOnly["jwt_refresh"] || httpOnly["jwt_access_payload"] {
		t.Fatalf("HttpOnly flags in the browser: %v", httpOnly)
	}

	var screenshot []byte
	var notes, status string
	err = chromedp.Run(ctx,
		chromedp.Click("#call", chromedp.ByID),
		chromedp.Poll(`document.getElementById("notes").textContent === "1"`, nil),
		chromedp.Text("#status", &status, chromedp.ByID),
		chromedp.FullScreenshot(&screenshot, 100),
		chromedp.Click("#refresh", chromedp.ByID),
		chromedp.Poll(`document.getElementById("status").textContent === "refresh: 200"`, nil),
		chromedp.Click("#call", chromedp.ByID),
		chromedp.Poll(`document.getElementById("notes").textContent === "2"`, nil),
		chromedp.Text("#notes", &notes, chromedp.ByID),
	)
	if err != nil {
		t.Fatalf("API call and refresh: %v (status %q)", err, status)
	}
	shotDir := t.TempDir()
	if d := os.Getenv("GINJWT_SCREENSHOT_DIR"); d != "" {
		shotDir = d // to look at it after the test
	}
	shot := filepath.Join(shotDir, "logged-in.png")
	if err := os.WriteFile(shot, screenshot, 0o644); err != nil {
		t.Fatal(err)
	}
	if len(screenshot) < 1000 || !bytes.HasPrefix(screenshot, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("the screenshot is not a PNG (%d bytes)", len(screenshot))
	}
	t.Logf("screenshot of the logged-in page: %s (%d bytes); the API call answered %q", shot, len(screenshot), status)
	if got := a.notes.count(); got != 2 {
		t.Fatalf("%d notes on the server, want 2", got)
	}

	// The other origin's form: same site, so the Lax cookies go along, and
	// the CSRF check refuses it.
	var body string
	err = chromedp.Run(ctx,
		chromedp.Navigate(evil.URL),
		chromedp.Poll(`document.body && document.body.innerText.includes("csrf_failed")`, nil),
		chromedp.Evaluate(`document.body.innerText`, &body),
	)
	if err != nil {
		t.Fatalf("cross-origin form: %v (last POST %q)", err, log.last("POST /api/notes"))
	}
	if got := log.last("POST /api/notes"); got != "POST /api/notes 403" {
		t.Fatalf("the forged POST answered %q", got)
	}
	if got := a.notes.count(); got != 2 {
		t.Fatalf("the forged POST changed the notes: %d", got)
	}
	t.Logf("the other origin's form got: %s", strings.TrimSpace(body))

	// Log out: the cookies go, and the next protected call is 401.
	var afterLogout string
	var protected int
	err = chromedp.Run(ctx,
		chromedp.Navigate(site.URL),
		chromedp.WaitVisible("#session", chromedp.ByID),
		chromedp.Click("#logout", chromedp.ByID),
		chromedp.WaitVisible("#login", chromedp.ByID),
		chromedp.Evaluate(`document.cookie`, &afterLogout),
		chromedp.Evaluate(`fetch("/api/notes", {credentials: "same-origin"}).then(r => r.status)`, &protected, awaitPromise),
	)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(afterLogout, "jwt_access_payload") || strings.Contains(afterLogout, "csrftoken") {
		t.Fatalf("cookies left after logout: %q", afterLogout)
	}
	if protected != http.StatusUnauthorized {
		t.Fatalf("a protected call after logout answered %d", protected)
	}
}
