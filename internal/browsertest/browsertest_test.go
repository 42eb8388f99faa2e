package browsertest_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ginjwt/ginjwt/internal/browsertest"
)

// page sets a cookie from script, and changes #greeting when #hello is
// clicked; #send posts the form to /submit.
const page = `<!doctype html>
<title>browsertest</title>
<h1 id="greeting">waiting</h1>
<form method="post" action="/submit">
	<input id="name" name="name">
	<button id="hello" type="button">Hello</button>
	<button id="send" type="submit">Send</button>
</form>
<script>
	document.cookie = "a=1; path=/";
	document.getElementById("hello").onclick = () => {
		document.getElementById("greeting").textContent =
			"hello, " + document.getElementById("name").value;
	};
</script>`

// site is a loopback server for the page above. It sets the HttpOnly cookie
// sid on GET /, records the Cookie header of every POST /submit, and shows
// the Cookie header of GET /echo in #cookie.
type site struct {
	*httptest.Server
	mu        sync.Mutex
	submitted []string
}

// newSite starts the site for t and closes it at t's cleanup.
func newSite(t *testing.T) *site {
	t.Helper()
	s := &site{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: "s3cret", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page)
	})
	mux.HandleFunc("POST /submit", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.submitted = append(s.submitted, r.Header.Get("Cookie"))
		s.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<p id="done">thanks, %s</p>`, html.EscapeString(r.FormValue("name")))
	})
	mux.HandleFunc("GET /echo", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<pre id="cookie">%s</pre>`, html.EscapeString(r.Header.Get("Cookie")))
	})
	s.Server = httptest.NewServer(mux) // listens on 127.0.0.1
	t.Cleanup(s.Close)
	return s
}

// cookies returns the Cookie headers that POST /submit has seen.
func (s *site) cookies() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.submitted...)
}

// TestBrowser drives the page as a person would, and checks what the page and
// the server each see of the cookies.
func TestBrowser(t *testing.T) {
	t.Parallel()
	start := time.Now()
	srv := newSite(t)
	ctx := browsertest.New(t)
	t.Logf("browser up in %v", time.Since(start))

	if err := chromedp.Run(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatalf("navigate: %v", err)
	}

	var jar string
	if err := chromedp.Run(ctx, chromedp.Evaluate(`document.cookie`, &jar)); err != nil {
		t.Fatalf("read document.cookie: %v", err)
	}
	if !strings.Contains(jar, "a=1") || strings.Contains(jar, "sid") {
		t.Errorf("document.cookie = %q, want a=1 and no HttpOnly sid", jar)
	}

	err := chromedp.Run(ctx,
		chromedp.SendKeys("name", "gopher", chromedp.ByID),
		chromedp.Click("hello", chromedp.ByID),
	)
	if err != nil {
		t.Fatalf("type and click: %v", err)
	}
	if err := chromedp.Run(ctx, chromedp.Poll(
		`document.getElementById("greeting").textContent === "hello, gopher"`,
		nil,
		chromedp.WithPollingTimeout(5*time.Second),
	)); err != nil {
		var text string
		_ = chromedp.Run(ctx, chromedp.Text("greeting", &text, chromedp.ByID))
		t.Fatalf("greeting = %q after the click: %v", text, err)
	}

	var shot []byte
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&shot, 100)); err != nil { // 100: PNG, not JPEG
		t.Fatalf("screenshot: %v", err)
	}
	file := filepath.Join(t.TempDir(), "page.png")
	if err := os.WriteFile(file, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(file); len(got) < 100 || !bytes.HasPrefix(got, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("screenshot is %d bytes starting %q, want a PNG", len(got), got[:min(8, len(got))])
	}

	if err := chromedp.Run(ctx,
		chromedp.Click("send", chromedp.ByID),
		chromedp.WaitVisible("done", chromedp.ByID),
	); err != nil {
		t.Fatalf("submit: %v", err)
	}
	seen := srv.cookies()
	if len(seen) != 1 || !strings.Contains(seen[0], "sid=s3cret") || !strings.Contains(seen[0], "a=1") {
		t.Errorf("POST /submit saw Cookie headers %q, want one with sid=s3cret and a=1", seen)
	}
	t.Logf("done in %v", time.Since(start))
}

// TestTabs checks that NewTab shares the browser's cookies and NewIsolated
// does not, and that every tab is visible.
func TestTabs(t *testing.T) {
	t.Parallel()
	srv := newSite(t)
	ctx := browsertest.New(t)
	if err := chromedp.Run(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatalf("navigate: %v", err)
	}

	for _, tc := range []struct {
		name   string
		open   func(testing.TB, context.Context) context.Context
		shared bool // whether the tab sends the first tab's cookies
	}{
		{"NewTab shares the cookie jar", browsertest.NewTab, true},
		{"NewIsolated has a jar of its own", browsertest.NewIsolated, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tab := tc.open(t, ctx)
			if got := echo(t, srv, tab); strings.Contains(got, "sid=s3cret") != tc.shared {
				t.Errorf("GET /echo saw Cookie %q; want sid=s3cret sent: %v", got, tc.shared)
			}
		})
	}

	t.Run("NewTab of NewIsolated shares its jar", func(t *testing.T) {
		isolated := browsertest.NewIsolated(t, ctx)
		if got := echo(t, srv, browsertest.NewTab(t, isolated)); got != "" {
			t.Errorf("GET /echo saw Cookie %q before the isolated tab got any; want none", got)
		}
		if err := chromedp.Run(isolated, chromedp.Navigate(srv.URL)); err != nil {
			t.Fatalf("navigate: %v", err)
		}
		if got := echo(t, srv, browsertest.NewTab(t, isolated)); !strings.Contains(got, "sid=s3cret") {
			t.Errorf("GET /echo saw Cookie %q after the isolated tab got sid; want sid=s3cret", got)
		}
	})

	// A hidden tab gets no animation frames, and chromedp.Poll waits for
	// them: it would hang in a tab that another tab hides.
	t.Run("every tab is visible", func(t *testing.T) {
		tabs := []context.Context{ctx, browsertest.NewTab(t, ctx), browsertest.NewIsolated(t, ctx)}
		for i, tab := range tabs {
			pollCtx, cancel := context.WithTimeout(tab, 10*time.Second)
			var visible bool
			err := chromedp.Run(pollCtx, chromedp.Poll(`document.visibilityState === "visible"`, &visible))
			cancel()
			if err != nil || !visible {
				t.Errorf("tab %d of %d: Poll = %v, %v; want true", i+1, len(tabs), visible, err)
			}
		}
	})
}

// echo loads GET /echo in tab and returns the Cookie header it saw.
func echo(t *testing.T, srv *site, tab context.Context) string {
	t.Helper()
	var got string
	if err := chromedp.Run(tab,
		chromedp.Navigate(srv.URL+"/echo"),
		chromedp.Text("cookie", &got, chromedp.ByID),
	); err != nil {
		t.Fatalf("read GET /echo: %v", err)
	}
	return got
}
