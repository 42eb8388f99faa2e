package ginjwt

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/users"
)

// TestCutOffIgnoresClockSkew: instance A's clock runs its leeway + 5 s
// ahead of B's. A cut-off made on either instance refuses, on both, every
// session issued before it on the other, and a session the other issues
// after it is not refused: the clock that is behind neither lets old
// sessions survive when it cuts off nor mints tokens that are already
// revoked when it issues.
func TestCutOffIgnoresClockSkew(t *testing.T) {
	t.Parallel()
	const leeway = 5 * time.Second
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		postgres := db.Dialector.Name() == "postgres"
		for _, cutterAhead := range []bool{false, true} {
			name := map[bool]string{false: "cut-by-the-clock-behind", true: "cut-by-the-clock-ahead"}[cutterAhead]
			t.Run(name, func(t *testing.T) {
				db := testdb.SQLite(t)
				if postgres {
					db = testdb.Postgres(t)
				}
				ahead := newHarness(t, db, func(c *Config) { c.Tokens.Leeway = leeway })
				behind := newHarness(t, db, func(c *Config) { c.Tokens.Leeway = leeway })
				ahead.clock.Advance(leeway + 5*time.Second)
				issuer, cutter := ahead, behind
				if cutterAhead {
					issuer, cutter = behind, ahead
				}
				issuer.user("alice")
				before := issuer.login("alice")
				wantStatus(t, cutter.do(req{method: http.MethodDelete, path: "/auth/sessions", bearer: cutter.login("alice").Access}), http.StatusOK)

				// Refresh goes to the database: refused on both at once.
				for _, h := range []*harness{issuer, cutter} {
					w := h.do(req{path: "/auth/token/refresh", json: map[string]string{"refresh": before.Refresh}})
					if w.Code != http.StatusUnauthorized {
						t.Fatalf("refresh of a cut-off session: %d %s", w.Code, w.Body)
					}
				}
				// The access token: on the issuer once it has read the log.
				if err := issuer.auth.Registry().Sync(t.Context()); err != nil {
					t.Fatal(err)
				}
				wantError(t, issuer.do(req{path: "/api/hello", bearer: before.Access}), http.StatusUnauthorized, "token_revoked")
				if cutterAhead { // the instance ahead can read a token from the one behind
					wantError(t, cutter.do(req{path: "/api/hello", bearer: before.Access}), http.StatusUnauthorized, "token_revoked")
				}

				// A session the issuer begins after the cut-off works on the
				// issuer, and on the cutter when its clock can read it.
				after := issuer.login("alice")
				wantStatus(t, issuer.do(req{path: "/api/hello", bearer: after.Access}), http.StatusOK)
				if cutterAhead {
					wantStatus(t, cutter.do(req{path: "/api/hello", bearer: after.Access}), http.StatusOK)
				}
				w := cutter.do(req{path: "/auth/token/refresh", json: map[string]string{"refresh": after.Refresh}})
				if !cutterAhead { // the token is 10 s in the future for the cutter: leeway is 5 s
					wantError(t, w, http.StatusUnauthorized, "token_not_yet_valid")
				} else {
					wantStatus(t, w, http.StatusOK)
				}
			})
		}
	})
}

// cutOffs are the three ways an owner takes every session of a user back.
var cutOffs = []struct {
	name string
	cut  func(t *testing.T, h *harness, ownerAccess string)
	// relogin says whether the user can log in again afterwards (with
	// the password it then has).
	relogin string
}{
	{"log-out-everywhere", func(t *testing.T, h *harness, owner string) {
		wantStatus(t, h.do(req{method: http.MethodDelete, path: "/auth/sessions", bearer: owner}), http.StatusOK)
	}, "pw-alice"},
	{"password-change", func(t *testing.T, h *harness, _ string) {
		u, err := h.store.FindByUsername(context.Background(), "alice")
		if err != nil {
			t.Fatal(err)
		}
		if err := h.store.SetPassword(context.Background(), u.ID, "a-new-password"); err != nil {
			t.Fatal(err)
		}
	}, "a-new-password"},
	{"deactivation", func(t *testing.T, h *harness, _ string) {
		u, err := h.store.FindByUsername(context.Background(), "alice")
		if err != nil {
			t.Fatal(err)
		}
		if err := h.store.SetActive(context.Background(), u.ID, false); err != nil {
			t.Fatal(err)
		}
	}, ""},
}

// TestThiefCannotOutrunACutOff: a thief refreshes a stolen refresh token
// in a tight loop (rotation on, the default) while the owner logs out
// everywhere, changes the password or is deactivated, on the thief's
// instance or on another one sharing the database. Every refresh sent
// after the cut-off returned is refused, on every instance; every token
// the thief holds is refused on its next request on the instance that cut
// off, and on the other one as soon as it has read the revocation log
// (PostgreSQL tells it at once by NOTIFY; the test waits for that without
// asking).
func TestThiefCannotOutrunACutOff(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		postgres := db.Dialector.Name() == "postgres"
		for _, instances := range []int{1, 2} {
			for _, c := range cutOffs {
				name := c.name + map[int]string{1: "/one-instance", 2: "/two-instances"}[instances]
				t.Run(name, func(t *testing.T) {
					db := testdb.SQLite(t)
					if postgres {
						db = testdb.Postgres(t)
					}
					thief := newHarness(t, db, nil)
					owner := thief
					if instances == 2 {
						owner = newHarness(t, db, nil)
					}
					thief.user("alice")
					ownerPair := owner.login("alice")
					stolen := thief.login("alice")

					held, refreshes, after200 := refreshInALoop(t, thief, stolen, func() { c.cut(t, owner, ownerPair.Access) })
					if refreshes < 5 {
						t.Fatalf("the thief refreshed only %d times before the cut-off", refreshes)
					}
					if after200 != 0 {
						t.Fatalf("%d refreshes sent after the cut-off returned answered 200", after200)
					}
					for _, h := range []*harness{owner, thief} {
						w := h.do(req{path: "/auth/token/refresh", json: map[string]string{"refresh": held.Refresh}})
						if w.Code != http.StatusUnauthorized {
							t.Fatalf("the thief's newest refresh token: %d %s", w.Code, w.Body)
						}
					}
					wantError(t, owner.do(req{path: "/api/hello", bearer: held.Access}), http.StatusUnauthorized, "token_revoked")
					if instances == 2 {
						waitRefused(t, thief, held.Access, postgres)
					}
					if c.relogin != "" {
						w := owner.do(req{path: "/auth/token", json: map[string]string{"username": "alice", "password": c.relogin}})
						wantStatus(t, w, http.StatusOK)
						var fresh pairBody
						decode(t, w, &fresh)
						wantStatus(t, thief.do(req{path: "/api/hello", bearer: fresh.Access}), http.StatusOK)
					}
					t.Logf("thief refreshes before the cut-off: %d; after it: %d answered 200", refreshes, after200)
				})
			}
		}
	})
}

// refreshInALoop runs a thief refreshing stolen as fast as h answers,
// calls cut once the thief is under way, and lets the thief go on for
// 100 ms after cut returned. It returns the newest pair the thief holds,
// how many refreshes succeeded, and how many of those were sent after cut
// returned.
func refreshInALoop(t *testing.T, h *harness, stolen pairBody, cut func()) (held pairBody, refreshes, after200 int) {
	t.Helper()
	var (
		mu      sync.Mutex
		cutDone atomic.Bool
		stop    = make(chan struct{})
		done    = make(chan struct{})
	)
	held = stolen
	go func() {
		defer close(done)
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
			if w.Code != http.StatusOK {
				continue
			}
			var p pairBody
			decode(t, w, &p)
			mu.Lock()
			held, refreshes = p, refreshes+1
			if sentAfter {
				after200++
			}
			mu.Unlock()
		}
	}()
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
	cut()
	cutDone.Store(true)
	time.Sleep(100 * time.Millisecond) // the thief keeps trying
	close(stop)
	<-done
	mu.Lock()
	defer mu.Unlock()
	return held, refreshes, after200
}

// waitRefused checks that h refuses access once it has read the revocation
// log: on PostgreSQL it must learn by itself (LISTEN/NOTIFY) within 2 s; on
// SQLite, which has no notifications, the test syncs it as its periodic
// catch-up would.
func waitRefused(t *testing.T, h *harness, access string, notified bool) {
	t.Helper()
	start := time.Now()
	if !notified {
		if err := h.auth.Registry().Sync(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	for {
		w := h.do(req{path: "/api/hello", bearer: access})
		if w.Code == http.StatusUnauthorized {
			wantError(t, w, http.StatusUnauthorized, "token_revoked")
			t.Logf("the other instance refused the thief's access token %v after the cut-off", time.Since(start).Round(time.Millisecond))
			return
		}
		if time.Since(start) > 2*time.Second {
			t.Fatalf("the other instance still accepts the thief's access token 2 s after the cut-off: %d", w.Code)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestEveryStoreCutsOff: a users.Store the application builds on its own,
// never given to Mount, cuts the user's tokens off when it changes the
// password or deactivates the user, at once on every ginjwt mounted on that
// database in the process.
func TestEveryStoreCutsOff(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		a := newHarness(t, db, nil)
		b := newHarness(t, db, nil)
		u := a.user("alice")
		p := a.login("alice")
		// Built on a handle derived from Config.DB, as an application's
		// request-scoped code would.
		own := users.NewStore(db.WithContext(t.Context()), users.WithHasher(fastHasher()))
		if err := own.SetPassword(t.Context(), u.ID, "another-password"); err != nil {
			t.Fatal(err)
		}
		for _, h := range []*harness{a, b} {
			wantError(t, h.do(req{path: "/api/hello", bearer: p.Access}), http.StatusUnauthorized, "token_revoked")
		}
		wantError(t, b.do(req{path: "/auth/token/refresh", json: map[string]string{"refresh": p.Refresh}}), http.StatusUnauthorized, "token_revoked")
	})
}

// TestMountRefusesAStoreOnAnotherDatabase: a users.Store on another
// *gorm.DB than Config.DB could not cut tokens off in the password
// change's transaction: Mount says so instead of leaving it silently open.
func TestMountRefusesAStoreOnAnotherDatabase(t *testing.T) {
	t.Parallel()
	db, other := testdb.SQLite(t), testdb.SQLite(t)
	if err := Migrate(t.Context(), db); err != nil {
		t.Fatal(err)
	}
	_, err := Mount(gin.New(), Config{SigningKey: testSecret, DB: db, Users: users.NewStore(other)})
	if err == nil || !strings.Contains(err.Error(), "Config.Users") {
		t.Fatalf("Mount: %v", err)
	}
}
