package pipeline_test

import (
	"context"
	"testing"

	"github.com/ginjwt/ginjwt/pipeline"
)

func TestQueuedCountsWaitingEvents(t *testing.T) {
	t.Parallel()
	started := make(chan struct{}, 1)
	release := make(chan struct{})
	block := func(ctx context.Context, e *pipeline.Event) error {
		started <- struct{}{}
		<-release
		return nil
	}
	r := pipeline.NewRunner([]pipeline.Step{block}, pipeline.Options{Async: true, Workers: 1, QueueSize: 4, Logger: quiet})
	if got := r.QueueSize(); got != 4 {
		t.Fatalf("QueueSize = %d, want 4", got)
	}
	if err := r.Run(context.Background(), event("u0")); err != nil {
		t.Fatal(err)
	}
	<-started // the one worker holds u0: the queue is empty again
	if got := r.Queued(); got != 0 {
		t.Fatalf("Queued = %d while the worker runs the only event, want 0", got)
	}
	for _, u := range []string{"u1", "u2", "u3"} {
		if err := r.Run(context.Background(), event(u)); err != nil {
			t.Fatal(err)
		}
	}
	if got := r.Queued(); got != 3 {
		t.Fatalf("Queued = %d with three events behind a busy worker, want 3", got)
	}
	go func() {
		for range 3 {
			<-started
		}
	}()
	close(release)
	closeRunner(t, r)
	if got := r.Queued(); got != 0 {
		t.Fatalf("Queued = %d after Close drained the queue, want 0", got)
	}
}

func TestQueuedSynchronous(t *testing.T) {
	t.Parallel()
	r := pipeline.NewRunner(nil, pipeline.Options{})
	if r.Queued() != 0 || r.QueueSize() != 0 {
		t.Fatalf("a synchronous Runner has Queued %d, QueueSize %d; want 0, 0", r.Queued(), r.QueueSize())
	}
}
