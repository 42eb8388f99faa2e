package postgres

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Listener is the token registry's
// [github.com/ginjwt/ginjwt/registry.Listener] on pgx: LISTEN on
// one connection, then a wait for each notification. The package registers
// it when imported.
type Listener struct{}

// Listen listens on channel over conn, which must be a pgx connection
// (gorm.io/driver/postgres opens those); see
// [github.com/ginjwt/ginjwt/registry.Listener].
func (Listener) Listen(ctx context.Context, conn *sql.Conn, channel string, notify func()) error {
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("postgres: LISTEN needs a pgx connection, not %T", dc)
		}
		pc := c.Conn()
		if _, err := pc.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
			return err
		}
		notify()
		for {
			if _, err := pc.WaitForNotification(ctx); err != nil {
				return err
			}
			notify()
		}
	})
}
