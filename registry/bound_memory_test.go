package registry

import (
	"os"
	"runtime"
	"testing"
	"time"
)

// TestRevocationBoundMemory fills a view bounded at max with 1.2 × max
// session revocations, one batch of 1000 at a time, and reports the heap
// per entry held and the longest batch (which includes the forgetting,
// under the view's lock). max is 100,000, or 1,000,000 with
// GINJWT_BENCH_BOUND=1 (BENCHMARKS.md).
func TestRevocationBoundMemory(t *testing.T) {
	bound := 100_000
	if os.Getenv("GINJWT_BENCH_BOUND") == "1" {
		bound = 1_000_000
	}
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	v := newView()
	v.max = bound
	before := liveHeap()
	var longest, total time.Duration
	rows := make([]Revocation, 1000)
	for b := range bound * 12 / 10 / len(rows) {
		for i := range rows {
			at := now.Add(time.Duration(b*len(rows)+i) * time.Millisecond)
			rows[i] = Revocation{Kind: KindSession, Subject: newSID(), At: at, Until: at.Add(24 * time.Hour)}
		}
		start := time.Now()
		v.apply(rows, now)
		d := time.Since(start)
		total += d
		longest = max(longest, d)
	}
	after := liveHeap()
	held := v.size()
	if held > bound {
		t.Fatalf("%d entries held, bound %d", held, bound)
	}
	if v.forgotten == 0 || v.forgotAt == 0 {
		t.Fatal("nothing forgotten past the bound")
	}
	perEntry := float64(int64(after)-int64(before)) / float64(held)
	t.Logf("bound %d: %d held, %d forgotten; %.1f bytes of heap per entry held; applying 1000 took at most %v (forgetting included), %v on average",
		bound, held, v.forgotten, perEntry, longest, total/time.Duration(bound*12/10/len(rows)))
	if perEntry >= 128 {
		t.Fatalf("%.1f bytes per entry, want < 128", perEntry)
	}
	runtime.KeepAlive(v)
}
