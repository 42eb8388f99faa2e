package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"gorm.io/gorm/logger"

	"github.com/ginjwt/ginjwt/database"
)

func TestSQLiteDSNKeepsTheCallersPragmas(t *testing.T) {
	got := driverDSN("x.db?_pragma=busy_timeout(100)&cache=shared")
	if strings.Count(got, "busy_timeout") != 1 || !strings.Contains(got, "busy_timeout%28100%29") {
		t.Fatalf("the caller's busy_timeout was not kept: %s", got)
	}
	for _, want := range []string{"journal_mode%28WAL%29", "foreign_keys%281%29", "_txlock=immediate", "cache=shared"} {
		if !strings.Contains(got, want) {
			t.Fatalf("%s lacks %s", got, want)
		}
	}
}

func TestOpenSQLiteFileConcurrentWriters(t *testing.T) {
	db, err := database.Open("sqlite:"+filepath.Join(t.TempDir(), "w.db"), database.WithLogger(logger.Discard))
	if err != nil {
		t.Fatal(err)
	}
	if database.EngineOf(db) != database.SQLite {
		t.Fatal("EngineOf")
	}
	if err := db.Exec("CREATE TABLE n (v INTEGER)").Error; err != nil {
		t.Fatal(err)
	}
	// Writers in transactions queue on the immediate lock instead of failing
	// with "database is locked".
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tx := db.Begin()
			if err := tx.Exec("INSERT INTO n VALUES (?)", i).Error; err != nil {
				tx.Rollback()
				errs <- err
				return
			}
			errs <- tx.Commit().Error
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var n int64
	db.Raw("SELECT count(*) FROM n").Scan(&n)
	if n != 20 {
		t.Fatalf("%d rows", n)
	}
}

func TestOpenMemory(t *testing.T) {
	db, err := database.Open("sqlite::memory:", database.WithLogger(logger.Discard))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Exec("CREATE TABLE t (v INTEGER)").Error; err != nil {
		t.Fatal(err)
	}
	// One connection: the table is visible to the next statement.
	if err := db.Exec("INSERT INTO t VALUES (1)").Error; err != nil {
		t.Fatal(err)
	}
	// The driver's own connection: the probing pool closes connections,
	// and closing the only one would lose the database.
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := sqlDB.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Raw(func(dc any) error {
		if _, ours := dc.(*sqliteConn); ours {
			t.Error("an in-memory database got the probing pool")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
