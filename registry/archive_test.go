package registry_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/pipeline"
	"github.com/ginjwt/ginjwt/registry"
)

// insertExpired writes n tokens of session "old" that expired an hour
// before now, each connected to user u1: "old-0", a refresh token, and
// "old-1" … as its access tokens. One statement each, generated in the
// database (the pure-Go SQLite driver is slow to bind rows under -race).
func insertExpired(t *testing.T, db *gorm.DB, n int, now time.Time) {
	t.Helper()
	const base = 1_000_000
	err := db.Exec(`INSERT INTO ginjwt_tokens (id, jti, type, parent_id, session_id, issued_at, expires_at, revoke_reason, created_at)
WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < ?)
SELECT ? + i, 'old-' || i, CASE WHEN i = 0 THEN 'refresh' ELSE 'access' END,
	CASE WHEN i = 0 THEN NULL ELSE CAST(? AS BIGINT) END, 'old', ?, ?, '', ?
FROM seq`, n-1, base, base, now.Add(-2*time.Hour), now.Add(-time.Hour), now).Error
	if err != nil {
		t.Fatal(err)
	}
	err = db.Exec(`INSERT INTO ginjwt_token_users (token_id, user_id, created_at)
SELECT id, 'u1', ? FROM ginjwt_tokens WHERE session_id = 'old'`, now).Error
	if err != nil {
		t.Fatal(err)
	}
	if got := count(t, db, &registry.Token{}, "session_id = ?", "old"); got != int64(n) {
		t.Fatalf("inserted %d tokens, want %d", got, n)
	}
}

func TestArchive(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		clk := newClock()
		reg := newRegistry(t, db, registry.Options{Clock: clk.Now, MaxLifetime: time.Hour})
		ctx := context.Background()
		now := clk.Now()
		const expired = 2500
		insertExpired(t, db, expired, now)
		// A rotated refresh token still alive whose parent expired.
		parent := token("old-0", "refresh", "old", now.Add(-2*time.Hour), time.Hour)
		record(t, reg, &pipeline.Event{UserID: "u1", Pairs: []pipeline.Pair{
			{Child: token("live-child", "refresh", "old", now.Add(-time.Minute), refreshTTL), Parent: &parent}}})
		record(t, reg, login("live", "u1", now))
		// Log entries: one that still matters, one past its Until.
		if err := reg.RevokeSession(ctx, "current", registry.ReasonLogout); err != nil {
			t.Fatal(err)
		}
		past := newClock()
		past.Advance(-2 * time.Hour)
		old := newRegistry(t, db, registry.Options{Clock: past.Now, MaxLifetime: time.Hour})
		if err := old.RevokeSession(ctx, "stale", registry.ReasonLogout); err != nil {
			t.Fatal(err)
		}

		var mu sync.Mutex
		var batches []int
		reg.OnArchive(func(tx *gorm.DB, ids []int64) error {
			mu.Lock()
			defer mu.Unlock()
			batches = append(batches, len(ids))
			// The hook runs first, in the archiver's transaction.
			var conns int64
			if err := tx.Model(&registry.TokenUserConnection{}).Where("token_id IN ?", ids).Count(&conns).Error; err != nil {
				return err
			}
			if conns != int64(len(ids)) {
				t.Errorf("the hook saw %d connections of %d tokens", conns, len(ids))
			}
			return nil
		})

		n, err := reg.Archive(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		if n != expired {
			t.Fatalf("Archive = %d, want %d", n, expired)
		}
		if want := []int{registry.ArchiveBatch, registry.ArchiveBatch, expired - 2*registry.ArchiveBatch}; !slices.Equal(batches, want) {
			t.Fatalf("hook batches %v, want %v", batches, want)
		}
		var left []string
		if err := db.Model(&registry.Token{}).Order("jti").Pluck("jti", &left).Error; err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(left, []string{"live", "live-a", "live-child"}) {
			t.Fatalf("tokens left: %v", left)
		}
		if c := mustJTI(t, reg, "live-child"); c.ParentID != nil || c.SessionID != "old" || c.RevokedAt != nil {
			t.Fatalf("live child of an archived token: %+v", c)
		}
		if got := count(t, db, &registry.TokenUserConnection{}, ""); got != 3 {
			t.Fatalf("%d user connections left, want 3", got)
		}
		var subjects []string
		for _, r := range revocations(t, db) {
			subjects = append(subjects, r.Subject)
		}
		if !slices.Equal(subjects, []string{"current"}) {
			t.Fatalf("log entries left: %v", subjects)
		}

		// Nothing left to do.
		batches = nil
		if n, err := reg.Archive(ctx, now); err != nil || n != 0 || len(batches) != 0 {
			t.Fatalf("second Archive = %d, %v, batches %v", n, err, batches)
		}
	})
}

func TestArchiveStopsWhenCancelled(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		clk := newClock()
		reg := newRegistry(t, db, registry.Options{Clock: clk.Now})
		now := clk.Now()
		const expired = 2500
		insertExpired(t, db, expired, now)

		cancelled, cancel := context.WithCancel(context.Background())
		cancel()
		if n, err := reg.Archive(cancelled, now); !errors.Is(err, context.Canceled) || n != 0 {
			t.Fatalf("Archive(cancelled) = %d, %v", n, err)
		}
		if got := count(t, db, &registry.Token{}, ""); got != expired {
			t.Fatalf("%d tokens left after a cancelled Archive", got)
		}

		// Cancelled while it works: during the second batch.
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		calls := 0
		reg.OnArchive(func(tx *gorm.DB, ids []int64) error {
			calls++
			if calls == 2 {
				cancel()
				return tx.Statement.Context.Err()
			}
			return nil
		})
		n, err := reg.Archive(ctx, now)
		if !errors.Is(err, context.Canceled) || n != registry.ArchiveBatch {
			t.Fatalf("Archive = %d, %v; want %d and context.Canceled", n, err, registry.ArchiveBatch)
		}
		if got := count(t, db, &registry.Token{}, ""); got != expired-registry.ArchiveBatch {
			t.Fatalf("%d tokens left, want %d (the second batch rolled back)", got, expired-registry.ArchiveBatch)
		}
		if got := count(t, db, &registry.TokenUserConnection{}, ""); got != expired-registry.ArchiveBatch {
			t.Fatalf("%d connections left, want %d", got, expired-registry.ArchiveBatch)
		}
	})
}

func TestArchiveWithProgress(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		clk := newClock()
		reg := newRegistry(t, db, registry.Options{Clock: clk.Now, MaxLifetime: time.Hour})
		ctx := context.Background()
		now := clk.Now()
		insertExpired(t, db, 2500, now)
		record(t, reg, login("live", "u1", now))
		if err := db.Create(&registry.Revocation{Kind: registry.KindToken, Subject: "gone", At: now.Add(-48 * time.Hour),
			Until: now.Add(-time.Hour), CreatedAt: now.Add(-48 * time.Hour)}).Error; err != nil {
			t.Fatal(err)
		}
		var reports []registry.ArchiveProgress
		n, err := reg.ArchiveWithProgress(ctx, now, func(p registry.ArchiveProgress) { reports = append(reports, p) })
		if err != nil || n != 2500 {
			t.Fatalf("ArchiveWithProgress = %d, %v; want 2500", n, err)
		}
		want := []registry.ArchiveProgress{
			{Expected: 2500, Tokens: 1000, Batches: 1},
			{Expected: 2500, Tokens: 2000, Batches: 2},
			{Expected: 2500, Tokens: 2500, Batches: 3},
			{Expected: 2500, Tokens: 2500, Batches: 3, RevocationLog: 1},
		}
		if !slices.Equal(reports, want) {
			t.Fatalf("reports %+v\nwant    %+v", reports, want)
		}
		if left := count(t, db, &registry.Token{}, ""); left != 2 {
			t.Fatalf("%d tokens left; want the 2 alive", left)
		}
		// Nothing to do: no report at all, and Archive (no reporter) agrees.
		reports = nil
		if n, err := reg.ArchiveWithProgress(ctx, now, func(p registry.ArchiveProgress) { reports = append(reports, p) }); n != 0 || err != nil || reports != nil {
			t.Fatalf("second run: %d, %v, %+v", n, err, reports)
		}
	})
}
