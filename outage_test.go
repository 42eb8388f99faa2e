package ginjwt

import (
	"net/http"
	"testing"
	"time"

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
