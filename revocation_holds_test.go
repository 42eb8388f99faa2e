package ginjwt

import (
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/testdb"
)

// TestThiefCannotOutrunLogoutEverywhere: a thief refreshes a stolen
// refresh token in a tight loop (with rotation) while the owner logs out
// everywhere. Every refresh sent after the cut-off returned is refused, and
// every token the thief holds is refused on its next request.
func TestThiefCannotOutrunLogoutEverywhere(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		h := newHarness(t, db, nil)
		h.user("alice")
		owner := h.login("alice")
		stolen := h.login("alice") // the thief's session

		var (
			mu          sync.Mutex
			cutDone     atomic.Bool
			after200    int
			refreshes   int
			held        = stolen
			stop        = make(chan struct{})
			thiefFinish sync.WaitGroup
		)
		thiefFinish.Add(1)
		go func() {
			defer thiefFinish.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				mu.Lock()
				tok := held.Refresh
				mu.Unlock()
				sentAfter := cutDone.Load()
				w := h.do(req{path: "/auth/token/refresh", json: map[string]string{"refresh": tok}})
				if w.Code == http.StatusOK {
					var p pairBody
					decode(t, w, &p)
					mu.Lock()
					held, refreshes = p, refreshes+1
					if sentAfter {
						after200++
					}
					mu.Unlock()
				}
			}
		}()
		// Let the thief get going, then cut off.
		deadline := time.Now().Add(10 * time.Second)
		for {
			mu.Lock()
			n := refreshes
			mu.Unlock()
			if n >= 5 || time.Now().After(deadline) {
				break
			}
			time.Sleep(time.Millisecond)
		}
		w := h.do(req{method: http.MethodDelete, path: "/auth/sessions", bearer: owner.Access})
		wantStatus(t, w, http.StatusOK)
		cutDone.Store(true)
		time.Sleep(100 * time.Millisecond) // the thief keeps trying
		close(stop)
		thiefFinish.Wait()

		mu.Lock()
		defer mu.Unlock()
		if refreshes < 5 {
			t.Fatalf("the thief refreshed only %d times before the cut-off", refreshes)
		}
		if after200 != 0 {
			t.Fatalf("%d refreshes sent after the cut-off returned answered 200", after200)
		}
		wantError(t, h.do(req{path: "/api/hello", bearer: held.Access}), http.StatusUnauthorized, "token_revoked")
		w = h.do(req{path: "/auth/token/refresh", json: map[string]string{"refresh": held.Refresh}})
		if w.Code != http.StatusUnauthorized {
			t.Fatalf("the thief's newest refresh token: %d %s", w.Code, w.Body)
		}
		// A session begun after the cut-off works.
		fresh := h.login("alice")
		wantStatus(t, h.do(req{path: "/api/hello", bearer: fresh.Access}), http.StatusOK)
		t.Logf("thief refreshes before the cut-off: %d; after it: %d answered 200", refreshes, after200)
	})
}

// TestCutOffIgnoresClockSkew: instance A's clock runs 1.5 s + its leeway
// ahead of B's. A session issued on A, then cut off on B, is refused on
// both; a session issued on B after the cut-off (by a clock that is behind)
// is not.
func TestCutOffIgnoresClockSkew(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		const leeway = 5 * time.Second
		a := newHarness(t, db, func(c *Config) { c.Leeway = leeway })
		b := newHarness(t, db, func(c *Config) { c.Leeway = leeway })
		a.clock.Advance(leeway + 1500*time.Millisecond)
		a.user("alice")
		onA := a.login("alice")
		// B logs out everywhere with a clock that is behind the session's iat.
		w := b.do(req{method: http.MethodDelete, path: "/auth/sessions", bearer: b.login("alice").Access})
		wantStatus(t, w, http.StatusOK)
		// Refresh goes to the database: refused on both at once.
		for name, h := range map[string]*harness{"A": a, "B": b} {
			w := h.do(req{path: "/auth/token/refresh", json: map[string]string{"refresh": onA.Refresh}})
			if w.Code != http.StatusUnauthorized {
				t.Errorf("%s: refresh of a cut-off session: %d %s", name, w.Code, w.Body)
			}
		}
		// Access tokens: B at once; A once it reads the log.
		if err := a.auth.Registry().Sync(t.Context()); err != nil {
			t.Fatal(err)
		}
		wantError(t, a.do(req{path: "/api/hello", bearer: onA.Access}), http.StatusUnauthorized, "token_revoked")
		// A session issued on B (clock behind) after the cut-off is fine on both.
		after := b.login("alice")
		wantStatus(t, b.do(req{path: "/api/hello", bearer: after.Access}), http.StatusOK)
		wantStatus(t, a.do(req{path: "/api/hello", bearer: after.Access}), http.StatusOK)
	})
}
