package database

import (
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"gorm.io/gorm/logger"
)

func TestDialectorFor(t *testing.T) {
	cases := []struct {
		dsn  string
		want Engine
		err  bool
	}{
		{"sqlite:app.db", SQLite, false},
		{"sqlite::memory:", SQLite, false},
		{"postgres://u@h/db", Postgres, false},
		{"postgresql://u@h/db?sslmode=disable", Postgres, false},
		{"host=127.0.0.1 dbname=test", Postgres, false},
		{"sqlite:", "", true},
		{"mysql://u@h/db", "", true},
		{"app.db", "", true},
		{"", "", true},
	}
	for _, tc := range cases {
		engine, _, err := dialectorFor(tc.dsn)
		if engine != tc.want || (err != nil) != tc.err {
			t.Errorf("%q: %q %v", tc.dsn, engine, err)
		}
		if tc.err && !errors.Is(err, ErrBadDSN) {
			t.Errorf("%q: %v is not ErrBadDSN", tc.dsn, err)
		}
	}
}

func TestSQLiteDSNKeepsTheCallersPragmas(t *testing.T) {
	got := sqliteDSN("x.db?_pragma=busy_timeout(100)&cache=shared")
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
	db, err := Open("sqlite:"+filepath.Join(t.TempDir(), "w.db"), WithLogger(logger.Discard))
	if err != nil {
		t.Fatal(err)
	}
	if EngineOf(db) != SQLite {
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
	db, err := Open("sqlite::memory:", WithLogger(logger.Discard))
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
}
