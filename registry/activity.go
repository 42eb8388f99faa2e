package registry

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ginjwt/ginjwt/pipeline"
)

// activity remembers when sessions were last used, and writes it to their
// root tokens at most once per session per interval, in batches, off the
// request path: a busy session costs one write a minute, not one a request.
//
// It is built for many sessions: a session ginjwt issued is held by its
// 16-byte key (not by a string, which would keep the token's payload it
// points into alive) with one 8-byte stamp, in one of activityShards maps,
// each behind its own mutex, so that a session's first request costs one
// uncontended lock and one map insert, and a session costs ~40 bytes of
// heap (BENCHMARKS.md). Session IDs of any other form are kept by a copy
// of their string, in a map of their own.
type activity struct {
	every int64 // the interval, in microseconds

	shards [activityShards]activityShard
	other  struct {
		mu sync.Mutex
		m  map[string]stamp
	}
}

// activityShards spreads the sessions over this many maps and locks.
const activityShards = 64

type activityShard struct {
	mu sync.Mutex
	m  map[key]stamp
	_  [64 - 16]byte // one cache line a shard: no false sharing between locks
}

// stamp is a session's last noted use, in microseconds since the Unix epoch
// (what the database keeps), shifted left by one; the low bit is set while
// that time waits for the next flush.
type stamp uint64

const pendingBit stamp = 1

func stampOf(at time.Time, pending bool) stamp {
	s := stamp(at.UnixMicro()) << 1
	if pending {
		s |= pendingBit
	}
	return s
}

func (s stamp) micros() int64   { return int64(s) >> 1 }
func (s stamp) time() time.Time { return time.UnixMicro(s.micros()).UTC() }
func (s stamp) pending() bool   { return s&pendingBit != 0 }

func newActivity(every time.Duration) *activity {
	a := &activity{every: int64((every + time.Microsecond - 1) / time.Microsecond)}
	for i := range a.shards {
		a.shards[i].m = map[key]stamp{}
	}
	a.other.m = map[string]stamp{}
	return a
}

// touch notes that session sid was used at. Within an interval of the last
// noted use it changes nothing; otherwise it records at, to be written at
// the next flush. Either way it takes one shard's lock once.
func (a *activity) touch(sid string, at time.Time) {
	now := stampOf(at, true)
	k, ok := parseKey(sid)
	if !ok {
		a.touchOther(sid, now)
		return
	}
	s := &a.shards[k[0]%activityShards]
	s.mu.Lock()
	if last, seen := s.m[k]; !seen || now.micros()-last.micros() >= a.every {
		s.m[k] = now
	}
	s.mu.Unlock()
}

func (a *activity) touchOther(sid string, now stamp) {
	a.other.mu.Lock()
	defer a.other.mu.Unlock()
	if last, seen := a.other.m[sid]; seen && now.micros()-last.micros() < a.every {
		return
	}
	if _, seen := a.other.m[sid]; !seen {
		sid = strings.Clone(sid) // not a view into the token it came from
	}
	a.other.m[sid] = now
}

// take returns the pending writes, grouped by the second they record (the
// database's precision for last_used_at), and forgets sessions unused for
// longer than keep.
func (a *activity) take(now time.Time, keep time.Duration) map[time.Time][]string {
	out := map[time.Time][]string{}
	oldest := now.Add(-keep).UnixMicro()
	add := func(sid string, s stamp) {
		sec := s.time().Truncate(time.Second)
		out[sec] = append(out[sec], sid)
	}
	for i := range a.shards {
		s := &a.shards[i]
		s.mu.Lock()
		for k, st := range s.m {
			if st.pending() {
				add(k.String(), st)
				s.m[k] = st &^ pendingBit
			} else if st.micros() < oldest {
				delete(s.m, k)
			}
		}
		s.mu.Unlock()
	}
	a.other.mu.Lock()
	for sid, st := range a.other.m {
		if st.pending() {
			add(sid, st)
			a.other.m[sid] = st &^ pendingBit
		} else if st.micros() < oldest {
			delete(a.other.m, sid)
		}
	}
	a.other.mu.Unlock()
	return out
}

// lastUsed returns the last use noted in memory, zero when none.
func (a *activity) lastUsed(sid string) time.Time {
	var st stamp
	var seen bool
	if k, ok := parseKey(sid); ok {
		s := &a.shards[k[0]%activityShards]
		s.mu.Lock()
		st, seen = s.m[k]
		s.mu.Unlock()
	} else {
		a.other.mu.Lock()
		st, seen = a.other.m[sid]
		a.other.mu.Unlock()
	}
	if !seen {
		return time.Time{}
	}
	return st.time()
}

// sessions is the number of sessions held, for tests.
func (a *activity) sessions() int {
	n := 0
	for i := range a.shards {
		s := &a.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	a.other.mu.Lock()
	defer a.other.mu.Unlock()
	return n + len(a.other.m)
}

// Touch notes that session sid was used at at (an authenticated request).
// It costs one map lookup under one of 64 locks, and a map write when the
// session was not noted within the last Options.ActivityEvery; sid is not
// retained (it is copied). The time reaches the database at the next
// flush, at most once per session per Options.ActivityEvery.
func (r *Registry) Touch(sid string, at time.Time) { r.activity.touch(sid, at) }

// TouchToken notes a request at at authenticated by a token of session sid
// issued at issued. A token younger than Options.ActivityEvery notes
// nothing: registering it (RegisterPairs) noted its session at its issue
// time, within the interval of this request, so last_used_at stays exact
// to the interval while a session's first requests — right after a login
// or a refresh — skip the note and its map insert. An older token is
// noted as [Registry.Touch] notes it.
func (r *Registry) TouchToken(sid string, issued, at time.Time) {
	if at.Sub(issued) < r.opts.ActivityEvery {
		return
	}
	r.activity.touch(sid, at)
}

// noteIssued notes the sessions of the tokens registered as used at their
// issue time (see TouchToken).
func (r *Registry) noteIssued(pairs []pipeline.Pair) {
	for i := range pairs {
		t := &pairs[i].Child
		if t.SessionID != "" && !t.IssuedAt.IsZero() {
			r.activity.touch(t.SessionID, t.IssuedAt)
		}
	}
}

// FlushActivity writes the pending last-used times to the sessions' root
// tokens, grouped into one UPDATE per distinct second. The background loop
// calls it every Options.ActivityEvery, and Close once more. Times that a
// failed UPDATE could not write are not retried; the session's next use
// after the interval writes it again.
func (r *Registry) FlushActivity(ctx context.Context) (sessions int, err error) {
	bySecond := r.activity.take(r.opts.Clock(), r.opts.MaxLifetime)
	for at, sids := range bySecond {
		for start := 0; start < len(sids); start += chunk {
			part := sids[start:min(start+chunk, len(sids))]
			err := r.db.WithContext(ctx).Model(&Token{}).Where("jti IN ?", part).Update("last_used_at", at).Error
			if err != nil {
				return sessions, fmt.Errorf("registry: record activity: %w", err)
			}
			sessions += len(part)
		}
	}
	return sessions, nil
}

func (r *Registry) activityLoop(ctx context.Context) {
	every(ctx, r.opts.ActivityEvery, nil, func(ctx context.Context) {
		if _, err := r.FlushActivity(ctx); err != nil && ctx.Err() == nil {
			r.log.WarnContext(ctx, "ginjwt registry: activity flush failed", "error", err)
		}
	})
}
