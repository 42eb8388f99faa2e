package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/ginjwt/ginjwt/database"
	"github.com/ginjwt/ginjwt/internal/dbfault"
	"github.com/ginjwt/ginjwt/internal/testdb"
)

func openSQLite(t *testing.T, path string) (*gorm.DB, *sql.DB) {
	t.Helper()
	db, err := database.Open("sqlite:"+path, database.WithLogger(logger.Discard))
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sqlDB.Close() })
	return db, sqlDB
}

// write inserts one row, as a login's registration does: in a transaction.
func write(db *gorm.DB, v string) error {
	return db.Transaction(func(tx *gorm.DB) error {
		return tx.Exec("INSERT INTO rows (v) VALUES (?)", v).Error
	})
}

func count(t *testing.T, db *gorm.DB) int64 {
	t.Helper()
	var n int64
	if err := db.Raw("SELECT count(*) FROM rows").Scan(&n).Error; err != nil {
		t.Fatalf("count: %v", err)
	}
	return n
}

func wantUnavailable(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s succeeded during the fault", what)
	}
	if !dbfault.Unavailable(err) {
		t.Fatalf("%s: %v is not classified unavailable", what, err)
	}
	t.Logf("%s during the fault: %v", what, err)
}

// TestSQLiteRecoversFromReadOnlyFile: connections that SQLite opened
// read-only while the file could not be written (it falls back silently)
// must not outlive the fault in the pool. The first write after the fault
// is cleared succeeds, without a restart.
func TestSQLiteRecoversFromReadOnlyFile(t *testing.T) {
	t.Run("opened during the fault", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "app.db")
		// Another process (here: another pool) has the database open, so
		// its -wal and -shm files exist; without them, opening it during
		// the fault fails ("unable to open database file").
		other, _ := openSQLite(t, path)
		if err := other.Exec("CREATE TABLE rows (v TEXT)").Error; err != nil {
			t.Fatal(err)
		}

		fault := testdb.ReadOnly(t, dir)
		// A server (re)started while its file is read-only: every
		// connection of its pool is opened during the fault.
		db, _ := openSQLite(t, path)
		wantUnavailable(t, "a write", write(db, "during"))
		if n := count(t, db); n != 0 {
			t.Fatalf("%d rows during the fault; reads must keep working", n)
		}
		fault.Clear(t)
		if err := write(db, "after"); err != nil {
			t.Fatalf("the first write after the fault failed: %v", err)
		}
		if n := count(t, db); n != 1 {
			t.Fatalf("%d rows, want 1", n)
		}
	})

	t.Run("pool opened before the fault", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "app.db")
		db, sqlDB := openSQLite(t, path)
		if err := db.Exec("CREATE TABLE rows (v TEXT)").Error; err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		fault := testdb.ReadOnly(t, dir)
		// A burst during the fault: more requests at once than the pool
		// keeps idle, so the pool opens new connections, read-only ones.
		var conns []*sql.Conn
		for range 4 {
			c, err := sqlDB.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
		}
		failed := 0
		for _, c := range conns {
			if _, err := c.ExecContext(ctx, "INSERT INTO rows (v) VALUES ('burst')"); err != nil {
				wantUnavailable(t, "a write in the burst", err)
				failed++
			}
		}
		if failed == 0 {
			t.Fatal("no connection opened during the fault failed to write: the fault did not take")
		}
		// The burst ends: the connections go back to the pool, the
		// read-only ones last, so without the fix they stay.
		for i := len(conns) - 1; i >= 0; i-- {
			conns[i].Close()
		}
		fault.Clear(t)
		for i := range 4 {
			if err := write(db, "after"); err != nil {
				t.Fatalf("write %d after the fault failed: %v", i+1, err)
			}
		}
	})
}

// TestSQLiteRecoversFromFullDisk: a write that needs space fails while the
// file system is full, and the first one after space is freed succeeds.
func TestSQLiteRecoversFromFullDisk(t *testing.T) {
	dir := testdb.SmallDisk(t, 16<<20)
	db, _ := openSQLite(t, filepath.Join(dir, "app.db"))
	if err := db.Exec("CREATE TABLE rows (v TEXT)").Error; err != nil {
		t.Fatal(err)
	}
	fault := testdb.FillDisk(t, dir)
	// The WAL reuses the space it holds: a row larger than that needs more.
	big := strings.Repeat("x", 1<<20)
	wantUnavailable(t, "a 1 MB write", write(db, big))
	fault.Clear(t)
	if err := write(db, big); err != nil {
		t.Fatalf("the first write after the fault failed: %v", err)
	}
	if n := count(t, db); n != 1 {
		t.Fatalf("%d rows, want 1", n)
	}
}
