package microservices_test

import (
	"bytes"
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
	"testing"
	"time"
)

// The README's walk-through, with the real binaries: each service its own
// process and SQLite database, over loopback, as a user runs them.

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

// run starts bin in dir and waits until health answers.
func run(t *testing.T, dir, bin, health string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GINJWT_SERVICE_CREDENTIAL=")
	out := &output{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(health)
		if err == nil {
			resp.Body.Close()
			return cmd
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not start: %v\n%s", filepath.Base(bin), err, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// curl is one curl of the README: the status and the JSON answer.
func curl(t *testing.T, method, url, body, bearer string) (int, any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s %s: not JSON: %q", method, url, b)
	}
	return resp.StatusCode, v
}

func field(v any, name string) string {
	m, _ := v.(map[string]any)
	s, _ := m[name].(string)
	return s
}

func want(t *testing.T, what string, code int, v any, wantCode int, wantErr string) {
	t.Helper()
	if code != wantCode || (wantErr != "" && field(v, "error") != wantErr) {
		t.Fatalf("%s: %d %v, want %d %s", what, code, v, wantCode, wantErr)
	}
}

func TestREADMEWalkthrough(t *testing.T) {
	dir := t.TempDir()
	authBin := build(t, dir, "./examples/microservices/auth-service")
	clientBin := build(t, dir, "./examples/microservices/client-service")
	authDB, clientDB := "sqlite:"+filepath.Join(dir, "auth-service.db"), "sqlite:"+filepath.Join(dir, "client-service.db")
	for _, u := range [][3]string{{"alice", "staff", "alice-password"}, {"root", "admin", "root-password"}} {
		cmd := exec.Command(authBin, "-db", authDB, "user", u[0], u[1])
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GINJWT_SERVICE_CREDENTIAL=")
		cmd.Stdin = strings.NewReader(u[2] + "\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("auth-service user %s: %v\n%s", u[0], err, out)
		}
	}
	sAddr, cAddr := freeAddr(t), freeAddr(t)
	S, C := "http://"+sAddr, "http://"+cAddr
	authProc := run(t, dir, authBin, S+"/healthz", "-addr", sAddr, "-db", authDB)
	run(t, dir, clientBin, C+"/api/test", "-addr", cAddr, "-db", clientDB, "-auth", S)

	code, pair := curl(t, "POST", C+"/auth/token", `{"username":"alice","password":"alice-password"}`, "")
	want(t, "login through the client", code, pair, 200, "")
	access, refresh := field(pair, "access"), field(pair, "refresh")
	code, v := curl(t, "GET", C+"/api/test", "", access)
	if code != 200 || v != "success" {
		t.Fatalf("/api/test: %d %v", code, v)
	}
	code, v = curl(t, "GET", C+"/api/me", "", access)
	if code != 200 || field(v, "access_group") != "staff" || field(v, "username") != "alice" {
		t.Fatalf("/api/me: %d %v", code, v)
	}
	code, v = curl(t, "GET", C+"/api/admin", "", access)
	want(t, "/api/admin as alice", code, v, 403, "permission_denied")
	code, pair = curl(t, "POST", C+"/auth/token/refresh", fmt.Sprintf(`{"refresh":%q}`, refresh), "")
	want(t, "refresh", code, pair, 200, "")
	access, refresh = field(pair, "access"), field(pair, "refresh")
	code, v = curl(t, "GET", C+"/api/test", "", access)
	want(t, "/api/test after refresh", code, v, 200, "")
	code, v = curl(t, "POST", C+"/auth/token/logout", fmt.Sprintf(`{"refresh":%q}`, refresh), "")
	if code != 200 || field(v, "result") != "logged_out" {
		t.Fatalf("logout: %d %v", code, v)
	}
	code, v = curl(t, "GET", C+"/api/test", "", access)
	want(t, "/api/test after logout", code, v, 401, "token_revoked")

	// A logout on the auth service itself, through the feed.
	code, pair = curl(t, "POST", S+"/auth/token", `{"username":"root","password":"root-password"}`, "")
	want(t, "login on the auth service", code, pair, 200, "")
	root, rootRefresh := field(pair, "access"), field(pair, "refresh")
	code, v = curl(t, "GET", C+"/api/admin", "", root)
	if code != 200 || v != "welcome, admin" {
		t.Fatalf("/api/admin as root: %d %v", code, v)
	}
	code, v = curl(t, "POST", S+"/auth/token/logout", fmt.Sprintf(`{"refresh":%q}`, rootRefresh), "")
	want(t, "logout on the auth service", code, v, 200, "")
	time.Sleep(3 * time.Second) // the README's sleep 3: one feed interval (2 s) and its round trip
	code, v = curl(t, "GET", C+"/api/admin", "", root)
	want(t, "root's token after the feed", code, v, 401, "token_revoked")

	// The auth service stopped: logins fail as remote_unavailable, issued
	// tokens still verify.
	code, pair = curl(t, "POST", C+"/auth/token", `{"username":"alice","password":"alice-password"}`, "")
	want(t, "login", code, pair, 200, "")
	access = field(pair, "access")
	_ = authProc.Process.Signal(os.Interrupt)
	_, _ = authProc.Process.Wait()
	code, v = curl(t, "POST", C+"/auth/token", `{"username":"alice","password":"alice-password"}`, "")
	want(t, "login with the auth service down", code, v, 503, "remote_unavailable")
	code, v = curl(t, "GET", C+"/api/test", "", access)
	want(t, "an issued token with the auth service down", code, v, 200, "")
}
