// Package dbfault tells a database that is unavailable — down, unreachable,
// read-only, out of disk, or too busy to answer — from a database that
// answered with an error about the statement. The first is answered 503 and
// heals by itself; the second is a bug or a conflict.
//
// It reads errors through small interfaces instead of importing the drivers,
// so a program that links only one driver does not link the other.
package dbfault

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
)

// sqlStater is implemented by pgconn.PgError.
type sqlStater interface{ SQLState() string }

// sqliteCoder is implemented by the SQLite driver's error (modernc.org/sqlite).
type sqliteCoder interface{ Code() int }

// SQLite primary result codes that mean the storage, not the statement,
// failed (https://sqlite.org/rescode.html).
const (
	sqliteBusy     = 5
	sqliteLocked   = 6
	sqliteNoMem    = 7
	sqliteReadOnly = 8
	sqliteIOErr    = 10
	sqliteFull     = 13
	sqliteCantOpen = 14
	sqliteProtocol = 15
)

// Unavailable reports whether err says the database could not do the work
// for a reason that passes by itself: a refused or broken connection, a
// server shutting down or starting up, a read-only or full SQLite file, a
// lock not granted in time. Errors about the statement itself (a constraint,
// a syntax error, a missing table) are not.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.ENOSPC) ||
		errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var pg sqlStater
	if errors.As(err, &pg) {
		switch state := pg.SQLState(); {
		case strings.HasPrefix(state, "08"), // connection exception
			strings.HasPrefix(state, "53"),     // insufficient resources (disk full, too many connections)
			strings.HasPrefix(state, "57"),     // operator intervention (shutdown, cancel, cannot connect now)
			strings.HasPrefix(state, "58"),     // system error (I/O)
			state == "25006",                   // read-only transaction (a standby)
			state == "55P03",                   // lock not available (lock_timeout, NOWAIT)
			state == "40001", state == "40P01": // serialization failure, deadlock: try again
			return true
		}
		return false
	}
	var lite sqliteCoder
	if errors.As(err, &lite) {
		switch lite.Code() & 0xff { // extended codes carry the primary one in the low byte
		case sqliteBusy, sqliteLocked, sqliteNoMem, sqliteReadOnly, sqliteIOErr, sqliteFull, sqliteCantOpen, sqliteProtocol:
			return true
		}
		return false
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	// pgx reports a pool or connection that is gone with plain errors.
	msg := err.Error()
	for _, s := range []string{"conn closed", "connection refused", "failed to connect", "closed pool", "database is locked", "attempt to write a readonly database", "database or disk is full", "disk I/O error", "unable to open database file"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
