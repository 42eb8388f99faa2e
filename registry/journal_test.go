package registry_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/testdb"
	"github.com/ginjwt/ginjwt/pipeline"
	"github.com/ginjwt/ginjwt/registry"
)

var errStep = errors.New("step failed")

// journalRunner is an asynchronous Runner of steps journaled in reg, as
// ginjwt wires it (registration and settling in one transaction of
// reg.InTx), with fast retries.
func journalRunner(t testing.TB, reg *registry.Registry, clk func() time.Time, j pipeline.Journal, steps ...pipeline.Step) *pipeline.Runner {
	t.Helper()
	if j == nil {
		j = reg.Journal()
	}
	r := pipeline.NewRunner(steps, pipeline.Options{
		Async: true, Workers: 2, Attempts: 2, Backoff: time.Millisecond,
		Wrap: reg.InTx, Journal: j, Logger: quiet, Clock: clk,
	})
	t.Cleanup(func() { closeRunner(t, r) })
	return r
}

// closeRunner closes r with a generous deadline. Closing twice is fine.
func closeRunner(t testing.TB, r *pipeline.Runner) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func pending(t testing.TB, reg *registry.Registry) int64 {
	t.Helper()
	n, err := reg.PendingCount(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// failFor is a step that fails for the events of user.
func failFor(user string) pipeline.Step {
	return func(_ context.Context, e *pipeline.Event) error {
		if user == "" || e.UserID == user {
			return errStep
		}
		return nil
	}
}

// assertLogin checks that the tokens of login(sid, user) are recorded with
// their link and connected to user.
func assertLogin(t testing.TB, reg *registry.Registry, sid, user string) {
	t.Helper()
	ctx := context.Background()
	root, access := mustJTI(t, reg, sid), mustJTI(t, reg, sid+"-a")
	if access.ParentID == nil || *access.ParentID != root.ID || root.SessionID != sid || access.SessionID != sid {
		t.Fatalf("session %s: root %+v, access %+v", sid, root, access)
	}
	for _, id := range []int64{root.ID, access.ID} {
		if owner, err := reg.Owner(ctx, id); err != nil || owner != user {
			t.Fatalf("session %s: Owner(%d) = %q, %v; want %q", sid, id, owner, err, user)
		}
	}
}

func TestJournalSavePendingSettle(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		reg := newRegistry(t, db, registry.Options{Clock: clk.Now})
		j := reg.Journal()
		ctx := context.Background()
		t0 := clk.Now()
		e1 := login("s1", "u1", t0)
		e1.UserAgent, e1.ClientIP, e1.ForwardedFor = "test/1.0", "192.0.2.1", []string{"198.51.100.7"}
		e1.Pairs[0].Child.Generation, e1.Pairs[1].Child.Generation, e1.Pairs[1].Parent.Generation = 3, 3, 3
		events := []*pipeline.Event{e1, login("s2", "u2", t0), login("s3", "u1", t0)}
		var keys []int64
		for _, e := range events {
			key, err := j.Save(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			if key == 0 || (len(keys) > 0 && key <= keys[len(keys)-1]) {
				t.Fatalf("keys %v then %d: want increasing, never 0", keys, key)
			}
			keys = append(keys, key)
			clk.Advance(time.Second)
		}
		if n := pending(t, reg); n != 3 {
			t.Fatalf("PendingCount = %d, want 3", n)
		}

		all, err := j.Pending(ctx, 0, t0.Add(time.Hour), "", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 3 {
			t.Fatalf("Pending = %d entries, want 3", len(all))
		}
		for i, s := range all {
			if s.Key != keys[i] || !reflect.DeepEqual(s.Event, *events[i]) {
				t.Fatalf("entry %d = %d %+v\nwant %d %+v", i, s.Key, s.Event, keys[i], *events[i])
			}
		}
		for _, c := range []struct {
			name   string
			after  int64
			before time.Time
			user   string
			limit  int
			want   []int64
		}{
			{"saved strictly before", 0, t0.Add(time.Second), "", 10, keys[:1]},
			{"nothing before the first", 0, t0, "", 10, nil},
			{"one user", 0, t0.Add(time.Hour), "u1", 10, []int64{keys[0], keys[2]}},
			{"unknown user", 0, t0.Add(time.Hour), "u9", 10, nil},
			{"limit, oldest first", 0, t0.Add(time.Hour), "", 2, keys[:2]},
			{"after a key", keys[0], t0.Add(time.Hour), "", 10, keys[1:]},
			{"after a key, one user", keys[0], t0.Add(time.Hour), "u1", 10, keys[2:]},
		} {
			got, err := j.Pending(ctx, c.after, c.before, c.user, c.limit)
			if err != nil {
				t.Fatal(err)
			}
			var gotKeys []int64
			for _, s := range got {
				gotKeys = append(gotKeys, s.Key)
			}
			if !reflect.DeepEqual(gotKeys, c.want) {
				t.Errorf("%s: keys %v, want %v", c.name, gotKeys, c.want)
			}
		}

		for range 2 { // settling a settled entry is not an error
			if err := j.Settle(ctx, keys[1]); err != nil {
				t.Fatal(err)
			}
		}
		if n := pending(t, reg); n != 2 {
			t.Fatalf("PendingCount after Settle = %d, want 2", n)
		}
		// Settle inside a transaction that rolls back keeps the entry.
		err = reg.InTx(ctx, func(ctx context.Context) error {
			if err := j.Settle(ctx, keys[0]); err != nil {
				return err
			}
			return errStep
		})
		if !errors.Is(err, errStep) {
			t.Fatalf("InTx = %v", err)
		}
		if n := pending(t, reg); n != 2 {
			t.Fatalf("PendingCount after a rolled-back Settle = %d, want 2", n)
		}
	})
}

// TestJournalRunnerRegistersAndSettles: an entry left by an earlier process
// and an event run now both land, with their links and user, and leave the
// journal empty.
func TestJournalRunnerRegistersAndSettles(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		reg := newRegistry(t, db, registry.Options{Clock: clk.Now})
		ctx := context.Background()
		if _, err := reg.Journal().Save(ctx, login("left", "u1", clk.Now())); err != nil {
			t.Fatal(err)
		}
		r := journalRunner(t, reg, clk.Now, nil, reg.RegisterPairs, reg.ConnectUser)
		if err := r.Run(ctx, login("now", "u2", clk.Now())); err != nil {
			t.Fatal(err)
		}
		// The start-up replay runs in the background; Close may stop it
		// before it begins (the entry then waits for the next start).
		eventually(t, 30*time.Second, "journal empty", func() bool { return pending(t, reg) == 0 })
		closeRunner(t, r)
		assertLogin(t, reg, "left", "u1")
		assertLogin(t, reg, "now", "u2")
		if n := count(t, db, &registry.Token{}, ""); n != 4 {
			t.Fatalf("%d tokens, want 4", n)
		}
	})
}

// TestJournalFailingStepKeepsTheEntry: a registration whose steps fail is
// rolled back as a whole, its entry stays, Flush reports the failure, and
// a later Runner whose steps work registers it.
func TestJournalFailingStepKeepsTheEntry(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		reg := newRegistry(t, db, registry.Options{Clock: clk.Now})
		ctx := context.Background()
		var failures sync.Map
		failing := pipeline.NewRunner([]pipeline.Step{reg.RegisterPairs, reg.ConnectUser, failFor("")}, pipeline.Options{
			Async: true, Attempts: 2, Backoff: time.Millisecond, Wrap: reg.InTx, Journal: reg.Journal(),
			Logger: quiet, Clock: clk.Now,
			OnError: func(_ context.Context, e *pipeline.Event, err error) { failures.Store(e.UserID, err) },
		})
		e := login("s1", "u1", clk.Now())
		if err := failing.Run(ctx, e); err != nil {
			t.Fatalf("Run = %v; an asynchronous failure is not the request's", err)
		}
		closeRunner(t, failing)
		if n := pending(t, reg); n != 1 {
			t.Fatalf("PendingCount = %d, want 1", n)
		}
		if n := count(t, db, &registry.Token{}, ""); n != 0 {
			t.Fatalf("%d tokens recorded by a rolled-back registration", n)
		}
		if err := failing.Flush(ctx, "u1"); !errors.Is(err, errStep) {
			t.Fatalf("Flush = %v, want the step's error", err)
		}
		if n := pending(t, reg); n != 1 {
			t.Fatalf("PendingCount after a failed Flush = %d, want 1", n)
		}
		failures.Range(func(k, v any) bool {
			t.Errorf("OnError(%v, %v) for a journaled event: its failure is not final", k, v)
			return true
		})
		saved, err := reg.Journal().Pending(ctx, 0, clk.Now().Add(time.Hour), "", 10)
		if err != nil || len(saved) != 1 || !reflect.DeepEqual(saved[0].Event, *e) {
			t.Fatalf("Pending = %+v, %v; want the event", saved, err)
		}

		working := journalRunner(t, reg, clk.Now, nil, reg.RegisterPairs, reg.ConnectUser)
		if err := working.Flush(ctx, "u1"); err != nil {
			t.Fatal(err)
		}
		if n := pending(t, reg); n != 0 {
			t.Fatalf("PendingCount = %d after Flush, want 0", n)
		}
		assertLogin(t, reg, "s1", "u1")
	})
}

// TestJournalFailingEntryDoesNotHoldBackOthers: an entry whose steps keep
// failing (a step of the application's that refuses it, a bad row) stays,
// but the replay takes the entries behind it.
func TestJournalFailingEntryDoesNotHoldBackOthers(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		reg := newRegistry(t, db, registry.Options{Clock: clk.Now})
		ctx := context.Background()
		j := reg.Journal()
		// More than one replay batch (100) of bad entries first, then good ones.
		const bad, good = 105, 3
		for i := range bad {
			if _, err := j.Save(ctx, login(fmt.Sprint("bad", i), "bad", clk.Now())); err != nil {
				t.Fatal(err)
			}
		}
		for i := range good {
			if _, err := j.Save(ctx, login(fmt.Sprint("good", i), "u1", clk.Now())); err != nil {
				t.Fatal(err)
			}
		}
		r := journalRunner(t, reg, clk.Now, nil, reg.RegisterPairs, reg.ConnectUser, failFor("bad"))
		eventually(t, 30*time.Second, "the good entries replayed", func() bool { return pending(t, reg) == bad })
		closeRunner(t, r)
		for i := range good {
			assertLogin(t, reg, fmt.Sprint("good", i), "u1")
		}
		if n := count(t, db, &registry.Token{}, ""); n != 2*good {
			t.Fatalf("%d tokens, want %d", n, 2*good)
		}
	})
}

// TestJournalAbandonedRunnerIsReplayed: a process that saved events and
// died before registering them (here: a Runner whose steps never return)
// leaves them to the next process, whose start-up replay registers them.
func TestJournalAbandonedRunnerIsReplayed(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		reg := newRegistry(t, db, registry.Options{Clock: clk.Now})
		ctx := context.Background()
		block := make(chan struct{})
		stuck := func(context.Context, *pipeline.Event) error { <-block; return nil }
		// No Wrap: a dead process holds no lock, and a transaction kept
		// open here would hold SQLite's write lock.
		dead := pipeline.NewRunner([]pipeline.Step{stuck, reg.RegisterPairs, reg.ConnectUser}, pipeline.Options{
			Async: true, Workers: 2, Journal: reg.Journal(), Logger: quiet, Clock: clk.Now,
		})
		t.Cleanup(func() { close(block); closeRunner(t, dead) })
		const n = 10
		for i := range n {
			if err := dead.Run(ctx, login(fmt.Sprint("s", i), fmt.Sprint("u", i%3), clk.Now())); err != nil {
				t.Fatal(err)
			}
		}
		if p, tk := pending(t, reg), count(t, db, &registry.Token{}, ""); p != n || tk != 0 {
			t.Fatalf("before the restart: %d pending, %d tokens; want %d, 0", p, tk, n)
		}

		// The next process: a registry on a pool of its own.
		reg2 := newRegistry(t, secondPool(t, db), registry.Options{Clock: clk.Now})
		next := journalRunner(t, reg2, clk.Now, nil, reg2.RegisterPairs, reg2.ConnectUser)
		eventually(t, 30*time.Second, "the start-up replay", func() bool { return pending(t, reg) == 0 })
		closeRunner(t, next)
		for i := range n {
			assertLogin(t, reg, fmt.Sprint("s", i), fmt.Sprint("u", i%3))
		}
		if tk := count(t, db, &registry.Token{}, ""); tk != 2*n {
			t.Fatalf("%d tokens, want %d", tk, 2*n)
		}
	})
}

// userOnly hides the journal from the Runner's own replays (which ask for
// every user), so that only Flush reaches it.
type userOnly struct{ pipeline.Journal }

func (j userOnly) Pending(ctx context.Context, after int64, before time.Time, userID string, limit int) ([]pipeline.Saved, error) {
	if userID == "" {
		return nil, nil
	}
	return j.Journal.Pending(ctx, after, before, userID, limit)
}

func TestJournalFlushRegistersOnlyThatUser(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		reg := newRegistry(t, db, registry.Options{Clock: clk.Now})
		ctx := context.Background()
		for i, user := range []string{"u1", "u2", "u1", "u2"} {
			if _, err := reg.Journal().Save(ctx, login(fmt.Sprint("s", i), user, clk.Now())); err != nil {
				t.Fatal(err)
			}
		}
		r := journalRunner(t, reg, clk.Now, userOnly{reg.Journal()}, reg.RegisterPairs, reg.ConnectUser)
		for _, user := range []string{"", "u9"} { // no one, no entries: nothing happens
			if err := r.Flush(ctx, user); err != nil {
				t.Fatalf("Flush(%q) = %v", user, err)
			}
		}
		if n := count(t, db, &registry.Token{}, ""); n != 0 {
			t.Fatalf("%d tokens before Flush(u1)", n)
		}
		if err := r.Flush(ctx, "u1"); err != nil {
			t.Fatal(err)
		}
		assertLogin(t, reg, "s0", "u1")
		assertLogin(t, reg, "s2", "u1")
		if n := count(t, db, &registry.Token{}, ""); n != 4 {
			t.Fatalf("%d tokens after Flush(u1), want u1's 4", n)
		}
		left, err := reg.Journal().Pending(ctx, 0, clk.Now().Add(time.Hour), "", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(left) != 2 || left[0].Event.UserID != "u2" || left[1].Event.UserID != "u2" {
			t.Fatalf("left in the journal: %+v; want u2's two entries", left)
		}
	})
}

// warnings counts the records at Warn and above.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (w *warnings) Handle(_ context.Context, r slog.Record) error {
	msg := r.Message
	r.Attrs(func(a slog.Attr) bool { msg += " " + a.String(); return true })
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, msg)
	return nil
}
func (w *warnings) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w *warnings) WithGroup(string) slog.Handler      { return w }

// TestJournalConcurrentReplays: two instances (two pools on one database)
// replay the same entries at once — their start-up replays and Flush of
// every user, all together — and each event lands exactly once, without an
// error.
func TestJournalConcurrentReplays(t *testing.T) {
	t.Parallel()
	testdb.Engines(t, func(t *testing.T, db *gorm.DB) {
		clk := newClock()
		reg1 := newRegistry(t, db, registry.Options{Clock: clk.Now})
		reg2 := newRegistry(t, secondPool(t, db), registry.Options{Clock: clk.Now})
		ctx := context.Background()
		const n, users = 90, 3
		for i := range n {
			if _, err := reg1.Journal().Save(ctx, login(fmt.Sprint("s", i), fmt.Sprint("u", i%users), clk.Now())); err != nil {
				t.Fatal(err)
			}
		}
		logs := &warnings{}
		runners := make([]*pipeline.Runner, 2)
		var wg sync.WaitGroup
		errs := make(chan error, 2*users)
		for i, reg := range []*registry.Registry{reg1, reg2} {
			runners[i] = pipeline.NewRunner([]pipeline.Step{reg.RegisterPairs, reg.ConnectUser}, pipeline.Options{
				Async: true, Wrap: reg.InTx, Journal: reg.Journal(), Logger: slog.New(logs), Clock: clk.Now,
			})
			t.Cleanup(func() { closeRunner(t, runners[i]) })
			for u := range users {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := runners[i].Flush(ctx, fmt.Sprint("u", u)); err != nil {
						errs <- fmt.Errorf("runner %d: Flush(u%d): %w", i+1, u, err)
					}
				}()
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		// Flush returns once every entry of its user is settled.
		if p := pending(t, reg1); p != 0 {
			t.Fatalf("%d entries left after every user's Flush", p)
		}
		for _, r := range runners {
			closeRunner(t, r)
		}
		logs.mu.Lock()
		for _, m := range logs.msgs {
			t.Errorf("logged: %s", m)
		}
		logs.mu.Unlock()
		var distinct int64
		if err := db.Model(&registry.Token{}).Distinct("jti").Count(&distinct).Error; err != nil {
			t.Fatal(err)
		}
		tokens := count(t, db, &registry.Token{}, "")
		conns := count(t, db, &registry.TokenUserConnection{}, "")
		if tokens != 2*n || distinct != 2*n || conns != 2*n {
			t.Fatalf("%d token rows (%d distinct jtis), %d user connections; want %d each", tokens, distinct, conns, 2*n)
		}
		for i := range n {
			assertLogin(t, reg1, fmt.Sprint("s", i), fmt.Sprint("u", i%users))
		}
	})
}
