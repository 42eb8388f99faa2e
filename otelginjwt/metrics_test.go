package otelginjwt_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/otelginjwt"
	"github.com/ginjwt/ginjwt/pipeline"
)

// TestMetricsCountEvents drives logins, failures, refreshes, an update, a
// reuse detection and revocations of every kind through the HTTP endpoints
// and checks every counter's exact values.
func TestMetricsCountEvents(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, nil, func(c *ginjwt.Config) {
		c.Tokens.AllowRefreshUpdate = true
		c.Tokens.ReuseGrace = -1 // a rotated-out token presented again is reuse at once
		c.Limits.Throttle.PerAccount = 2
	})
	f.user("alice")
	f.user("bob")
	p1, p2, p3, p4 := f.login("alice"), f.login("alice"), f.login("alice"), f.login("alice")
	bob := f.login("bob")

	// carol does not exist: two wrong guesses, then the third is throttled.
	for range 2 {
		want(t, f.do("POST", "/auth/token", map[string]string{"username": "carol", "password": "guess"}), 401, "invalid_credentials")
	}
	want(t, f.do("POST", "/auth/token", map[string]string{"username": "carol", "password": "guess"}), 429, "too_many_requests")

	q1 := f.refresh("/auth/token/refresh", p1.Refresh)
	f.refresh("/auth/token/refresh", q1.Refresh)
	want(t, f.do("POST", "/auth/token/refresh", map[string]string{"refresh": p1.Refresh}), 401, "token_revoked") // reuse
	u := f.refresh("/auth/token/update", p2.Refresh)

	for range 3 { // one miss, then two hits
		want(t, f.do("GET", "/api/hello", nil, "Authorization", "Bearer "+u.Access), 200, "")
	}
	want(t, f.do("POST", "/auth/token/logout", map[string]string{"refresh": p3.Refresh}), 200, "")
	if err := f.auth.RevokeSession(context.Background(), sid(t, p4.Access), "fraud review by alice@example.com"); err != nil {
		t.Fatal(err)
	}
	want(t, f.do("DELETE", "/auth/sessions", nil, "Authorization", "Bearer "+bob.Access), 200, "") // a miss; log out everywhere

	rm := f.collect()
	equal(t, "ginjwt.logins", points(t, rm, "ginjwt.logins"), map[string]int64{"": 5})
	equal(t, "ginjwt.login.failures", points(t, rm, "ginjwt.login.failures"), map[string]int64{
		"error.type=invalid_credentials": 2,
		"error.type=too_many_requests":   1,
	})
	equal(t, "ginjwt.refreshes", points(t, rm, "ginjwt.refreshes"), map[string]int64{
		"ginjwt.refresh.kind=refresh": 2,
		"ginjwt.refresh.kind=update":  1,
	})
	equal(t, "ginjwt.refresh.reuse_detections", points(t, rm, "ginjwt.refresh.reuse_detections"), map[string]int64{"": 1})
	equal(t, "ginjwt.revocations", points(t, rm, "ginjwt.revocations"), map[string]int64{
		"ginjwt.revocation.kind=session,ginjwt.revocation.reason=reuse_detected": 1,
		"ginjwt.revocation.kind=session,ginjwt.revocation.reason=logout":         1,
		"ginjwt.revocation.kind=session,ginjwt.revocation.reason=other":          1,
		"ginjwt.revocation.kind=user,ginjwt.revocation.reason=user_cut_off":      1,
	})
	equal(t, "ginjwt.token_cache.lookups", points(t, rm, "ginjwt.token_cache.lookups"), map[string]int64{
		"ginjwt.token_cache.result=hit":  2,
		"ginjwt.token_cache.result=miss": 2,
	})
	equal(t, "ginjwt.token_cache.entries", points(t, rm, "ginjwt.token_cache.entries"), map[string]int64{"": 2})
	counts, sums := histogram(t, rm, "ginjwt.registration.duration")
	equal(t, "ginjwt.registration.duration counts", counts, map[string]uint64{
		"ginjwt.registration.kind=obtained":  5,
		"ginjwt.registration.kind=refreshed": 2,
		"ginjwt.registration.kind=updated":   1,
	})
	for k, s := range sums {
		if s <= 0 {
			t.Errorf("ginjwt.registration.duration{%s} sums to %v s", k, s)
		}
	}
	for _, name := range []string{"ginjwt.registration.failures", "ginjwt.registration.queue.depth", "ginjwt.registration.queue.limit"} {
		if _, ok := find(rm, name); ok {
			t.Errorf("%s reported in a synchronous run without failures", name)
		}
	}
}

func TestInstrumentOneAuthAtATime(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, nil, nil)
	f.user("alice")
	if _, err := f.tel.Instrument(f.auth); !errors.Is(err, otelginjwt.ErrInstrumented) {
		t.Fatalf("second Instrument: %v, want ErrInstrumented", err)
	}
	f.login("alice")
	if err := f.stop(); err != nil {
		t.Fatal(err)
	}
	if err := f.stop(); err != nil {
		t.Fatalf("second stop: %v", err)
	}
	f.login("alice") // not counted: stopped
	rm := f.collect()
	equal(t, "ginjwt.logins", points(t, rm, "ginjwt.logins"), map[string]int64{"": 1})
	if _, ok := find(rm, "ginjwt.token_cache.lookups"); ok {
		t.Error("the observable instruments still report after stop")
	}
	stop, err := f.tel.Instrument(f.auth)
	if err != nil {
		t.Fatalf("Instrument after stop: %v", err)
	}
	defer stop()
	f.login("alice")
	equal(t, "ginjwt.logins", points(t, f.collect(), "ginjwt.logins"), map[string]int64{"": 2})
}

// TestMetricsRegistrationQueue holds the one background worker inside a
// registration and checks the queue's depth and limit, then the failures
// and durations of background registrations. It runs on PostgreSQL: on
// SQLite the held registration's transaction would hold the write lock
// that the next logins' journal entries need.
func TestMetricsRegistrationQueue(t *testing.T) {
	t.Parallel()
	started := make(chan struct{}, 8)
	release := make(chan struct{})
	var releaseOnce sync.Once
	var failing sync.Map // user IDs whose registration fails
	errRefused := errors.New("refused by the application")
	f := newFixture(t, testdb.Postgres(t), nil, func(c *ginjwt.Config) {
		c.Registry.Async = true
		c.Registry.Workers = 1
		c.Registry.QueueSize = 8
		c.Registry.Pipeline = func(defaults []pipeline.Step) []pipeline.Step {
			hold := func(ctx context.Context, e *pipeline.Event) error {
				if _, ok := failing.Load(e.UserID); ok {
					return errRefused
				}
				started <- struct{}{}
				<-release
				return nil
			}
			return append([]pipeline.Step{hold}, defaults...)
		}
	})
	t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) }) // before Close, also on failure
	f.user("alice")
	mallory := f.user("mallory")
	f.login("alice")
	<-started // the worker holds the first registration
	f.login("alice")
	f.login("alice")
	rm := f.collect()
	equal(t, "ginjwt.registration.queue.depth", points(t, rm, "ginjwt.registration.queue.depth"), map[string]int64{"": 2})
	equal(t, "ginjwt.registration.queue.limit", points(t, rm, "ginjwt.registration.queue.limit"), map[string]int64{"": 8})

	failing.Store(mallory.ID, true)
	f.login("mallory") // answered at once; its registration fails three times in the background
	releaseOnce.Do(func() { close(release) })
	if err := f.auth.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	rm = f.collect()
	equal(t, "ginjwt.registration.queue.depth", points(t, rm, "ginjwt.registration.queue.depth"), map[string]int64{"": 0})
	// The failed registration stays in the journal for the replay: no
	// RegistrationFailed event, but at least three failed attempts
	// (Attempts: 3; the journal's replay, every 5 s, may add one more on
	// a slow machine before Close).
	equal(t, "ginjwt.registration.failures", points(t, rm, "ginjwt.registration.failures"), map[string]int64{})
	counts, _ := histogram(t, rm, "ginjwt.registration.duration")
	const failed = "error.type=internal_error,ginjwt.registration.kind=obtained"
	if n := counts[failed]; n < 3 {
		t.Errorf("ginjwt.registration.duration: %d failed attempts recorded, want at least 3", n)
	}
	delete(counts, failed)
	equal(t, "ginjwt.registration.duration counts", counts, map[string]uint64{"ginjwt.registration.kind=obtained": 3})
}
