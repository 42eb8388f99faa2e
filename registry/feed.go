package registry

import (
	"context"
	"fmt"
)

// FeedPage is one read of the revocation log for the feed of client
// services (see [Registry.Feed]).
type FeedPage struct {
	// Entries are the log entries read, in ID order.
	Entries []Revocation
	// Next is the cursor to read after next time.
	Next int64
	// More is true when the page is full: read again at once from Next.
	More bool
	// Resync is true when the cursor cannot be continued: it lies beyond
	// the log (the database was restored or replaced) or below the entries
	// the archiver has kept. The reader must drop what it holds and read a
	// snapshot (since 0).
	Resync bool
}

// feedLookback is how far below the highest ID a snapshot's cursor is
// set, so the next read takes in the transactions that took their ID
// before the snapshot and committed after it (as [Registry.Start] does).
const feedLookback = startLookback

// Feed reads the revocation log after since, at most limit entries.
//
// since 0 reads a snapshot: the entries that still matter, and a cursor
// just below the log's end. Any other since reads every entry after it,
// including the ones that no longer matter, so that a reader tracking gaps
// in the IDs (see [Set.Apply]) sees the range whole.
func (r *Registry) Feed(ctx context.Context, since int64, limit int) (FeedPage, error) {
	if since < 0 || limit <= 0 {
		return FeedPage{}, fmt.Errorf("registry: feed: since %d, limit %d", since, limit)
	}
	db := r.db.WithContext(ctx)
	var bounds struct{ Min, Max *int64 }
	if err := db.Model(&Revocation{}).Select("MIN(id) AS min, MAX(id) AS max").Scan(&bounds).Error; err != nil {
		return FeedPage{}, fmt.Errorf("registry: feed: %w", err)
	}
	var lo, hi int64
	if bounds.Min != nil {
		lo, hi = *bounds.Min, *bounds.Max
	}
	if since > 0 && (since > hi || since+1 < lo) {
		return FeedPage{Resync: true}, nil
	}
	q := db.Where("id > ?", since)
	if since == 0 {
		q = q.Where("until > ?", r.now())
	}
	var rows []Revocation
	if err := q.Order("id").Limit(limit).Find(&rows).Error; err != nil {
		return FeedPage{}, fmt.Errorf("registry: feed: %w", err)
	}
	page := FeedPage{Entries: rows, Next: since, More: len(rows) == limit}
	if len(rows) > 0 {
		page.Next = rows[len(rows)-1].ID
	}
	if since == 0 {
		// Resume below the log's end, for transactions that took their ID
		// before this read and commit after it, but never below the entries
		// kept (lo-1 is still a cursor the next read continues); a page that
		// is not the last resumes no higher than that either, so entries
		// committed under its last ID meanwhile are read.
		resume := max(0, hi-feedLookback, lo-1)
		if page.More {
			page.Next = min(page.Next, resume)
		} else {
			page.Next = resume
		}
	}
	return page, nil
}
