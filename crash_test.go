package ginjwt

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/ginjwt/ginjwt/database"
	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/pipeline"
	"github.com/ginjwt/ginjwt/registry"
	"github.com/ginjwt/ginjwt/users"
)

// The crash test runs the test binary itself as the server it kills: these
// variables make TestCrashChild serve.
const (
	crashDSNEnv   = "GINJWT_CRASH_CHILD_DSN"   // the database; TestCrashChild serves only when it is set
	crashDelayEnv = "GINJWT_CRASH_CHILD_DELAY" // how long each registration sleeps in its transaction
	crashAddrLine = "GINJWT_CRASH_CHILD_ADDR=" // the child's first line on stdout, before its address
)

const (
	crashUsers   = 4                // accounts logging in
	crashClients = 8                // concurrent clients in the burst
	crashKillAt  = 100              // 200s before the SIGKILL
	crashMaxEach = 100              // logins per client at most
	crashBound   = 20 * time.Second // the burst's bound, should crashKillAt 200s not come
	crashWait    = 60 * time.Second // generous bound for a child to start or stop
	crashClient  = 20 * time.Second // one request's bound
	crashOutMax  = 8192             // bytes of the child's output kept for failure messages
	crashPW      = "pw-crash"       // every account's password
)

// TestCrashChild is not a test: it is the server TestCrash starts in a
// process of its own and kills. Without GINJWT_CRASH_CHILD_DSN it returns
// at once (a no-op rather than a skip, so skip counts stay meaningful).
//
// It serves ginjwt with asynchronous registration on the database of the
// DSN, on 127.0.0.1:0, prints its address, and stops cleanly when its
// standard input closes.
func TestCrashChild(t *testing.T) {
	dsn := os.Getenv(crashDSNEnv)
	if dsn == "" {
		return
	}
	delay, err := time.ParseDuration(os.Getenv(crashDelayEnv))
	if err != nil {
		t.Fatalf("%s: %v", crashDelayEnv, err)
	}
	db, err := database.Open(dsn, database.WithLogger(logger.Discard))
	if err != nil {
		t.Fatal(err)
	}
	slow := func(context.Context, *pipeline.Event) error { time.Sleep(delay); return nil }
	engine := gin.New()
	auth, err := Mount(engine, Config{
		SigningKey: testSecret,
		DB:         db,
		Users:      users.NewStore(db, users.WithHasher(fastHasher())),
		Registry: RegistryConfig{
			Async:    true,
			Pipeline: func(steps []pipeline.Step) []pipeline.Step { return append(steps, slow) },
		},
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Limits: Limits{Throttle: Throttle{Disabled: true}},
	})
	if err != nil {
		t.Fatal(err)
	}
	engine.GET("/api/hello", RequireLogin(), func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"ok": true}) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: engine, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Printf("%s%s\n", crashAddrLine, ln.Addr())

	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent closes it, or dies
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve: %v", err)
	}
	if err := auth.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
	if sqlDB, err := db.DB(); err == nil {
		_ = sqlDB.Close()
	}
}

// crashPair is a pair a login answered 200, and what its tokens say.
type crashPair struct {
	user            string
	access, refresh string
	sid, jti        string // the session, and the refresh token's jti
}

// TestCrash: a server with asynchronous registration is SIGKILLed in the
// middle of a burst of logins and started again on the same database.
// Every pair of tokens a client received is then either listed among its
// user's sessions and revocable by id (after which both tokens are
// refused), or refused on first use. The journal promises the first.
func TestCrash(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		if err := Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		store := users.NewStore(db, users.WithHasher(fastHasher()))
		names := make([]string, crashUsers)
		for i := range names {
			names[i] = fmt.Sprint("crash", i)
			if err := store.Create(ctx, users.NewUser(names[i]), crashPW); err != nil {
				t.Fatal(err)
			}
		}
		dsn := crashDSN(t, db)
		// Each registration sleeps in its transaction, so that the kill
		// finds a backlog. On SQLite the sleep holds the write lock the
		// journal's INSERTs need too: a shorter one leaves them more room.
		delay := 5 * time.Millisecond
		if database.EngineOf(db) == database.SQLite {
			delay = 2 * time.Millisecond
		}

		first := startCrashChild(t, dsn, delay)
		pairs := crashBurst(t, first)
		first.kill()
		if len(pairs) == 0 {
			t.Fatalf("the burst got no 200 before the kill\n%s", first.out)
		}
		var pendingAtKill int64
		if err := db.Model(&registry.PendingRegistration{}).Count(&pendingAtKill).Error; err != nil {
			t.Fatal(err)
		}
		jtis := make([]string, len(pairs))
		for i, p := range pairs {
			jtis[i] = p.jti
		}
		var landed int64
		if err := db.Model(&registry.Token{}).Where("jti IN ?", jtis).Count(&landed).Error; err != nil {
			t.Fatal(err)
		}

		second := startCrashChild(t, dsn, delay)
		listed, refused, problems := crashCheck(second, pairs)
		for i, p := range problems {
			if i == 10 {
				t.Errorf("... and %d more", len(problems)-i)
				break
			}
			t.Error(p)
		}
		second.stop(t)
		var pendingAfter int64
		if err := db.Model(&registry.PendingRegistration{}).Count(&pendingAfter).Error; err != nil {
			t.Fatal(err)
		}
		t.Logf("%d pairs answered 200 before the SIGKILL; at the kill %d journal entries were pending and %d of the pairs were not registered; "+
			"after the restart %d were listed and revoked, %d refused, %d neither; %d entries pending after a clean stop",
			len(pairs), pendingAtKill, int64(len(pairs))-landed, listed, refused, len(problems), pendingAfter)
	})
}

// crashDSN is the DSN of db for another process.
func crashDSN(t *testing.T, db *gorm.DB) string {
	t.Helper()
	if database.EngineOf(db) == database.Postgres {
		return testdb.PostgresSchemaDSN(t, db)
	}
	var files []struct {
		Name string
		File string
	}
	if err := db.Raw("PRAGMA database_list").Scan(&files).Error; err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f.Name == "main" && f.File != "" {
			return "sqlite:" + f.File
		}
	}
	t.Fatalf("no file behind the SQLite database: %+v", files)
	return ""
}

// crashChild is a running TestCrashChild.
type crashChild struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	base   string
	out    *tailBuffer
	exited chan struct{} // closed when the process has been waited for
	err    error         // its exit, once exited is closed
	client *http.Client
}

// startCrashChild starts TestCrashChild on dsn, each registration
// sleeping delay, and waits for its address.
func startCrashChild(t *testing.T, dsn string, delay time.Duration) *crashChild {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$",
		"-test.timeout=3m") // its own bound, should the parent vanish without closing its input
	cmd.Env = append(os.Environ(), crashDSNEnv+"="+dsn, crashDelayEnv+"="+delay.String())
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &crashChild{cmd: cmd, stdin: stdin, out: &tailBuffer{max: crashOutMax}, exited: make(chan struct{}),
		client: &http.Client{Timeout: crashClient, Transport: &http.Transport{MaxIdleConnsPerHost: crashClients}}}
	cmd.Stderr = c.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		c.err = cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(c.kill)
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), crashAddrLine); ok {
				addr <- a
				continue
			}
			fmt.Fprintln(c.out, sc.Text())
		}
		_, _ = io.Copy(c.out, stdout)
	}()
	select {
	case a := <-addr:
		c.base = "http://" + a
	case <-c.exited:
		t.Fatalf("the child exited before serving: %v\n%s", c.err, c.out)
	case <-time.After(crashWait):
		t.Fatalf("the child did not serve within %v\n%s", crashWait, c.out)
	}
	return c
}

// kill SIGKILLs the child and waits for it.
func (c *crashChild) kill() {
	_ = c.cmd.Process.Kill()
	<-c.exited
	c.client.CloseIdleConnections()
}

// stop closes the child's standard input and waits for it to stop
// cleanly: what it reported (a race, a failed Close) fails t.
func (c *crashChild) stop(t *testing.T) {
	t.Helper()
	c.client.CloseIdleConnections()
	_ = c.stdin.Close()
	select {
	case <-c.exited:
		if c.err != nil {
			t.Errorf("the restarted child did not stop cleanly: %v\n%s", c.err, c.out)
		}
	case <-time.After(crashWait):
		t.Errorf("the restarted child did not stop within %v\n%s", crashWait, c.out)
	}
}

// do sends one request and returns the status and the body read in full,
// or an error when no full answer came.
func (c *crashChild) do(method, path, bearer string, body any) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, b, nil
}

// login logs user in and returns the pair when the answer is a 200.
func (c *crashChild) login(user string) (*crashPair, int, error) {
	code, b, err := c.do(http.MethodPost, "/auth/token", "", map[string]string{"username": user, "password": crashPW})
	if err != nil || code != http.StatusOK {
		return nil, code, err
	}
	var body pairBody
	if err := json.Unmarshal(b, &body); err != nil {
		return nil, code, fmt.Errorf("login answer %s: %w", short(b), err)
	}
	var claims struct {
		JTI string `json:"jti"`
		SID string `json:"sid"`
	}
	parts := strings.Split(body.Refresh, ".")
	if len(parts) != 3 {
		return nil, code, fmt.Errorf("login answer %s: not a JWT", short(b))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err == nil {
		err = json.Unmarshal(payload, &claims)
	}
	if err != nil || claims.JTI == "" || claims.SID == "" {
		return nil, code, fmt.Errorf("refresh token payload %q: %v", payload, err)
	}
	return &crashPair{user: user, access: body.Access, refresh: body.Refresh, sid: claims.SID, jti: claims.JTI}, code, nil
}

// crashBurst logs in from crashClients clients at once, and SIGKILLs the
// child at the crashKillAt-th 200, while the other clients' logins are in
// flight. It returns the pairs answered 200.
func crashBurst(t *testing.T, c *crashChild) []crashPair {
	t.Helper()
	var (
		mu       sync.Mutex
		pairs    []crashPair
		ok       atomic.Int64
		codes    sync.Map // status -> *atomic.Int64, for the report
		killOnce sync.Once
		wg       sync.WaitGroup
	)
	deadline := time.Now().Add(crashBound)
	for i := range crashClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range crashMaxEach {
				if time.Now().After(deadline) {
					return
				}
				p, code, err := c.login(fmt.Sprint("crash", (i+n)%crashUsers))
				if err != nil {
					return // the child is gone (or answered what is not a pair)
				}
				v, _ := codes.LoadOrStore(code, new(atomic.Int64))
				v.(*atomic.Int64).Add(1)
				if p == nil {
					continue
				}
				mu.Lock()
				pairs = append(pairs, *p)
				mu.Unlock()
				if ok.Add(1) == crashKillAt {
					killOnce.Do(func() { _ = c.cmd.Process.Kill() })
				}
			}
		}()
	}
	wg.Wait()
	var report []string
	codes.Range(func(k, v any) bool {
		report = append(report, fmt.Sprintf("%v: %d", k, v.(*atomic.Int64).Load()))
		return true
	})
	t.Logf("burst answers by status: %s", strings.Join(report, ", "))
	mu.Lock()
	defer mu.Unlock()
	return pairs
}

// crashCheck checks every pair against the restarted child, a few at a
// time: listed (then revoked by id, after which both its tokens must be
// refused) or refused. It returns how many were each, and a description
// of every pair that was neither.
func crashCheck(c *crashChild, pairs []crashPair) (listed, refused int, problems []string) {
	var mu sync.Mutex
	work := make(chan crashPair)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				wasListed, err := c.checkPair(p)
				mu.Lock()
				switch {
				case err != nil:
					problems = append(problems, fmt.Sprintf("session %s of %s: %v", p.sid, p.user, err))
				case wasListed:
					listed++
				default:
					refused++
				}
				mu.Unlock()
			}
		}()
	}
	for _, p := range pairs {
		work <- p
	}
	close(work)
	wg.Wait()
	return listed, refused, problems
}

// checkPair tells whether p's session is listed (and then revokes it and
// checks that its tokens are refused); when it is not listed, its tokens
// must be refused. Any other outcome is an error.
func (c *crashChild) checkPair(p crashPair) (bool, error) {
	bearer := p.access
	code, body, err := c.do(http.MethodGet, "/auth/sessions", bearer, nil)
	if err == nil && code == http.StatusUnauthorized {
		// The pair's access token is refused: list as the same user,
		// freshly logged in.
		fresh, lcode, lerr := c.login(p.user)
		if lerr != nil || fresh == nil {
			return false, fmt.Errorf("a fresh login of %s: %d %v", p.user, lcode, lerr)
		}
		bearer = fresh.access
		code, body, err = c.do(http.MethodGet, "/auth/sessions", bearer, nil)
	}
	if err != nil || code != http.StatusOK {
		return false, fmt.Errorf("GET /auth/sessions: %d %s %v", code, short(body), err)
	}
	var list struct {
		Sessions []struct {
			ID string `json:"id"`
		} `json:"sessions"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return false, fmt.Errorf("GET /auth/sessions: %s: %w", short(body), err)
	}
	listed := false
	for _, s := range list.Sessions {
		listed = listed || s.ID == p.sid
	}
	if listed {
		code, body, err := c.do(http.MethodDelete, "/auth/sessions/"+p.sid, bearer, nil)
		if err != nil || code != http.StatusOK {
			return true, fmt.Errorf("listed, but DELETE /auth/sessions/:id: %d %s %v", code, short(body), err)
		}
	}
	what := "not listed"
	if listed {
		what = "listed and revoked"
	}
	code, body, err = c.do(http.MethodPost, "/auth/token/refresh", "", map[string]string{"refresh": p.refresh})
	if err != nil || code != http.StatusUnauthorized {
		return listed, fmt.Errorf("%s, yet its refresh token: %d %s %v", what, code, short(body), err)
	}
	code, body, err = c.do(http.MethodGet, "/api/hello", p.access, nil)
	if err != nil || code != http.StatusUnauthorized {
		return listed, fmt.Errorf("%s, yet its access token: %d %s %v", what, code, short(body), err)
	}
	return listed, nil
}

// short is the start of an answer's body, for an error message.
func short(b []byte) string {
	const max = 120
	if len(b) > max {
		return fmt.Sprintf("%q...", b[:max])
	}
	return fmt.Sprintf("%q", b)
}

// tailBuffer keeps the last max bytes written to it; safe for concurrent
// use.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
