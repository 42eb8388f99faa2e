package registry

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"sync/atomic"
	"time"

	"github.com/ginjwt/ginjwt/internal/listener"
)

// A Listener tells a registry at once when another instance commits a
// revocation, through the database's notifications (PostgreSQL's
// LISTEN/NOTIFY), so the registry need not wait for its next resync.
//
// The registry imports no database driver: package
// github.com/ginjwt/ginjwt/database/postgres registers pgx's listener when
// it is imported (database.Open's users import it to open PostgreSQL). A
// registry on PostgreSQL with no listener registered logs a warning at
// Start and learns of other instances' revocations at each resync
// (Options.Resync), as on SQLite.
type Listener interface {
	// Listen listens on channel over conn, a connection taken from the
	// registry's pool for this alone and discarded (never pooled again)
	// when Listen returns. It calls notify once listening has begun (the
	// registry then reads what was written before) and after every
	// notification, until ctx ends or the connection fails, and returns
	// the error that ended it. A conn of a driver it cannot listen with is
	// an error.
	Listen(ctx context.Context, conn *sql.Conn, channel string, notify func()) error
}

// RegisterListener makes l the listener of every registry on PostgreSQL
// started after the call; the last one registered is used, and nil removes
// it. Package database/postgres registers pgx's in its init, so a call from
// main replaces it.
func RegisterListener(l Listener) { listener.Set(l) }

// listen holds one PostgreSQL connection in LISTEN on the revocation
// channel, through the registered [Listener], and reads the log whenever
// another instance (or this one) announces a revocation. The connection is
// never returned to the pool: it is discarded when the listener returns,
// and a new one is taken after a pause.
func (r *Registry) listen(ctx context.Context) {
	l := listener.Get()
	if l == nil {
		r.log.WarnContext(ctx, "ginjwt registry: no LISTEN/NOTIFY listener registered (import github.com/ginjwt/ginjwt/database/postgres): other instances' revocations arrive at each resync")
		return
	}
	sqlDB, err := r.db.DB()
	if err != nil {
		r.log.ErrorContext(ctx, "ginjwt registry: LISTEN unavailable", "error", err)
		return
	}
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		conn, err := sqlDB.Conn(ctx)
		if err == nil {
			var listened atomic.Bool
			err = l.Listen(ctx, conn, notifyChannel, func() {
				listened.Store(true)
				r.poke()
			})
			_ = conn.Raw(func(any) error { return driver.ErrBadConn }) // never reuse a listening connection
			_ = conn.Close()
			if listened.Load() {
				backoff = 100 * time.Millisecond
			}
		}
		if ctx.Err() != nil {
			return
		}
		r.log.WarnContext(ctx, "ginjwt registry: LISTEN connection lost; resync continues", "error", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}
