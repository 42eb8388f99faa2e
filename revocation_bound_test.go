package ginjwt

import (
	"fmt"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/testdb"
)

// TestRevocationBoundOverHTTP: with Registry.MaxRevocations at 10, 30
// sessions of which 24 log out. Every logged-out access token is refused,
// every live one accepted (its revocation is asked of the database, since
// memory forgot revocations that could apply); while the database is down
// those live, older tokens are refused 503 unavailable — not accepted — and
// a session issued after the forgotten revocations keeps working from
// memory.
func TestRevocationBoundOverHTTP(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		o := injectOutage(t, db) // before the registry's loops start using db
		h := newHarness(t, db, func(c *Config) {
			c.Registry.MaxRevocations = 10
			c.Tokens.AccessTTL = time.Hour // (the clock moves on 6 minutes)
		})
		var revoked, live []pairBody
		for i := range 30 {
			name := fmt.Sprintf("user%02d", i)
			h.user(name)
			p := h.login(name)
			h.clock.Advance(time.Second)
			if i%5 == 4 {
				live = append(live, p)
				continue
			}
			if w := h.do(req{path: "/auth/token/logout", json: refreshBody(p.Refresh)}); w.Code != 200 {
				t.Fatalf("logout: %d %s", w.Code, w.Body)
			}
			revoked = append(revoked, p)
		}
		if n := h.auth.Registry().InMemory(); n > 10 {
			t.Fatalf("%d revocations in memory, bound 10", n)
		}
		if n, _ := h.auth.Registry().Forgotten(); n == 0 {
			t.Fatal("nothing forgotten past the bound")
		}
		for _, p := range revoked {
			wantError(t, h.do(req{path: "/api/hello", bearer: p.Access}), 401, "token_revoked")
		}
		for _, p := range live {
			if w := h.do(req{path: "/api/hello", bearer: p.Access}); w.Code != 200 {
				t.Fatalf("a live session's token: %d %s", w.Code, w.Body)
			}
		}
		h.clock.Advance(6 * time.Minute)
		h.user("late")
		late := h.login("late")
		o.set(true)
		for _, p := range live {
			wantError(t, h.do(req{path: "/api/hello", bearer: p.Access}), 503, "unavailable")
		}
		if w := h.do(req{path: "/api/hello", bearer: late.Access}); w.Code != 200 {
			t.Fatalf("a session issued after the forgotten revocations, database down: %d %s", w.Code, w.Body)
		}
		o.set(false)
		if w := h.do(req{path: "/api/hello", bearer: live[0].Access}); w.Code != 200 {
			t.Fatalf("after the outage: %d %s", w.Code, w.Body)
		}
	})
}
