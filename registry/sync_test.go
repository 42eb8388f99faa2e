package registry_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/ginjwt/ginjwt/database"
	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/registry"
)

func TestNewValidates(t *testing.T) {
	t.Parallel()
	db := testdb.SQLite(t)
	for name, opts := range map[string]registry.Options{
		"no MaxLifetime":        {},
		"negative Resync":       {MaxLifetime: time.Hour, Resync: -time.Second},
		"negative ArchiveEvery": {MaxLifetime: time.Hour, ArchiveEvery: -time.Second},
		"negative ArchiveAfter": {MaxLifetime: time.Hour, ArchiveAfter: -time.Second},
	} {
		if _, err := registry.New(db, opts); err == nil {
			t.Errorf("%s: New accepted %+v", name, opts)
		}
	}
}

func TestStartNeedsTheTables(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		reg, err := registry.New(db, registry.Options{MaxLifetime: time.Hour, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		if err := reg.Start(context.Background()); err == nil {
			_ = reg.Close(context.Background())
			t.Fatal("Start succeeded without the revocation log table")
		}
	})
}

// TestSyncAcrossInstances: two registries on two connection pools of one
// database, as two instances of an application. B learns of A's
// revocations at its next Sync, not before.
func TestSyncAcrossInstances(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		a := newRegistry(t, db, registry.Options{Clock: clk.Now})
		b := newRegistry(t, secondPool(t, db), registry.Options{Clock: clk.Now})
		ctx := context.Background()
		now := clk.Now()
		record(t, a, login("s1", "u1", now))
		record(t, a, login("s2", "u1", now))
		record(t, a, login("s3", "u2", now.Add(-time.Minute)))

		if err := a.RevokeSession(ctx, "s1", registry.ReasonLogout); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Expire(ctx, idOf(t, a, "s2-a")); err != nil {
			t.Fatal(err)
		}
		if err := a.CutOffUser(ctx, "u2"); err != nil {
			t.Fatal(err)
		}
		type check struct{ jti, sid, user string }
		checks := []check{{"s1-a", "s1", "u1"}, {"s2-a", "s2", "u1"}, {"s3", "s3", "u2"}}
		for _, c := range checks {
			if !a.Revoked(tok(c.jti, c.sid, c.user, now.Add(-time.Minute))) {
				t.Fatalf("A does not see its own revocation of %s", c.jti)
			}
			if b.Revoked(tok(c.jti, c.sid, c.user, now.Add(-time.Minute))) {
				t.Fatalf("B saw %s revoked before it synced", c.jti)
			}
		}
		if err := b.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		for _, c := range checks {
			if !b.Revoked(tok(c.jti, c.sid, c.user, now.Add(-time.Minute))) {
				t.Fatalf("B does not see %s revoked after Sync", c.jti)
			}
		}
		if b.Revoked(tok("s2", "s2", "u1", now)) {
			t.Fatal("B sees a token revoked that was not")
		}
		// Sync again: nothing new, nothing lost.
		if err := b.Sync(ctx); err != nil || !b.SessionRevoked("s1") {
			t.Fatalf("second Sync: %v", err)
		}
	})
}

// TestListenNotify: on PostgreSQL, a started instance learns of another's
// revocation through LISTEN/NOTIFY, long before its hour-long resync.
func TestListenNotify(t *testing.T) {
	t.Parallel()
	db := testdb.Postgres(t)
	ctx := context.Background()
	opts := registry.Options{Resync: time.Hour}
	a := newRegistry(t, db, opts)
	b := newRegistry(t, secondPool(t, db), opts)
	for _, r := range []*registry.Registry{a, b} {
		if err := r.Start(ctx); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	// The first revocation may reach B through the read it does once its
	// LISTEN is up; once B has it, B is listening, and only a notification
	// can bring the second one.
	if err := a.RevokeSession(ctx, "first", registry.ReasonLogout); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "B sees the first revocation", func() bool { return b.SessionRevoked("first") })

	for _, sid := range []string{"second", "third", "fourth"} {
		start := time.Now()
		if err := a.RevokeSession(ctx, sid, registry.ReasonLogout); err != nil {
			t.Fatal(err)
		}
		commit := time.Since(start)
		wait := eventually(t, 5*time.Second, "B sees "+sid, func() bool { return b.Revoked(tok("x", sid, "u", now)) })
		t.Logf("LISTEN/NOTIFY: %s revoked on A (commit %v), seen by B %v after the commit", sid, commit, wait)
	}
	for _, r := range []*registry.Registry{a, b} {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if err := r.Close(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
	}
}

// TestStartLoadsTheLog: a registry started after revocations were written
// knows them without Sync; entries whose Until has passed are not loaded.
func TestStartLoadsTheLog(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		a := newRegistry(t, db, registry.Options{})
		now := time.Now()
		record(t, a, login("s1", "u1", now))
		if err := a.RevokeSession(ctx, "s1", registry.ReasonLogout); err != nil {
			t.Fatal(err)
		}
		record(t, a, login("s2", "u1", now))
		if _, err := a.Expire(ctx, idOf(t, a, "s2-a")); err != nil {
			t.Fatal(err)
		}
		if err := a.CutOffUser(ctx, "u2"); err != nil {
			t.Fatal(err)
		}
		// Written three hours ago by an instance whose tokens live one hour:
		// the entry no longer matters.
		past := newClock()
		past.Advance(-3 * time.Hour)
		old := newRegistry(t, db, registry.Options{Clock: past.Now, MaxLifetime: time.Hour})
		if err := old.RevokeSession(ctx, "stale", registry.ReasonLogout); err != nil {
			t.Fatal(err)
		}
		if err := old.CutOffUser(ctx, "u3"); err != nil {
			t.Fatal(err)
		}

		c := newRegistry(t, secondPool(t, db), registry.Options{Resync: time.Hour})
		if err := c.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if err := c.Start(ctx); err != nil { // twice: nothing more
			t.Fatal(err)
		}
		if !c.SessionRevoked("s1") || !c.Revoked(tok("s2-a", "s2", "u1", now)) || !c.Revoked(tok("x", "y", "u2", now.Add(-time.Second))) {
			t.Fatal("Start did not load the live log")
		}
		if c.Revoked(tok("s2", "s2", "u1", now)) {
			t.Fatal("Start loaded a revocation that was not")
		}
		if c.SessionRevoked("stale") || c.Revoked(tok("x", "y", "u3", past.Now().Add(-time.Hour))) {
			t.Fatal("Start loaded entries past their Until")
		}
	})
}

// TestResyncLoop: a started registry picks up another instance's
// revocations on its own, within its Resync period.
func TestResyncLoop(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		a := newRegistry(t, db, registry.Options{})
		b := newRegistry(t, secondPool(t, db), registry.Options{Resync: 50 * time.Millisecond})
		if err := b.Start(ctx); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		for _, sid := range []string{"s1", "s2"} {
			if err := a.RevokeSession(ctx, sid, registry.ReasonLogout); err != nil {
				t.Fatal(err)
			}
			took := eventually(t, 5*time.Second, "B sees "+sid+" revoked", func() bool { return b.Revoked(tok("x", sid, "u1", now)) })
			t.Logf("%s seen after %v", sid, took)
		}
	})
}

func TestClose(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		reg := newRegistry(t, db, registry.Options{Resync: time.Hour, ArchiveEvery: time.Hour})
		// Never started: nothing to stop.
		if err := reg.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := reg.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		start := time.Now()
		if err := reg.Close(ctx); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := reg.Close(ctx); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		t.Logf("Close took %v", time.Since(start))
		// It can start again, and still works.
		if err := reg.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := reg.RevokeSession(context.Background(), "s1", registry.ReasonLogout); err != nil || !reg.SessionRevoked("s1") {
			t.Fatalf("after restart: %v", err)
		}
	})
}

func TestArchiveLoop(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		reg := newRegistry(t, db, registry.Options{ArchiveEvery: 20 * time.Millisecond, ArchiveAfter: time.Millisecond})
		now := time.Now()
		record(t, reg, login("old", "u1", now.Add(-2*refreshTTL)))
		record(t, reg, login("new", "u1", now))
		if err := reg.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		eventually(t, 5*time.Second, "the archiver deletes expired tokens", func() bool {
			_, err := reg.FindByJTI(context.Background(), "old")
			return isNotFound(err)
		})
		if _, err := reg.FindByJTI(context.Background(), "old-a"); !isNotFound(err) {
			t.Fatalf("old-a: %v", err)
		}
		for _, jti := range []string{"new", "new-a"} {
			mustJTI(t, reg, jti)
		}
	})
}

// TestListenReconnects: when its connection dies, the listener takes a new
// one and notifications flow again.
func TestListenReconnects(t *testing.T) {
	t.Parallel()
	db := testdb.Postgres(t)
	ctx := context.Background()
	app := fmt.Sprintf("ginjwt_listen_%d", time.Now().UnixNano())
	dsn := testdb.PostgresSchemaDSN(t, db)
	if strings.Contains(dsn, "://") {
		dsn += "&application_name=" + app
	} else {
		dsn += " application_name=" + app
	}
	other, err := database.Open(dsn, database.WithLogger(logger.Discard))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if sqlDB, err := other.DB(); err == nil {
			_ = sqlDB.Close()
		}
	})
	opts := registry.Options{Resync: time.Hour}
	a := newRegistry(t, db, opts)
	b := newRegistry(t, other, opts)
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	listening := func() []int64 {
		var pids []int64
		err := db.Raw(`SELECT pid FROM pg_stat_activity WHERE application_name = ? AND query LIKE 'LISTEN %'`, app).Scan(&pids).Error
		if err != nil {
			t.Fatal(err)
		}
		return pids
	}
	var killed []int64
	eventually(t, 5*time.Second, "B listens", func() bool { killed = listening(); return len(killed) == 1 })
	if err := db.Exec("SELECT pg_terminate_backend(?)", killed[0]).Error; err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "B listens again", func() bool {
		pids := listening()
		return len(pids) == 1 && pids[0] != killed[0]
	})
	now := time.Now()
	for _, sid := range []string{"after-1", "after-2"} {
		if err := a.RevokeSession(ctx, sid, registry.ReasonLogout); err != nil {
			t.Fatal(err)
		}
		took := eventually(t, 5*time.Second, "B sees "+sid, func() bool { return b.Revoked(tok("x", sid, "u", now)) })
		t.Logf("after reconnecting: %s seen after %v", sid, took)
	}
}

// TestSyncReadsLateCommits: a log row whose ID is below the last one read
// (its transaction took the ID first and committed later) is still read.
func TestSyncReadsLateCommits(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		reg := newRegistry(t, db, registry.Options{})
		now := time.Now().UTC()
		row := func(id int64, sid string) registry.Revocation {
			return registry.Revocation{ID: id, Kind: registry.KindSession, Subject: sid, At: now, Until: now.Add(time.Hour), CreatedAt: now}
		}
		for _, r := range []registry.Revocation{row(1, "s1"), row(2, "s2"), row(5, "s5")} {
			if err := db.Create(&r).Error; err != nil {
				t.Fatal(err)
			}
		}
		if err := reg.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if !reg.SessionRevoked("s5") || reg.SessionRevoked("s3") {
			t.Fatal("first Sync")
		}
		late := row(3, "s3")
		if err := db.Create(&late).Error; err != nil {
			t.Fatal(err)
		}
		if err := reg.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if !reg.SessionRevoked("s3") {
			t.Fatal("a late commit below the last ID read was missed")
		}
	})
}

// TestSyncReadsConcurrentTransactions: on PostgreSQL, IDs come from a
// sequence when rows are written, not when they commit. A cut-off written in
// a transaction still open while a later revocation commits reaches another
// instance once it commits.
func TestSyncReadsConcurrentTransactions(t *testing.T) {
	t.Parallel()
	db := testdb.Postgres(t)
	ctx := context.Background()
	a := newRegistry(t, db, registry.Options{})
	b := newRegistry(t, secondPool(t, db), registry.Options{})
	now := time.Now()

	tx := db.Begin()
	afterCommit, err := a.CutOffInTx(ctx, tx, "u1", now)
	if err != nil {
		tx.Rollback()
		t.Fatal(err)
	}
	if err := a.RevokeSession(ctx, "s2", registry.ReasonLogout); err != nil { // a higher ID, committed first
		tx.Rollback()
		t.Fatal(err)
	}
	if err := b.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if !b.SessionRevoked("s2") || b.Revoked(tok("x", "y", "u1", now.Add(-time.Second))) {
		t.Fatal("B before the first transaction committed")
	}
	if err := tx.Commit().Error; err != nil {
		t.Fatal(err)
	}
	afterCommit()
	if err := b.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if !b.Revoked(tok("x", "y", "u1", now.Add(-time.Second))) {
		t.Fatal("B missed a revocation that committed after a later one")
	}
}
