package ginjwt

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/pipeline"
)

// BenchmarkLoginRegistration is POST /auth/token with a cheap password hash,
// so that what is measured is issuing and registering the pair, by the way
// the pair is registered:
//
//   - sync: in the request, in one transaction;
//   - async: in the background, after the request has written a journal
//     entry (the default asynchronous mode: a crash delays a registration,
//     never loses it);
//   - async-volatile: in the background with no journal, as ginjwt's
//     asynchronous mode was before the journal (kept here as the baseline
//     only; no Config builds it).
//
// Each runs back to back (the next login starts when the last one is
// answered, so background registrations compete with it: throughput) and
// paced (5 ms of idle time, not measured, between logins, so that the
// background has finished: the latency a client sees on a server that is
// not saturated).
//
// Run the modes side by side: go test -run '^$' -bench LoginRegistration -count 6.
func BenchmarkLoginRegistration(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		for _, run := range []struct {
			mode string
			idle time.Duration
		}{
			{"sync", 0}, {"async", 0}, {"async-volatile", 0},
			{"sync", 5 * time.Millisecond}, {"async", 5 * time.Millisecond}, {"async-volatile", 5 * time.Millisecond},
		} {
			mode, pace := run.mode, map[bool]string{true: "paced", false: "back-to-back"}[run.idle > 0]
			b.Run("db="+engine+"/"+pace+"/registration="+mode, func(b *testing.B) {
				db := testdb.SQLite(b)
				if engine == "postgres" {
					db = testdb.Postgres(b)
				}
				h := newHarness(b, db, func(c *Config) {
					c.Limits.Throttle.Disabled = true
					c.Registry.Async = mode != "sync"
				})
				if mode == "async-volatile" {
					withoutJournal(b, h.auth)
				}
				h.user("alice")
				body := `{"username":"alice","password":"pw-alice"}`
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					if run.idle > 0 {
						b.StopTimer()
						time.Sleep(run.idle)
						b.StartTimer()
					}
					r := httptest.NewRequest(http.MethodPost, "/auth/token", strings.NewReader(body))
					r.Header.Set("Content-Type", "application/json")
					w := httptest.NewRecorder()
					h.engine.ServeHTTP(w, r)
					if w.Code != http.StatusOK {
						b.Fatalf("login: %d %s", w.Code, w.Body)
					}
				}
				b.StopTimer()
				// Every queued registration is written before the next
				// sub-benchmark starts, so none of them runs in its time.
				if err := h.auth.pipeline.Close(context.Background()); err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}

// withoutJournal replaces a's registration pipeline by an asynchronous one
// without a journal, the same steps otherwise.
func withoutJournal(tb testing.TB, a *Auth) {
	tb.Helper()
	if err := a.pipeline.Close(context.Background()); err != nil {
		tb.Fatal(err)
	}
	reg := a.registry
	a.pipeline = pipeline.NewRunner([]pipeline.Step{reg.RegisterPairs, reg.ConnectUser}, pipeline.Options{
		Async:     true,
		Workers:   a.cfg.Registry.Workers,
		QueueSize: a.cfg.Registry.QueueSize,
		Logger:    a.log,
		OnError:   a.registrationFailed,
		Wrap:      reg.InTx,
	})
}
