package registry_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/registry"
)

// TestRevocationBound: 30 revocations into a registry bounded at 20. What
// memory forgot is never forgotten: every revoked token is still refused
// (from the log), every token it no longer vouches for is refused by
// memory alone (KindForgotten) and accepted by RevokedContext only when
// the log says so, a token issued after the forgotten revocations is
// answered from memory without the database, and a database that cannot
// answer fails the check (the caller refuses).
func TestRevocationBound(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		ctx := context.Background()
		clk := newClock()
		reg := newRegistry(t, db, registry.Options{MaxRevocations: 20, Clock: clk.Now})
		if err := reg.Start(ctx); err != nil {
			t.Fatal(err)
		}
		// The oldest revocation is a user's cut-off: the first to go.
		cutIssued := clk.Now()
		clk.Advance(time.Second)
		if err := reg.CutOffUser(ctx, "cut"); err != nil {
			t.Fatal(err)
		}
		var revoked, live []*tokenCase
		for i := range 40 {
			clk.Advance(time.Second)
			c := &tokenCase{sid: fmt.Sprintf("s%02d", i), iat: clk.Now()}
			if i%4 == 3 {
				live = append(live, c)
				continue
			}
			clk.Advance(time.Second)
			if err := reg.RevokeSession(ctx, c.sid, registry.ReasonLogout); err != nil {
				t.Fatal(err)
			}
			revoked = append(revoked, c)
		}
		if n := reg.InMemory(); n > 20 {
			t.Fatalf("%d revocations in memory, bound 20", n)
		}
		n, before := reg.Forgotten()
		if n < 11 || before.IsZero() {
			t.Fatalf("Forgotten() = %d, %v; want at least the 11 past the bound", n, before)
		}
		t.Logf("31 revocations, bound 20: %d in memory, %d forgotten, tokens issued before %v asked of the log", reg.InMemory(), n, before.Sub(clk.Now()))

		check := func(what string, tk *tokenCase, user string, want bool) {
			t.Helper()
			p := tok(tk.sid+"-a", tk.sid, user, tk.iat)
			kind, got, err := reg.RevokedContext(ctx, p)
			if err != nil || got != want {
				t.Fatalf("%s %s: RevokedContext = %q, %v, %v; want %v", what, tk.sid, kind, got, err, want)
			}
			if k, ok := reg.RevokedBy(p); !ok {
				t.Fatalf("%s %s: RevokedBy = %q, false: memory vouched for a token issued before forgotten revocations", what, tk.sid, k)
			}
		}
		for _, c := range revoked {
			check("revoked", c, "u", true)
		}
		for _, c := range live {
			check("live", c, "u", false)
		}
		check("cut off", &tokenCase{sid: "old", iat: cutIssued}, "cut", true)

		// A database that cannot answer: the check fails, never says "valid".
		gone, cancel := context.WithCancel(ctx)
		cancel()
		if _, _, err := reg.RevokedContext(gone, tok("x-a", live[0].sid, "u", live[0].iat)); err == nil {
			t.Fatal("RevokedContext answered without its database")
		}
		// Tokens issued after the forgotten revocations (and the clock
		// margin) are answered from memory: no database needed.
		clk.Advance(6 * time.Minute)
		fresh := tok("fresh-a", "fresh", "u", clk.Now())
		if kind, got, err := reg.RevokedContext(gone, fresh); err != nil || got {
			t.Fatalf("a token issued after the forgotten revocations: %q, %v, %v; want valid from memory", kind, got, err)
		}
		if err := reg.RevokeSession(ctx, "fresh", registry.ReasonLogout); err != nil {
			t.Fatal(err)
		}
		if kind, got, err := reg.RevokedContext(gone, fresh); err != nil || kind != registry.KindSession || !got {
			t.Fatalf("the same token revoked: %q, %v, %v; want session, from memory", kind, got, err)
		}
	})
}

type tokenCase struct {
	sid string
	iat time.Time
}
