package throttle

import (
	"hash/maphash"
	"math"
	"time"
)

// Bounds of the throttle's failure table. Each window keeps at most
// tableKeys exact counts (a key is at most 67 bytes), then counts further
// keys in overflowBuckets shared buckets.
const (
	tableKeys       = 1 << 16
	overflowBuckets = 1 << 20 // 4 MiB of uint32, made only when a window overflows
)

// failures are the counts of one window: exact per key until the table
// holds t.maxKeys keys, then, for keys not in it, in hashed buckets shared by
// many keys. A shared bucket over-counts (a key may be refused early),
// never under-counts: the throttle fails closed, never open.
type failures struct {
	exact    map[string]uint32
	overflow []uint32 // nil until exact is full
	seed     maphash.Seed
	maxKeys  int
	nBuckets int
}

func (t *Throttle) newFailures() *failures {
	return &failures{exact: map[string]uint32{}, seed: t.seed, maxKeys: t.maxKeys, nBuckets: t.nBuckets}
}

func (f *failures) bucket(key string) *uint32 {
	return &f.overflow[maphash.String(f.seed, key)%uint64(len(f.overflow))]
}

// get is key's count. A key enters exact only before the window overflows,
// and once the window has overflowed a key not in exact is counted in its
// bucket alone, so no count is ever lost.
func (f *failures) get(key string) uint32 {
	if n, ok := f.exact[key]; ok {
		return n
	}
	if f.overflow != nil {
		return *f.bucket(key)
	}
	return 0
}

func (f *failures) add(key string) {
	if n, ok := f.exact[key]; ok {
		f.exact[key] = n + 1
		return
	}
	if f.overflow == nil && len(f.exact) < f.maxKeys {
		f.exact[key] = 1
		return
	}
	if f.overflow == nil {
		f.overflow = make([]uint32, f.nBuckets)
	}
	if b := f.bucket(key); *b < math.MaxUint32 {
		*b++
	}
}

// clear forgets key's count where it is its own; a shared bucket keeps it.
func (f *failures) clear(key string) { delete(f.exact, key) }

// advance moves the windows forward to now. Callers hold mu.
func (t *Throttle) advance(now time.Time) {
	if t.start.IsZero() {
		t.start = now.Truncate(t.window)
	}
	switch elapsed := now.Sub(t.start); {
	case elapsed >= 2*t.window:
		t.prev, t.cur = t.newFailures(), t.newFailures()
		t.start = now.Truncate(t.window)
	case elapsed >= t.window:
		t.prev, t.cur = t.cur, t.newFailures()
		t.start = t.start.Add(t.window)
	}
}

// estimate is the sliding count of key at now. Callers hold mu.
func (t *Throttle) estimate(key string, now time.Time) float64 {
	overlap := 1 - float64(now.Sub(t.start))/float64(t.window)
	return float64(t.cur.get(key)) + float64(t.prev.get(key))*overlap
}

// waitFor is how long until key's sliding count drops below limit, 0 when it
// is below already. Callers hold mu.
func (t *Throttle) waitFor(key string, limit int, now time.Time) time.Duration {
	if t.estimate(key, now) < float64(limit) {
		return 0
	}
	cur, prev := float64(t.cur.get(key)), float64(t.prev.get(key))
	// The count falls as the previous window slides out: solve
	// cur + prev*(1-x) < limit for the fraction x of the window elapsed.
	if cur < float64(limit) && prev > 0 {
		x := 1 - (float64(limit)-cur)/prev
		at := t.start.Add(time.Duration(math.Ceil(x*float64(t.window))) + time.Millisecond)
		if d := at.Sub(now); d > 0 {
			return d
		}
	}
	// Otherwise the current window must end and slide out in turn.
	next := t.start.Add(t.window)
	x := max(1-float64(limit)/cur, 0)
	return next.Add(time.Duration(math.Ceil(x*float64(t.window))) + time.Millisecond).Sub(now)
}
