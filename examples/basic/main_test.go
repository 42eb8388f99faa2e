package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
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
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
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

	code, body = s.call("POST", "/auth/token", `{"username":"alice","password":"wrong"}`, "")
	want(t, "wrong password", code, body, 401, "invalid_credentials")
	code, body = s.call("POST", "/auth/token", `{"username":`, "")
	want(t, "malformed", code, body, 400, "bad_request")
	code, body = s.call("GET", "/api/hello", "", "")
	want(t, "no token", code, body, 401, "token_missing")
	code, body = s.call("GET", "/api/hello", "", refresh)
	want(t, "refresh as access", code, body, 401, "token_type_invalid")

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

	// The key persists across restarts: a token from the first run verifies.
	s2 := start(t, example, dir, "-rotate")
	code, body = s2.call("POST", "/auth/token/verify", fmt.Sprintf(`{"token":%q}`, access), "")
	want(t, "verify after restart", code, body, 200, "")
	code, body = s2.call("POST", "/auth/token", `{"username":"alice","password":"correct horse battery staple"}`, "")
	want(t, "obtain (rotate)", code, body, 200, "")
	code, body = s2.call("POST", "/auth/token/refresh", fmt.Sprintf(`{"refresh":%q}`, body["refresh"]), "")
	if code != 200 || body["refresh"] == nil {
		t.Fatalf("refresh with -rotate returned no new refresh token: %d %v", code, body)
	}
}

func TestNewAppRefusesUnknownMode(t *testing.T) {
	_, err := newApp(context.Background(), options{db: "sqlite::memory:", mode: "carrier-pigeon"})
	if err == nil || !strings.Contains(err.Error(), "-mode") {
		t.Fatalf("err = %v", err)
	}
}
