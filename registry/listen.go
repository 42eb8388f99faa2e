package registry

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"strconv"
	"strings"
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
			notified := func(payload string) {
				listened.Store(true)
				r.applyNotified(payload)
				r.poke()
			}
			if pl, ok := l.(listener.PayloadListener); ok {
				err = pl.ListenPayload(ctx, conn, notifyChannel, notified)
			} else {
				err = l.Listen(ctx, conn, notifyChannel, func() { notified("") })
			}
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

// A NOTIFY carries the revocations it announces, when they fit in its
// payload (PostgreSQL allows 8,000 bytes): the instances listening apply
// them at once, before the catch-up read of the log that the notification
// also wakes, which can wait for a connection and a query on a busy
// database. The read stays the source of truth (it moves the cursor and
// fills gaps); the payload only adds revocations earlier, so a payload
// that cannot be read changes nothing.

// notifiedRow is one revocation in a NOTIFY payload: times in
// microseconds since the Unix epoch.
type notifiedRow struct {
	ID         int64          `json:"i"`
	Kind       RevocationKind `json:"k"`
	Subject    string         `json:"s"`
	Generation int64          `json:"g,omitempty"`
	At         int64          `json:"a"`
	Until      int64          `json:"u"`
}

// maxPayload is the most a NOTIFY payload may hold, with a margin below
// PostgreSQL's 8,000 bytes.
const maxPayload = 7900

// notifyPayload is the payload announcing rows: the rows themselves when
// they fit, otherwise the last ID (the listeners then read the log).
func notifyPayload(rows []Revocation) string {
	last := strconv.FormatInt(rows[len(rows)-1].ID, 10)
	out := make([]notifiedRow, len(rows))
	for i, r := range rows {
		out[i] = notifiedRow{ID: r.ID, Kind: r.Kind, Subject: r.Subject, Generation: r.Generation,
			At: r.At.UnixMicro(), Until: r.Until.UnixMicro()}
	}
	b, err := json.Marshal(out)
	if err != nil || len(b) > maxPayload {
		return last
	}
	return string(b)
}

// applyNotified applies the revocations a NOTIFY payload carries; a payload
// of another form (an ID, a message of another program) changes nothing.
func (r *Registry) applyNotified(payload string) {
	if !strings.HasPrefix(payload, "[") || len(payload) > maxPayload {
		return
	}
	var in []notifiedRow
	if err := json.Unmarshal([]byte(payload), &in); err != nil {
		return
	}
	rows := make([]Revocation, 0, len(in))
	for _, n := range in {
		switch n.Kind {
		case KindToken, KindSession, KindUser:
		default:
			return
		}
		if n.Subject == "" || len(n.Subject) > 64 {
			return
		}
		rows = append(rows, Revocation{ID: n.ID, Kind: n.Kind, Subject: n.Subject, Generation: n.Generation,
			At: time.UnixMicro(n.At), Until: time.UnixMicro(n.Until)})
	}
	r.view.apply(rows, r.now())
}
