package ginjwt

import (
	"context"
	"sync"
	"testing"

	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/pipeline"
)

func TestStatsCountsCacheLookups(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, nil)
	h.user("alice")
	if s := h.auth.Stats(); s != (Stats{}) {
		t.Fatalf("Stats before any request = %+v, want zero (synchronous registration has no queue)", s)
	}
	p := h.login("alice") // no access token presented: no lookup
	for range 3 {
		wantStatus(t, h.do(req{path: "/api/hello", bearer: p.Access}), 200)
	}
	wantError(t, h.do(req{path: "/api/hello", bearer: "not.a.token"}), 401, "token_invalid")
	wantStatus(t, h.do(req{path: "/api/public"}), 200) // no token: no lookup
	got := h.auth.Stats()
	want := Stats{CacheHits: 2, CacheMisses: 2, CacheEntries: 1}
	if got != want {
		t.Fatalf("Stats = %+v, want %+v", got, want)
	}
}

func TestStatsCacheDisabled(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, func(c *Config) { c.Limits.Cache.Disabled = true })
	h.user("alice")
	p := h.login("alice")
	wantStatus(t, h.do(req{path: "/api/hello", bearer: p.Access}), 200)
	wantStatus(t, h.do(req{path: "/api/hello", bearer: p.Access}), 200)
	if s := h.auth.Stats(); s != (Stats{}) {
		t.Fatalf("Stats with the cache disabled = %+v, want zero", s)
	}
}

// TestStatsRegistrationQueue holds the one worker of the background
// pipeline inside its registration's transaction, on PostgreSQL: on SQLite
// that transaction would hold the write lock the next logins' journal
// entries need.
func TestStatsRegistrationQueue(t *testing.T) {
	t.Parallel()
	started := make(chan struct{}, 8)
	release := make(chan struct{})
	var releaseOnce sync.Once
	h := newHarness(t, testdb.Postgres(t), func(c *Config) {
		c.Registry.Async = true
		c.Registry.Workers = 1
		c.Registry.QueueSize = 8
		c.Registry.Pipeline = func(defaults []pipeline.Step) []pipeline.Step {
			hold := func(ctx context.Context, e *pipeline.Event) error {
				started <- struct{}{}
				<-release
				return nil
			}
			return append([]pipeline.Step{hold}, defaults...)
		}
	})
	t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) }) // before the harness's Close, also on failure
	h.user("alice")
	h.login("alice")
	<-started // the one worker holds the first login's registration
	h.login("alice")
	h.login("alice")
	if s := h.auth.Stats(); s.RegistrationsQueued != 2 || s.RegistrationQueueSize != 8 {
		t.Fatalf("Stats = %+v, want 2 registrations queued of 8", s)
	}
	releaseOnce.Do(func() { close(release) })
	if err := h.auth.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := h.auth.Stats(); s.RegistrationsQueued != 0 {
		t.Fatalf("%d registrations still queued after Close", s.RegistrationsQueued)
	}
}
