package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// build compiles a package of this module into dir and returns the binary.
func build(t *testing.T, dir, pkg string) string {
	t.Helper()
	bin := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// server is the example running as a process, as a user runs it.
type server struct {
	t    *testing.T
	cmd  *exec.Cmd
	base string
	out  *output
}

// output collects what the process prints; the process writes it while the
// test reads it.
type output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

func start(t *testing.T, bin, dir string, args ...string) *server {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(bin, append([]string{"-addr", addr, "-db", "sqlite:" + filepath.Join(dir, "demo.db")}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GINJWT_SIGNING_KEY=")
	out := &output{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, cmd: cmd, base: "http://" + addr, out: out}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.base + "/api/public")
		if err == nil {
			resp.Body.Close()
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("the example did not start: %v\n%s", err, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// call is one curl.
func (s *server) call(method, path, body, bearer string) (int, map[string]any) {
	s.t.Helper()
	return s.callAs("", method, path, body, bearer)
}

// callAs is one request with a User-Agent.
func (s *server) callAs(userAgent, method, path, body, bearer string) (int, map[string]any) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if userAgent != "" {
		req.Header.Set("User-Agent", userAgent)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		s.t.Fatalf("%s %s: not JSON: %q", method, path, b)
	}
	return resp.StatusCode, m
}

func want(t *testing.T, what string, code int, body map[string]any, wantCode int, wantError string) {
	t.Helper()
	if code != wantCode || (wantError != "" && body["error"] != wantError) {
		t.Fatalf("%s: %d %v, want %d %s", what, code, body, wantCode, wantError)
	}
}

// TestREADMEFlow is the README's session, with the real binaries: start the
// example, create a user with the CLI, then obtain, call, refresh, verify
// and log out over HTTP; bad input gets its code; SIGINT stops it cleanly.
func TestREADMEFlow(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs binaries")
	}
	dir := t.TempDir()
	cli := build(t, dir, "./cmd/ginjwt")
	example := build(t, dir, "./examples/basic")
	s := start(t, example, dir)
	if !strings.Contains(s.out.String(), "user create -db sqlite:") || !strings.Contains(s.out.String(), "curl -s -X POST") {
		t.Fatalf("the banner does not say how to create a user and log in:\n%s", s.out)
	}
	if _, err := os.Stat(filepath.Join(dir, ".ginjwt-demo.key")); err != nil {
		t.Fatalf("the signing key was not persisted: %v", err)
	}

	create := exec.Command(cli, "user", "create", "-db", "sqlite:"+filepath.Join(dir, "demo.db"), "-username", "alice", "-perms", "perm1", "-password-stdin")
	create.Stdin = strings.NewReader("correct horse battery staple\n")
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("ginjwt user create: %v\n%s", err, out)
	}

	code, body := s.call("POST", "/auth/token", `{"username":"alice","password":"correct horse battery staple"}`, "")
	want(t, "obtain", code, body, 200, "")
	access, refresh := body["access"].(string), body["refresh"].(string)
	code, body = s.call("GET", "/api/hello", "", access)
	if code != 200 || body["user"] != "alice" {
		t.Fatalf("hello: %d %v", code, body)
	}
	code, body = s.call("GET", "/api/perm1", "", access)
	want(t, "perm1", code, body, 200, "")
	code, body = s.call("GET", "/api/admin", "", access)
	want(t, "admin", code, body, 403, "permission_denied")
	code, body = s.call("POST", "/api/echo", `{"ping":1}`, access)
	if code != 200 || body["ping"] != float64(1) {
		t.Fatalf("echo: %d %v", code, body)
	}
	code, body = s.call("POST", "/auth/token/refresh", fmt.Sprintf(`{"refresh":%q}`, refresh), "")
	want(t, "refresh", code, body, 200, "")
	code, body = s.call("POST", "/auth/token/verify", fmt.Sprintf(`{"token":%q}`, body["access"]), "")
	want(t, "verify", code, body, 200, "")
	code, body = s.call("POST", "/auth/token/logout", fmt.Sprintf(`{"refresh":%q}`, refresh), "")
	want(t, "logout", code, body, 200, "")
	code, body = s.call("GET", "/api/hello", "", access)
	want(t, "hello after logout", code, body, 401, "token_revoked")

	// Sessions: logins from three browsers show three labelled sessions
	// with their IP; revoking one kills only it.
	browsers := []struct{ ua, label string }{
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", "Chrome 120 on macOS"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0", "Firefox 121 on Windows"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1", "Safari 17 on iOS"},
	}
	var sessions []map[string]any
	for _, b := range browsers {
		code, body = s.callAs(b.ua, "POST", "/auth/token", `{"username":"alice","password":"correct horse battery staple"}`, "")
		want(t, "obtain", code, body, 200, "")
		sessions = append(sessions, body)
	}
	code, body = s.call("GET", "/auth/sessions", "", sessions[0]["access"].(string))
	list, _ := body["sessions"].([]any)
	if code != 200 || len(list) != 3 {
		t.Fatalf("sessions: %d %v", code, body)
	}
	labels := map[string]string{}
	for _, item := range list {
		sess := item.(map[string]any)
		dev, _ := sess["device"].(map[string]any)
		if dev == nil || sess["ip"] != "127.0.0.1" {
			t.Fatalf("session without device or IP: %v", sess)
		}
		labels[dev["label"].(string)] = sess["id"].(string)
	}
	for _, b := range browsers {
		if labels[b.label] == "" {
			t.Fatalf("no session labelled %q: %v", b.label, labels)
		}
	}
	victim := labels[browsers[1].label]
	code, body = s.call("DELETE", "/auth/sessions/"+victim, "", sessions[0]["access"].(string))
	want(t, "revoke a session", code, body, 200, "")
	for i, sess := range sessions {
		code, _ := s.call("GET", "/api/hello", "", sess["access"].(string))
		if (i == 1) != (code == 401) {
			t.Fatalf("after revoking the %s session, the %s one answers %d", browsers[1].label, browsers[i].label, code)
		}
	}

	// Expire: one's own token, by JWT.
	code, body = s.call("POST", "/auth/token/expire", fmt.Sprintf(`{"token":%q}`, sessions[2]["refresh"]), sessions[0]["access"].(string))
	want(t, "expire", code, body, 200, "")
	code, body = s.call("GET", "/api/hello", "", sessions[2]["access"].(string))
	want(t, "hello after expire", code, body, 401, "token_revoked")

	// A password change from the CLI, another process: the old tokens die.
	setpw := exec.Command(cli, "user", "set-password", "-db", "sqlite:"+filepath.Join(dir, "demo.db"), "-username", "alice", "-password-stdin")
	setpw.Stdin = strings.NewReader("correct horse battery staple\n")
	if out, err := setpw.CombinedOutput(); err != nil {
		t.Fatalf("ginjwt user set-password: %v\n%s", err, out)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, body = s.call("GET", "/api/hello", "", sessions[0]["access"].(string))
		if code == 401 && body["error"] == "token_revoked" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the password change was not seen within 5 s: %d %v", code, body)
		}
		time.Sleep(50 * time.Millisecond)
	}

	code, body = s.call("POST", "/auth/token", `{"username":"alice","password":"wrong"}`, "")
	want(t, "wrong password", code, body, 401, "invalid_credentials")
	code, body = s.call("POST", "/auth/token", `{"username":`, "")
	want(t, "malformed", code, body, 400, "bad_request")
	code, body = s.call("GET", "/api/hello", "", "")
	want(t, "no token", code, body, 401, "token_missing")
	code, body = s.call("GET", "/api/hello", "", refresh)
	want(t, "refresh as access", code, body, 401, "token_type_invalid")

	createBob := exec.Command(cli, "user", "create", "-db", "sqlite:"+filepath.Join(dir, "demo.db"), "-username", "bob", "-password-stdin")
	createBob.Stdin = strings.NewReader("bob's long password\n")
	if out, err := createBob.CombinedOutput(); err != nil {
		t.Fatalf("ginjwt user create: %v\n%s", err, out)
	}
	code, bob := s.call("POST", "/auth/token", `{"username":"bob","password":"bob's long password"}`, "")
	want(t, "obtain bob", code, bob, 200, "")

	if err := s.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGINT: %v\n%s", err, s.out)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no graceful shutdown within 15 s")
	}

	// The key persists across restarts, and so do revocations.
	s2 := start(t, example, dir, "-rotate")
	code, body = s2.call("POST", "/auth/token/verify", fmt.Sprintf(`{"token":%q}`, bob["access"]), "")
	want(t, "verify after restart", code, body, 200, "")
	code, body = s2.call("POST", "/auth/token/verify", fmt.Sprintf(`{"token":%q}`, access), "")
	want(t, "a revoked token after restart", code, body, 401, "token_revoked")
	code, body = s2.call("POST", "/auth/token", `{"username":"alice","password":"correct horse battery staple"}`, "")
	want(t, "obtain (rotate)", code, body, 200, "")
	first := body
	code, body = s2.call("POST", "/auth/token", `{"username":"alice","password":"correct horse battery staple"}`, "")
	want(t, "another session", code, body, 200, "")
	other := body
	code, second := s2.call("POST", "/auth/token/refresh", fmt.Sprintf(`{"refresh":%q}`, first["refresh"]), "")
	if code != 200 || second["refresh"] == nil {
		t.Fatalf("refresh with -rotate returned no new refresh token: %d %v", code, second)
	}
	code, third := s2.call("POST", "/auth/token/refresh", fmt.Sprintf(`{"refresh":%q}`, second["refresh"]), "")
	want(t, "second rotation", code, third, 200, "")
	// Replaying the first refresh token (rotated twice since): theft.
	code, body = s2.call("POST", "/auth/token/refresh", fmt.Sprintf(`{"refresh":%q}`, first["refresh"]), "")
	want(t, "replayed refresh token", code, body, 401, "token_revoked")
	code, body = s2.call("GET", "/api/hello", "", third["access"].(string))
	want(t, "the stolen session's newest token", code, body, 401, "token_revoked")
	code, body = s2.call("GET", "/api/hello", "", other["access"].(string))
	want(t, "the user's other session", code, body, 200, "")
}

func TestNewAppRefusesUnknownMode(t *testing.T) {
	_, err := newApp(context.Background(), options{db: "sqlite::memory:", mode: "carrier-pigeon"})
	if err == nil || !strings.Contains(err.Error(), "-mode") {
		t.Fatalf("err = %v", err)
	}
}

// TestCookieModes runs the example in each cookie mode and walks the same
// flow as the JSON one through a cookie jar, as a browser would.
func TestCookieModes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs binaries")
	}
	dir := t.TempDir()
	cli := build(t, dir, "./cmd/ginjwt")
	example := build(t, dir, "./examples/basic")
	create := exec.Command(cli, "user", "create", "-db", "sqlite:"+filepath.Join(dir, "demo.db"), "-username", "alice", "-perms", "perm1", "-password-stdin")
	create.Stdin = strings.NewReader("correct horse battery staple\n")
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("ginjwt user create: %v\n%s", err, out)
	}
	for _, mode := range []string{"cookie", "two-cookie"} {
		t.Run(mode, func(t *testing.T) {
			s := start(t, example, dir, "-mode", mode)
			jar, _ := cookiejar.New(nil)
			client := &http.Client{Jar: jar}
			u, _ := url.Parse(s.base)
			csrf := func() string {
				for _, c := range jar.Cookies(u) {
					if c.Name == "csrftoken" {
						return c.Value
					}
				}
				return ""
			}
			call := func(method, path, body string, withCSRF bool) (int, map[string]any) {
				t.Helper()
				req, _ := http.NewRequest(method, s.base+path, strings.NewReader(body))
				if body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				if method != "GET" {
					req.Header.Set("Origin", s.base)
				}
				if withCSRF {
					req.Header.Set("X-CSRF-Token", csrf())
				}
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var m map[string]any
				_ = json.NewDecoder(resp.Body).Decode(&m)
				return resp.StatusCode, m
			}
			code, body := call("POST", "/auth/token", `{"username":"alice","password":"correct horse battery staple"}`, false)
			if code != 200 || body["access"] != nil || body["refresh"] != nil || body["csrf_token"] == "" {
				t.Fatalf("login: %d %v", code, body)
			}
			code, body = call("GET", "/api/hello", "", false)
			if code != 200 || body["user"] != "alice" {
				t.Fatalf("hello: %d %v", code, body)
			}
			code, body = call("POST", "/api/echo", `{"ping":1}`, false)
			want(t, "echo without the CSRF header", code, body, 403, "csrf_failed")
			code, body = call("POST", "/api/echo", `{"ping":1}`, true)
			want(t, "echo", code, body, 200, "")
			code, body = call("POST", "/auth/token/refresh", "", true)
			want(t, "refresh", code, body, 200, "")
			code, body = call("POST", "/auth/token/verify", "", false)
			want(t, "verify", code, body, 200, "")
			code, body = call("DELETE", "/auth/token/logout", "", true)
			want(t, "logout", code, body, 200, "")
			if len(jar.Cookies(u)) != 0 {
				t.Fatalf("cookies left after logout: %v", jar.Cookies(u))
			}
			code, body = call("GET", "/api/hello", "", false)
			want(t, "hello after logout", code, body, 401, "token_missing")
		})
	}
}

// TestBannerWalkthrough pastes the walk-through the example prints, in each
// mode, into bash, as a reader would (curl and jq on the PATH): every step
// must work with the tokens carried by shell variables or the cookie jar,
// ending logged out.
func TestBannerWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs binaries")
	}
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is needed: %v", tool, err)
			}
			t.Skipf("%s is not installed", tool)
		}
	}
	dir := t.TempDir()
	cli := build(t, dir, "./cmd/ginjwt")
	example := build(t, dir, "./examples/basic")
	for _, tc := range []struct {
		mode, lastError string
	}{
		{"json", "token_revoked"},
		// curl may keep a cleared cookie in its jar: revoked or missing.
		{"cookie", "token_(revoked|missing)"},
		{"two-cookie", "token_(revoked|missing)"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			s := start(t, example, dir, "-mode", tc.mode)
			banner := s.out.String()
			var create string
			var steps []string
			lines := strings.Split(banner, "\n")
			for i, line := range lines {
				if strings.Contains(line, "user create") && create == "" { // the first: alice's
					create = strings.Replace(strings.TrimSpace(line), "go run ./cmd/ginjwt", cli, 1)
				}
				if strings.HasPrefix(line, "Log in") {
					for _, step := range lines[i+1:] {
						if !strings.HasPrefix(step, "  ") {
							break
						}
						steps = append(steps, strings.TrimPrefix(step, "  "))
					}
				}
			}
			if create == "" || len(steps) < 5 {
				t.Fatalf("no walk-through in the banner:\n%s", banner)
			}
			if tc.mode != "json" && strings.Contains(banner, "Bearer") {
				t.Fatalf("the %s banner tells the reader to send a Bearer token:\n%s", tc.mode, banner)
			}
			// The user may exist from an earlier mode: create it once.
			if tc.mode == "json" {
				steps = append([]string{create}, steps...)
			}
			script := "set -eo pipefail\n" + strings.Join(steps, "\necho\n") + "\necho\n"
			cmd := exec.Command("bash", "-c", script)
			cmd.Dir = "../.."
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("the walk-through failed: %v\n%s\n--- script:\n%s", err, out, script)
			}
			outs := strings.Split(strings.TrimSpace(string(out)), "\n")
			wants := []string{`{"user":"alice"}`, `"result":"logged_out"`, `"current":true`}
			if tc.mode != "json" {
				wants = []string{`{"user":"alice"}`, `"result":"logged_out"`, `"expires_in":`, `{"ping":1}`}
			}
			for _, want := range wants {
				if !strings.Contains(string(out), want) {
					t.Fatalf("the walk-through's output lacks %s:\n%s", want, out)
				}
			}
			if last := outs[len(outs)-1]; !regexp.MustCompile(`"error":"` + tc.lastError + `"`).MatchString(last) {
				t.Fatalf("after logout: %s, want %s\n%s", last, tc.lastError, out)
			}
		})
	}
}
