package registry

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// activity remembers when sessions were last used, and writes it to their
// root tokens at most once per session per interval, in batches, off the
// request path: a busy session costs one write a minute, not one a request.
type activity struct {
	every time.Duration

	mu      sync.RWMutex
	written map[string]time.Time // sid → the last time written (or queued)
	pending map[string]time.Time // sid → the time to write next flush
}

func newActivity(every time.Duration) *activity {
	return &activity{every: every, written: map[string]time.Time{}, pending: map[string]time.Time{}}
}

// touch notes that session sid was used at. Within an interval of the last
// write it only takes a read lock.
func (a *activity) touch(sid string, at time.Time) {
	a.mu.RLock()
	last, ok := a.written[sid]
	a.mu.RUnlock()
	if ok && at.Sub(last) < a.every {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if last, ok := a.written[sid]; ok && at.Sub(last) < a.every {
		return
	}
	a.written[sid] = at
	a.pending[sid] = at
}

// take returns the pending writes and forgets sessions unused for longer
// than keep.
func (a *activity) take(now time.Time, keep time.Duration) map[string]time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := a.pending
	a.pending = map[string]time.Time{}
	for sid, at := range a.written {
		if now.Sub(at) > keep {
			delete(a.written, sid)
		}
	}
	return out
}

// lastUsed returns the last use noted in memory, zero when none.
func (a *activity) lastUsed(sid string) time.Time {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.written[sid]
}

// Touch notes that session sid was used at at (an authenticated request).
// It costs a map lookup; the time reaches the database at the next flush,
// at most once per session per Options.ActivityEvery.
func (r *Registry) Touch(sid string, at time.Time) { r.activity.touch(sid, at) }

// FlushActivity writes the pending last-used times to the sessions' root
// tokens, grouped into one UPDATE per distinct second. The background loop
// calls it every Options.ActivityEvery, and Close once more.
func (r *Registry) FlushActivity(ctx context.Context) (sessions int, err error) {
	pending := r.activity.take(r.opts.Clock(), r.opts.MaxLifetime)
	bySecond := map[time.Time][]string{}
	for sid, at := range pending {
		sec := dbTime(at).Truncate(time.Second)
		bySecond[sec] = append(bySecond[sec], sid)
	}
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
