package ginjwt

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/database"
	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/pipeline"
	"github.com/ginjwt/ginjwt/registry"
	"github.com/ginjwt/ginjwt/users"
)

func refreshBody(token string) map[string]string { return map[string]string{"refresh": token} }

func TestLogoutRevokesTheSessionOnItsNextRequest(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		h := newHarness(t, db, nil)
		h.user("alice")
		p := h.login("alice")
		other := h.login("alice")
		wantStatus(t, h.do(req{path: "/api/hello", bearer: p.Access}), 200)

		wantStatus(t, h.do(req{path: "/auth/token/logout", json: refreshBody(p.Refresh)}), 200)
		wantError(t, h.do(req{path: "/api/hello", bearer: p.Access}), 401, "token_revoked")
		wantError(t, h.do(req{path: "/auth/token/refresh", json: refreshBody(p.Refresh)}), 401, "token_revoked")
		wantError(t, h.do(req{path: "/auth/token/verify", json: map[string]string{"token": p.Access}}), 401, "token_revoked")
		// Twice is fine; garbage ends nothing (RFC 7009 §2.2); the other session lives on.
		wantStatus(t, h.do(req{path: "/auth/token/logout", json: refreshBody(p.Refresh)}), 200)
		wantStatus(t, h.do(req{path: "/auth/token/logout", json: refreshBody("garbage")}), 200)
		wantStatus(t, h.do(req{path: "/api/hello", bearer: other.Access}), 200)

		var revoked int64
		h.db.Model(&registry.Token{}).Where("revoked_at IS NOT NULL AND revoke_reason = ?", registry.ReasonLogout).Count(&revoked)
		if revoked != 2 {
			t.Fatalf("%d tokens revoked in the registry, want the session's 2", revoked)
		}
	})
}

// sessionsOf lists a caller's sessions.
func sessionsOf(t *testing.T, h *harness, access string) []sessionView {
	t.Helper()
	w := h.do(req{path: "/auth/sessions", bearer: access})
	wantStatus(t, w, 200)
	var body struct{ Sessions []sessionView }
	decode(t, w, &body)
	return body.Sessions
}

func TestSessionsEndpoint(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		h := newHarness(t, db, nil)
		h.user("alice")
		h.user("bob")
		laptop := h.login("alice")
		h.clock.Advance(time.Minute)
		phone := h.login("alice")
		h.clock.Advance(time.Minute)
		tablet := h.login("alice")
		bob := h.login("bob")

		h.clock.Advance(30 * time.Second)
		list := sessionsOf(t, h, phone.Access)
		if len(list) != 3 {
			t.Fatalf("%d sessions, want 3: %+v", len(list), list)
		}
		phoneClaims, _ := h.auth.ParseToken(phone.Access)
		var current []string
		for _, s := range list {
			if s.Current {
				current = append(current, s.ID)
			}
			if !s.ExpiresAt.After(s.CreatedAt.Time) || s.LastUsedAt.Before(s.CreatedAt.Time) {
				t.Fatalf("session times: %+v", s)
			}
		}
		if len(current) != 1 || current[0] != phoneClaims.SessionID {
			t.Fatalf("current = %v, want %s", current, phoneClaims.SessionID)
		}
		// Most recently used first: the phone just made this request.
		if list[0].ID != phoneClaims.SessionID || !list[1].LastUsedAt.After(list[2].LastUsedAt.Time) || !list[0].LastUsedAt.Equal(h.clock.Now().Truncate(time.Second)) {
			t.Fatalf("not most recent first: %+v", list)
		}

		laptopClaims, _ := h.auth.ParseToken(laptop.Access)
		bobClaims, _ := h.auth.ParseToken(bob.Access)
		wantError(t, h.do(req{method: "DELETE", path: "/auth/sessions/" + bobClaims.SessionID, bearer: phone.Access}), 404, "not_found")
		wantError(t, h.do(req{method: "DELETE", path: "/auth/sessions/nope", bearer: phone.Access}), 404, "not_found")
		wantStatus(t, h.do(req{path: "/api/hello", bearer: bob.Access}), 200)

		wantStatus(t, h.do(req{method: "DELETE", path: "/auth/sessions/" + laptopClaims.SessionID, bearer: phone.Access}), 200)
		wantError(t, h.do(req{path: "/api/hello", bearer: laptop.Access}), 401, "token_revoked")
		wantStatus(t, h.do(req{path: "/api/hello", bearer: phone.Access}), 200)
		if n := len(sessionsOf(t, h, phone.Access)); n != 2 {
			t.Fatalf("%d sessions after revoking one, want 2", n)
		}

		wantStatus(t, h.do(req{method: "DELETE", path: "/auth/sessions?keep=current", bearer: phone.Access}), 200)
		wantError(t, h.do(req{path: "/api/hello", bearer: tablet.Access}), 401, "token_revoked")
		wantStatus(t, h.do(req{path: "/api/hello", bearer: phone.Access}), 200)

		h.clock.Advance(time.Second)
		wantStatus(t, h.do(req{method: "DELETE", path: "/auth/sessions", bearer: phone.Access}), 200)
		wantError(t, h.do(req{path: "/api/hello", bearer: phone.Access}), 401, "token_revoked")
		wantError(t, h.do(req{path: "/auth/token/refresh", json: refreshBody(phone.Refresh)}), 401, "token_revoked")
		wantStatus(t, h.do(req{path: "/api/hello", bearer: bob.Access}), 200)
		// Logging in again after "everywhere" works.
		again := h.login("alice")
		wantStatus(t, h.do(req{path: "/api/hello", bearer: again.Access}), 200)
		wantError(t, h.do(req{method: "DELETE", path: "/auth/sessions?keep=forever", bearer: again.Access}), 400, "bad_request")
	})
}

func TestExpireEndpoint(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		h := newHarness(t, db, nil)
		h.user("alice")
		h.user("bob")
		h.user("root", "ginjwt.expire_any")
		a1, a2 := h.login("alice"), h.login("alice")
		b := h.login("bob")
		root := h.login("root")

		// Someone else's token: 403 by token, 404 by ID, and nothing changes.
		wantError(t, h.do(req{path: "/auth/token/expire", json: map[string]string{"token": b.Access}, bearer: a1.Access}), 403, "permission_denied")
		bc, _ := h.auth.ParseToken(b.Refresh)
		brow, err := h.auth.Registry().FindByJTI(context.Background(), bc.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantError(t, h.do(req{path: "/auth/token/expire", json: map[string]string{"id": strconv.FormatInt(brow.ID, 10)}, bearer: a1.Access}), 404, "not_found")
		wantError(t, h.do(req{path: "/auth/token/expire", json: map[string]string{"id": "999999"}, bearer: a1.Access}), 404, "not_found")
		wantError(t, h.do(req{path: "/auth/token/expire", json: map[string]string{"id": "x"}, bearer: a1.Access}), 400, "bad_request")
		wantError(t, h.do(req{path: "/auth/token/expire", json: map[string]string{}, bearer: a1.Access}), 400, "bad_request")
		wantError(t, h.do(req{path: "/auth/token/expire", json: map[string]string{"token": b.Access}}), 401, "token_missing")
		wantStatus(t, h.do(req{path: "/api/hello", bearer: b.Access}), 200)

		// One's own refresh token by JWT: it and its access token die.
		w := h.do(req{path: "/auth/token/expire", json: map[string]string{"token": a1.Refresh}, bearer: a2.Access})
		wantStatus(t, w, 200)
		if w.Body.String() != `{"result":"tokens_expired","message":"the token and its subtree are revoked","tokens":2}` {
			t.Fatalf("expire answered %s", w.Body)
		}
		wantError(t, h.do(req{path: "/api/hello", bearer: a1.Access}), 401, "token_revoked")
		wantStatus(t, h.do(req{path: "/api/hello", bearer: a2.Access}), 200)

		// The permission expires anyone's, by ID.
		wantStatus(t, h.do(req{path: "/auth/token/expire", json: map[string]string{"id": strconv.FormatInt(brow.ID, 10)}, bearer: root.Access}), 200)
		wantError(t, h.do(req{path: "/api/hello", bearer: b.Access}), 401, "token_revoked")
		wantError(t, h.do(req{path: "/auth/token/refresh", json: refreshBody(b.Refresh)}), 401, "token_revoked")
	})
}

func TestPasswordChangeAndDeactivationCutOff(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		h := newHarness(t, db, nil)
		u := h.user("alice")
		p := h.login("alice")
		h.clock.Advance(time.Second)
		if err := h.store.SetPassword(context.Background(), u.ID, "a new password"); err != nil {
			t.Fatal(err)
		}
		wantError(t, h.do(req{path: "/api/hello", bearer: p.Access}), 401, "token_revoked")
		wantError(t, h.do(req{path: "/auth/token/refresh", json: refreshBody(p.Refresh)}), 401, "token_revoked")
		w := h.do(req{path: "/auth/token", json: map[string]string{"username": "alice", "password": "a new password"}})
		wantStatus(t, w, 200)
		var fresh pairBody
		decode(t, w, &fresh)
		wantStatus(t, h.do(req{path: "/api/hello", bearer: fresh.Access}), 200)

		h.clock.Advance(time.Second)
		if err := h.store.SetActive(context.Background(), u.ID, false); err != nil {
			t.Fatal(err)
		}
		wantError(t, h.do(req{path: "/api/hello", bearer: fresh.Access}), 401, "token_revoked")
	})
}

func TestRotationWithReuseDetection(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		h := newHarness(t, db, nil)
		h.user("alice")
		p := h.login("alice")
		other := h.login("alice")

		refresh := func(token string) (*http.Response, pairBody) {
			w := h.do(req{path: "/auth/token/refresh", json: refreshBody(token)})
			var r pairBody
			if w.Code == 200 {
				decode(t, w, &r)
			}
			return w.Result(), r
		}
		resp, r2 := refresh(p.Refresh)
		if resp.StatusCode != 200 || r2.Refresh == "" {
			t.Fatalf("rotation: %d %+v", resp.StatusCode, r2)
		}
		// Two tabs: the same token again within the grace window gets the
		// same child, not a second branch.
		resp, again := refresh(p.Refresh)
		c2, _ := h.auth.ParseToken(r2.Refresh)
		ca, _ := h.auth.ParseToken(again.Refresh)
		if resp.StatusCode != 200 || ca == nil || ca.ID != c2.ID {
			t.Fatalf("replay within grace: %d, child %v vs %v", resp.StatusCode, ca, c2)
		}
		wantStatus(t, h.do(req{path: "/api/hello", bearer: again.Access}), 200)

		// The child rotates on; now the grandparent comes back: theft.
		resp, r3 := refresh(r2.Refresh)
		if resp.StatusCode != 200 {
			t.Fatalf("second rotation: %d", resp.StatusCode)
		}
		var events []EventKind
		h.auth.Subscribe(AnyEvent, func(_ context.Context, e Event) { events = append(events, e.Kind) })
		wantError(t, h.do(req{path: "/auth/token/refresh", json: refreshBody(p.Refresh)}), 401, "token_revoked")
		if !slices.Contains(events, RefreshReuseDetected) || !slices.Contains(events, SessionRevoked) {
			t.Fatalf("events %v", events)
		}
		for _, tok := range []string{r3.Access, r2.Access, p.Access} {
			wantError(t, h.do(req{path: "/api/hello", bearer: tok}), 401, "token_revoked")
		}
		wantError(t, h.do(req{path: "/auth/token/refresh", json: refreshBody(r3.Refresh)}), 401, "token_revoked")
		// The user's other session is untouched.
		wantStatus(t, h.do(req{path: "/api/hello", bearer: other.Access}), 200)
		resp, _ = refresh(other.Refresh)
		if resp.StatusCode != 200 {
			t.Fatalf("other session refresh: %d", resp.StatusCode)
		}

		// Replaying the immediate parent after the grace window is theft too.
		q := h.login("alice")
		refresh(q.Refresh)
		h.clock.Advance(6 * time.Second)
		wantError(t, h.do(req{path: "/auth/token/refresh", json: refreshBody(q.Refresh)}), 401, "token_revoked")
	})
}

func TestRevokeRotatedAndRevokeOthersOnRefresh(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		h := newHarness(t, db, func(c *Config) { c.Registry.RevokeRotated = true })
		h.user("alice")
		p := h.login("alice")
		wantStatus(t, h.do(req{path: "/auth/token/refresh", json: refreshBody(p.Refresh)}), 200)
		row, err := h.auth.Registry().FindByJTI(context.Background(), mustClaims(t, h, p.Refresh).ID)
		if err != nil || row.RevokedAt == nil || row.RevokeReason != registry.ReasonRotated {
			t.Fatalf("rotated token row: %+v %v", row, err)
		}
		// Still a replay, not theft, within the window.
		wantStatus(t, h.do(req{path: "/auth/token/refresh", json: refreshBody(p.Refresh)}), 200)
		// The old access token lives on: only the refresh token was rotated.
		wantStatus(t, h.do(req{path: "/api/hello", bearer: p.Access}), 200)

		e := newHarness(t, db, func(c *Config) { c.Registry.RevokeOthersOnRefresh = true })
		e.user("erin")
		p = e.login("erin")
		w := e.do(req{path: "/auth/token/refresh", json: refreshBody(p.Refresh)})
		wantStatus(t, w, 200)
		var r pairBody
		decode(t, w, &r)
		wantError(t, e.do(req{path: "/api/hello", bearer: p.Access}), 401, "token_revoked")
		wantStatus(t, e.do(req{path: "/api/hello", bearer: r.Access}), 200)
		wantStatus(t, e.do(req{path: "/auth/token/refresh", json: refreshBody(p.Refresh)}), 200)
	})
}

func mustClaims(t *testing.T, h *harness, token string) *Claims {
	t.Helper()
	c, err := h.auth.parse(token)
	if c == nil {
		t.Fatal(err)
	}
	return c
}

// TestParallelRefreshesLeaveOneBranch: 20 refreshes of one token at once.
func TestParallelRefreshesLeaveOneBranch(t *testing.T) {
	for _, grace := range []time.Duration{0, -1} {
		name := map[time.Duration]string{0: "grace", -1: "no grace"}[grace]
		t.Run(name, func(t *testing.T) {
			testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
				h := newHarness(t, db, func(c *Config) { c.Tokens.ReuseGrace = grace })
				h.user("alice")
				p := h.login("alice")
				var wg sync.WaitGroup
				var mu sync.Mutex
				codes := map[int]int{}
				children := map[string]bool{}
				for range 20 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						w := h.do(req{path: "/auth/token/refresh", json: refreshBody(p.Refresh)})
						mu.Lock()
						defer mu.Unlock()
						codes[w.Code]++
						if w.Code == 200 {
							var r pairBody
							decode(t, w, &r)
							children[mustClaims(t, h, r.Refresh).ID] = true
						}
					}()
				}
				wg.Wait()
				sid := mustClaims(t, h, p.Refresh).SessionID
				var live []registry.Token
				h.db.Scopes(registry.InSession(sid), registry.Active(h.clock.Now())).Where("type = ?", "refresh").Find(&live)
				if grace == 0 {
					if codes[200] != 20 || len(children) != 1 {
						t.Fatalf("codes %v, %d distinct children; want 20 × 200 and one child", codes, len(children))
					}
					if len(live) != 2 { // the presented token and its one child
						t.Fatalf("%d live refresh tokens in the session, want 2", len(live))
					}
					return
				}
				if codes[200] != 1 || codes[401] != 19 {
					t.Fatalf("codes %v; want one 200 and 19 × 401", codes)
				}
				if len(live) != 0 {
					t.Fatalf("%d live refresh tokens after reuse, want 0", len(live))
				}
			})
		})
	}
}

// TestTwoInstancesSeeEachOthersRevocations runs two engines on one
// PostgreSQL database: a revoke on one is refused by the other without a
// resync, through LISTEN/NOTIFY. It reports the latency.
func TestTwoInstancesSeeEachOthersRevocations(t *testing.T) {
	db := testdb.Postgres(t)
	second, err := database.Open(testdb.PostgresSchemaDSN(t, db))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s, err := second.DB(); err == nil {
			s.Close()
		}
	})
	noResync := func(c *Config) { c.Registry.Resync = time.Hour; c.Clock = time.Now }
	a := newHarness(t, db, noResync)
	b := newHarness(t, second, noResync)
	a.user("alice")

	const n = 40
	var lat []time.Duration
	for i := range n {
		p := a.login("alice")
		wantStatus(t, b.do(req{path: "/api/hello", bearer: p.Access}), 200)
		start := time.Now()
		wantStatus(t, a.do(req{path: "/auth/token/logout", json: refreshBody(p.Refresh)}), 200)
		for b.do(req{path: "/api/hello", bearer: p.Access}).Code == 200 {
			if time.Since(start) > 5*time.Second {
				t.Fatalf("revocation %d not seen by the other instance after 5 s", i)
			}
			time.Sleep(200 * time.Microsecond)
		}
		lat = append(lat, time.Since(start))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	t.Logf("cross-instance revocation latency over %d revocations: p50 %v, p99 %v, max %v", n, lat[n/2], lat[n*99/100], lat[n-1])
}

func TestAsyncPipelineLosesNothing(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		h := newHarness(t, db, func(c *Config) {
			c.Registry.Async, c.Registry.QueueSize, c.Limits.Throttle.Disabled = true, 64, true
		})
		h.user("alice")
		const logins = 1000
		var wg sync.WaitGroup
		var failed atomic.Int32
		sem := make(chan struct{}, 8)
		for i := range logins {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				w := h.do(req{path: "/auth/token", json: map[string]string{"username": "alice", "password": "pw-alice"}, remote: fmt.Sprintf("10.0.%d.%d:1", i/250, i%250)})
				if w.Code != 200 {
					failed.Add(1)
				}
			}()
		}
		wg.Wait()
		if failed.Load() > 0 {
			t.Fatalf("%d logins failed", failed.Load())
		}
		if err := h.auth.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		var sessions, connected int64
		h.db.Model(&registry.Token{}).Where("parent_id IS NULL AND type = ?", "refresh").Count(&sessions)
		h.db.Model(&registry.TokenUserConnection{}).Count(&connected)
		if sessions != logins || connected != 2*logins {
			t.Fatalf("%d sessions and %d user connections registered, want %d and %d", sessions, connected, logins, 2*logins)
		}
	})
}

func TestCustomPipelineStepAndManualRun(t *testing.T) {
	t.Parallel()
	var seen []string
	var mu sync.Mutex
	h := newHarness(t, nil, func(c *Config) {
		c.Registry.Pipeline = func(defaults []pipeline.Step) []pipeline.Step {
			return append(defaults, func(_ context.Context, e *pipeline.Event) error {
				mu.Lock()
				defer mu.Unlock()
				seen = append(seen, string(e.Kind)+":"+e.UserAgent)
				return nil
			})
		}
	})
	h.user("alice")
	h.do(req{path: "/auth/token", json: map[string]string{"username": "alice", "password": "pw-alice"}, header: http.Header{"User-Agent": {"test-agent/1"}}})
	if len(seen) != 1 || seen[0] != "obtained:test-agent/1" {
		t.Fatalf("custom step saw %v", seen)
	}

	// Tokens the application made itself register by running the pipeline.
	c, _ := gin.CreateTestContext(nil)
	c.Request, _ = http.NewRequest("GET", "/", nil)
	u, _ := h.store.FindByUsername(context.Background(), "alice")
	pair, err := h.auth.issueSession(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	err = h.auth.Pipeline().Run(context.Background(), &pipeline.Event{Kind: "manual", Pairs: pair.pairs(nil), UserID: u.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.auth.Registry().FindByJTI(context.Background(), pair.RefreshClaims.ID); err != nil {
		t.Fatalf("manually run pipeline did not register: %v", err)
	}
}

func TestRegistryOptions(t *testing.T) {
	t.Parallel()
	if _, err := New(Config{SigningKey: testSecret, Users: users.NewStore(nil), Registry: RegistryConfig{RevokeRotated: true}}); err == nil {
		t.Fatal("Registry.RevokeRotated without a registry was accepted")
	}
	h := newHarness(t, nil, func(c *Config) { c.Registry.Disabled = true })
	h.user("alice")
	p := h.login("alice")
	wantStatus(t, h.do(req{path: "/auth/token/logout", json: refreshBody(p.Refresh)}), 200)
	// Stateless: the access token lives until it expires.
	wantStatus(t, h.do(req{path: "/api/hello", bearer: p.Access}), 200)
	wantStatus(t, h.do(req{path: "/auth/sessions", bearer: p.Access}), 404)
}

// TestExpiredSlidingTokenStaysRevoked: a force-expired sliding token cannot
// be renewed after its exp, while its refresh_exp still runs.
func TestExpiredSlidingTokenStaysRevoked(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, func(c *Config) {
		c.Tokens.Sliding = true
		c.Tokens.SlidingTTL = time.Minute
		c.Tokens.SlidingRefreshTTL = time.Hour
	})
	h.user("alice")
	w := h.do(req{path: "/auth/token", json: map[string]string{"username": "alice", "password": "pw-alice"}})
	var p pairBody
	decode(t, w, &p)
	other := h.login("alice").Token
	wantStatus(t, h.do(req{path: "/auth/token/expire", json: map[string]string{"token": p.Token}, bearer: other}), 200)
	h.clock.Advance(2 * time.Minute) // past exp, before refresh_exp
	wantError(t, h.do(req{path: "/auth/token/refresh", json: map[string]string{"token": p.Token}}), 401, "token_revoked")
}

// TestRevocationHoldsThroughLeeway: a token accepted until exp plus leeway
// stays revoked as long.
func TestRevocationHoldsThroughLeeway(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, func(c *Config) { c.Tokens.Leeway = 2 * time.Minute })
	h.user("alice")
	p, q := h.login("alice"), h.login("alice")
	wantStatus(t, h.do(req{path: "/auth/token/expire", json: map[string]string{"token": p.Access}, bearer: q.Access}), 200)
	h.clock.Advance(5*time.Minute + time.Minute) // past exp, within leeway
	wantError(t, h.do(req{path: "/api/hello", bearer: p.Access}), 401, "token_revoked")
}

// TestUpdateWithoutRotationRevokesTheOldToken: /token/update replaces the
// refresh token; the replaced one stops working at /token/refresh too.
func TestUpdateWithoutRotationRevokesTheOldToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, func(c *Config) { c.Tokens.AllowRefreshUpdate, c.Tokens.DisableRefreshRotation = true, true })
	h.user("alice")
	p := h.login("alice")
	w := h.do(req{path: "/auth/token/update", json: refreshBody(p.Refresh)})
	wantStatus(t, w, 200)
	var r pairBody
	decode(t, w, &r)
	wantError(t, h.do(req{path: "/auth/token/refresh", json: refreshBody(p.Refresh)}), 401, "token_revoked")
	wantStatus(t, h.do(req{path: "/auth/token/refresh", json: refreshBody(r.Refresh)}), 200)
}
