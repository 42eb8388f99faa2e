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

	// Journal, with Async, saves each event before Run returns and settles
	// it once its steps succeeded: a crash or an outage delays a
	// registration, never loses it. Run fails when the event cannot be
	// saved. Default none: queued events live in memory only.
	Journal Journal
	// ReplayEvery is how often a journaled Runner replays entries nobody
	// settled (a crash, an outage that outlasted the retries). Default 5 s.
	ReplayEvery time.Duration
	// ReplayAfter is how old an unsettled entry must be before the periodic
	// replay takes it: younger ones are most likely still queued in some
	// instance's memory. Default 30 s. Replays are idempotent anyway.
	ReplayAfter time.Duration
	// Clock tells the time, for ReplayAfter. Default time.Now.
	Clock func() time.Time
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

	stopReplay context.CancelFunc // ends the replay loop; nil without a journal
	replayDone chan struct{}
}

type job struct {
	ctx context.Context
	e   *Event
	key int64 // the journal entry, 0 without a journal
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
	if opts.ReplayEvery <= 0 {
		opts.ReplayEvery = 5 * time.Second
	}
	if opts.ReplayAfter <= 0 {
		opts.ReplayAfter = 30 * time.Second
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if !opts.Async {
		opts.Journal = nil
	}
	r := &Runner{steps: append([]Step(nil), steps...), opts: opts, log: opts.Logger}
	if opts.Async {
		r.queue = make(chan job, opts.QueueSize)
		for range opts.Workers {
			r.wg.Add(1)
			go r.work()
		}
	}
	if opts.Journal != nil {
		ctx, cancel := context.WithCancel(context.Background())
		r.stopReplay, r.replayDone = cancel, make(chan struct{})
		go r.replayLoop(ctx)
	}
	return r
}

// Steps returns the runner's steps, in order.
func (r *Runner) Steps() []Step { return append([]Step(nil), r.steps...) }

// Run runs e through the steps. Synchronously, it returns the first step's
// error. Asynchronously, it saves e in the journal (when there is one;
// a failure to save is returned, and e's tokens must not be handed out),
// queues it and returns nil; if the queue is full or the Runner is closed,
// it runs e in the caller, and failures are reported through
// Options.OnError rather than returned. The event is copied first, so the
// caller may reuse it.
//
// Queued events keep ctx's values but not its cancellation: a request that
// ends does not cancel the registration of its tokens.
func (r *Runner) Run(ctx context.Context, e *Event) error {
	ev := e.clone()
	if !r.opts.Async {
		return r.runSteps(ctx, &ev, 0)
	}
	var key int64
	if r.opts.Journal != nil {
		var err error
		if key, err = r.opts.Journal.Save(ctx, &ev); err != nil {
			return fmt.Errorf("pipeline: save the event: %w", err)
		}
	}
	bg := context.WithoutCancel(ctx)
	j := job{bg, &ev, key}
	r.mu.RLock()
	if !r.closed {
		select {
		case r.queue <- j:
			r.mu.RUnlock()
			return nil
		default:
		}
	}
	r.mu.RUnlock()
	r.runReported(j)
	return nil
}

// Close stops taking events into the queue (later ones run in the caller)
// and the journal's replay, and waits until every queued event has run, or
// until ctx ends. Calling it again waits again.
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
	if r.stopReplay != nil {
		r.stopReplay()
	}
	done := make(chan struct{})
	go func() {
		r.wg.Wait()
		if r.replayDone != nil {
			<-r.replayDone
		}
		close(done)
	}()
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
		r.runReported(j)
	}
}

// runReported runs j's event with retries and reports a final failure. A
// journaled event that still fails stays in the journal for the replay.
func (r *Runner) runReported(j job) {
	var err error
	wait := r.opts.Backoff
	for attempt := 1; attempt <= r.opts.Attempts; attempt++ {
		if err = r.runSteps(j.ctx, j.e, j.key); err == nil {
			return
		}
		if attempt < r.opts.Attempts {
			time.Sleep(wait)
			wait *= 2
		}
	}
	if j.key != 0 {
		r.log.WarnContext(j.ctx, "ginjwt pipeline: registration failed; the journal will replay it", "kind", string(j.e.Kind), "user_id", j.e.UserID, "tokens", len(j.e.Pairs), "error", err)
		return
	}
	r.log.ErrorContext(j.ctx, "ginjwt pipeline: registration failed", "kind", string(j.e.Kind), "user_id", j.e.UserID, "tokens", len(j.e.Pairs), "error", err)
	if r.opts.OnError != nil {
		r.opts.OnError(j.ctx, j.e, err)
	}
}

// ErrStepPanicked wraps the value a panicking step panicked with.
var ErrStepPanicked = errors.New("pipeline: step panicked")

// runSteps runs the steps in order, then settles the journal entry key
// (when not 0), inside Options.Wrap when set.
func (r *Runner) runSteps(ctx context.Context, e *Event, key int64) error {
	run := func(ctx context.Context) error {
		if err := r.steps1(ctx, e); err != nil {
			return err
		}
		if key != 0 {
			if err := r.opts.Journal.Settle(ctx, key); err != nil {
				return fmt.Errorf("pipeline: settle the event: %w", err)
			}
		}
		return nil
	}
	if r.opts.Wrap == nil {
		return run(ctx)
	}
	return r.opts.Wrap(ctx, run)
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

// replayBatch is how many journal entries one replay reads at a time.
const replayBatch = 100

// replayLoop replays the journal's unsettled entries at once (those a
// crashed process left), then every ReplayEvery those older than
// ReplayAfter, until ctx ends.
func (r *Runner) replayLoop(ctx context.Context) {
	defer close(r.replayDone)
	before := r.opts.Clock().Add(time.Hour) // at start: every entry, whatever the clocks say
	t := time.NewTicker(r.opts.ReplayEvery)
	defer t.Stop()
	for {
		if _, err := r.replay(ctx, before, ""); err != nil && ctx.Err() == nil {
			r.log.WarnContext(ctx, "ginjwt pipeline: replaying the journal failed; will try again", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		before = r.opts.Clock().Add(-r.opts.ReplayAfter)
	}
}

// replay runs the journal's entries saved before before (of userID, when
// not empty) through the steps, each in one attempt of its own, and
// returns how many it settled. An entry that fails stays for the next
// replay but does not end this one: its steps may refuse it for good (a
// step of the application's, a row they cannot take), and the entries
// behind it must not wait for it. The error reports the failures, wrapping
// the first; a journal that cannot be read (the database is down) ends the
// replay at once.
func (r *Runner) replay(ctx context.Context, before time.Time, userID string) (int, error) {
	var (
		done, failures int
		first          error
		after          int64
	)
	for ctx.Err() == nil {
		entries, err := r.opts.Journal.Pending(ctx, after, before, userID, replayBatch)
		if err != nil {
			return done, errors.Join(replayFailed(failures, first), fmt.Errorf("pipeline: read the journal: %w", err))
		}
		for i := range entries {
			if ctx.Err() != nil {
				break
			}
			after = entries[i].Key
			if err := r.runSteps(ctx, &entries[i].Event, entries[i].Key); err != nil {
				if failures++; first == nil {
					first = err
				}
				continue
			}
			done++
		}
		if len(entries) < replayBatch {
			break
		}
	}
	if failures > 0 {
		return done, replayFailed(failures, first)
	}
	return done, ctx.Err()
}

// replayFailed is the error of a replay in which n entries failed, the
// first with first; nil when n is 0.
func replayFailed(n int, first error) error {
	if n == 0 {
		return nil
	}
	return fmt.Errorf("pipeline: %d journal entries failed and stay for the next replay; the first: %w", n, first)
}

// Flush runs, now and in the caller, every journal entry of userID that is
// not settled yet, so that what follows — listing the user's sessions,
// revoking one — sees every token the user was handed. Without a journal
// it does nothing. Entries that fail are tried again, flushRounds times in
// all: a failure is often the database's for a moment (SQLite busy past
// its timeout while other replays write, a connection lost), and the
// caller is about to read what they write. It returns the last failure.
func (r *Runner) Flush(ctx context.Context, userID string) error {
	if r.opts.Journal == nil || userID == "" {
		return nil
	}
	before := r.opts.Clock().Add(time.Hour)
	for round := 1; ; round++ {
		_, err := r.replay(ctx, before, userID)
		if err == nil || round == flushRounds || ctx.Err() != nil {
			return err
		}
		t := time.NewTimer(time.Duration(round) * flushPause)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return err
		}
	}
}

// flushRounds and flushPause bound Flush's retries: at most three rounds,
// 50 ms and then 100 ms apart.
const (
	flushRounds = 3
	flushPause  = 50 * time.Millisecond
)
