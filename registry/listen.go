package registry

import (
	"context"
	"database/sql/driver"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
)

// listen holds one PostgreSQL connection in LISTEN on the revocation
// channel and reads the log whenever another instance (or this one)
// announces a revocation. The connection is never returned to the pool: it
// is discarded when the loop ends or fails, and a new one is taken after a
// pause.
func (r *Registry) listen(ctx context.Context) {
	sqlDB, err := r.db.DB()
	if err != nil {
		r.log.ErrorContext(ctx, "ginjwt registry: LISTEN unavailable", "error", err)
		return
	}
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		conn, err := sqlDB.Conn(ctx)
		if err == nil {
			err = conn.Raw(func(dc any) error {
				c, ok := dc.(*stdlib.Conn)
				if !ok {
					return errors.New("not a pgx connection")
				}
				pc := c.Conn()
				if _, err := pc.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
					return err
				}
				// Anything written while we were not listening.
				r.poke()
				backoff = 100 * time.Millisecond
				for {
					if _, err := pc.WaitForNotification(ctx); err != nil {
						return err
					}
					r.poke()
				}
			})
			_ = conn.Raw(func(any) error { return driver.ErrBadConn }) // never reuse a listening connection
			_ = conn.Close()
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
