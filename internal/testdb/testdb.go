// Package testdb gives tests a fresh database on each engine ginjwt supports:
// an SQLite file in the test's temporary directory, and a schema of its own on
// the PostgreSQL server named by GINJWT_TEST_POSTGRES_DSN.
//
// When PostgreSQL cannot be reached the PostgreSQL half of a test skips with a
// loud message, except under CI=true, where it fails.
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/ginjwt/ginjwt/database"
	_ "github.com/ginjwt/ginjwt/database/postgres" // also the registry's LISTEN/NOTIFY listener
	_ "github.com/ginjwt/ginjwt/database/sqlite"
)

// DefaultPostgresDSN is used when GINJWT_TEST_POSTGRES_DSN is unset.
const DefaultPostgresDSN = "host=127.0.0.1 port=5432 user=postgres dbname=test sslmode=disable"

// Engines runs fn once per engine, as subtests named "sqlite" and "postgres",
// each with a database of its own.
func Engines(t *testing.T, fn func(t *testing.T, db *gorm.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// SQLite opens a new SQLite database file in t's temporary directory.
func SQLite(t testing.TB) *gorm.DB {
	t.Helper()
	db, err := database.Open("sqlite:"+filepath.Join(t.TempDir(), "test.db"), quiet())
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	t.Cleanup(func() { closeDB(db) })
	return db
}

// Postgres opens the test PostgreSQL server on a schema made for t alone and
// dropped when t ends.
func Postgres(t testing.TB) *gorm.DB {
	t.Helper()
	dsn := PostgresDSN()
	if err := reachable(dsn); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("testdb: PostgreSQL is required under CI=true and is unreachable at %q: %v", dsn, err)
		}
		t.Skipf("\n\n*** SKIPPING PostgreSQL: unreachable at %q: %v ***\n*** set GINJWT_TEST_POSTGRES_DSN or start PostgreSQL; under CI=true this fails ***\n\n", dsn, err)
	}
	schema := "t_" + randomHex(8)
	admin, err := database.Open(dsn, quiet())
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		closeDB(admin)
		t.Fatalf("testdb: create schema: %v", err)
	}
	db, err := database.Open(withSearchPath(dsn, schema), quiet())
	if err != nil {
		closeDB(admin)
		t.Fatalf("testdb: %v", err)
	}
	// The server is shared by every test running at once (max_connections
	// 100 here): a burst of a test's requests waits for one of its own
	// connections instead of taking the server's last ones from the other
	// tests ("too many clients" answered 503 elsewhere). A code path that
	// needed a second connection while holding one would hang here: none may.
	bound(admin, 1)
	bound(db, maxTestConns)
	t.Cleanup(func() {
		closeDB(db)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = admin.WithContext(ctx).Exec("DROP SCHEMA " + schema + " CASCADE").Error
		closeDB(admin)
	})
	return db
}

// maxTestConns bounds each test database's pool on the shared server.
const maxTestConns = 8

// bound limits db's pool to n connections, none kept idle beyond two.
func bound(db *gorm.DB, n int) {
	if sqlDB, err := db.DB(); err == nil {
		sqlDB.SetMaxOpenConns(n)
		sqlDB.SetMaxIdleConns(min(n, 2))
	}
}

// PostgresDSN is the DSN of the test PostgreSQL server.
func PostgresDSN() string {
	if dsn := os.Getenv("GINJWT_TEST_POSTGRES_DSN"); dsn != "" {
		return dsn
	}
	return DefaultPostgresDSN
}

// PostgresSchemaDSN returns a DSN that opens the same schema as db, for tests
// that need a second connection pool (a second instance) on one database.
func PostgresSchemaDSN(t testing.TB, db *gorm.DB) string {
	t.Helper()
	var schema string
	if err := db.Raw("SELECT current_schema()").Scan(&schema).Error; err != nil {
		t.Fatalf("testdb: current schema: %v", err)
	}
	return withSearchPath(PostgresDSN(), schema)
}

var (
	reachOnce sync.Once
	reachErr  error
)

// reachable pings the server once per test binary.
func reachable(dsn string) error {
	reachOnce.Do(func() {
		db, err := database.Open(dsn, quiet())
		if err != nil {
			reachErr = err
			return
		}
		defer closeDB(db)
		sqlDB, err := db.DB()
		if err != nil {
			reachErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		reachErr = sqlDB.PingContext(ctx)
	})
	return reachErr
}

func withSearchPath(dsn, schema string) string {
	if strings.Contains(dsn, "://") {
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		return dsn + sep + "search_path=" + schema
	}
	return fmt.Sprintf("%s search_path=%s", dsn, schema)
}

func quiet() database.Option { return database.WithLogger(logger.Discard) }

func closeDB(db *gorm.DB) {
	if sqlDB, err := db.DB(); err == nil {
		_ = sqlDB.Close()
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
