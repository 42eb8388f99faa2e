package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"
)

// Options configure a [Runner]. A zero field means its default.
type Options struct {
	// Async runs events in the background: Run queues the event and returns
	// at once. Default off: Run runs the steps before it returns.
	Async bool
	// Workers is how many events run at once in the background. Default 2.
	Workers int
	// QueueSize is how many events may wait. When the queue is full, Run
	// runs the event itself, in the caller: never dropped. Default 1024.
	QueueSize int
	// Attempts is how many times a background event is tried before its
	// failure is final; steps must therefore be idempotent, as the built-in
	// ones are. Default 3. Synchronous runs are tried once: the caller gets
	// the error.
	Attempts int
	// Backoff is the pause before the second attempt, doubled each time.
	// Default 100 ms.
	Backoff time.Duration
	// OnError is told of every final failure, after it is logged. For
	// example, ginjwt reports it as an event.
	OnError func(ctx context.Context, e *Event, err error)
	// Wrap, when set, runs each attempt at an event's steps: ginjwt's
	// default pipeline runs them in one database transaction
	// (registry.Registry.InTx), so a login's rows land together. An error
	// from Wrap is the attempt's error.
	Wrap func(ctx context.Context, run func(ctx context.Context) error) error
	// Logger receives failures. Default slog.Default().
	Logger *slog.Logger
}

// Runner carries events through a list of steps, in order. A step that
// fails stops the steps after it for that event.
//
// A Runner is safe for concurrent use. An asynchronous Runner must be
// closed: [Runner.Close] waits until every queued event has run.
type Runner struct {
	steps []Step
	opts  Options
	log   *slog.Logger

	mu     sync.RWMutex // held for reading while queueing, for writing by Close
	closed bool
	queue  chan job
	wg     sync.WaitGroup
}

type job struct {
	ctx context.Context
	e   *Event
}

// NewRunner returns a Runner of steps. An asynchronous Runner starts its
// workers at once.
func NewRunner(steps []Step, opts Options) *Runner {
	if opts.Workers <= 0 {
		opts.Workers = 2
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 1024
	}
	if opts.Attempts <= 0 {
		opts.Attempts = 3
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 100 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	r := &Runner{steps: append([]Step(nil), steps...), opts: opts, log: opts.Logger}
	if opts.Async {
		r.queue = make(chan job, opts.QueueSize)
		for range opts.Workers {
			r.wg.Add(1)
			go r.work()
		}
	}
	return r
}

// Steps returns the runner's steps, in order.
func (r *Runner) Steps() []Step { return append([]Step(nil), r.steps...) }

// Run runs e through the steps. Synchronously, it returns the first step's
// error. Asynchronously, it queues e and returns nil; if the queue is full
// or the Runner is closed, it runs e in the caller, and failures are
// reported through Options.OnError rather than returned. The event is
// copied first, so the caller may reuse it.
//
// Queued events keep ctx's values but not its cancellation: a request that
// ends does not cancel the registration of its tokens.
func (r *Runner) Run(ctx context.Context, e *Event) error {
	ev := e.clone()
	if !r.opts.Async {
		return r.runSteps(ctx, &ev)
	}
	bg := context.WithoutCancel(ctx)
	r.mu.RLock()
	if !r.closed {
		select {
		case r.queue <- job{bg, &ev}:
			r.mu.RUnlock()
			return nil
		default:
		}
	}
	r.mu.RUnlock()
	r.runReported(bg, &ev)
	return nil
}

// Close stops taking events into the queue (later ones run in the caller)
// and waits until every queued event has run, or until ctx ends. Calling it
// again waits again.
func (r *Runner) Close(ctx context.Context) error {
	if !r.opts.Async {
		return nil
	}
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		close(r.queue)
	}
	r.mu.Unlock()
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("pipeline: close: %w (events still queued: %d)", ctx.Err(), len(r.queue))
	}
}

func (r *Runner) work() {
	defer r.wg.Done()
	for j := range r.queue {
		r.runReported(j.ctx, j.e)
	}
}

// runReported runs e with retries and reports a final failure.
func (r *Runner) runReported(ctx context.Context, e *Event) {
	var err error
	wait := r.opts.Backoff
	for attempt := 1; attempt <= r.opts.Attempts; attempt++ {
		if err = r.runSteps(ctx, e); err == nil {
			return
		}
		if attempt < r.opts.Attempts {
			time.Sleep(wait)
			wait *= 2
		}
	}
	r.log.ErrorContext(ctx, "ginjwt pipeline: registration failed", "kind", string(e.Kind), "user_id", e.UserID, "tokens", len(e.Pairs), "error", err)
	if r.opts.OnError != nil {
		r.opts.OnError(ctx, e, err)
	}
}

// ErrStepPanicked wraps the value a panicking step panicked with.
var ErrStepPanicked = errors.New("pipeline: step panicked")

// runSteps runs the steps in order, inside Options.Wrap when set.
func (r *Runner) runSteps(ctx context.Context, e *Event) error {
	if r.opts.Wrap == nil {
		return r.steps1(ctx, e)
	}
	return r.opts.Wrap(ctx, func(ctx context.Context) error { return r.steps1(ctx, e) })
}

// steps1 runs the steps once, in order, turning a panic into an error.
func (r *Runner) steps1(ctx context.Context, e *Event) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v\n%s", ErrStepPanicked, p, debug.Stack())
		}
	}()
	for i, step := range r.steps {
		if err := step(ctx, e); err != nil {
			return fmt.Errorf("pipeline: step %d: %w", i+1, err)
		}
	}
	return nil
}
