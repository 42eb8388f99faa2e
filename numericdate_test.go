package ginjwt

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/registry"
)

// iatOf is the raw iat of a token's payload, as written.
func iatOf(t *testing.T, token string) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]json.RawMessage
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	return string(claims["iat"])
}

// TestPasswordChangeInTheSameSecond: iat is whole seconds, so a session
// begun before a password change and one begun after it, in the same
// second, carry the same iat. The cut-off does not compare iat: the first
// is refused (access and refresh), the second is not.
func TestPasswordChangeInTheSameSecond(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		h := newHarness(t, db, nil)
		u := h.user("alice")
		second := h.clock.Now()
		h.clock.Advance(100 * time.Millisecond)
		before := h.login("alice")
		h.clock.Advance(400 * time.Millisecond)
		if err := h.store.SetPassword(context.Background(), u.ID, "pw-alice-2"); err != nil {
			t.Fatal(err)
		}
		h.clock.Advance(400 * time.Millisecond)
		w := h.do(req{path: "/auth/token", json: map[string]string{"username": "alice", "password": "pw-alice-2"}})
		wantStatus(t, w, http.StatusOK)
		var after pairBody
		decode(t, w, &after)
		if !h.clock.Now().Truncate(time.Second).Equal(second) {
			t.Fatal("the test left its second")
		}
		want := "1800000000"
		for _, tok := range []string{before.Access, before.Refresh, after.Access, after.Refresh} {
			if got := iatOf(t, tok); got != want {
				t.Fatalf("iat %s, want %s for all four tokens", got, want)
			}
		}
		// The registry keeps the instants: the rows order the sessions.
		var rows []registry.Token
		if err := h.db.Order("issued_at").Find(&rows).Error; err != nil {
			t.Fatal(err)
		}
		if len(rows) != 4 || !rows[0].IssuedAt.Equal(second.Add(100*time.Millisecond)) || !rows[3].IssuedAt.Equal(second.Add(900*time.Millisecond)) {
			t.Fatalf("registry rows: %+v", rows)
		}

		wantError(t, h.do(req{path: "/api/hello", bearer: before.Access}), http.StatusUnauthorized, "token_revoked")
		wantError(t, h.do(req{path: "/auth/token/refresh", json: refreshBody(before.Refresh)}), http.StatusUnauthorized, "token_revoked")
		wantStatus(t, h.do(req{path: "/api/hello", bearer: after.Access}), http.StatusOK)
		wantStatus(t, h.do(req{path: "/auth/token/refresh", json: refreshBody(after.Refresh)}), http.StatusOK)
		// Another instance that reads the log from the database agrees.
		other := newHarness(t, db, nil)
		other.clock.Advance(900 * time.Millisecond)
		wantError(t, other.do(req{path: "/api/hello", bearer: before.Access}), http.StatusUnauthorized, "token_revoked")
		wantStatus(t, other.do(req{path: "/api/hello", bearer: after.Access}), http.StatusOK)
	})
}

// TestReuseGraceCountsFromTheInstant: the reuse grace window runs from the
// instant the child was issued (the registry's issued_at), not from its
// whole-second iat: a replay 4.9 s after a rotation at .9 of a second is
// within a 5 s grace, though 5.8 s after the child's iat.
func TestReuseGraceCountsFromTheInstant(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		h := newHarness(t, db, func(c *Config) { c.Tokens.ReuseGrace = 5 * time.Second })
		h.user("alice")
		p := h.login("alice")
		h.clock.Advance(900 * time.Millisecond)
		w := h.do(req{path: "/auth/token/refresh", json: refreshBody(p.Refresh)})
		wantStatus(t, w, http.StatusOK)
		var child pairBody
		decode(t, w, &child)
		h.clock.Advance(4900 * time.Millisecond)
		w = h.do(req{path: "/auth/token/refresh", json: refreshBody(p.Refresh)})
		wantStatus(t, w, http.StatusOK)
		var replay pairBody
		decode(t, w, &replay)
		if replay.Refresh != child.Refresh {
			t.Fatal("a replay within the grace window got another refresh token than the child")
		}
		h.clock.Advance(200 * time.Millisecond) // 5.1 s: reuse
		wantError(t, h.do(req{path: "/auth/token/refresh", json: refreshBody(p.Refresh)}), http.StatusUnauthorized, "token_revoked")
		wantError(t, h.do(req{path: "/api/hello", bearer: child.Access}), http.StatusUnauthorized, "token_revoked")
	})
}

// TestIssuedTimesAreWholeSeconds: every token ginjwt issues — login,
// refresh, rotation, a replay's re-signed child, sliding — writes iat, nbf,
// exp (and refresh_exp) as integers, rounded down, so exp is never later
// than configured; the claims returned say exactly what the token says.
func TestIssuedTimesAreWholeSeconds(t *testing.T) {
	t.Parallel()
	for _, sliding := range []bool{false, true} {
		clk := newClock()
		clk.Advance(1750 * time.Millisecond)
		a := newAuth(t, clk, func(c *Config) { c.Tokens.Sliding = sliding })
		issued := clk.Now()
		p := session(t, a)
		c := p.AccessClaims
		if !c.IssuedAt.Equal(issued.Truncate(time.Second)) || !c.NotBefore.Equal(c.IssuedAt) {
			t.Fatalf("iat %v nbf %v, issued %v", c.IssuedAt, c.NotBefore, issued)
		}
		if ttl := c.ExpiresAt.Sub(issued); ttl > 5*time.Minute || ttl <= 5*time.Minute-time.Second {
			t.Fatalf("exp is %v after issue, want within the last second of 5m", ttl)
		}
		if !c.issuedAt().Equal(issued) {
			t.Fatalf("the registry's issued_at %v, want %v", c.issuedAt(), issued)
		}
		tokens := []string{p.Access, p.Refresh}
		if sliding {
			tokens = tokens[:1]
			if c.RefreshExpiresAt.Nanosecond() != 0 {
				t.Fatalf("refresh_exp %v", c.RefreshExpiresAt)
			}
		}
		for _, tok := range tokens {
			wholeSeconds(t, tok, issued)
			parsed, err := a.ParseToken(tok)
			if err != nil {
				t.Fatal(err)
			}
			want := p.AccessClaims
			if tok == p.Refresh {
				want = p.RefreshClaims
			}
			if !parsed.IssuedAt.Equal(want.IssuedAt) || !parsed.ExpiresAt.Equal(want.ExpiresAt) || !parsed.NotBefore.Equal(want.NotBefore) ||
				!parsed.RefreshExpiresAt.Equal(want.RefreshExpiresAt) {
				t.Fatalf("parsed %+v, issued %+v", parsed, want)
			}
		}
	}
}
