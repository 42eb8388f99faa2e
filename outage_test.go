package ginjwt

import (
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm/logger"

	"github.com/ginjwt/ginjwt/database"
	"github.com/ginjwt/ginjwt/internal/testdb"
)

// TestPostgresOutage stops a private PostgreSQL cluster under a mounted
// ginjwt: logins, refreshes, revocations and the health check answer 503
// with Retry-After (never 500), requests with access tokens keep working
// from memory, and after the cluster returns a correct login succeeds at
// once, unthrottled, without a restart.
func TestPostgresOutage(t *testing.T) {
	t.Parallel()
	cluster := testdb.PrivatePostgres(t)
	h := newHarness(t, cluster.DB(t), nil)
	h.engine.GET("/healthz", h.auth.Health())
	h.user("alice")
	p := h.login("alice")
	wantStatus(t, h.do(req{path: "/healthz"}), http.StatusOK)

	cluster.Stop(t)
	for range 12 { // more than Throttle.PerAccount
		w := h.do(req{path: "/auth/token", json: map[string]string{"username": "alice", "password": "pw-alice"}})
		wantError(t, w, http.StatusServiceUnavailable, "unavailable")
		if w.Header().Get("Retry-After") == "" {
			t.Fatal("503 without Retry-After")
		}
	}
	wantError(t, h.do(req{path: "/auth/token/refresh", json: map[string]string{"refresh": p.Refresh}}), http.StatusServiceUnavailable, "unavailable")
	wantError(t, h.do(req{method: http.MethodDelete, path: "/auth/sessions", bearer: p.Access}), http.StatusServiceUnavailable, "unavailable")
	wantStatus(t, h.do(req{path: "/api/hello", bearer: p.Access}), http.StatusOK)
	if w := h.do(req{path: "/healthz"}); w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Fatalf("health during the outage: %d %s", w.Code, w.Body)
	}

	cluster.Start(t)
	back := time.Now()
	var w = h.do(req{path: "/auth/token", json: map[string]string{"username": "alice", "password": "pw-alice"}})
	// A pooled connection that predates the restart may fail one statement;
	// the next takes a new one.
	for tries := 0; w.Code != http.StatusOK && tries < 50; tries++ {
		if w.Code != http.StatusServiceUnavailable {
			t.Fatalf("login after the outage: %d %s", w.Code, w.Body)
		}
		time.Sleep(20 * time.Millisecond)
		w = h.do(req{path: "/auth/token", json: map[string]string{"username": "alice", "password": "pw-alice"}})
	}
	wantStatus(t, w, http.StatusOK)
	t.Logf("first successful login %v after the cluster was back", time.Since(back))
	wantStatus(t, h.do(req{path: "/healthz"}), http.StatusOK)
	wantStatus(t, h.do(req{method: http.MethodDelete, path: "/auth/sessions", bearer: p.Access}), http.StatusOK)
	wantError(t, h.do(req{path: "/api/hello", bearer: p.Access}), http.StatusUnauthorized, "token_revoked")
}

// TestSQLiteStorageFaults makes the SQLite file of a mounted ginjwt
// read-only, or fills its disk, while four clients log in and refresh:
// during the fault every login and refresh that needs a write answers 503
// with Retry-After (never 500) and access tokens keep working; once it is
// cleared, every request succeeds again within a second, unthrottled,
// without a restart, including on the connections opened during the fault.
func TestSQLiteStorageFaults(t *testing.T) {
	t.Parallel()
	for _, fault := range []struct {
		name  string
		dir   func(t *testing.T) string
		start func(t testing.TB, dir string) *testdb.Fault
	}{
		{"read-only", func(t *testing.T) string { return t.TempDir() }, testdb.ReadOnly},
		{"full-disk", func(t *testing.T) string { return testdb.SmallDisk(t, 8<<20) }, testdb.FillDisk},
	} {
		t.Run(fault.name, func(t *testing.T) {
			dir := fault.dir(t)
			db, err := database.Open("sqlite:"+filepath.Join(dir, "app.db"), database.WithLogger(logger.Discard))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if sqlDB, err := db.DB(); err == nil {
					sqlDB.Close()
				}
			})
			h := newHarness(t, db, nil)
			h.engine.GET("/healthz", h.auth.Health())
			h.user("alice")
			p := h.login("alice")

			f := fault.start(t, dir)
			// Connections opened before the fault keep their write handles;
			// drop them, as a pool that cycles its connections (or a
			// restarted server) does, so that the pool serves the fault on
			// connections opened during it.
			sqlDB, err := db.DB()
			if err != nil {
				t.Fatal(err)
			}
			sqlDB.SetMaxIdleConns(0)
			sqlDB.SetMaxIdleConns(2)
			codes := hammer(t, h, 4, 300*time.Millisecond)
			for code, n := range codes {
				if code != http.StatusServiceUnavailable {
					t.Errorf("during the fault: %d answers %d", n, code)
				}
			}
			if codes[http.StatusServiceUnavailable] == 0 {
				t.Fatal("no request reached the fault")
			}
			wantStatus(t, h.do(req{path: "/api/hello", bearer: p.Access}), http.StatusOK)
			if w := h.do(req{path: "/healthz"}); w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
				t.Fatalf("health during the fault: %d %v %s", w.Code, w.Header(), w.Body)
			}

			f.Clear(t)
			cleared := time.Now()
			w := h.do(req{path: "/auth/token", json: map[string]string{"username": "alice", "password": "pw-alice"}})
			for w.Code != http.StatusOK && time.Since(cleared) < time.Second {
				wantError(t, w, http.StatusServiceUnavailable, "unavailable")
				time.Sleep(10 * time.Millisecond)
				w = h.do(req{path: "/auth/token", json: map[string]string{"username": "alice", "password": "pw-alice"}})
			}
			wantStatus(t, w, http.StatusOK)
			t.Logf("%s: first login %v after the fault was cleared", fault.name, time.Since(cleared))
			// Every connection of the pool, including those opened during
			// the fault, writes again.
			codes = hammer(t, h, 4, 300*time.Millisecond)
			for code, n := range codes {
				if code != http.StatusOK {
					t.Errorf("after the fault: %d answers %d", n, code)
				}
			}
			wantStatus(t, h.do(req{path: "/healthz"}), http.StatusOK)
			wantStatus(t, h.do(req{method: http.MethodDelete, path: "/auth/sessions", bearer: p.Access}), http.StatusOK)
			wantError(t, h.do(req{path: "/api/hello", bearer: p.Access}), http.StatusUnauthorized, "token_revoked")
		})
	}
}

// hammer runs clients that each log in and refresh in a loop for d, and
// counts the answers by status.
func hammer(t *testing.T, h *harness, clients int, d time.Duration) map[int]int {
	t.Helper()
	var (
		mu    sync.Mutex
		codes = map[int]int{}
		wg    sync.WaitGroup
	)
	until := time.Now().Add(d)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(until) {
				w := h.do(req{path: "/auth/token", json: map[string]string{"username": "alice", "password": "pw-alice"}})
				got := []int{w.Code}
				if w.Code == http.StatusOK {
					var p pairBody
					decode(t, w, &p)
					got = append(got, h.do(req{path: "/auth/token/refresh", json: map[string]string{"refresh": p.Refresh}}).Code)
				}
				mu.Lock()
				for _, c := range got {
					codes[c]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return codes
}
