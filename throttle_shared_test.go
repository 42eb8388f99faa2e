package ginjwt

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/ginjwt/ginjwt/database"
	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/internal/testredis"
	"github.com/ginjwt/ginjwt/throttle"
	"github.com/ginjwt/ginjwt/throttle/redisstore"
	"github.com/ginjwt/ginjwt/users"
)

// instances starts n Auth instances on one PostgreSQL schema, each with a
// connection pool of its own and a real HTTP server, their throttle in
// store (nil: the default, the database); it returns their harnesses and
// base URLs.
func instances(t *testing.T, n int, store func() throttle.Store, edit func(*Config)) ([]*harness, []string) {
	t.Helper()
	db := testdb.Postgres(t)
	dsn := testdb.PostgresSchemaDSN(t, db)
	var hs []*harness
	var urls []string
	for i := range n {
		idb := db
		if i > 0 {
			var err error
			if idb, err = database.Open(dsn, database.WithLogger(logger.Discard)); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if s, err := idb.DB(); err == nil {
					_ = s.Close()
				}
			})
		}
		h := newHarness(t, idb, func(c *Config) {
			if store != nil {
				c.Limits.Throttle.Store = store()
			}
			edit(c)
		})
		srv := httptest.NewServer(h.engine)
		t.Cleanup(srv.Close)
		hs, urls = append(hs, h), append(urls, srv.URL)
	}
	return hs, urls
}

// postLogin logs in over HTTP and returns the status.
func postLogin(t *testing.T, url, username, password string) int {
	body := fmt.Sprintf(`{"username":%q,"password":%q}`, username, password)
	resp, err := http.Post(url+"/auth/token", "application/json", strings.NewReader(body))
	if err != nil {
		t.Errorf("login: %v", err)
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// sharedStores are the stores several instances share: the default on
// PostgreSQL, and Redis.
func sharedStores(t *testing.T) map[string]func() throttle.Store {
	return map[string]func() throttle.Store{
		"postgres": nil,
		"redis": func() throttle.Store {
			c, prefix := testredis.Client(t)
			return redisstore.New(c, prefix)
		},
	}
}

// sharedStore returns a func giving the instances of one test one store:
// the default (nil), or Redis under one prefix.
func sharedStore(t *testing.T, store func() throttle.Store) func() throttle.Store {
	if store == nil {
		return nil
	}
	var once sync.Once
	var s throttle.Store
	return func() throttle.Store {
		once.Do(func() { s = store() })
		return s
	}
}

// TestThrottleSharedByInstances: three instances behind three HTTP servers
// sharing one store allow a parallel guesser spread across them the
// guesses one instance allows (10), not three times as many; a correct
// login after them is refused on every instance.
func TestThrottleSharedByInstances(t *testing.T) {
	t.Parallel()
	for name, store := range sharedStores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			hs, urls := instances(t, 3, sharedStore(t, store), func(c *Config) {
				c.Limits.Throttle.PerAccount, c.Limits.Throttle.PerIP, c.Limits.Throttle.MaxWait = 10, 1000, time.Minute
			})
			hs[0].user("alice")
			var mu sync.Mutex
			got := map[int]int{}
			var wg sync.WaitGroup
			for i := range 90 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					code := postLogin(t, urls[i%3], "alice", fmt.Sprintf("guess-%d", i))
					mu.Lock()
					got[code]++
					mu.Unlock()
				}()
			}
			wg.Wait()
			if got[401] < 1 || got[401] > 10 || got[401]+got[429] != 90 {
				t.Fatalf("90 parallel guesses over 3 instances answered %v; want at most 10 × 401, the rest 429", got)
			}
			for i, url := range urls {
				if code := postLogin(t, url, "alice", "pw-alice"); code != 429 {
					t.Fatalf("the right password on instance %d after the guesses: %d; want 429", i, code)
				}
			}
		})
	}
}

// TestThrottleSharedCorrectLogins: 30 parallel correct logins over three
// instances all pass (those past the limit wait for the outcomes ahead, in
// whichever instance), and leave nothing counted or in flight.
func TestThrottleSharedCorrectLogins(t *testing.T) {
	t.Parallel()
	for name, store := range sharedStores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			hs, urls := instances(t, 3, sharedStore(t, store), func(c *Config) {
				c.Limits.Throttle.PerAccount, c.Limits.Throttle.PerIP, c.Limits.Throttle.MaxWait = 5, 1000, time.Minute
			})
			hs[0].user("alice")
			postLogin(t, urls[1], "alice", "wrong") // cleared by the first success
			var wg sync.WaitGroup
			codes := make([]int, 30)
			for i := range codes {
				wg.Add(1)
				go func() { defer wg.Done(); codes[i] = postLogin(t, urls[i%3], "alice", "pw-alice") }()
			}
			wg.Wait()
			for i, code := range codes {
				if code != 200 {
					t.Fatalf("correct login %d answered %d; all: %v", i, code, codes)
				}
			}
			if s := hs[2].auth.throttle.State(); s.Login("alice") != 0 || s.InFlight != 0 {
				t.Fatalf("after the logins: failures %q, %d keys in flight", s.Failures, s.InFlight)
			}
		})
	}
}

// TestThrottleSharedClientGone: logins whose clients go away before the
// password is checked count nothing in a shared store either, and leave
// nothing in flight.
func TestThrottleSharedClientGone(t *testing.T) {
	t.Parallel()
	for name, store := range sharedStores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			db := testdb.Postgres(t)
			entered := make(chan struct{}, 1)
			h := newHarness(t, db, func(c *Config) {
				c.Limits.Throttle.PerAccount = 1
				if store != nil {
					c.Limits.Throttle.Store = store()
				}
				c.Users = slowStore{hStore(db), entered}
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
				case <-done:
					cancel()
				}
				wantError(t, w, 503, "unavailable")
			}
			if s := h.auth.throttle.State(); len(s.Failures) != 0 || s.InFlight != 0 {
				t.Fatalf("logins of clients gone left failures %q and %d keys in flight", s.Failures, s.InFlight)
			}
		})
	}
}

// TestThrottleRedisDown: with its Redis killed, logins answer 503
// unavailable with Retry-After — no password is checked, nothing is let
// through — and once Redis is back (empty: it kept nothing), the next
// login is served, with no restart.
func TestThrottleRedisDown(t *testing.T) {
	t.Parallel()
	srv := testredis.Private(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { client.Close() })
	checked := 0
	var mu sync.Mutex
	h := newHarness(t, nil, func(c *Config) {
		c.Limits.Throttle.Store = redisstore.New(client, "")
		c.Limits.Throttle.MaxWait = 2 * time.Second
	})
	h.user("alice")
	h.auth.Subscribe(LoginFailed, func(_ context.Context, e Event) {
		mu.Lock()
		checked++
		mu.Unlock()
	})
	h.login("alice")
	srv.Kill(t)
	for i := range 6 {
		pw := "pw-alice"
		if i%2 == 0 {
			pw = "wrong"
		}
		start := time.Now()
		w := h.do(req{path: "/auth/token", json: map[string]string{"username": "alice", "password": pw}})
		wantError(t, w, 503, "unavailable")
		if w.Header().Get("Retry-After") == "" {
			t.Fatal("503 without Retry-After")
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("a login with Redis down took %v; want at most MaxWait and change", d)
		}
	}
	mu.Lock()
	if checked != 0 {
		t.Fatalf("%d logins were checked with Redis down", checked)
	}
	mu.Unlock()
	srv.Start(t)
	deadline := time.Now().Add(10 * time.Second)
	for {
		w := h.do(req{path: "/auth/token", json: map[string]string{"username": "alice", "password": "pw-alice"}})
		if w.Code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("10 s after Redis came back, a login still answers %d %s", w.Code, w.Body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestThrottleDefaultStore: on PostgreSQL with the registry, the throttle
// is kept in the database unless Local; on SQLite in memory.
func TestThrottleDefaultStore(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		for _, local := range []bool{false, true} {
			h := newHarness(t, db, func(c *Config) { c.Limits.Throttle.Local = local })
			_, shared := h.auth.cfg.Limits.Throttle.Store.(*throttle.SQL)
			if want := db.Dialector.Name() == "postgres" && !local; shared != want {
				t.Fatalf("Local %v: the store is %T", local, h.auth.cfg.Limits.Throttle.Store)
			}
		}
	})
	_, err := New(Config{SigningKey: testSecret, Users: hStore(testdb.SQLite(t)), Limits: Limits{Throttle: Throttle{Local: true, Store: throttle.NewSQL(testdb.SQLite(t))}}})
	if err == nil || !strings.Contains(err.Error(), "Store or Local") {
		t.Fatalf("Store and Local: %v", err)
	}
}

func hStore(db *gorm.DB) *users.Store { return users.NewStore(db, users.WithHasher(fastHasher())) }
