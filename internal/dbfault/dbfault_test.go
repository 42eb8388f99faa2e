package dbfault_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/ginjwt/ginjwt/database"
	"github.com/ginjwt/ginjwt/internal/dbfault"
	"github.com/ginjwt/ginjwt/internal/testdb"
)

// unavailable asserts that err, produced by a real fault, is classified
// unavailable, and logs it: the log of a run is the table of what each
// fault produces.
func unavailable(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error", what)
	}
	t.Logf("%s: %T: %v", what, err, err)
	if !dbfault.Unavailable(err) {
		t.Errorf("%s: %v is not classified unavailable", what, err)
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func sqlDB(t *testing.T, db *gorm.DB) *sql.DB {
	t.Helper()
	s, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestPostgresServerGone stops a private cluster under open connections,
// a transaction and new connection attempts, in both of PostgreSQL's modes
// of stopping a server, and starts it again.
func TestPostgresServerGone(t *testing.T) {
	for _, mode := range []string{"fast", "immediate"} {
		t.Run(mode, func(t *testing.T) {
			c := testdb.PrivatePostgres(t)
			db := c.DB(t)
			pool := sqlDB(t, db)
			if err := db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY)").Error; err != nil {
				t.Fatal(err)
			}
			warm(t, pool, 2) // as a server between requests has
			pinned, err := pool.Conn(ctx(t))
			if err != nil {
				t.Fatal(err)
			}
			defer pinned.Close()
			tx, err := pool.BeginTx(ctx(t), nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Exec("INSERT INTO t VALUES (1)"); err != nil {
				t.Fatal(err)
			}
			if mode == "fast" {
				c.Stop(t)
			} else {
				c.Kill(t)
			}

			_, err = pinned.ExecContext(ctx(t), "SELECT 1")
			unavailable(t, "a statement on a connection open before the stop", err)
			_, err = tx.Exec("INSERT INTO t VALUES (2)")
			unavailable(t, "a statement in a transaction open before the stop", err)
			unavailable(t, "the commit of that transaction", tx.Commit())
			unavailable(t, "a statement through the pool", db.Exec("INSERT INTO t VALUES (3)").Error)
			_, err = database.Open(c.DSN(), database.WithLogger(logger.Discard))
			unavailable(t, "opening a new pool", err)

			c.Start(t)
			// The pool holds connections the stop cut: each fails its
			// first use, unavailable, and leaves the pool.
			failed := 0
			for {
				err := db.Exec("INSERT INTO t VALUES (4)").Error
				if err == nil {
					break
				}
				unavailable(t, "a statement through the pool after the start", err)
				if failed++; failed > 10 {
					t.Fatal("the pool does not recover after the start")
				}
			}
			t.Logf("after the start, %d statement(s) failed before one succeeded", failed)

			// A restart between two statements: the pool's idle
			// connections are dead, and nothing has tried them yet.
			warm(t, pool, 2)
			if mode == "fast" {
				c.Stop(t)
			} else {
				c.Kill(t)
			}
			c.Start(t)
			failed = 0
			for {
				err := db.Exec("INSERT INTO t VALUES (5)").Error
				if err == nil {
					break
				}
				unavailable(t, "a statement through the pool after a restart it did not see", err)
				if failed++; failed > 10 {
					t.Fatal("the pool does not recover after the restart")
				}
			}
			t.Logf("after a restart the pool did not see, %d statement(s) failed before one succeeded", failed)
		})
	}
}

// warm leaves n idle connections in pool.
func warm(t *testing.T, pool *sql.DB, n int) {
	t.Helper()
	var conns []*sql.Conn
	for range n {
		conn, err := pool.Conn(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, conn)
	}
	for _, conn := range conns {
		conn.Close()
	}
}

// TestPostgresShuttingDown: while a smart shutdown waits for its clients,
// new connections are refused with 57P03.
func TestPostgresShuttingDown(t *testing.T) {
	c := testdb.PrivatePostgres(t)
	db := c.DB(t)
	pinned, err := sqlDB(t, db).Conn(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	c.BeginShutdown(t)
	var opened error
	for range 100 { // the postmaster takes the signal asynchronously
		var other *gorm.DB
		other, opened = database.Open(c.DSN(), database.WithLogger(logger.Discard))
		if opened != nil {
			break
		}
		s, _ := other.DB()
		s.Close()
		time.Sleep(10 * time.Millisecond)
	}
	unavailable(t, "a new connection during a smart shutdown", opened)
	if !strings.Contains(opened.Error(), "57P03") {
		t.Errorf("want SQLSTATE 57P03, got %v", opened)
	}
	if _, err := pinned.ExecContext(ctx(t), "SELECT 1"); err != nil {
		t.Errorf("a connection open before a smart shutdown must keep working: %v", err)
	}
	pinned.Close()
	c.Stop(t)
}

// TestPostgresLockNotGranted: a lock that waits past lock_timeout
// (55P03) and a statement past statement_timeout (57014) pass by
// themselves, like SQLite's busy database.
func TestPostgresLockNotGranted(t *testing.T) {
	db := testdb.Postgres(t)
	if err := db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)").Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec("INSERT INTO t VALUES (1, 0)").Error; err != nil {
		t.Fatal(err)
	}
	holder := db.Begin()
	defer holder.Rollback()
	if err := holder.Exec("UPDATE t SET v = 1 WHERE id = 1").Error; err != nil {
		t.Fatal(err)
	}
	err := db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("SET LOCAL lock_timeout = '50ms'").Error; err != nil {
			return err
		}
		return tx.Exec("UPDATE t SET v = 2 WHERE id = 1").Error
	})
	unavailable(t, "a row lock not granted within lock_timeout", err)
	err = db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("SET LOCAL statement_timeout = '50ms'").Error; err != nil {
			return err
		}
		return tx.Exec("SELECT pg_sleep(5)").Error
	})
	unavailable(t, "a statement past statement_timeout", err)
}

// TestSQLiteReadOnlyFile: a database file (and its directory) made
// read-only: writes fail with SQLITE_READONLY; with no -wal/-shm left,
// opening it fails with SQLITE_CANTOPEN.
func TestSQLiteReadOnlyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.db")
	setup, err := database.Open("sqlite:"+path, database.WithLogger(logger.Discard))
	if err != nil {
		t.Fatal(err)
	}
	if err := setup.Exec("CREATE TABLE t (v TEXT)").Error; err != nil {
		t.Fatal(err)
	}
	sqlDB(t, setup).Close() // removes the -wal and -shm files

	fault := testdb.ReadOnly(t, dir)
	_, err = database.Open("sqlite:"+path, database.WithLogger(logger.Discard))
	unavailable(t, "opening a read-only database in WAL mode without its -shm", err)
	fault.Clear(t)

	other, err := database.Open("sqlite:"+path, database.WithLogger(logger.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer sqlDB(t, other).Close()
	if err := other.Exec("SELECT count(*) FROM t").Error; err != nil { // creates -wal, -shm
		t.Fatal(err)
	}
	testdb.ReadOnly(t, dir)
	db, err := database.Open("sqlite:"+path, database.WithLogger(logger.Discard))
	if err != nil {
		t.Fatalf("opening a read-only database whose -shm exists: %v", err)
	}
	defer sqlDB(t, db).Close()
	unavailable(t, "an INSERT", db.Exec("INSERT INTO t VALUES ('x')").Error)
	unavailable(t, "an INSERT in a transaction", db.Transaction(func(tx *gorm.DB) error {
		return tx.Exec("INSERT INTO t VALUES ('x')").Error
	}))
}

// TestSQLiteFullDisk: a write that needs space on a full file system
// fails with SQLITE_FULL.
func TestSQLiteFullDisk(t *testing.T) {
	dir := testdb.SmallDisk(t, 8<<20)
	db, err := database.Open("sqlite:"+filepath.Join(dir, "app.db"), database.WithLogger(logger.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer sqlDB(t, db).Close()
	if err := db.Exec("CREATE TABLE t (v TEXT)").Error; err != nil {
		t.Fatal(err)
	}
	testdb.FillDisk(t, dir)
	big := strings.Repeat("x", 1<<20)
	unavailable(t, "a 1 MB INSERT", db.Exec("INSERT INTO t VALUES (?)", big).Error)
	unavailable(t, "a 1 MB INSERT in a transaction", db.Transaction(func(tx *gorm.DB) error {
		return tx.Exec("INSERT INTO t VALUES (?)", big).Error
	}))
}

// TestSQLiteLocked: another connection holds the write lock longer than
// the busy timeout, or than the caller's deadline.
func TestSQLiteLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	open := func(query string) *gorm.DB {
		db, err := database.Open("sqlite:"+path+query, database.WithLogger(logger.Discard))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sqlDB(t, db).Close() })
		return db
	}
	holder := open("")
	if err := holder.Exec("CREATE TABLE t (v TEXT)").Error; err != nil {
		t.Fatal(err)
	}
	tx := holder.Begin() // BEGIN IMMEDIATE: takes the write lock
	if tx.Error != nil {
		t.Fatal(tx.Error)
	}
	defer tx.Rollback()

	impatient := open("?_pragma=busy_timeout(50)")
	unavailable(t, "an INSERT past busy_timeout", impatient.Exec("INSERT INTO t VALUES ('x')").Error)
	unavailable(t, "a BEGIN IMMEDIATE past busy_timeout", impatient.Transaction(func(tx *gorm.DB) error { return nil }))

	// The deadline does not cut SQLite's wait for the lock short: the
	// driver interrupts statements, not the busy handler's sleep.
	patient := open("?_pragma=busy_timeout(300)")
	c, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := patient.WithContext(c).Exec("INSERT INTO t VALUES ('x')").Error
	unavailable(t, "an INSERT past the caller's deadline while busy", err)
}

// TestStatementErrorsAreNotUnavailable: a database that answered about the
// statement is up; retrying the same statement would fail the same way.
func TestStatementErrorsAreNotUnavailable(t *testing.T) {
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		if err := db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)").Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Exec("INSERT INTO t (id, name) VALUES (1, 'a')").Error; err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct{ what, sql string }{
			{"unique violation", "INSERT INTO t (id, name) VALUES (2, 'a')"},
			{"primary key violation", "INSERT INTO t (id, name) VALUES (1, 'b')"},
			{"not-null violation", "INSERT INTO t (id, name) VALUES (3, NULL)"},
			{"syntax error", "INSERT INTO t VALUES ("},
			{"missing table", "SELECT * FROM missing"},
			{"missing column", "SELECT missing FROM t"},
		} {
			err := db.Exec(tc.sql).Error
			if err == nil {
				t.Fatalf("%s: no error", tc.what)
			}
			t.Logf("%s: %v", tc.what, err)
			if dbfault.Unavailable(err) {
				t.Errorf("%s: %v is classified unavailable", tc.what, err)
			}
		}
		if dbfault.Unavailable(gorm.ErrRecordNotFound) || dbfault.Unavailable(errors.New("unrelated")) || dbfault.Unavailable(nil) {
			t.Error("not found, an unrelated error or nil is classified unavailable")
		}
	})
}
