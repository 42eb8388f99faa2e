package registry

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ginjwt/ginjwt/pipeline"
)

// view is the in-memory projection of the revocation log: the revoked
// tokens and sessions that have not yet expired, and the users' cut-offs.
// Authentication asks it, never the database.
type view struct {
	mu       sync.RWMutex
	tokens   idSet             // revoked jtis
	sessions idSet             // revoked sids
	users    map[string]cutOff // user ID → the latest cut-off

	// lastID is the highest log ID read from the database; gaps are lower
	// IDs not seen yet (a transaction that took its ID earlier may commit
	// later), re-read until they appear or a minute passes.
	lastID int64
	gaps   map[int64]time.Time

	// max bounds the entries held (0: no bound). Past it the oldest are
	// forgotten: forgotAt is the latest revocation time (µs) among them,
	// and a token issued before it (plus clockMargin) is one the view can
	// no longer vouch for (see uncertain). forgotten counts them.
	max       int
	forgotAt  int64
	forgotten int64

	// pruned is when prune last ran: it walks every entry under the write
	// lock, so it runs at most once per pruneEvery, not at every catch-up
	// a NOTIFY brings.
	pruned time.Time
}

// pruneEvery is how often prune walks the entries at most: an entry past
// its Until revokes nothing more (every token it covers has expired), so
// keeping it a second longer changes no answer.
const pruneEvery = time.Second

// cutOff is a user's latest cut-off: tokens of a lower generation are
// revoked; at is the cut-off time of legacy entries (generation 0), which
// revoke the tokens issued before it.
type cutOff struct {
	gen       int64
	at, until time.Time
	made      int64 // µs: the latest entry's revocation time
}

func newView() *view {
	return &view{
		tokens:   idSet{},
		sessions: idSet{},
		users:    map[string]cutOff{},
		gaps:     map[int64]time.Time{},
	}
}

// KindForgotten is the answer of memory alone about a token the in-memory
// view can no longer vouch for: it has forgotten revocations, past
// Options.MaxRevocations, that could apply to it. [Registry.RevokedBy]
// refuses such a token; [Registry.RevokedContext] asks the database.
const KindForgotten RevocationKind = "forgotten"

// revoked reports whether token t is revoked, and why: KindForgotten when
// t was issued before the latest revocation forgotten past the bound (with
// the clock margin), which memory can no longer rule out.
func (v *view) revoked(t *pipeline.Token) (RevocationKind, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if k, ok := v.held(t); ok {
		return k, true
	}
	if v.forgotAt != 0 && t.IssuedAt.UnixMicro() < v.forgotAt+clockMargin.Microseconds() {
		return KindForgotten, true
	}
	return "", false
}

// held is revoked by the entries held alone. Callers hold mu.
func (v *view) held(t *pipeline.Token) (RevocationKind, bool) {
	if v.tokens.has(t.ID) {
		return KindToken, true
	}
	if v.sessions.has(t.SessionID) {
		return KindSession, true
	}
	if c, ok := v.users[t.UserID]; ok && (t.Generation < c.gen || t.IssuedAt.Before(c.at)) {
		return KindUser, true
	}
	return "", false
}

// apply adds log entries to the view. Entries past their Until are
// skipped: nothing they cover is still valid.
func (v *view) apply(rows []Revocation, now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, r := range rows {
		if !now.Before(r.Until) {
			continue
		}
		switch r.Kind {
		case KindToken:
			v.tokens.add(r.Subject, r.At, r.Until)
		case KindSession:
			v.sessions.add(r.Subject, r.At, r.Until)
		case KindUser:
			c := v.users[r.Subject]
			if r.Generation == 0 && r.At.After(c.at) {
				c.at = r.At // a legacy entry: ordered by time
			}
			c.gen = max(c.gen, r.Generation)
			c.until = later(c.until, r.Until)
			c.made = max(c.made, r.At.UnixMicro())
			v.users[r.Subject] = c
		}
	}
	if v.max > 0 && len(v.tokens)+len(v.sessions)+len(v.users) > v.max {
		v.forget()
	}
}

// forget makes room below the bound: it forgets the oldest revocations
// (by revocation time) until a tenth of the bound is free, and raises
// forgotAt to the latest of them, so that every token they could refuse
// is one the view no longer vouches for. Callers hold mu.
//
// It sorts the revocation times of every entry: ~0.1 s at a million,
// once per tenth of the bound of new revocations.
func (v *view) forget() {
	n := len(v.tokens) + len(v.sessions) + len(v.users)
	drop := n - v.max*9/10
	if drop <= 0 {
		return
	}
	ats := make([]int64, 0, n)
	for _, e := range v.tokens {
		ats = append(ats, e.at)
	}
	for _, e := range v.sessions {
		ats = append(ats, e.at)
	}
	for _, c := range v.users {
		ats = append(ats, c.made)
	}
	slices.Sort(ats)
	cut := ats[drop-1]
	v.forgotten += int64(v.tokens.forget(cut) + v.sessions.forget(cut))
	for k, c := range v.users {
		if c.made <= cut {
			delete(v.users, k)
			v.forgotten++
		}
	}
	v.forgotAt = max(v.forgotAt, cut)
}

// advance records that the rows up to the last of rows were read from the
// database, noting the IDs skipped as gaps.
func (v *view) advance(rows []Revocation, now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, r := range rows {
		delete(v.gaps, r.ID)
		if r.ID <= v.lastID {
			continue
		}
		for missing := v.lastID + 1; missing < r.ID && len(v.gaps) < maxGaps; missing++ {
			v.gaps[missing] = now
		}
		v.lastID = r.ID
	}
}

// maxGaps bounds the IDs remembered as gaps.
const maxGaps = 4096

// gapTTL is how long a gap is re-read before it counts as a rolled-back
// transaction: longer than any revoking transaction should take (they write
// a few rows). A revocation that commits later than this after taking its
// ID is seen by other instances only after their restart.
const gapTTL = 10 * time.Minute

// pendingGaps returns the gaps to re-read, forgetting those older than gapTTL.
func (v *view) pendingGaps(now time.Time) []int64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	var ids []int64
	for id, seen := range v.gaps {
		if now.Sub(seen) > gapTTL {
			delete(v.gaps, id)
			continue
		}
		ids = append(ids, id)
	}
	return ids
}

func (v *view) last() int64 {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.lastID
}

// prune forgets entries whose Until has passed.
func (v *view) prune(now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if now.Sub(v.pruned) < pruneEvery && !now.Before(v.pruned) {
		return
	}
	v.pruned = now
	v.tokens.prune(now)
	v.sessions.prune(now)
	for k, c := range v.users {
		if !now.Before(c.until) {
			delete(v.users, k)
		}
	}
}

// size is the number of entries, for metrics and tests.
func (v *view) size() int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return len(v.tokens) + len(v.sessions) + len(v.users)
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// sessionRevoked reports whether a whole session is revoked.
func (v *view) sessionRevoked(sid string) bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.sessions.has(sid)
}

// idSet is a set of revoked IDs, each with the time it stops mattering
// (microseconds since the Unix epoch, rounded up) and the time it was
// revoked (µs, for the bound on count). Each ID is a copy, never a view
// into the token or row it came from: ~70 bytes an entry for a
// 22-character ID (BENCHMARKS.md). Keys stay strings rather than parsed
// 16-byte IDs, as the activity's are, because every request looks up two
// IDs here and a string lookup costs less than a parse and a lookup.
type idSet map[string]idEntry

type idEntry struct{ until, at int64 }

func (s idSet) has(id string) bool {
	_, found := s[id]
	return found
}

// add keeps id, revoked at at, until until, or until the later time it is
// kept already.
func (s idSet) add(id string, at, until time.Time) {
	e := idEntry{until: until.Add(time.Microsecond - 1).UnixMicro(), at: at.UnixMicro()} // never before until
	if old, ok := s[id]; ok {
		s[id] = idEntry{until: max(old.until, e.until), at: max(old.at, e.at)}
		return
	}
	s[strings.Clone(id)] = e
}

// prune forgets the IDs whose time has come at now.
func (s idSet) prune(now time.Time) {
	n := now.UnixMicro() // now < until ⇔ ⌊now⌋ < until, until being whole µs
	for id, e := range s {
		if n >= e.until {
			delete(s, id)
		}
	}
}

// forget drops the IDs revoked at or before cut and says how many.
func (s idSet) forget(cut int64) int {
	n := 0
	for id, e := range s {
		if e.at <= cut {
			delete(s, id)
			n++
		}
	}
	return n
}
