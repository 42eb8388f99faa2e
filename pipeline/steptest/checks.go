package steptest

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"sync"
	"testing"

	"github.com/ginjwt/ginjwt/pipeline"
)

// checkReplay: every event run again, from memory or from its JSON form,
// and every earlier event after the later ones, returns nil and changes
// nothing; the first event changes State beyond what Before writes.
func checkReplay(t *testing.T, s *suite) {
	f := s.fixture(t)
	events := f.events()
	for i, e := range events {
		if i == 0 {
			if err := f.wrapped(context.Background(), func(ctx context.Context) error { return f.before(ctx, e) }); err != nil {
				t.Fatalf("%s, Before alone: %v", describe(i, e), err)
			}
			before := f.state()
			f.run(describe(i, e), e)
			if reflect.DeepEqual(f.state(), before) {
				t.Fatalf("%s: the step left State as it was: State does not see what the step writes, or the step does nothing for this event", describe(i, e))
			}
		} else {
			f.run(describe(i, e), e)
		}
		want := f.state()
		for _, replay := range []struct {
			what string
			e    *pipeline.Event
		}{{"again", e}, {"again from its JSON form", journaled(t, e)}} {
			if err := f.attempt(context.Background(), replay.e, nil); err != nil {
				t.Errorf("%s, run %s: %v; want nil: a step must take a replay", describe(i, e), replay.what, err)
			}
			sameState(t, describe(i, e)+", run "+replay.what+",", f.state(), want)
		}
	}
	want := f.state()
	for i := len(events) - 2; i >= 0; i-- {
		if err := f.attempt(context.Background(), journaled(t, events[i]), nil); err != nil {
			t.Errorf("%s, replayed after the later events: %v; want nil", describe(i, events[i]), err)
		}
		sameState(t, describe(i, events[i])+", replayed after the later events,", f.state(), want)
	}
	ref := s.fixture(t)
	for i, e := range ref.events() {
		ref.run(describe(i, e)+" in a second fixture", e)
	}
	sameState(t, "Replaying every event (compared with running each once in a fresh fixture)", want, ref.state())
}

// checkConcurrent: four distinct events at once, then one event from four
// goroutines at once, all succeed and leave the state of running each
// once.
func checkConcurrent(t *testing.T, s *suite) {
	f := s.fixture(t)
	events := f.events()
	logins := make([]*pipeline.Event, 4)
	for n := range logins {
		logins[n] = Login(n+1, User+"-"+strconv.Itoa(n+1), s.at)
	}
	concurrently := func(what string, events []*pipeline.Event) {
		t.Helper()
		errs := make([]error, len(events))
		var wg sync.WaitGroup
		for i, e := range events {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = f.attempt(context.Background(), e, nil)
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("%s, goroutine %d: %v; want nil", what, i+1, err)
			}
		}
	}
	// The distinct logins first: they make the rows events share (a
	// device registry's interlocutor), so the same event run four times
	// at once does not queue on creating them.
	concurrently("four logins of their own run at once", logins)
	same := []*pipeline.Event{events[0], clone(events[0]), journaled(t, events[0]), clone(events[0])}
	concurrently(describe(0, events[0])+" run by four goroutines at once", same)

	ref := s.fixture(t)
	for n := range logins {
		ref.run("login "+strconv.Itoa(n+1)+" in a second fixture", Login(n+1, User+"-"+strconv.Itoa(n+1), s.at))
	}
	ref.run(describe(0, events[0])+" in a second fixture", ref.events()[0])
	sameState(t, "Running events concurrently (compared with running each once in a fresh fixture)", f.state(), ref.state())
}

// checkRollback: with Wrap, an attempt that fails after the step leaves
// nothing of the step behind.
func checkRollback(t *testing.T, s *suite) {
	f := s.fixture(t)
	if f.Wrap == nil {
		t.Log("Fixture.Wrap is not set: the step has no transaction to roll back")
		return
	}
	for i, e := range f.events() {
		before := f.state()
		err := f.attempt(context.Background(), e, func(context.Context) error { return errAbort })
		if !errors.Is(err, errAbort) {
			t.Errorf("%s: an attempt whose last step failed returned %v; want that step's error", describe(i, e), err)
		}
		sameState(t, describe(i, e)+", in an attempt rolled back after the step returned,", f.state(), before)
		f.run(describe(i, e), e)
	}
}

// checkCanceled: a context canceled before the step starts stops it
// before it writes.
func checkCanceled(t *testing.T, s *suite) {
	f := s.fixture(t)
	e := f.events()[0]
	if err := f.wrapped(context.Background(), func(ctx context.Context) error { return f.before(ctx, e) }); err != nil {
		t.Fatalf("%s, Before alone: %v", describe(0, e), err)
	}
	before := f.state()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.Step(ctx, e); !errors.Is(err, context.Canceled) {
		t.Errorf("%s with a canceled context: the step returned %v; want an error matching context.Canceled", describe(0, e), err)
	}
	sameState(t, describe(0, e)+" with a canceled context", f.state(), before)
	if f.Wrap != nil {
		if err := f.attempt(ctx, e, nil); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context, inside Wrap: %v; want an error matching context.Canceled", describe(0, e), err)
		}
		sameState(t, describe(0, e)+" with a canceled context, inside Wrap,", f.state(), before)
	}
	f.run(describe(0, e)+" after the canceled attempts", e)
}
