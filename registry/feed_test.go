package registry_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/registry"
)

// TestFeedSnapshotCursor: a snapshot's cursor is one the next read can
// continue — never below the entries the archiver kept (which would be
// answered resync) — and a snapshot of several pages resumes low enough to
// read an entry that took its ID under the first page's last and committed
// after it.
func TestFeedSnapshotCursor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.SQLite(t)
	clk := newClock()
	reg := newRegistry(t, db, registry.Options{Clock: clk.Now})
	now := clk.Now()
	put := func(id int64, until time.Time) {
		t.Helper()
		r := registry.Revocation{ID: id, Kind: registry.KindSession, Subject: fmt.Sprint("s", id), At: now, Until: until}
		if err := db.Create(&r).Error; err != nil {
			t.Fatal(err)
		}
	}
	// (a) The entries below 500 were archived: the log holds 500..520.
	for id := int64(500); id <= 520; id++ {
		put(id, now.Add(time.Hour))
	}
	snap, err := reg.Feed(ctx, 0, 1000)
	if err != nil || snap.More || len(snap.Entries) != 21 {
		t.Fatalf("snapshot %+v, %v", snap, err)
	}
	if snap.Next != 499 {
		t.Fatalf("snapshot cursor %d, want 499 (lo-1)", snap.Next)
	}
	if next, err := reg.Feed(ctx, snap.Next, 1000); err != nil || next.Resync {
		t.Fatalf("the read after the snapshot: %+v, %v", next, err)
	}
	// (b) 600..800, the live ones at the end; a snapshot of two per page.
	for id := int64(600); id <= 800; id++ {
		if id == 750 {
			continue
		}
		until := now.Add(-time.Minute)
		if id > 795 {
			until = now.Add(time.Hour)
		}
		put(id, until)
	}
	page, err := reg.Feed(ctx, 0, 2)
	if err != nil || !page.More || len(page.Entries) != 2 {
		t.Fatalf("first snapshot page %+v, %v", page, err)
	}
	if page.Next > 700 {
		t.Fatalf("a multi-page snapshot resumes at %d, above the look-back (700)", page.Next)
	}
	put(750, now.Add(time.Hour)) // took its ID earlier, committed now
	seen := false
	for cursor := page.Next; ; {
		p, err := reg.Feed(ctx, cursor, 2)
		if err != nil || p.Resync {
			t.Fatalf("reading on: %+v, %v", p, err)
		}
		for _, e := range p.Entries {
			seen = seen || e.ID == 750
		}
		if !p.More {
			break
		}
		cursor = p.Next
	}
	if !seen {
		t.Fatal("the entry committed after the snapshot's first page was never read")
	}
}
