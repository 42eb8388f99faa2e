package registry_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/pipeline"
	"github.com/ginjwt/ginjwt/registry"
	"github.com/ginjwt/ginjwt/users"
)

// TestActor: revocations made with a context carrying an Actor record it
// in their log entries, in the revocation's transaction — whichever way
// they revoke — and the JSON form (the feed's) carries neither field.
func TestActor(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		reg := newRegistry(t, db, registry.Options{Clock: clk.Now})
		if err := reg.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := users.Migrate(context.Background(), db); err != nil {
			t.Fatal(err)
		}
		store := users.NewStore(db, users.WithHasher(users.NewHasher(users.Params{Memory: 64, Iterations: 1, Parallelism: 1}, 0)))
		u := users.NewUser("alice")
		if err := store.Create(context.Background(), u, "first-password"); err != nil {
			t.Fatal(err)
		}
		now := clk.Now()
		for _, sid := range []string{"s1", "s2", "s3"} {
			record(t, reg, login(sid, u.ID, now))
		}
		ctx := registry.WithActor(context.Background(), registry.Actor{UserID: "admin-1", IP: "203.0.113.9"})
		if a, ok := registry.ActorFrom(ctx); !ok || a.UserID != "admin-1" {
			t.Fatalf("ActorFrom = %+v, %v", a, ok)
		}
		if _, ok := registry.ActorFrom(context.Background()); ok {
			t.Fatal("an actor in an empty context")
		}
		if _, err := reg.Expire(ctx, idOf(t, reg, "s1-a")); err != nil {
			t.Fatal(err)
		}
		if err := reg.RevokeSession(ctx, "s2", registry.ReasonAdmin); err != nil {
			t.Fatal(err)
		}
		if err := reg.CutOffUser(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		// The users store's cut-off (the registry set it on the database).
		if err := store.SetPassword(registry.WithActor(context.Background(), registry.Actor{UserID: "admin-2", IP: strings.Repeat("9", 60)}), u.ID, "second-password"); err != nil {
			t.Fatal(err)
		}
		// Without an actor: nothing recorded.
		if err := reg.RevokeSession(context.Background(), "s3", registry.ReasonLogout); err != nil {
			t.Fatal(err)
		}
		rows := revocations(t, db)
		if len(rows) != 5 {
			t.Fatalf("%d log entries, want 5: %+v", len(rows), rows)
		}
		for i, r := range rows[:3] {
			if r.ActorID == nil || *r.ActorID != "admin-1" || r.ActorIP == nil || *r.ActorIP != "203.0.113.9" {
				t.Errorf("entry %d (%s %s): actor %v %v", i, r.Kind, r.Subject, r.ActorID, r.ActorIP)
			}
		}
		if r := rows[3]; r.Kind != registry.KindUser || r.ActorID == nil || *r.ActorID != "admin-2" || r.ActorIP == nil || len(*r.ActorIP) != 45 {
			t.Errorf("password change entry: %+v", r)
		}
		if r := rows[4]; r.ActorID != nil || r.ActorIP != nil {
			t.Errorf("entry without an actor records %v %v", r.ActorID, r.ActorIP)
		}
		// The feed's entries: the same JSON as before the columns existed.
		page, err := reg.Feed(context.Background(), 0, 100)
		if err != nil || len(page.Entries) != 5 {
			t.Fatalf("Feed = %+v, %v", page, err)
		}
		b, err := json.Marshal(page.Entries)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "actor") || strings.Contains(string(b), "203.0.113.9") {
			t.Fatalf("the feed carries the actor: %s", b)
		}
		// The trail, newest first, a page at a time, by subject.
		log, err := reg.RevocationLog(context.Background(), registry.LogQuery{Limit: 2})
		if err != nil || len(log) != 2 || log[0].ID != rows[4].ID || log[1].ID != rows[3].ID {
			t.Fatalf("RevocationLog = %+v, %v", log, err)
		}
		log, err = reg.RevocationLog(context.Background(), registry.LogQuery{Before: log[1].ID, Limit: 10})
		if err != nil || len(log) != 3 || log[0].ID != rows[2].ID {
			t.Fatalf("RevocationLog(before) = %+v, %v", log, err)
		}
		log, err = reg.RevocationLog(context.Background(), registry.LogQuery{Subject: "s2"})
		if err != nil || len(log) != 1 || log[0].Kind != registry.KindSession {
			t.Fatalf("RevocationLog(s2) = %+v, %v", log, err)
		}
	})
}

// TestSessionsPage: a user's active sessions a page at a time, newest
// first, as Sessions describes them.
func TestSessionsPage(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		reg := newRegistry(t, db, registry.Options{Clock: clk.Now})
		ctx := context.Background()
		for i := range 5 {
			record(t, reg, login(fmt.Sprintf("s%d", i), "u1", clk.Now()))
			clk.Advance(time.Minute)
		}
		record(t, reg, login("other", "u2", clk.Now()))
		record(t, reg, login("old", "u1", clk.Now().Add(-refreshTTL-time.Hour)))
		if err := reg.RevokeSession(ctx, "s2", registry.ReasonLogout); err != nil {
			t.Fatal(err)
		}
		page, total, err := reg.SessionsPage(ctx, "u1", 2, 0)
		if err != nil || total != 4 || len(page) != 2 || page[0].ID != "s4" || page[1].ID != "s3" {
			t.Fatalf("page 1 = %+v, %d, %v", page, total, err)
		}
		all, err := reg.Sessions(ctx, "u1")
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range all {
			if s.ID == "s4" && (!s.CreatedAt.Equal(page[0].CreatedAt) || !s.ExpiresAt.Equal(page[0].ExpiresAt) || !s.LastUsedAt.Equal(page[0].LastUsedAt)) {
				t.Fatalf("SessionsPage %+v, Sessions %+v", page[0], s)
			}
		}
		page, _, err = reg.SessionsPage(ctx, "u1", 2, 2)
		if err != nil || len(page) != 2 || page[0].ID != "s1" || page[1].ID != "s0" {
			t.Fatalf("page 2 = %+v, %v", page, err)
		}
		if page, total, err := reg.SessionsPage(ctx, "u1", 2, 4); err != nil || total != 4 || len(page) != 0 {
			t.Fatalf("page 3 = %+v, %d, %v", page, total, err)
		}
		if err := reg.CutOffUser(ctx, "u1"); err != nil {
			t.Fatal(err)
		}
		if page, total, err := reg.SessionsPage(ctx, "u1", 10, 0); err != nil || total != 0 || len(page) != 0 {
			t.Fatalf("after a cut-off = %+v, %d, %v", page, total, err)
		}
		if _, _, err := reg.SessionsPage(ctx, "u1", 0, 0); err == nil {
			t.Fatal("limit 0 accepted")
		}
	})
}

// TestSessionTokens: a session's tokens in tree order, a page at a time.
func TestSessionTokens(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		reg := newRegistry(t, db, registry.Options{Clock: clk.Now})
		ctx := context.Background()
		e := login("s", "u1", clk.Now())
		record(t, reg, e)
		// Two rotations, each with its access token; then another access
		// token from the first refresh token (a replay).
		is := &issuer{clk: clk}
		presented := e.Pairs[0].Child
		for range 2 {
			clk.Advance(time.Minute)
			if o, err := reg.Rotate(ctx, presented, "u1", registry.RotatePolicy{Rotate: true}, is.issue); err != nil || o != registry.Rotated {
				t.Fatalf("Rotate = %v, %v", o, err)
			}
			tk, err := reg.FindByJTI(ctx, fmt.Sprintf("s-r%d", is.n))
			if err != nil {
				t.Fatal(err)
			}
			presented = pipeline.Token{ID: tk.JTI, Type: "refresh", SessionID: "s", UserID: "u1", IssuedAt: tk.IssuedAt, ExpiresAt: tk.ExpiresAt}
		}
		root := e.Pairs[0].Child
		late := token("s-late", "access", "s", clk.Now(), accessTTL)
		record(t, reg, &pipeline.Event{UserID: "u1", Pairs: []pipeline.Pair{{Child: late, Parent: &root}}})
		record(t, reg, login("other", "u1", clk.Now()))

		want := []string{"s", "s-a", "s-late", "s-r1", "s-a1", "s-r2", "s-a2"}
		var got []string
		for offset := 0; ; offset += 3 {
			page, total, err := reg.SessionTokens(ctx, "s", 3, offset)
			if err != nil || total != int64(len(want)) {
				t.Fatalf("SessionTokens(%d) = %d, %v", offset, total, err)
			}
			if len(page) == 0 {
				break
			}
			for _, tk := range page {
				got = append(got, tk.JTI)
			}
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("tree order %v, want %v", got, want)
		}
		if page, total, err := reg.SessionTokens(ctx, "nope", 3, 0); err != nil || total != 0 || len(page) != 0 {
			t.Fatalf("unknown session = %+v, %d, %v", page, total, err)
		}
		if _, _, err := reg.SessionTokens(ctx, "s", 3, -1); err == nil {
			t.Fatal("negative offset accepted")
		}

		// Counts by state: 9 tokens; expire one session's access tokens.
		if _, err := reg.Expire(ctx, idOf(t, reg, "other-a")); err != nil {
			t.Fatal(err)
		}
		clk.Advance(accessTTL + time.Minute) // the access tokens of s expire
		c, err := reg.UserTokenCounts(ctx, "u1")
		if err != nil || c.Tokens != 9 || c.Revoked != 1 || c.Active+c.Expired+c.Revoked != 9 || c.Expired != 4 {
			t.Fatalf("UserTokenCounts = %+v, %v", c, err)
		}
		if c, err := reg.UserTokenCounts(ctx, "nobody"); err != nil || c != (registry.TokenCounts{}) {
			t.Fatalf("UserTokenCounts(nobody) = %+v, %v", c, err)
		}
	})
}
