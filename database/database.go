// Package database opens the GORM databases ginjwt runs on from one string:
// embedded SQLite for a single process, PostgreSQL for several instances.
//
// The command-line tool, the examples and the tests open their databases here,
// so an application can do the same with the DSN its operators already use:
//
//	db, err := database.Open("sqlite:app.db")
//	db, err := database.Open("postgres://app@db.internal/app?sslmode=require")
//
// An application that already has a *gorm.DB passes that to ginjwt instead;
// nothing in ginjwt requires this package.
package database

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// ErrBadDSN is returned by [Open] for a DSN it cannot tell the engine of.
var ErrBadDSN = errors.New("database: DSN must start with sqlite: or postgres:// (or be a key=value PostgreSQL DSN)")

// Engine names a database engine ginjwt supports.
type Engine string

// The engines.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// Option adjusts how [Open] configures GORM.
type Option func(*gorm.Config)

// WithLogger sets the GORM logger. The default is NewLogger(slog.Default()):
// failed statements other than "record not found", and slow ones, with
// placeholders instead of the values bound to them, escaped (see
// [NewLogger]).
func WithLogger(l logger.Interface) Option {
	return func(c *gorm.Config) { c.Logger = l }
}

// Open opens dsn:
//
//   - "sqlite:PATH" is an SQLite file, created when missing, in WAL mode with a
//     5 s busy timeout, foreign keys on and write transactions that take their
//     lock up front (so two writers queue instead of failing); "sqlite::memory:"
//     is a private in-memory database. A connection that cannot write (SQLite
//     opened the file read-only because it was not writable, or a statement
//     failed with a read-only, I/O or cannot-open error) is closed after its
//     use instead of pooled, so writes succeed again as soon as a storage
//     fault clears, without a restart.
//   - "postgres://…", "postgresql://…" or a key=value DSN ("host=… dbname=…")
//     is PostgreSQL through pgx.
//
// It fails with [ErrBadDSN] for anything else, and with the driver's error,
// wrapped, when the database cannot be reached.
func Open(dsn string, opts ...Option) (*gorm.DB, error) {
	engine, dialector, err := dialectorFor(dsn)
	if err != nil {
		return nil, err
	}
	cfg := &gorm.Config{
		Logger: NewLogger(nil),
		// Single statements need no transaction of their own; ginjwt opens one
		// where several writes must land together.
		SkipDefaultTransaction: true,
	}
	for _, opt := range opts {
		opt(cfg)
	}
	pool := sqlitePool(dialector) // nil but for an SQLite file (sqlite_pool.go)
	db, err := gorm.Open(dialector, cfg)
	if err != nil {
		if pool != nil {
			pool.Close()
		}
		return nil, fmt.Errorf("database: open %s: %w", engine, err)
	}
	if engine == SQLite && isMemory(dsn) {
		// Every connection to ":memory:" is a database of its own: keep one.
		sqlDB, err := db.DB()
		if err != nil {
			return nil, fmt.Errorf("database: open sqlite: %w", err)
		}
		sqlDB.SetMaxOpenConns(1)
	}
	return db, nil
}

// EngineOf tells which engine db runs on.
func EngineOf(db *gorm.DB) Engine {
	if db.Dialector.Name() == "postgres" {
		return Postgres
	}
	return SQLite
}

func dialectorFor(dsn string) (Engine, gorm.Dialector, error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		if path == "" {
			return "", nil, ErrBadDSN
		}
		return SQLite, sqlite.Open(sqliteDSN(path)), nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"),
		strings.Contains(dsn, "host=") || strings.Contains(dsn, "dbname="):
		return Postgres, postgres.Open(dsn), nil
	}
	return "", nil, ErrBadDSN
}

func isMemory(dsn string) bool { return strings.TrimPrefix(dsn, "sqlite:") == ":memory:" }

// sqliteDSN adds the pragmas ginjwt relies on to a file path, keeping any
// query the caller wrote.
func sqliteDSN(path string) string {
	if path == ":memory:" {
		return "file::memory:?_pragma=foreign_keys(1)"
	}
	file, query, _ := strings.Cut(path, "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		q = url.Values{}
	}
	has := func(pragma string) bool {
		for _, p := range q["_pragma"] {
			if strings.HasPrefix(p, pragma) {
				return true
			}
		}
		return false
	}
	for _, p := range []string{"busy_timeout(5000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(NORMAL)"} {
		if name, _, _ := strings.Cut(p, "("); !has(name) {
			q.Add("_pragma", p)
		}
	}
	if q.Get("_txlock") == "" {
		q.Set("_txlock", "immediate")
	}
	return "file:" + file + "?" + q.Encode()
}
