package ginjwt

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/ginjwt/ginjwt/database"
	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/users"
)

// parallelLogins sends n logins of username at once, from n%200 client
// addresses, and counts the answers by status.
func parallelLogins(h *harness, n int, username, password string) map[int]int {
	var mu sync.Mutex
	counts := map[int]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			w := h.do(req{path: "/auth/token", json: map[string]string{"username": username, "password": password}, remote: fmt.Sprintf("192.0.2.%d:1", i%200+1)})
			mu.Lock()
			counts[w.Code]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return counts
}

// TestLoginThrottleParallelCorrect: 30 parallel logins with the right
// password all pass, though the limit is 10: those beyond it wait for the
// outcomes ahead of them. (A long MaxWait: a loaded machine must not turn
// waits into 429s or 503s here.)
func TestLoginThrottleParallelCorrect(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		h := newHarness(t, db, func(c *Config) { c.Limits.Throttle = Throttle{PerAccount: 10, MaxWait: time.Minute} })
		h.user("alice")
		failLogin(h, "alice", "192.0.2.250:1", "") // a failure before: cleared by the first success
		if got := parallelLogins(h, 30, "alice", "pw-alice"); got[200] != 30 {
			t.Fatalf("30 parallel correct logins answered %v; want 30 × 200", got)
		}
		if s := h.auth.throttle.State(); s.Login("alice") != 0 || s.InFlight != 0 {
			t.Fatalf("after the logins: failures %q, %d keys in flight", s.Failures, s.InFlight)
		}
	})
}

// TestLoginThrottleParallelGuesses: 100 parallel wrong passwords get at
// most PerAccount password checks; the rest are refused, and the account
// stays locked.
func TestLoginThrottleParallelGuesses(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		h := newHarness(t, db, func(c *Config) { c.Limits.Throttle = Throttle{PerAccount: 10, MaxWait: time.Minute} })
		h.user("alice")
		got := parallelLogins(h, 100, "alice", "guess")
		if got[401] < 1 || got[401] > 10 || got[401]+got[429] != 100 {
			t.Fatalf("100 parallel guesses answered %v; want at most 10 × 401 and the rest 429", got)
		}
		w := h.do(req{path: "/auth/token", json: map[string]string{"username": "alice", "password": "pw-alice"}, remote: "198.51.100.1:1"})
		wantError(t, w, 429, "too_many_requests")
		if w.Header().Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
	})
}

// TestLoginThrottleByAccount: the username and the e-mail of one account
// share its limit; a name typed keeps a limit of its own whether or not it
// names an account, so the throttle does not tell which names exist.
func TestLoginThrottleByAccount(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		h := newHarness(t, db, func(c *Config) { c.Limits.Throttle = Throttle{PerAccount: 4, PerIP: 1000} })
		alice := users.NewUser("alice")
		alice.Email = "alice@example.com"
		if err := h.store.Create(context.Background(), alice, "pw-alice"); err != nil {
			t.Fatal(err)
		}
		h.user("bob")
		for _, login := range []string{"alice", "ALICE@example.com", "alice", "alice@EXAMPLE.com"} {
			if code := failLogin(h, login, "192.0.2.1:1", ""); code != 401 {
				t.Fatalf("failure as %s answered %d", login, code)
			}
		}
		for _, login := range []string{"alice", "alice@example.com"} {
			w := h.do(req{path: "/auth/token", json: map[string]string{"username": login, "password": "pw-alice"}})
			wantError(t, w, 429, "too_many_requests")
		}
		// "Bob" names nobody (usernames are exact) and "bob" an account;
		// "Zed" and "zed" nobody: the same answers either way.
		for _, pair := range [][2]string{{"Bob", "bob"}, {"Zed", "zed"}} {
			for range 4 {
				failLogin(h, pair[0], "192.0.2.1:1", "")
			}
			if code := failLogin(h, pair[1], "192.0.2.1:1", ""); code != 429 {
				t.Fatalf("%s after 4 failures as %s answered %d; want 429", pair[1], pair[0], code)
			}
		}
		if code := failLogin(h, "carol", "192.0.2.1:1", ""); code != 401 {
			t.Fatalf("an unrelated name answered %d", code)
		}
	})
}

// outage makes every query on db fail as a database that refuses
// connections does, while down is true.
type outage struct {
	mu   sync.Mutex
	down bool
}

func injectOutage(t *testing.T, db *gorm.DB) *outage {
	t.Helper()
	o := &outage{}
	err := db.Callback().Query().Before("gorm:query").Register("test:outage", func(tx *gorm.DB) {
		o.mu.Lock()
		defer o.mu.Unlock()
		if o.down {
			_ = tx.AddError(&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED})
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func (o *outage) set(down bool) {
	o.mu.Lock()
	o.down = down
	o.mu.Unlock()
}

// plainStore is a UserStore without AccountKey: its logins are bucketed by
// the name typed, and a database failure reaches Authenticate.
type plainStore struct{ s *users.Store }

func (p plainStore) Authenticate(ctx context.Context, login, password string) (*users.User, error) {
	return p.s.Authenticate(ctx, login, password)
}

func (p plainStore) Find(ctx context.Context, id string) (*users.User, error) {
	return p.s.Find(ctx, id)
}

// TestLoginThrottleOutage: logins during a database outage answer 503 with
// Retry-After and leave the throttle as it was; the first login after it is
// served.
func TestLoginThrottleOutage(t *testing.T) {
	t.Parallel()
	for _, variant := range []string{"AccountKey", "Authenticate"} {
		t.Run(variant, func(t *testing.T) {
			t.Parallel()
			testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
				t.Parallel()
				h := newHarness(t, db, func(c *Config) {
					c.Limits.Throttle = Throttle{PerAccount: 3}
					if variant == "Authenticate" {
						c.Users = plainStore{users.NewStore(db, users.WithHasher(fastHasher()))}
					}
				})
				h.user("alice")
				o := injectOutage(t, db)
				failLogin(h, "alice", "192.0.2.1:1", "")
				before := h.auth.throttle.State()
				o.set(true)
				for i := range 10 {
					pw := "pw-alice"
					if i%2 == 0 {
						pw = "wrong"
					}
					w := h.do(req{path: "/auth/token", json: map[string]string{"username": "alice", "password": pw}})
					wantError(t, w, 503, "unavailable")
					if w.Header().Get("Retry-After") == "" {
						t.Fatal("503 without Retry-After")
					}
				}
				o.set(false) // (a throttle kept in the database is read once it is back)
				after := h.auth.throttle.State()
				if !maps.Equal(before.Failures, after.Failures) || after.InFlight != 0 {
					t.Fatalf("the outage changed the throttle: %q, then %q with %d keys in flight", before.Failures, after.Failures, after.InFlight)
				}
				h.login("alice")
			})
		})
	}
}

// slowStore holds each login until its request's context ends (the client
// went away), then lets the real store see that context.
type slowStore struct {
	*users.Store
	entered chan struct{}
}

func (s slowStore) Authenticate(ctx context.Context, login, password string) (*users.User, error) {
	s.entered <- struct{}{}
	<-ctx.Done()
	return s.Store.Authenticate(ctx, login, password)
}

// TestLoginClientGone: a login whose client goes away before its password
// is checked counts as nothing.
func TestLoginClientGone(t *testing.T) {
	t.Parallel()
	db := testdb.SQLite(t)
	entered := make(chan struct{}, 1)
	h := newHarness(t, db, func(c *Config) {
		c.Limits.Throttle = Throttle{PerAccount: 1}
		c.Users = slowStore{users.NewStore(db, users.WithHasher(fastHasher())), entered}
	})
	h.user("alice")
	for range 3 {
		ctx, cancel := context.WithCancel(context.Background())
		r := httptest.NewRequestWithContext(ctx, "POST", "/auth/token", strings.NewReader(`{"username":"alice","password":"wrong"}`))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		done := make(chan struct{})
		go func() { h.engine.ServeHTTP(w, r); close(done) }()
		select {
		case <-entered:
			cancel()
			<-done
		case <-done: // refused before the password check: a bug
			cancel()
		}
		wantError(t, w, 503, "unavailable")
	}
	if s := h.auth.throttle.State(); len(s.Failures) != 0 || s.InFlight != 0 {
		t.Fatalf("logins of clients gone left failures %q and %d keys in flight", s.Failures, s.InFlight)
	}
}

// TestLoginDuringPostgresOutage: PostgreSQL really unreachable (its
// connections cut and refused by a proxy the test stops): 503 with
// Retry-After, the throttle untouched, and a login served as soon as the
// database is back.
func TestLoginDuringPostgresOutage(t *testing.T) {
	t.Parallel()
	direct := testdb.Postgres(t)
	if err := Migrate(context.Background(), direct); err != nil {
		t.Fatal(err)
	}
	dsn := testdb.PostgresSchemaDSN(t, direct)
	pc, err := pgconn.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, net.JoinHostPort(pc.Host, fmt.Sprint(pc.Port)))
	db, err := database.Open(viaProxy(t, dsn, p.addr), database.WithLogger(logger.Discard))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			_ = sqlDB.Close()
		}
	})
	h := newHarness(t, db, func(c *Config) { c.Limits.Throttle = Throttle{PerAccount: 3} })
	h.user("alice")
	failLogin(h, "alice", "192.0.2.1:1", "")
	before := h.auth.throttle.State()

	p.down()
	for _, pw := range []string{"pw-alice", "wrong", "pw-alice", "wrong", "wrong"} {
		w := h.do(req{path: "/auth/token", json: map[string]string{"username": "alice", "password": pw}})
		wantError(t, w, 503, "unavailable")
		if w.Header().Get("Retry-After") == "" {
			t.Fatal("503 without Retry-After")
		}
	}
	p.up() // (the throttle is kept in this database: read once it is back)
	if after := h.auth.throttle.State(); !maps.Equal(before.Failures, after.Failures) || after.InFlight != 0 {
		t.Fatalf("the outage changed the throttle: %q, then %q with %d keys in flight", before.Failures, after.Failures, after.InFlight)
	}
	h.login("alice")
}

// viaProxy is dsn (key=value or URL) with its host and port replaced by addr.
func viaProxy(t *testing.T, dsn, addr string) string {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	if strings.Contains(dsn, "://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		u.Host = addr
		return u.String()
	}
	return dsn + " host=" + host + " port=" + port // later keys win
}

// tcpProxy forwards connections to a target; down closes it and every
// connection through it, as a database server that went away; up listens
// again on the same address.
type tcpProxy struct {
	target, addr string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]bool
}

func startProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	p := &tcpProxy{target: target, addr: "127.0.0.1:0", conns: map[net.Conn]bool{}}
	if err := p.listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.down)
	return p
}

func (p *tcpProxy) listen() error {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.pipe(c)
		}
	}()
	return nil
}

func (p *tcpProxy) up() {
	if err := p.listen(); err != nil {
		panic(err) // the port was just ours
	}
}

func (p *tcpProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		return false
	}
	p.conns[c] = true
	return true
}

func (p *tcpProxy) pipe(c net.Conn) {
	u, err := net.Dial("tcp", p.target)
	if err != nil || !p.track(c) || !p.track(u) {
		c.Close()
		if u != nil {
			u.Close()
		}
		return
	}
	go func() { _, _ = io.Copy(u, c); u.Close() }()
	_, _ = io.Copy(c, u)
	c.Close()
}

func (p *tcpProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// TestThrottleMaxWaitConfig: MaxWait defaults to 3 s, is given to the
// store's hasher unless the application set the hasher's own bound, and a
// negative value is refused naming the field.
func TestThrottleMaxWaitConfig(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	if h.auth.cfg.Limits.Throttle.MaxWait != 3*time.Second || h.store.Hasher().MaxWait() != 3*time.Second {
		t.Fatalf("MaxWait %v, hasher bound %v; want 3s and 3s", h.auth.cfg.Limits.Throttle.MaxWait, h.store.Hasher().MaxWait())
	}
	own := fastHasher()
	own.SetMaxWait(time.Second)
	h = newHarness(t, h.db, func(c *Config) {
		c.Limits.Throttle = Throttle{Disabled: true, MaxWait: 5 * time.Second}
		c.Users = users.NewStore(h.db, users.WithHasher(own))
	})
	if own.MaxWait() != time.Second || h.auth.cfg.Limits.Throttle.MaxWait != 5*time.Second {
		t.Fatalf("the application's hasher bound became %v (MaxWait %v); want 1s kept", own.MaxWait(), h.auth.cfg.Limits.Throttle.MaxWait)
	}
	_, err := New(Config{SigningKey: testSecret, Users: h.store, Limits: Limits{Throttle: Throttle{MaxWait: -time.Second}}})
	if err == nil || !strings.Contains(err.Error(), "Throttle.MaxWait") {
		t.Fatalf("a negative MaxWait: %v; want an error naming Config.Limits.Throttle.MaxWait", err)
	}
}
