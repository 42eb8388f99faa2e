package bench

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"
)

// A paired measurement sends requests through a baseline and a candidate
// handler alternately, in blocks, and takes the median of the per-block
// ratios: noise from other work on the machine (a compile, a GC of the
// other side) lands on both sides of a pair, so the ratio stays steady
// while the absolute times move by tens of percent.

// pairedBlock is the number of requests a side serves per block.
const pairedBlock = 2000

// pairedSide is one handler and the request it serves over and over.
type pairedSide struct {
	h   http.Handler
	req *http.Request
	// want is the status every answer must have.
	want int
}

// pairedRatio runs b.N requests on each side, alternating blocks of
// pairedBlock, and reports the candidate's ns/op (as the benchmark's own),
// the baseline's (ns/base) and the median of the per-block ratios (×base).
// Run it with -benchtime Nx, N a multiple of pairedBlock (at least 20
// blocks: 40000x).
func pairedRatio(b *testing.B, base, cand pairedSide) {
	b.Helper()
	next := func() http.ResponseWriter { return httptest.NewRecorder() }
	if writer == "sink" {
		s := newSink()
		next = func() http.ResponseWriter { s.code = 0; return s }
	}
	check := func(side pairedSide) {
		w := next()
		side.h.ServeHTTP(w, side.req)
		code := http.StatusOK
		switch w := w.(type) {
		case *httptest.ResponseRecorder:
			code = w.Code
		case *sink:
			if w.code != 0 {
				code = w.code
			}
		}
		if code != side.want {
			b.Fatalf("status %d, want %d", code, side.want)
		}
	}
	run := func(side pairedSide, n int) time.Duration {
		start := time.Now()
		for range n {
			side.h.ServeHTTP(next(), side.req)
		}
		return time.Since(start)
	}
	check(base)
	check(cand)
	run(base, pairedBlock) // warm both up outside the measurement
	run(cand, pairedBlock)
	blocks := max(1, b.N/pairedBlock)
	ratios := make([]float64, 0, blocks)
	var baseTotal, candTotal time.Duration
	b.ResetTimer()
	b.StopTimer() // the benchmark's own clock would count both sides
	for i := range blocks {
		var tb, tc time.Duration
		if i%2 == 0 { // alternate which side goes first
			tb = run(base, pairedBlock)
			tc = run(cand, pairedBlock)
		} else {
			tc = run(cand, pairedBlock)
			tb = run(base, pairedBlock)
		}
		baseTotal += tb
		candTotal += tc
		ratios = append(ratios, float64(tc)/float64(tb))
	}
	check(base)
	check(cand)
	slices.Sort(ratios)
	n := float64(blocks * pairedBlock)
	b.ReportMetric(float64(candTotal.Nanoseconds())/n, "ns/op")
	b.ReportMetric(float64(baseTotal.Nanoseconds())/n, "ns/base")
	b.ReportMetric(ratios[len(ratios)/2], "×base")
}
