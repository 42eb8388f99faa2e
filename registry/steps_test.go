package registry_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/pipeline"
	"github.com/ginjwt/ginjwt/registry"
)

func TestRegisterPairsLogin(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		reg := newRegistry(t, db, registry.Options{Clock: clk.Now})
		iat := clk.Now().Add(-time.Second)
		e := login("s1", "u1", iat)
		for range 2 { // the second run changes nothing
			record(t, reg, e)
		}
		if n := count(t, db, &registry.Token{}, ""); n != 2 {
			t.Fatalf("%d tokens, want 2", n)
		}
		root, access := mustJTI(t, reg, "s1"), mustJTI(t, reg, "s1-a")
		if root.ParentID != nil || root.Type != "refresh" || root.SessionID != "s1" {
			t.Fatalf("root %+v", root)
		}
		if access.ParentID == nil || *access.ParentID != root.ID || access.Type != "access" || access.SessionID != "s1" {
			t.Fatalf("access %+v", access)
		}
		if !root.IssuedAt.Equal(iat) || !root.ExpiresAt.Equal(iat.Add(refreshTTL)) || !access.ExpiresAt.Equal(iat.Add(accessTTL)) {
			t.Fatalf("times: root %v..%v, access ..%v", root.IssuedAt, root.ExpiresAt, access.ExpiresAt)
		}
		if !root.CreatedAt.Equal(clk.Now()) || root.RevokedAt != nil || root.RevokeReason != "" {
			t.Fatalf("root %+v", root)
		}
		if !root.Active(clk.Now()) || access.Active(iat.Add(accessTTL)) {
			t.Fatal("Active")
		}
		if n := count(t, db, &registry.TokenUserConnection{}, "user_id = ?", "u1"); n != 2 {
			t.Fatalf("%d user connections, want 2", n)
		}
		for _, id := range []int64{root.ID, access.ID} {
			if owner, err := reg.Owner(context.Background(), id); err != nil || owner != "u1" {
				t.Fatalf("Owner(%d) = %q, %v", id, owner, err)
			}
		}
	})
}

func TestRegisterPairsRecordsAnUnknownParent(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		reg := newRegistry(t, db, registry.Options{Clock: clk.Now})
		now := clk.Now()
		old := token("s1", "refresh", "s1", now.Add(-time.Hour), refreshTTL)
		rotated := token("s1-r2", "refresh", "s1", now, refreshTTL)
		access := token("s1-a2", "access", "s1", now, accessTTL)
		e := &pipeline.Event{Kind: pipeline.Refreshed, UserID: "u1", Pairs: []pipeline.Pair{
			{Child: rotated, Parent: &old}, {Child: access, Parent: &rotated},
		}}
		record(t, reg, e)
		record(t, reg, e)
		if n := count(t, db, &registry.Token{}, ""); n != 3 {
			t.Fatalf("%d tokens, want 3", n)
		}
		o, r, a := mustJTI(t, reg, "s1"), mustJTI(t, reg, "s1-r2"), mustJTI(t, reg, "s1-a2")
		if o.ParentID != nil || !o.IssuedAt.Equal(now.Add(-time.Hour)) {
			t.Fatalf("parent %+v", o)
		}
		if r.ParentID == nil || *r.ParentID != o.ID || a.ParentID == nil || *a.ParentID != r.ID {
			t.Fatalf("links: %v %v", r.ParentID, a.ParentID)
		}
		if n := count(t, db, &registry.TokenUserConnection{}, "user_id = ?", "u1"); n != 3 {
			t.Fatalf("%d user connections, want 3", n)
		}
	})
}

// TestRegisterPairsInAnyOrder: children listed before their parents still
// get their links, and a token recorded without its parent (by Record, as
// a refresh does for a token it does not know) gets the link later.
func TestRegisterPairsInAnyOrder(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		reg := newRegistry(t, db, registry.Options{Clock: clk.Now})
		now := clk.Now()
		root := token("s1", "refresh", "s1", now, refreshTTL)
		second := token("s1-r2", "refresh", "s1", now, refreshTTL)
		access := token("s1-a2", "access", "s1", now, accessTTL)
		record(t, reg, &pipeline.Event{Pairs: []pipeline.Pair{
			{Child: access, Parent: &second}, {Child: second, Parent: &root},
		}})
		ro, se, ac := mustJTI(t, reg, "s1"), mustJTI(t, reg, "s1-r2"), mustJTI(t, reg, "s1-a2")
		if se.ParentID == nil || *se.ParentID != ro.ID || ac.ParentID == nil || *ac.ParentID != se.ID {
			t.Fatalf("links from reversed pairs: %v %v", se.ParentID, ac.ParentID)
		}

		orphan := token("s2-r2", "refresh", "s2", now, refreshTTL)
		if _, err := reg.Record(context.Background(), orphan); err != nil {
			t.Fatal(err)
		}
		parent := token("s2", "refresh", "s2", now, refreshTTL)
		record(t, reg, &pipeline.Event{Pairs: []pipeline.Pair{{Child: parent}, {Child: orphan, Parent: &parent}}})
		if o := mustJTI(t, reg, "s2-r2"); o.ParentID == nil || *o.ParentID != idOf(t, reg, "s2") {
			t.Fatalf("a token recorded first without its parent was not linked later: %v", o.ParentID)
		}
		// Expire on the parent now reaches it.
		if n, err := reg.Expire(context.Background(), idOf(t, reg, "s2")); err != nil || n != 2 {
			t.Fatalf("Expire: %d %v", n, err)
		}
	})
}

func TestRegisterPairsKeepsRecordedTokens(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		reg := newRegistry(t, db, registry.Options{Clock: clk.Now})
		ctx := context.Background()
		record(t, reg, login("s1", "u1", clk.Now()))
		if _, err := reg.Expire(ctx, idOf(t, reg, "s1-a")); err != nil {
			t.Fatal(err)
		}
		before := mustJTI(t, reg, "s1-a")
		// The same token again, claiming another parent: left as it was.
		other := token("s2", "refresh", "s2", clk.Now(), refreshTTL)
		e := &pipeline.Event{Pairs: []pipeline.Pair{{Child: token("s1-a", "access", "s1", clk.Now(), time.Hour), Parent: &other}}}
		if err := reg.RegisterPairs(ctx, e); err != nil {
			t.Fatal(err)
		}
		after := mustJTI(t, reg, "s1-a")
		if *after.ParentID != *before.ParentID || after.RevokedAt == nil || !after.ExpiresAt.Equal(before.ExpiresAt) {
			t.Fatalf("a recorded token changed: %+v -> %+v", before, after)
		}
	})
}

func TestConnectUser(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		reg := newRegistry(t, db, registry.Options{Clock: clk.Now})
		ctx := context.Background()
		e := login("s1", "u1", clk.Now())
		if err := reg.RegisterPairs(ctx, e); err != nil {
			t.Fatal(err)
		}
		anonymous := *e
		anonymous.UserID = ""
		if err := reg.ConnectUser(ctx, &anonymous); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, &registry.TokenUserConnection{}, ""); n != 0 {
			t.Fatalf("an event without a user connected %d tokens", n)
		}
		for range 3 {
			if err := reg.ConnectUser(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		var conns []registry.TokenUserConnection
		if err := db.Find(&conns).Error; err != nil {
			t.Fatal(err)
		}
		if len(conns) != 2 {
			t.Fatalf("%d connections, want 2", len(conns))
		}
		want := map[int64]bool{idOf(t, reg, "s1"): true, idOf(t, reg, "s1-a"): true}
		for _, c := range conns {
			if !want[c.TokenID] || c.UserID != "u1" || !c.CreatedAt.Equal(clk.Now()) {
				t.Fatalf("connection %+v", c)
			}
		}
	})
}

// TestPipelineSteps runs the registry's steps through an asynchronous
// runner, as ginjwt wires them.
func TestPipelineSteps(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		reg := newRegistry(t, db, registry.Options{Clock: clk.Now})
		runner := pipeline.NewRunner([]pipeline.Step{reg.RegisterPairs, reg.ConnectUser},
			pipeline.Options{Async: true, Workers: 4, QueueSize: 4, Logger: quiet, Backoff: time.Millisecond,
				OnError: func(_ context.Context, _ *pipeline.Event, err error) { t.Errorf("registration failed: %v", err) }})
		const n = 50
		for i := range n {
			e := login(fmt.Sprint("s", i), "u1", clk.Now())
			if err := runner.Run(context.Background(), e); err != nil {
				t.Fatal(err)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := runner.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if got := count(t, db, &registry.Token{}, ""); got != 2*n {
			t.Fatalf("%d tokens, want %d", got, 2*n)
		}
		if got := count(t, db, &registry.TokenUserConnection{}, "user_id = ?", "u1"); got != 2*n {
			t.Fatalf("%d connections, want %d", got, 2*n)
		}
	})
}

func TestRecord(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		reg := newRegistry(t, db, registry.Options{Clock: clk.Now})
		ctx := context.Background()
		unknown := token("x1", "access", "sx", clk.Now().Add(-time.Minute), accessTTL)
		unknown.UserID = "u9"
		got, err := reg.Record(ctx, unknown)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID == 0 || got.JTI != "x1" || got.SessionID != "sx" || got.ParentID != nil || !got.IssuedAt.Equal(unknown.IssuedAt) {
			t.Fatalf("Record = %+v", got)
		}
		if owner, err := reg.Owner(ctx, got.ID); err != nil || owner != "u9" {
			t.Fatalf("Owner = %q, %v", owner, err)
		}

		record(t, reg, login("s1", "u1", clk.Now()))
		if _, err := reg.Expire(ctx, idOf(t, reg, "s1-a")); err != nil {
			t.Fatal(err)
		}
		want := mustJTI(t, reg, "s1-a")
		again := token("s1-a", "access", "other", clk.Now().Add(time.Hour), time.Hour)
		again.UserID = "u1"
		got, err = reg.Record(ctx, again)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != want.ID || got.SessionID != "s1" || got.ParentID == nil || *got.ParentID != *want.ParentID ||
			got.RevokedAt == nil || !got.IssuedAt.Equal(want.IssuedAt) {
			t.Fatalf("Record of a known token = %+v, want %+v", got, want)
		}
		if n := count(t, db, &registry.Token{}, ""); n != 3 {
			t.Fatalf("%d tokens, want 3", n)
		}
	})
}

func TestFind(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		reg := newRegistry(t, db, registry.Options{Clock: clk.Now})
		ctx := context.Background()
		record(t, reg, login("s1", "u1", clk.Now()))
		tk := mustJTI(t, reg, "s1")
		if got, err := reg.Find(ctx, tk.ID); err != nil || got.JTI != "s1" {
			t.Fatalf("Find = %+v, %v", got, err)
		}
		if _, err := reg.Find(ctx, tk.ID+1000); !isNotFound(err) {
			t.Fatalf("Find(unknown) = %v", err)
		}
		if _, err := reg.FindByJTI(ctx, "nope"); !isNotFound(err) {
			t.Fatalf("FindByJTI(unknown) = %v", err)
		}
		if _, err := reg.Owner(ctx, tk.ID+1000); !isNotFound(err) {
			t.Fatalf("Owner(unknown) = %v", err)
		}
	})
}

func TestScopes(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		reg := newRegistry(t, db, registry.Options{Clock: clk.Now})
		ctx := context.Background()
		now := clk.Now()
		record(t, reg, login("s1", "u1", now.Add(-time.Hour))) // access expired
		record(t, reg, login("s2", "u1", now))
		record(t, reg, login("s3", "u2", now))
		if _, err := reg.Expire(ctx, idOf(t, reg, "s2-a")); err != nil {
			t.Fatal(err)
		}
		jtis := func(scopes ...func(*gorm.DB) *gorm.DB) map[string]bool {
			var got []string
			if err := reg.Tokens(ctx).Scopes(scopes...).Order("jti").Pluck("jti", &got).Error; err != nil {
				t.Fatal(err)
			}
			m := map[string]bool{}
			for _, j := range got {
				m[j] = true
			}
			return m
		}
		check := func(name string, got map[string]bool, want ...string) {
			t.Helper()
			if len(got) != len(want) {
				t.Fatalf("%s: %v, want %v", name, got, want)
			}
			for _, w := range want {
				if !got[w] {
					t.Fatalf("%s: %v, want %v", name, got, want)
				}
			}
		}
		check("OfUser+Active", jtis(registry.OfUser("u1"), registry.Active(now)), "s1", "s2")
		check("OfUser+Expired", jtis(registry.OfUser("u1"), registry.Expired(now)), "s1-a", "s2-a")
		check("InSession", jtis(registry.InSession("s2")), "s2", "s2-a")
		check("OfUser u2", jtis(registry.OfUser("u2")), "s3", "s3-a")
	})
}
