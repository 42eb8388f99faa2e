package bench

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/users"
)

// peakRSS reads the process's peak resident set (VmHWM) in bytes.
func peakRSS(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return kb << 10
		}
	}
	t.Skip("no VmHWM")
	return 0
}

// resetPeak resets VmHWM to the current RSS (Linux: clear_refs 5).
func resetPeak(t *testing.T) {
	runtime.GC()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Skipf("cannot reset the peak RSS: %v", err)
	}
}

// TestLoginFloodMemory sends 500 logins at once with the default argon2id
// parameters and reports the peak RSS with the hashing bounded to the
// default (one hash per CPU) and, for contrast, to 32 at a time. Set
// GINJWT_BENCH_FLOOD=1 to run it.
func TestLoginFloodMemory(t *testing.T) {
	if os.Getenv("GINJWT_BENCH_FLOOD") != "1" {
		t.Skip("set GINJWT_BENCH_FLOOD=1 to send 500 parallel logins")
	}
	db := openSQLite(t)
	seed := users.NewStore(db)
	if err := seed.Create(t.Context(), users.NewUser("alice"), "correct horse battery staple"); err != nil {
		t.Fatal(err)
	}
	for _, bound := range []int{0, 32} {
		hasher := users.NewHasher(users.DefaultParams, bound)
		r, _ := loginEngine(t, db, func(c *ginjwt.Config) { c.Users = users.NewStore(db, users.WithHasher(hasher)) })
		resetPeak(t)
		before := peakRSS(t)
		start := time.Now()
		var wg sync.WaitGroup
		var mu sync.Mutex
		codes := map[int]int{}
		for range 500 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req := httptest.NewRequest(http.MethodPost, "/auth/token", bytes.NewReader([]byte(`{"username":"alice","password":"correct horse battery staple"}`)))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				r.ServeHTTP(rec, req)
				mu.Lock()
				codes[rec.Code]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		growth := peakRSS(t) - before
		concurrent := bound
		if concurrent <= 0 {
			concurrent = runtime.GOMAXPROCS(0)
		}
		t.Logf("500 parallel logins, at most %d hashes at a time: %v, status %v, peak RSS +%d MiB (%d × 19 MiB = %d MiB of hashing)",
			concurrent, elapsed.Round(time.Millisecond), codes, growth>>20, concurrent, concurrent*19)
		if codes[200] != 500 {
			t.Fatalf("codes %v", codes)
		}
		if bound == 0 && growth > int64(4*concurrent*19+128)<<20 {
			t.Fatalf("peak RSS grew %d MiB with %d hashes at a time", growth>>20, concurrent)
		}
	}
}
