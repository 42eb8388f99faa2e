package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt/pipeline"
)

var quiet = slog.New(slog.DiscardHandler)

var errBoom = errors.New("boom")

func event(user string) *pipeline.Event {
	refresh := pipeline.Token{ID: "r-" + user, Type: "refresh", SessionID: "r-" + user, UserID: user}
	return &pipeline.Event{
		Kind:   pipeline.Obtained,
		UserID: user,
		Pairs: []pipeline.Pair{
			{Child: refresh},
			{Child: pipeline.Token{ID: "a-" + user, Type: "access", SessionID: "r-" + user, UserID: user}, Parent: &refresh},
		},
		UserAgent:    "test/1.0",
		ClientIP:     "192.0.2.1",
		ForwardedFor: []string{"198.51.100.7"},
		Time:         time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
	}
}

// closeRunner closes r with a generous deadline, failing t if it does not drain.
func closeRunner(t *testing.T, r *pipeline.Runner) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func TestSyncRunStepsInOrder(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var ran []string
	step := func(name string, err error) pipeline.Step {
		return func(ctx context.Context, e *pipeline.Event) error {
			mu.Lock()
			defer mu.Unlock()
			ran = append(ran, name)
			return err
		}
	}
	cases := []struct {
		name    string
		steps   []pipeline.Step
		wantRan []string
		wantErr error
	}{
		{"no steps", nil, nil, nil},
		{"all succeed", []pipeline.Step{step("a", nil), step("b", nil), step("c", nil)}, []string{"a", "b", "c"}, nil},
		{"stops at the first error", []pipeline.Step{step("a", nil), step("b", errBoom), step("c", nil)}, []string{"a", "b"}, errBoom},
		{"first step fails", []pipeline.Step{step("a", errBoom), step("b", errors.New("other"))}, []string{"a"}, errBoom},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			ran = nil
			mu.Unlock()
			var reported atomic.Int32
			r := pipeline.NewRunner(tc.steps, pipeline.Options{Logger: quiet, Attempts: 5,
				OnError: func(context.Context, *pipeline.Event, error) { reported.Add(1) }})
			err := r.Run(context.Background(), event("u1"))
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("Run = %v, want %v", err, tc.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "step") {
				t.Errorf("error %q does not say which step failed", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if !slices.Equal(ran, tc.wantRan) {
				t.Fatalf("ran %v, want %v (a synchronous run is tried once)", ran, tc.wantRan)
			}
			if reported.Load() != 0 {
				t.Fatal("a synchronous failure is returned, not reported through OnError")
			}
			if err := r.Close(context.Background()); err != nil {
				t.Fatalf("Close of a synchronous runner: %v", err)
			}
		})
	}
}

func TestSyncRunStepSeesTheEvent(t *testing.T) {
	t.Parallel()
	want := event("u1")
	var got pipeline.Event
	r := pipeline.NewRunner([]pipeline.Step{func(ctx context.Context, e *pipeline.Event) error {
		got = *e
		e.Pairs[1].Parent.ID = "changed by the step"
		e.UserID = "changed by the step"
		return nil
	}}, pipeline.Options{Logger: quiet})
	if err := r.Run(context.Background(), want); err != nil {
		t.Fatal(err)
	}
	if got.UserID != "u1" || got.Kind != pipeline.Obtained || got.ClientIP != "192.0.2.1" || len(got.Pairs) != 2 {
		t.Fatalf("step saw %+v", got)
	}
	if want.UserID != "u1" || want.Pairs[1].Parent.ID != "r-u1" {
		t.Fatalf("a step changed the caller's event: %+v", want)
	}
}

func TestSyncRunPanickingStep(t *testing.T) {
	t.Parallel()
	var after atomic.Bool
	r := pipeline.NewRunner([]pipeline.Step{
		func(context.Context, *pipeline.Event) error { panic("kaboom") },
		func(context.Context, *pipeline.Event) error { after.Store(true); return nil },
	}, pipeline.Options{Logger: quiet})
	err := r.Run(context.Background(), event("u1"))
	if !errors.Is(err, pipeline.ErrStepPanicked) {
		t.Fatalf("Run = %v, want ErrStepPanicked", err)
	}
	if !strings.Contains(err.Error(), "kaboom") {
		t.Errorf("error %q lacks the panic value", err)
	}
	if after.Load() {
		t.Fatal("a step after the panicking one ran")
	}
}

func TestSteps(t *testing.T) {
	t.Parallel()
	noop := func(context.Context, *pipeline.Event) error { return nil }
	steps := []pipeline.Step{noop, noop}
	r := pipeline.NewRunner(steps, pipeline.Options{Logger: quiet})
	steps[0] = nil // the runner keeps its own copy
	got := r.Steps()
	if len(got) != 2 || got[0] == nil {
		t.Fatalf("Steps() = %v", got)
	}
	got[1] = nil
	if r.Steps()[1] == nil {
		t.Fatal("Steps() returned the runner's own slice")
	}
}

// TestAsyncDrainsEverything runs many events through a small queue from
// several goroutines: Run never blocks for long and never drops, and Close
// returns only once every event has run exactly once.
func TestAsyncDrainsEverything(t *testing.T) {
	t.Parallel()
	const n, senders = 1000, 4
	var count atomic.Int64
	var mu sync.Mutex
	seen := map[string]int{}
	r := pipeline.NewRunner([]pipeline.Step{func(ctx context.Context, e *pipeline.Event) error {
		mu.Lock()
		seen[e.UserID]++
		mu.Unlock()
		count.Add(1)
		return nil
	}}, pipeline.Options{Async: true, QueueSize: 8, Workers: 2, Logger: quiet})

	var wg sync.WaitGroup
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n / senders {
				if err := r.Run(context.Background(), event(fmt.Sprintf("u%d-%d", s, i))); err != nil {
					t.Errorf("async Run = %v", err)
				}
			}
		}()
	}
	wg.Wait()
	closeRunner(t, r)
	if got := count.Load(); got != n {
		t.Fatalf("%d events ran, want %d", got, n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != n {
		t.Fatalf("%d distinct events ran, want %d", len(seen), n)
	}
	for id, times := range seen {
		if times != 1 {
			t.Fatalf("event %s ran %d times", id, times)
		}
	}
}

// TestAsyncRunsInlineWhenQueueFull blocks both workers, fills the queue, and
// shows that the next Run runs its event before it returns.
func TestAsyncRunsInlineWhenQueueFull(t *testing.T) {
	t.Parallel()
	const workers, queue = 2, 8
	gate := make(chan struct{})
	started := make(chan string, workers+queue+1)
	var ran atomic.Int64
	var inline atomic.Bool
	r := pipeline.NewRunner([]pipeline.Step{func(ctx context.Context, e *pipeline.Event) error {
		if e.UserID == "inline" {
			inline.Store(true)
			ran.Add(1)
			return nil
		}
		started <- e.UserID
		<-gate
		ran.Add(1)
		return nil
	}}, pipeline.Options{Async: true, QueueSize: queue, Workers: workers, Logger: quiet})
	defer closeRunner(t, r)

	for i := range workers {
		if err := r.Run(context.Background(), event(fmt.Sprint("busy", i))); err != nil {
			t.Fatal(err)
		}
	}
	for range workers {
		<-started // both workers are now blocked in the step
	}
	for i := range queue {
		if err := r.Run(context.Background(), event(fmt.Sprint("queued", i))); err != nil {
			t.Fatal(err)
		}
	}
	if ran.Load() != 0 || len(started) != 0 {
		t.Fatal("a queued event ran while the workers were blocked")
	}
	// The queue is full: this one runs in the caller.
	if err := r.Run(context.Background(), event("inline")); err != nil {
		t.Fatal(err)
	}
	if !inline.Load() || ran.Load() != 1 {
		t.Fatal("Run with a full queue returned before running the event")
	}
	close(gate)
	closeRunner(t, r)
	if got := ran.Load(); got != workers+queue+1 {
		t.Fatalf("%d events ran, want %d", got, workers+queue+1)
	}
}

func TestAsyncRunAfterCloseRunsInline(t *testing.T) {
	t.Parallel()
	var ran atomic.Int64
	var failed atomic.Int64
	r := pipeline.NewRunner([]pipeline.Step{func(ctx context.Context, e *pipeline.Event) error {
		ran.Add(1)
		if e.UserID == "fails" {
			return errBoom
		}
		return nil
	}}, pipeline.Options{Async: true, Attempts: 2, Backoff: time.Millisecond, Logger: quiet,
		OnError: func(context.Context, *pipeline.Event, error) { failed.Add(1) }})
	closeRunner(t, r)
	if err := r.Run(context.Background(), event("late")); err != nil {
		t.Fatal(err)
	}
	if ran.Load() != 1 {
		t.Fatal("Run after Close did not run the event before returning")
	}
	// A failure after Close is retried and reported, not returned.
	if err := r.Run(context.Background(), event("fails")); err != nil {
		t.Fatalf("async Run after Close returned %v", err)
	}
	if ran.Load() != 3 || failed.Load() != 1 {
		t.Fatalf("ran %d, reported %d; want 3 runs (1 + 2 attempts) and 1 report", ran.Load(), failed.Load())
	}
	closeRunner(t, r) // again: nothing to wait for
}

func TestAsyncRetries(t *testing.T) {
	t.Parallel()
	t.Run("succeeds on the third attempt", func(t *testing.T) {
		t.Parallel()
		var tries atomic.Int64
		var reported atomic.Int64
		r := pipeline.NewRunner([]pipeline.Step{func(context.Context, *pipeline.Event) error {
			if tries.Add(1) < 3 {
				return errBoom
			}
			return nil
		}}, pipeline.Options{Async: true, Attempts: 3, Backoff: time.Millisecond, Logger: quiet,
			OnError: func(context.Context, *pipeline.Event, error) { reported.Add(1) }})
		if err := r.Run(context.Background(), event("u1")); err != nil {
			t.Fatal(err)
		}
		closeRunner(t, r)
		if tries.Load() != 3 || reported.Load() != 0 {
			t.Fatalf("tries %d, reported %d; want 3 and 0", tries.Load(), reported.Load())
		}
	})
	for _, tc := range []struct {
		attempts, want int64
	}{{0, 3}, {1, 1}, {4, 4}} {
		t.Run(fmt.Sprintf("always fails, Attempts %d", tc.attempts), func(t *testing.T) {
			t.Parallel()
			var tries atomic.Int64
			type report struct {
				e   *pipeline.Event
				err error
			}
			reports := make(chan report, 10)
			r := pipeline.NewRunner([]pipeline.Step{
				func(context.Context, *pipeline.Event) error { return nil },
				func(context.Context, *pipeline.Event) error { tries.Add(1); return errBoom },
			}, pipeline.Options{Async: true, Attempts: int(tc.attempts), Backoff: time.Millisecond, Logger: quiet,
				OnError: func(_ context.Context, e *pipeline.Event, err error) { reports <- report{e, err} }})
			if err := r.Run(context.Background(), event("u1")); err != nil {
				t.Fatalf("async Run = %v, want nil", err)
			}
			closeRunner(t, r)
			close(reports)
			if tries.Load() != tc.want {
				t.Fatalf("tried %d times, want %d", tries.Load(), tc.want)
			}
			var got []report
			for rep := range reports {
				got = append(got, rep)
			}
			if len(got) != 1 {
				t.Fatalf("OnError called %d times, want 1", len(got))
			}
			if !errors.Is(got[0].err, errBoom) || !strings.Contains(got[0].err.Error(), "step 2") {
				t.Errorf("OnError err = %v", got[0].err)
			}
			if got[0].e.UserID != "u1" || got[0].e.Kind != pipeline.Obtained || len(got[0].e.Pairs) != 2 {
				t.Errorf("OnError event = %+v", got[0].e)
			}
		})
	}
	t.Run("panics are retried and reported", func(t *testing.T) {
		t.Parallel()
		var tries atomic.Int64
		reported := make(chan error, 1)
		r := pipeline.NewRunner([]pipeline.Step{func(context.Context, *pipeline.Event) error {
			tries.Add(1)
			panic("kaboom")
		}}, pipeline.Options{Async: true, Attempts: 2, Backoff: time.Millisecond, Logger: quiet,
			OnError: func(_ context.Context, _ *pipeline.Event, err error) { reported <- err }})
		if err := r.Run(context.Background(), event("u1")); err != nil {
			t.Fatal(err)
		}
		closeRunner(t, r)
		if err := <-reported; !errors.Is(err, pipeline.ErrStepPanicked) {
			t.Fatalf("reported %v, want ErrStepPanicked", err)
		}
		if tries.Load() != 2 {
			t.Fatalf("tried %d times, want 2", tries.Load())
		}
	})
}

// TestAsyncCopiesTheEvent changes everything the caller can reach after Run
// returns, while the event waits in the queue.
func TestAsyncCopiesTheEvent(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	seen := make(chan pipeline.Event, 1)
	r := pipeline.NewRunner([]pipeline.Step{func(ctx context.Context, e *pipeline.Event) error {
		<-gate
		cp := *e
		cp.Pairs = append([]pipeline.Pair(nil), e.Pairs...)
		parent := *e.Pairs[1].Parent
		cp.Pairs[1].Parent = &parent
		cp.ForwardedFor = append([]string(nil), e.ForwardedFor...)
		seen <- cp
		return nil
	}}, pipeline.Options{Async: true, Logger: quiet})

	e := event("u1")
	want := event("u1")
	if err := r.Run(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	e.UserID = "mallory"
	e.Kind = pipeline.Manual
	e.ClientIP = "203.0.113.9"
	e.Pairs[0].Child.ID = "changed"
	e.Pairs[1].Parent.ID = "changed" // the parent behind the pointer
	e.Pairs[1].Parent.SessionID = "changed"
	e.ForwardedFor[0] = "changed"
	e.Pairs = append(e.Pairs[:1], pipeline.Pair{Child: pipeline.Token{ID: "extra"}})
	close(gate)
	closeRunner(t, r)

	got := <-seen
	if got.UserID != want.UserID || got.Kind != want.Kind || got.ClientIP != want.ClientIP {
		t.Fatalf("queued event changed: %+v", got)
	}
	if len(got.Pairs) != 2 || got.Pairs[0].Child != want.Pairs[0].Child || got.Pairs[1].Child != want.Pairs[1].Child {
		t.Fatalf("queued pairs changed: %+v", got.Pairs)
	}
	if *got.Pairs[1].Parent != *want.Pairs[1].Parent {
		t.Fatalf("queued parent changed: %+v", *got.Pairs[1].Parent)
	}
	if !slices.Equal(got.ForwardedFor, want.ForwardedFor) {
		t.Fatalf("queued ForwardedFor changed: %v", got.ForwardedFor)
	}
}

type ctxKey struct{}

func TestAsyncQueuedEventKeepsValuesNotCancellation(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	type seenCtx struct {
		err   error
		value any
	}
	seen := make(chan seenCtx, 1)
	r := pipeline.NewRunner([]pipeline.Step{func(ctx context.Context, e *pipeline.Event) error {
		<-gate
		seen <- seenCtx{ctx.Err(), ctx.Value(ctxKey{})}
		return ctx.Err()
	}}, pipeline.Options{Async: true, Logger: quiet})

	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "request-42"))
	if err := r.Run(ctx, event("u1")); err != nil {
		t.Fatal(err)
	}
	cancel() // the request ends before the event runs
	close(gate)
	closeRunner(t, r)
	got := <-seen
	if got.err != nil {
		t.Fatalf("the queued event saw the caller's cancellation: %v", got.err)
	}
	if got.value != "request-42" {
		t.Fatalf("the queued event lost the caller's values: %v", got.value)
	}
}

func TestAsyncCloseTimesOut(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	started := make(chan struct{}, 8)
	var ran atomic.Int64
	r := pipeline.NewRunner([]pipeline.Step{func(ctx context.Context, e *pipeline.Event) error {
		started <- struct{}{}
		<-gate
		ran.Add(1)
		return nil
	}}, pipeline.Options{Async: true, Workers: 1, Logger: quiet})
	for i := range 3 {
		if err := r.Run(context.Background(), event(fmt.Sprint("u", i))); err != nil {
			t.Fatal(err)
		}
	}
	<-started // the worker is blocked; two events wait in the queue

	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	err := r.Close(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close = %v, want DeadlineExceeded", err)
	}
	if !strings.Contains(err.Error(), "queue") {
		t.Fatalf("Close error %q does not mention the queue", err)
	}
	close(gate)
	closeRunner(t, r) // closing again waits for the rest
	if ran.Load() != 3 {
		t.Fatalf("%d events ran, want 3", ran.Load())
	}
}

func TestNewRunnerDefaults(t *testing.T) {
	t.Parallel()
	// A zero Options is a working synchronous runner.
	var ran atomic.Bool
	r := pipeline.NewRunner([]pipeline.Step{func(context.Context, *pipeline.Event) error { ran.Store(true); return nil }}, pipeline.Options{})
	if err := r.Run(context.Background(), &pipeline.Event{Kind: pipeline.Manual}); err != nil || !ran.Load() {
		t.Fatalf("Run = %v, ran %v", err, ran.Load())
	}
}
