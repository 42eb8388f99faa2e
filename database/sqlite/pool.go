package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	gsqlite "github.com/glebarez/sqlite"
)

// SQLite's primary result codes that leave a connection unable to write
// until it is reopened (https://sqlite.org/rescode.html).
const (
	sqliteBusy     = 5
	sqliteReadOnly = 8
	sqliteIOErr    = 10
	sqliteCantOpen = 14
)

// The pool: a connection that cannot write when it is opened serves the
// request that opened it (reads work; writes fail, and are answered 503)
// and is then closed instead of pooled; so is a connection on which a
// statement failed with a read-only, I/O or cannot-open error. Every pooled
// connection could write when it was last used, and the first write after
// a storage fault clears succeeds.
//
// Why: when SQLite cannot open the file (or its -wal) for writing — the file
// or its directory made read-only, a read-only mount — it opens it
// read-only, silently. Every write on that connection then fails with
// SQLITE_READONLY, also once the file is writable again, and database/sql
// keeps the connection in its pool for as long as it is used: the server
// would stay broken until it restarts. The pool serves SQLite files opened
// to write; an in-memory database, or a DSN that asks for a read-only
// database (mode=ro, immutable=1), gets the driver's own.

// writableDSN reports whether an SQLite DSN names a file opened to write.
func writableDSN(dsn string) bool {
	path, query, _ := strings.Cut(strings.TrimPrefix(dsn, "file:"), "?")
	if path == ":memory:" || path == "" {
		return false
	}
	q, _ := url.ParseQuery(query)
	return q.Get("mode") != "ro" && q.Get("mode") != "memory" && q.Get("immutable") != "1"
}

// sqliteDriver is the driver github.com/glebarez/sqlite registers.
var sqliteDriver = sync.OnceValue(func() driver.Driver {
	db, err := sql.Open(gsqlite.DriverName, "")
	if err != nil {
		panic("database: the SQLite driver is not registered: " + err.Error())
	}
	defer db.Close()
	return db.Driver()
})

// connector opens the pool's connections to one file.
type connector struct {
	dsn    string // the driver's DSN
	file   string // the file's path, for the errors
	driver driver.Driver
}

func (c *connector) Driver() driver.Driver { return c.driver }

// Connect opens a connection and probes whether it can write.
func (c *connector) Connect(ctx context.Context) (driver.Conn, error) {
	raw, err := c.driver.Open(c.dsn)
	if err != nil {
		return nil, explainOpen(c.file, err)
	}
	conn, ok := raw.(sqliteDriverConn)
	if !ok {
		raw.Close()
		return nil, fmt.Errorf("database: the SQLite driver's connection (%T) lacks the context methods", raw)
	}
	w := &sqliteConn{conn: conn, file: c.file}
	writable, err := canWrite(ctx, conn)
	if err != nil {
		conn.Close()
		return nil, err
	}
	w.unfit.Store(!writable)
	return w, nil
}

// canWrite tells whether a new connection can write, without waiting for a
// lock and without writing: with no busy timeout it begins a write
// transaction, sets user_version to its own value and rolls back.
// SQLITE_READONLY (or another storage error) means SQLite opened the file
// or its -wal read-only; SQLITE_BUSY means another connection writes, so
// this one got as far as asking for the lock. (BEGIN IMMEDIATE alone does
// not tell: on a file opened read-only it begins a read transaction.) An
// error of the probe itself is returned.
func canWrite(ctx context.Context, conn sqliteDriverConn) (bool, error) {
	timeout, err := pragmaInt(ctx, conn, "busy_timeout")
	if err != nil {
		return false, err
	}
	if _, err := conn.ExecContext(ctx, "PRAGMA busy_timeout = 0", nil); err != nil {
		return false, err
	}
	probeErr := probeWrite(ctx, conn)
	if _, err := conn.ExecContext(ctx, "PRAGMA busy_timeout = "+strconv.Itoa(timeout), nil); err != nil {
		return false, err
	}
	return probeErr == nil || sqliteCode(probeErr) == sqliteBusy, nil
}

func probeWrite(ctx context.Context, conn sqliteDriverConn) error {
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE", nil); err != nil {
		return err
	}
	v, err := pragmaInt(ctx, conn, "main.user_version")
	if err == nil {
		_, err = conn.ExecContext(ctx, "PRAGMA main.user_version = "+strconv.Itoa(v), nil)
	}
	if _, rbErr := conn.ExecContext(ctx, "ROLLBACK", nil); err == nil {
		err = rbErr
	}
	return err
}

// pragmaInt reads an integer pragma.
func pragmaInt(ctx context.Context, conn sqliteDriverConn, name string) (int, error) {
	rows, err := conn.QueryContext(ctx, "PRAGMA "+name, nil)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	v := make([]driver.Value, 1)
	if err := rows.Next(v); err != nil {
		return 0, fmt.Errorf("database: read %s: %w", name, err)
	}
	n, ok := v[0].(int64)
	if !ok {
		return 0, fmt.Errorf("database: %s is %T", name, v[0])
	}
	return int(n), nil
}

// sqliteCode is the primary SQLite result code of err, or 0.
func sqliteCode(err error) int {
	var coder interface{ Code() int }
	if errors.As(err, &coder) {
		return coder.Code() & 0xff
	}
	return 0
}

// sqliteDriverConn is what the SQLite driver's connection implements and
// the pool uses.
type sqliteDriverConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
}

// sqliteConn is a connection that leaves the pool when it cannot write.
type sqliteConn struct {
	conn  sqliteDriverConn
	file  string
	unfit atomic.Bool // cannot write, or failed as only a storage fault makes it
}

// check marks the connection unfit when err says its storage failed, and
// returns err, naming the cause when the file cannot be written.
func (c *sqliteConn) check(err error) error {
	switch sqliteCode(err) {
	case sqliteReadOnly, sqliteCantOpen:
		c.unfit.Store(true)
		return explainWrite(c.file, err)
	case sqliteIOErr:
		c.unfit.Store(true)
	}
	return err
}

// IsValid tells database/sql whether to keep the connection in its pool.
func (c *sqliteConn) IsValid() bool { return !c.unfit.Load() }

func (c *sqliteConn) Close() error { return c.conn.Close() }

func (c *sqliteConn) Ping(ctx context.Context) error { return c.check(c.conn.Ping(ctx)) }

func (c *sqliteConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *sqliteConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	s, err := c.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, c.check(err)
	}
	return &sqliteStmt{Stmt: s, conn: c}, nil
}

func (c *sqliteConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *sqliteConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.conn.BeginTx(ctx, opts)
	if err != nil {
		return nil, c.check(err)
	}
	return &sqliteTx{tx: tx, conn: c}, nil
}

func (c *sqliteConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	r, err := c.conn.ExecContext(ctx, query, args)
	return r, c.check(err)
}

func (c *sqliteConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	rows, err := c.conn.QueryContext(ctx, query, args)
	if err != nil {
		return nil, c.check(err)
	}
	return &sqliteRows{Rows: rows, conn: c}, nil
}

type sqliteTx struct {
	tx   driver.Tx
	conn *sqliteConn
}

func (t *sqliteTx) Commit() error   { return t.conn.check(t.tx.Commit()) }
func (t *sqliteTx) Rollback() error { return t.conn.check(t.tx.Rollback()) }

type sqliteStmt struct {
	driver.Stmt
	conn *sqliteConn
}

func (s *sqliteStmt) Exec(args []driver.Value) (driver.Result, error) {
	r, err := s.Stmt.Exec(args)
	return r, s.conn.check(err)
}

func (s *sqliteStmt) Query(args []driver.Value) (driver.Rows, error) {
	rows, err := s.Stmt.Query(args)
	if err != nil {
		return nil, s.conn.check(err)
	}
	return &sqliteRows{Rows: rows, conn: s.conn}, nil
}

func (s *sqliteStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if ex, ok := s.Stmt.(driver.StmtExecContext); ok {
		r, err := ex.ExecContext(ctx, args)
		return r, s.conn.check(err)
	}
	return nil, driver.ErrSkip
}

func (s *sqliteStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if q, ok := s.Stmt.(driver.StmtQueryContext); ok {
		rows, err := q.QueryContext(ctx, args)
		if err != nil {
			return nil, s.conn.check(err)
		}
		return &sqliteRows{Rows: rows, conn: s.conn}, nil
	}
	return nil, driver.ErrSkip
}

// sqliteRows watches the errors of Next, where a statement's last step runs
// (an INSERT … RETURNING fails there), and passes on the column types.
type sqliteRows struct {
	driver.Rows
	conn *sqliteConn
}

func (r *sqliteRows) Next(dest []driver.Value) error {
	return r.conn.check(r.Rows.Next(dest))
}

func (r *sqliteRows) ColumnTypeScanType(i int) reflect.Type {
	if c, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return c.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}

func (r *sqliteRows) ColumnTypeDatabaseTypeName(i int) string {
	if c, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return c.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *sqliteRows) ColumnTypeLength(i int) (int64, bool) {
	if c, ok := r.Rows.(driver.RowsColumnTypeLength); ok {
		return c.ColumnTypeLength(i)
	}
	return 0, false
}

func (r *sqliteRows) ColumnTypeNullable(i int) (nullable, ok bool) {
	if c, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return c.ColumnTypeNullable(i)
	}
	return false, false
}

func (r *sqliteRows) ColumnTypePrecisionScale(i int) (precision, scale int64, ok bool) {
	if c, ok := r.Rows.(driver.RowsColumnTypePrecisionScale); ok {
		return c.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}
