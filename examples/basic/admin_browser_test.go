package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ginjwt/ginjwt/internal/browsertest"
)

// TestAdminInBrowser is the README's admin walk-through in headless
// Chromium, on the example as a user runs it: a staff user made with the
// CLI logs in through the form, finds alice, revokes one of her three
// sessions — that session's access token is refused by the API, the other
// two still work — then sets her password, which ends the other two.
// Screenshots of the users list and of a token tree are kept (in
// $GINJWT_SCREENSHOT_DIR when set).
func TestAdminInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs binaries and a browser")
	}
	dir := t.TempDir()
	cli := build(t, dir, "./cmd/ginjwt")
	example := build(t, dir, "./examples/basic")
	s := start(t, example, dir)
	if !strings.Contains(s.out.String(), "/auth/admin") {
		t.Fatalf("the banner does not show the admin pages:\n%s", s.out)
	}
	db := "sqlite:" + filepath.Join(dir, "demo.db")
	for _, u := range [][]string{{"-username", "admin", "-staff"}, {"-username", "alice", "-perms", "perm1"}} {
		create := exec.Command(cli, append(append([]string{"user", "create", "-db", db}, u...), "-password-stdin")...)
		create.Stdin = strings.NewReader("correct horse battery staple\n")
		if out, err := create.CombinedOutput(); err != nil {
			t.Fatalf("ginjwt user create %v: %v\n%s", u, err, out)
		}
	}

	// alice logs in from three devices; the session of each is its sid.
	devices := []string{
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
	}
	access := make([]string, len(devices))
	sids := make([]string, len(devices))
	for i, ua := range devices {
		code, body := s.callAs(ua, "POST", "/auth/token", `{"username":"alice","password":"correct horse battery staple"}`, "")
		want(t, "obtain", code, body, 200, "")
		access[i] = body["access"].(string)
		sids[i] = sessionOf(t, access[i])
	}
	hello := func(i int) int {
		code, _ := s.call("GET", "/api/hello", "", access[i])
		return code
	}

	ctx := browsertest.New(t)
	var usersShot, treeShot []byte
	var landed string
	step := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v\n%s\n--- the page:\n%s", what, err, s.out, pageText(ctx))
		}
	}
	step("an anonymous visit", chromedp.Run(ctx,
		chromedp.Navigate(s.base+"/auth/admin"),
		chromedp.WaitVisible("#login-form", chromedp.ByQuery),
		chromedp.Location(&landed),
	))
	if !strings.Contains(landed, "/auth/login?next=") {
		t.Fatalf("an anonymous visit to the admin landed on %q, not the login form", landed)
	}
	step("log in as staff", chromedp.Run(ctx,
		chromedp.SendKeys("#username", "admin", chromedp.ByQuery),
		chromedp.SendKeys("#password", "correct horse battery staple", chromedp.ByQuery),
		chromedp.Click(`#login-form button[type=submit]`, chromedp.ByQuery),
	))
	step("the admin pages after the login", arrive(ctx, "/auth/admin", "#user-search"))
	step("search alice", chromedp.Run(ctx,
		chromedp.SendKeys(`#user-search input[name=q]`, "alice", chromedp.ByQuery),
		chromedp.Submit(`#user-search input[name=q]`, chromedp.ByQuery),
	))
	step("the search's answer", arrive(ctx, "q=alice", `table.users a.user-link`))
	step("open alice's page", chromedp.Run(ctx,
		chromedp.FullScreenshot(&usersShot, 100),
		chromedp.Click(`table.users a.user-link`, chromedp.ByQuery),
	))
	step("alice's page", arrive(ctx, "/auth/admin/users/", "#user-name"))
	var name string
	if err := chromedp.Run(ctx, chromedp.Text("#user-name", &name, chromedp.ByQuery)); err != nil || name != "alice" {
		t.Fatalf("the user page shows %q (%v)", name, err)
	}
	var rows int
	if err := chromedp.Run(ctx, chromedp.Evaluate(`document.querySelectorAll("table.sessions tr[data-session]").length`, &rows)); err != nil || rows != 3 {
		t.Fatalf("alice's page lists %d sessions (%v), want 3", rows, err)
	}

	// Revoke the Firefox session from its row.
	var flash string
	row := fmt.Sprintf(`tr[data-session=%q] form.revoke-session`, sids[1])
	step("revoke a session", within(ctx, 20*time.Second,
		chromedp.Click(row+` input[name=confirm]`, chromedp.ByQuery),
		chromedp.Click(row+` button[type=submit]`, chromedp.ByQuery),
	))
	step("the page after the revocation", arrive(ctx, "done=session-revoked", "#flash"))
	step("read the page", chromedp.Run(ctx,
		chromedp.Text("#flash", &flash, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll("table.sessions tr[data-session]").length`, &rows),
	))
	if !strings.Contains(flash, "revoked") {
		t.Fatalf("after the revocation the page says %q", flash)
	}
	if rows != 2 {
		t.Fatalf("after the revocation alice's page lists %d sessions, want 2", rows)
	}
	if got := []int{hello(0), hello(1), hello(2)}; got[0] != 200 || got[1] != 401 || got[2] != 200 {
		t.Fatalf("API after revoking session 2 of 3: %v, want [200 401 200]", got)
	}

	// The token tree of a live session.
	var states string
	step("the token tree", chromedp.Run(ctx,
		chromedp.Navigate(s.base+"/auth/admin/sessions/"+sids[0]),
		chromedp.WaitVisible("table.tokens", chromedp.ByQuery),
		chromedp.Text("table.tokens", &states, chromedp.ByQuery),
		chromedp.FullScreenshot(&treeShot, 100),
	))
	if !strings.Contains(states, "active") {
		t.Fatalf("the token tree of a live session shows no active token: %q", states)
	}

	// A new password ends every session of alice.
	step("back to alice", chromedp.Run(ctx,
		chromedp.Navigate(s.base+"/auth/admin/users?q=alice"),
		chromedp.WaitVisible(`table.users a.user-link`, chromedp.ByQuery),
		chromedp.Click(`table.users a.user-link`, chromedp.ByQuery),
	))
	step("alice's page", arrive(ctx, "/auth/admin/users/", "form.set-password"))
	step("set alice's password", chromedp.Run(ctx,
		chromedp.SendKeys(`form.set-password input[name=password]`, "another long passphrase", chromedp.ByQuery),
		chromedp.Click(`form.set-password input[name=confirm]`, chromedp.ByQuery),
		chromedp.Click(`form.set-password button[type=submit]`, chromedp.ByQuery),
	))
	step("the page after the password change", arrive(ctx, "done=password-set", "#flash"))
	step("read the page", chromedp.Run(ctx, chromedp.Text("#flash", &flash, chromedp.ByQuery)))
	if !strings.Contains(flash, "password was set") {
		t.Fatalf("after the password change the page says %q", flash)
	}
	// The page answered after the cut-off committed, in this process: the
	// next request of every session of alice is refused.
	if got := []int{hello(0), hello(1), hello(2)}; got[0] != 401 || got[1] != 401 || got[2] != 401 {
		t.Fatalf("API after the password change: %v, want [401 401 401]", got)
	}
	code, body := s.call("POST", "/auth/token", `{"username":"alice","password":"another long passphrase"}`, "")
	want(t, "log in with the new password", code, body, 200, "")

	shotDir := t.TempDir()
	if d := os.Getenv("GINJWT_SCREENSHOT_DIR"); d != "" {
		shotDir = d
	}
	for name, shot := range map[string][]byte{"admin-users.png": usersShot, "admin-token-tree.png": treeShot} {
		if len(shot) < 1000 || !bytes.HasPrefix(shot, []byte("\x89PNG\r\n\x1a\n")) {
			t.Fatalf("%s is not a PNG (%d bytes)", name, len(shot))
		}
		path := filepath.Join(shotDir, name)
		if err := os.WriteFile(path, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s: %d bytes", path, len(shot))
	}
}

// sessionOf reads the session ID (sid) from a token's payload, as a test
// that already trusts the token may.
func sessionOf(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal(raw, &claims); err != nil || claims.SID == "" {
		t.Fatalf("no sid in %s: %v", raw, err)
	}
	return claims.SID
}

// arrive waits until the browser has navigated to a URL containing part (a
// form submitted, a link followed) and sel is visible there. A query that
// meets the old document while it is replaced fails with "Not attached to
// an active page": it is asked again, on the new one.
func arrive(ctx context.Context, part, sel string) error {
	deadline := time.Now().Add(15 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		var at string
		if err = chromedp.Run(ctx, chromedp.Location(&at)); err == nil && !strings.Contains(at, part) {
			err = fmt.Errorf("at %s, waiting for %s", at, part)
		}
		if err == nil {
			if err = chromedp.Run(ctx, chromedp.WaitVisible(sel, chromedp.ByQuery)); err == nil {
				return nil
			}
		}
		if ctx.Err() != nil {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
	return err
}

// within runs actions on ctx's tab, failing after d rather than at the
// browser's end of life, so that a step that cannot go on says which.
func within(ctx context.Context, d time.Duration, actions ...chromedp.Action) error {
	tctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return chromedp.Run(tctx, actions...)
}

// pageText is where the tab is and what its page shows, for a failure.
func pageText(ctx context.Context) string {
	var at, html string
	if err := within(ctx, 5*time.Second, chromedp.Location(&at), chromedp.OuterHTML("main", &html, chromedp.ByQuery)); err != nil {
		return fmt.Sprintf("(%s; no page: %v)", at, err)
	}
	return at + "\n" + html
}
