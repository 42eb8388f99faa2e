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

func TestStats(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		clk := newClock()
		reg := newRegistry(t, db, registry.Options{Clock: clk.Now})
		ctx := context.Background()

		empty, err := reg.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if empty != (registry.Stats{At: empty.At}) || !empty.At.Equal(clk.Now()) {
			t.Fatalf("Stats of an empty registry = %+v", empty)
		}

		now := clk.Now()
		record(t, reg, login("s1", "u1", now))                            // active: a refresh and its access token
		record(t, reg, login("s2", "u1", now))                            // revoked below
		record(t, reg, login("s3", "u2", now.Add(-refreshTTL-time.Hour))) // expired
		if err := reg.RevokeSession(ctx, "s2", registry.ReasonAdmin); err != nil {
			t.Fatal(err)
		}
		// A log entry past its Until, which the archiver would delete.
		if err := db.Create(&registry.Revocation{Kind: registry.KindToken, Subject: "gone", At: now.Add(-48 * time.Hour),
			Until: now.Add(-time.Hour), CreatedAt: now.Add(-48 * time.Hour)}).Error; err != nil {
			t.Fatal(err)
		}
		journal := reg.Journal()
		for range 2 {
			if _, err := journal.Save(ctx, &pipeline.Event{Kind: pipeline.Obtained, UserID: "u3", Time: clk.Now()}); err != nil {
				t.Fatal(err)
			}
			clk.Advance(time.Second)
		}

		s, err := reg.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := registry.Stats{At: clk.Now(), Tokens: 6, Active: 2, Expired: 2, Revoked: 2, Sessions: 1,
			Pending: 2, OldestPending: s.OldestPending, RevocationLog: 2, RevocationLogLive: 1}
		if s != want {
			t.Fatalf("Stats = %+v\nwant    %+v", s, want)
		}
		if s.OldestPending == nil || !s.OldestPending.Equal(now) {
			t.Fatalf("OldestPending = %v; want %v", s.OldestPending, now)
		}

		// An hour later s1's access token has expired; its session has not.
		clk.Advance(time.Hour)
		s, err = reg.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if s.Active != 1 || s.Expired != 3 || s.Revoked != 2 || s.Sessions != 1 {
			t.Fatalf("an hour later: %+v", s)
		}
	})
}
