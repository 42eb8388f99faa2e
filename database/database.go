// Package database opens the GORM databases ginjwt runs on from one string:
// embedded SQLite for a single process, PostgreSQL for several instances.
//
// The command-line tool, the examples and the tests open their databases here,
// so an application can do the same with the DSN its operators already use.
// Like database/sql, it links no driver of its own: import the package of
// each engine the program opens, for its side effect.
//
//	import (
//		"github.com/ginjwt/ginjwt/database"
//		_ "github.com/ginjwt/ginjwt/database/sqlite"   // "sqlite:…"
//		_ "github.com/ginjwt/ginjwt/database/postgres" // "postgres://…", "host=… dbname=…"
//	)
//
//	db, err := database.Open("sqlite:app.db")
//	db, err := database.Open("postgres://app@db.internal/app?sslmode=require")
//
// A program that imports only one of them links only that driver: one on
// PostgreSQL carries no SQLite, one on SQLite carries no pgx.
//
// An application that already has a *gorm.DB passes that to ginjwt instead;
// nothing in ginjwt requires this package. On PostgreSQL, importing
// database/postgres also gives the token registry its LISTEN/NOTIFY
// listener (see registry.RegisterListener).
package database

import (
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/ginjwt/ginjwt/database/internal/dialect"
)

// ErrBadDSN is returned by [Open] for a DSN it cannot tell the engine of.
var ErrBadDSN = errors.New("database: DSN must start with sqlite: or postgres:// (or be a key=value PostgreSQL DSN)")

// ErrNotLinked is matched (errors.Is) by the error [Open] returns for a DSN
// of an engine whose package the program does not import. The error's text
// names the import to add.
var ErrNotLinked = errors.New("database: engine not linked")

// Engine names a database engine ginjwt supports.
type Engine string

// The engines.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// pkg is the package that registers an engine.
func (e Engine) pkg() string { return "github.com/ginjwt/ginjwt/database/" + string(e) }

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
//     is a private in-memory database. Needs database/sqlite imported; that
//     package's documentation tells what it does when the file cannot be
//     written, and how its errors name their cause.
//   - "postgres://…", "postgresql://…" or a key=value DSN ("host=… dbname=…")
//     is PostgreSQL through pgx. Needs database/postgres imported.
//
// It fails with [ErrBadDSN] for anything else, with [ErrNotLinked] when the
// engine's package is not imported, and with the engine's error, which
// names the cause, when the database cannot be opened.
func Open(dsn string, opts ...Option) (*gorm.DB, error) {
	engine, err := engineOf(dsn)
	if err != nil {
		return nil, err
	}
	open := dialect.Lookup(string(engine))
	if open == nil {
		return nil, notLinkedError{engine}
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
	return open(dsn, cfg)
}

// EngineOf tells which engine db runs on.
func EngineOf(db *gorm.DB) Engine {
	if db.Dialector.Name() == "postgres" {
		return Postgres
	}
	return SQLite
}

// engineOf tells the engine a DSN names.
func engineOf(dsn string) (Engine, error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		if dsn == "sqlite:" {
			return "", ErrBadDSN
		}
		return SQLite, nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"),
		strings.Contains(dsn, "host=") || strings.Contains(dsn, "dbname="):
		return Postgres, nil
	}
	return "", ErrBadDSN
}

// notLinkedError is Open's error for an engine whose package is not
// imported.
type notLinkedError struct{ engine Engine }

func (e notLinkedError) Error() string {
	return fmt.Sprintf("database: %s is not linked into this program: import _ %q", e.engine, e.engine.pkg())
}

func (notLinkedError) Is(target error) bool { return target == ErrNotLinked }
