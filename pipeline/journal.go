package pipeline

import (
	"context"
	"time"
)

// Journal makes an asynchronous [Runner] durable: an event is saved before
// Run returns, and its entry is settled (deleted) in the same transaction
// as the steps' work, so a process killed at any moment, or a database
// that is down for any length of time, delays a registration but never
// loses it. Entries left behind are replayed: at start, periodically, and
// on demand through [Runner.Flush].
//
// The token registry's journal (registry.Registry.Journal) keeps entries in
// the application's database.
type Journal interface {
	// Save durably records e and returns the entry's key (never 0). It
	// fails when e cannot be made durable; the Runner then returns the
	// error from Run, and the caller must not hand out e's tokens.
	Save(ctx context.Context, e *Event) (key int64, err error)
	// Settle deletes the entry key. The Runner calls it after the steps
	// succeeded, inside Options.Wrap, so that with a transactional Wrap the
	// entry goes exactly when the work lands. Settling an entry that is gone
	// already (another run settled it) is not an error.
	Settle(ctx context.Context, key int64) error
	// Pending returns up to limit entries whose key is above after and
	// that were saved before before, in the order of their keys; only those
	// of userID when it is not empty. The Runner pages through the journal
	// with after, so that entries that keep failing do not hide the ones
	// behind them.
	Pending(ctx context.Context, after int64, before time.Time, userID string, limit int) ([]Saved, error)
}

// Saved is a journal entry: an event saved and not yet settled.
type Saved struct {
	Key   int64
	Event Event
}
