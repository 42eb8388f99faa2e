package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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
	err := chromedp.Run(ctx,
		chromedp.Navigate(s.base+"/auth/admin"),
		chromedp.WaitVisible("#login-form", chromedp.ByQuery),
		chromedp.Location(&landed),
		chromedp.SendKeys("#username", "admin", chromedp.ByQuery),
		chromedp.SendKeys("#password", "correct horse battery staple", chromedp.ByQuery),
		chromedp.Click(`#login-form button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible("#user-search", chromedp.ByQuery),
		chromedp.SendKeys(`#user-search input[name=q]`, "alice", chromedp.ByQuery),
		chromedp.Submit(`#user-search input[name=q]`, chromedp.ByQuery),
		chromedp.WaitVisible(`table.users a.user-link`, chromedp.ByQuery),
		chromedp.FullScreenshot(&usersShot, 100),
		chromedp.Click(`table.users a.user-link`, chromedp.ByQuery),
		chromedp.WaitVisible("#user-name", chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("log in as staff and find alice: %v\n%s", err, s.out)
	}
	if !strings.Contains(landed, "/auth/login?next=") {
		t.Fatalf("an anonymous visit to the admin landed on %q, not the login form", landed)
	}
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
	err = chromedp.Run(ctx,
		chromedp.Click(row+` input[name=confirm]`, chromedp.ByQuery),
		chromedp.Click(row+` button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible("#flash", chromedp.ByQuery), // the user page again, saying what was done
		chromedp.Text("#flash", &flash, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll("table.sessions tr[data-session]").length`, &rows),
	)
	if err != nil {
		t.Fatalf("revoke a session: %v", err)
	}
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
	err = chromedp.Run(ctx,
		chromedp.Navigate(s.base+"/auth/admin/sessions/"+sids[0]),
		chromedp.WaitVisible("table.tokens", chromedp.ByQuery),
		chromedp.Text("table.tokens", &states, chromedp.ByQuery),
		chromedp.FullScreenshot(&treeShot, 100),
	)
	if err != nil {
		t.Fatalf("the token tree: %v", err)
	}
	if !strings.Contains(states, "active") {
		t.Fatalf("the token tree of a live session shows no active token: %q", states)
	}

	// A new password ends every session of alice.
	err = chromedp.Run(ctx,
		chromedp.Navigate(s.base+"/auth/admin/users?q=alice"),
		chromedp.Click(`table.users a.user-link`, chromedp.ByQuery),
		chromedp.WaitVisible("#user-name", chromedp.ByQuery),
	)
	if err != nil {
		t.Fatal(err)
	}
	err = chromedp.Run(ctx,
		chromedp.SendKeys(`form.set-password input[name=password]`, "another long passphrase", chromedp.ByQuery),
		chromedp.Click(`form.set-password input[name=confirm]`, chromedp.ByQuery),
		chromedp.Click(`form.set-password button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible("#flash", chromedp.ByQuery),
		chromedp.Text("#flash", &flash, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatalf("set alice's password: %v", err)
	}
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
