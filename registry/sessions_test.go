package registry_test

import (
	"context"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/pipeline"
	"github.com/ginjwt/ginjwt/registry"
)

func TestSessions(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		reg := newRegistry(t, db, registry.Options{Clock: clk.Now})
		ctx := context.Background()
		t0 := clk.Now()

		// s1: logged in at t0, refreshed (no rotation) at t0+10m; both
		// access tokens have expired by t0+1h.
		record(t, reg, login("s1", "u1", t0))
		s1 := token("s1", "refresh", "s1", t0, refreshTTL)
		record(t, reg, &pipeline.Event{UserID: "u1", Pairs: []pipeline.Pair{
			{Child: token("s1-a2", "access", "s1", t0.Add(10*time.Minute), accessTTL), Parent: &s1}}})

		// s2: logged in at t0+20m, rotated at t0+30m: its first refresh
		// token is revoked as rotated.
		clk.Advance(20 * time.Minute)
		e := login("s2", "u1", clk.Now())
		record(t, reg, e)
		clk.Advance(10 * time.Minute)
		is := &issuer{clk: clk}
		if o, err := reg.Rotate(ctx, e.Pairs[0].Child, "u1", registry.RotatePolicy{Rotate: true, RevokeRotated: true}, is.issue); err != nil || o != registry.Rotated {
			t.Fatalf("Rotate = %v, %v", o, err)
		}

		// s3: revoked. s4: expired. s5: another user's. s6: revoked before
		// its tokens were recorded (a queued registration), so only the
		// view knows.
		clk.Advance(10 * time.Minute)
		record(t, reg, login("s3", "u1", clk.Now()))
		if err := reg.RevokeSession(ctx, "s3", registry.ReasonLogout); err != nil {
			t.Fatal(err)
		}
		record(t, reg, login("s4", "u1", t0.Add(-refreshTTL-time.Hour)))
		record(t, reg, login("s5", "u2", clk.Now()))
		if err := reg.RevokeSession(ctx, "s6", registry.ReasonLogout); err != nil {
			t.Fatal(err)
		}
		record(t, reg, login("s6", "u1", clk.Now()))

		clk.Advance(20 * time.Minute) // t0+1h
		got, err := reg.Sessions(ctx, "u1")
		if err != nil {
			t.Fatal(err)
		}
		want := []registry.Session{
			{ID: "s2", CreatedAt: t0.Add(20 * time.Minute), LastUsedAt: t0.Add(30 * time.Minute), ExpiresAt: t0.Add(30*time.Minute + refreshTTL)},
			{ID: "s1", CreatedAt: t0, LastUsedAt: t0.Add(10 * time.Minute), ExpiresAt: t0.Add(refreshTTL)},
		}
		if len(got) != len(want) {
			t.Fatalf("Sessions = %+v, want %+v", got, want)
		}
		for i := range want {
			g, w := got[i], want[i]
			if g.ID != w.ID || !g.CreatedAt.Equal(w.CreatedAt) || !g.LastUsedAt.Equal(w.LastUsedAt) || !g.ExpiresAt.Equal(w.ExpiresAt) {
				t.Errorf("session %d = %+v\n want %+v", i, g, w)
			}
		}

		if got, err := reg.Sessions(ctx, "u2"); err != nil || len(got) != 1 || got[0].ID != "s5" {
			t.Fatalf("Sessions(u2) = %+v, %v", got, err)
		}
		if got, err := reg.Sessions(ctx, "nobody"); err != nil || len(got) != 0 {
			t.Fatalf("Sessions(nobody) = %+v, %v", got, err)
		}

		for sid, user := range map[string]string{"s1": "u1", "s3": "u1", "s5": "u2"} {
			if owner, err := reg.SessionOwner(ctx, sid); err != nil || owner != user {
				t.Fatalf("SessionOwner(%s) = %q, %v", sid, owner, err)
			}
		}
		if _, err := reg.SessionOwner(ctx, "unknown"); !isNotFound(err) {
			t.Fatalf("SessionOwner(unknown) = %v", err)
		}
	})
}
