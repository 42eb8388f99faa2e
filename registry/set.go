package registry

import (
	"time"

	"github.com/ginjwt/ginjwt/pipeline"
)

// Set is an in-memory revocation set: the projection of revocation log
// entries that every [Registry] keeps of its own database, exported for
// processes that read the log another way. Package remote keeps one per
// client service, fed by the auth service's revocation feed, and asks it
// exactly what a Registry asks its own: the same entries revoke the same
// tokens. A Set is safe for concurrent use.
type Set struct{ v *view }

// NewSet returns an empty Set, bounded only by time (entries leave when
// their Until passes).
func NewSet() *Set { return &Set{v: newView()} }

// NewBoundedSet returns an empty Set that holds at most max entries, as
// Options.MaxRevocations bounds a Registry's (max ≤ 0: no bound). Past it
// the oldest tenth is forgotten, and RevokedBy answers KindForgotten for a
// token issued before the latest revocation forgotten (with a clock
// margin): memory can no longer rule it out, so the caller asks the source
// of the log, or refuses the token. Nothing is forgotten silently.
func NewBoundedSet(max int) *Set {
	s := NewSet()
	s.v.max = max
	return s
}

// Forgotten is how many revocations the set forgot past its bound.
func (s *Set) Forgotten() int64 {
	s.v.mu.RLock()
	defer s.v.mu.RUnlock()
	return s.v.forgotten
}

// Load adds entries read as a snapshot (every live entry, in no promised
// order of commit) and sets the cursor to cursor: the next read asks for
// the entries after it. IDs below the cursor missing from rows are not
// gaps: a snapshot leaves out the entries that no longer matter.
func (s *Set) Load(rows []Revocation, cursor int64, now time.Time) {
	s.v.apply(rows, now)
	s.v.mu.Lock()
	s.v.lastID = max(s.v.lastID, cursor)
	s.v.mu.Unlock()
}

// Apply adds entries read in log order after the cursor, every entry of
// the range whether it still matters or not, and moves the cursor past
// them. An ID skipped in rows is a gap (a transaction that took its ID
// earlier may commit later): [Set.Cursor] stays below it until it shows up
// or ten minutes pass, as a Registry's own reads do.
func (s *Set) Apply(rows []Revocation, now time.Time) {
	s.v.apply(rows, now)
	s.v.advance(rows, now)
}

// Rewind sets the cursor to cursor, lower or higher, and stops awaiting
// gaps, keeping every entry held: for a reader told to start over with a
// snapshot (the log was restored or archived past it) that must not forget
// the revocations it holds meanwhile.
func (s *Set) Rewind(cursor int64) {
	s.v.mu.Lock()
	s.v.lastID = cursor
	clear(s.v.gaps)
	s.v.mu.Unlock()
}

// Holds reports whether the set already holds what r revokes: its token,
// its session, or (KindUser) a cut-off at least as far as r's.
func (s *Set) Holds(r Revocation) bool {
	s.v.mu.RLock()
	defer s.v.mu.RUnlock()
	switch r.Kind {
	case KindToken:
		return s.v.tokens.has(r.Subject)
	case KindSession:
		return s.v.sessions.has(r.Subject)
	case KindUser:
		c, ok := s.v.users[r.Subject]
		return ok && c.gen >= r.Generation && c.made >= r.At.UnixMicro() && (r.Generation != 0 || !c.at.Before(r.At))
	}
	return false
}

// Cursor is the log ID to read after: the highest read, or just below the
// oldest gap still awaited.
func (s *Set) Cursor(now time.Time) int64 {
	cursor := s.v.last()
	for _, id := range s.v.pendingGaps(now) {
		cursor = min(cursor, id-1)
	}
	return cursor
}

// RevokedBy reports whether t is revoked — the token itself, its session,
// or its user's cut-off — and by which kind of entry. It reads memory only.
func (s *Set) RevokedBy(t *pipeline.Token) (RevocationKind, bool) { return s.v.revoked(t) }

// Prune forgets the entries whose Until has passed at now.
func (s *Set) Prune(now time.Time) { s.v.prune(now) }

// Len is how many revoked tokens, sessions and user cut-offs the set holds.
func (s *Set) Len() int { return s.v.size() }
