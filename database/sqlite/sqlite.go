// Package sqlite links embedded SQLite into [database.Open]: import it for
// its side effect, and "sqlite:PATH" DSNs open.
//
//	import (
//		"github.com/ginjwt/ginjwt/database"
//		_ "github.com/ginjwt/ginjwt/database/sqlite"
//	)
//
//	db, err := database.Open("sqlite:app.db")
//
// The engine is modernc.org/sqlite, SQLite translated to Go (no cgo), under
// GORM through github.com/glebarez/sqlite. A program that does not import
// this package does not link it.
//
// # Files
//
// "sqlite:PATH" opens the file at PATH, created when missing, in WAL mode
// with a 5 s busy timeout, foreign keys on, synchronous=NORMAL, and write
// transactions that take their lock up front (so two writers queue instead
// of failing); "_pragma" and "_txlock" parameters after a "?" override
// these. "sqlite::memory:" is a private in-memory database on one
// connection.
//
// # Storage faults
//
// When SQLite cannot open the file for writing (the file or its directory
// made read-only, a read-only mount) it opens it read-only, silently: reads
// keep working, and writes fail with "attempt to write a readonly
// database". A connection that cannot write, or on which a statement
// failed with a read-only, I/O or cannot-open error, is closed after its
// use instead of pooled, so writes succeed again as soon as the fault
// clears, without a restart.
//
// # Errors
//
// The driver's own words for a file it cannot open are often wrong ("out of
// memory" for a missing directory). When opening fails, or a write fails
// because the file cannot be written, the error names the cause the file
// system gives:
//
//	database: open SQLite database "/srv/x/app.db": directory /srv/x does not exist
//	database: open SQLite database "/srv/app.db": permission denied: cannot create files in directory /srv
//	database: open SQLite database "/srv/notes.txt": the file is not an SQLite database
//	database: SQLite database "/srv/app.db" cannot be written: directory /srv is on a read-only file system (attempt to write a readonly database (8))
//
// These errors wrap the driver's (so internal classifications of SQLite's
// result codes still apply) and, where the cause is one, [fs.ErrNotExist]
// or [fs.ErrPermission].
package sqlite

import (
	"database/sql"
	"fmt"
	"net/url"
	"strings"

	gsqlite "github.com/glebarez/sqlite"
	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/database/internal/dialect"
)

func init() { dialect.Register("sqlite", open) }

// open opens an "sqlite:" DSN for database.Open.
func open(dsn string, cfg *gorm.Config) (*gorm.DB, error) {
	path := strings.TrimPrefix(dsn, "sqlite:")
	file, _, _ := strings.Cut(path, "?")
	d := &gsqlite.Dialector{DSN: driverDSN(path)}
	var pool *sql.DB
	if writableDSN(d.DSN) {
		pool = sql.OpenDB(&connector{dsn: d.DSN, file: file, driver: sqliteDriver()})
		d.Conn = pool
	}
	db, err := gorm.Open(d, cfg)
	if err == nil {
		err = readHeader(db)
	}
	if err != nil {
		if db != nil {
			closeDB(db)
		} else if pool != nil {
			pool.Close()
		}
		if file == ":memory:" {
			return nil, fmt.Errorf("database: open SQLite in-memory database: %w", err)
		}
		return nil, explainOpen(file, err)
	}
	if file == ":memory:" {
		// Every connection to ":memory:" is a database of its own: keep one.
		sqlDB, err := db.DB()
		if err != nil {
			return nil, fmt.Errorf("database: open SQLite in-memory database: %w", err)
		}
		sqlDB.SetMaxOpenConns(1)
	}
	return db, nil
}

// readHeader reads the database's header, so that a file that is not a
// database fails at Open rather than at the first statement.
func readHeader(db *gorm.DB) error {
	var version int64
	return db.Raw("PRAGMA schema_version").Scan(&version).Error
}

func closeDB(db *gorm.DB) {
	if sqlDB, err := db.DB(); err == nil {
		sqlDB.Close()
	}
}

// driverDSN adds the pragmas ginjwt relies on to a file path, keeping any
// query the caller wrote.
func driverDSN(path string) string {
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
