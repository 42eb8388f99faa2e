package steptest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/ginjwt/ginjwt/pipeline"
)

// Run runs the conformance suite against the steps newFixture makes, one
// subtest per check (see the package doc). newFixture is called from the
// subtests, once or twice each, and must return a fixture whose storage
// holds nothing yet. The subtests run one after another.
func Run(t *testing.T, newFixture func(t *testing.T) Fixture) {
	t.Helper()
	checks := []struct {
		name string
		fn   func(t *testing.T, s *suite)
	}{
		{"Replay", checkReplay},
		{"Concurrent", checkConcurrent},
		{"Rollback", checkRollback},
		{"Canceled", checkCanceled},
		{"CanceledMidway", checkCanceledMidway},
		{"EventUntouched", checkEventUntouched},
	}
	at := time.Now().UTC().Truncate(time.Second)
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			c.fn(t, &suite{newFixture: newFixture, at: at})
		})
	}
}

// suite makes the fixtures and events of one subtest.
type suite struct {
	newFixture func(t *testing.T) Fixture
	at         time.Time
}

func (s *suite) fixture(t *testing.T) *fixture {
	t.Helper()
	f := s.newFixture(t)
	if f.Step == nil || f.State == nil {
		t.Fatal("steptest: the Fixture needs a Step and a State func")
	}
	return &fixture{Fixture: f, t: t, at: s.at}
}

// fixture is a Fixture with the suite's helpers.
type fixture struct {
	Fixture
	t  *testing.T
	at time.Time
}

// events returns new copies of the fixture's events.
func (f *fixture) events() []*pipeline.Event {
	f.t.Helper()
	if f.Events == nil {
		return Events(f.at)
	}
	events := f.Events()
	if len(events) == 0 {
		f.t.Fatal("steptest: Fixture.Events returned no event")
	}
	return events
}

// attempt runs the Before steps and Step on e, inside Wrap when set, as
// one attempt of a Runner; after, when set, runs last in the attempt.
func (f *fixture) attempt(ctx context.Context, e *pipeline.Event, after func(ctx context.Context) error) error {
	run := func(ctx context.Context) error {
		if err := f.before(ctx, e); err != nil {
			return err
		}
		if err := f.Step(ctx, e); err != nil {
			return err
		}
		if after != nil {
			return after(ctx)
		}
		return nil
	}
	if f.Wrap == nil {
		return run(ctx)
	}
	return f.Wrap(ctx, run)
}

// before runs the Before steps alone.
func (f *fixture) before(ctx context.Context, e *pipeline.Event) error {
	for i, step := range f.Before {
		if err := step(ctx, e); err != nil {
			return fmt.Errorf("Fixture.Before[%d]: %w", i, err)
		}
	}
	return nil
}

// wrapped runs fn inside Wrap when set.
func (f *fixture) wrapped(ctx context.Context, fn func(ctx context.Context) error) error {
	if f.Wrap == nil {
		return fn(ctx)
	}
	return f.Wrap(ctx, fn)
}

// run runs one attempt on e that must succeed.
func (f *fixture) run(what string, e *pipeline.Event) {
	f.t.Helper()
	if err := f.attempt(context.Background(), e, nil); err != nil {
		f.t.Fatalf("%s: %v", what, err)
	}
}

// state returns the fixture's State.
func (f *fixture) state() any {
	f.t.Helper()
	st, err := f.State(context.Background())
	if err != nil {
		f.t.Fatalf("Fixture.State: %v", err)
	}
	return st
}

// sameState fails the test when got is not want.
func sameState(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s changed the state: %s", what, stateDiff("got", got, "want", want))
	}
}

// stateDiff shows where the printed forms of two states part.
func stateDiff(aName string, a any, bName string, b any) string {
	as, bs := fmt.Sprintf("%+v", a), fmt.Sprintf("%+v", b)
	p := 0
	for p < len(as) && p < len(bs) && as[p] == bs[p] {
		p++
	}
	q := 0
	for q < len(as)-p && q < len(bs)-p && as[len(as)-1-q] == bs[len(bs)-1-q] {
		q++
	}
	const context = 60
	cut := func(s string) string {
		from, to := max(0, p-context), min(len(s), len(s)-q+context)
		out := s[from:to]
		if from > 0 {
			out = "…" + out
		}
		if to < len(s) {
			out += "…"
		}
		return out
	}
	return fmt.Sprintf("\n%8s: %s\n%8s: %s", aName, cut(as), bName, cut(bs))
}

// journaled returns e as the journal gives it back: through JSON.
func journaled(t *testing.T, e *pipeline.Event) *pipeline.Event {
	t.Helper()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatalf("encode the event: %v", err)
	}
	var out pipeline.Event
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("decode the event: %v", err)
	}
	return &out
}

// clone copies e deeply.
func clone(e *pipeline.Event) *pipeline.Event {
	c := *e
	c.Pairs = make([]pipeline.Pair, len(e.Pairs))
	for i, p := range e.Pairs {
		if p.Parent != nil {
			p.Parent = ptr(*p.Parent)
		}
		c.Pairs[i] = p
	}
	if e.ForwardedFor != nil {
		c.ForwardedFor = append([]string{}, e.ForwardedFor...)
	}
	return &c
}

// describe names event i of events for messages.
func describe(i int, e *pipeline.Event) string {
	first := ""
	if len(e.Pairs) > 0 {
		first = e.Pairs[0].Child.ID
	}
	return fmt.Sprintf("event %d (%s, %d pairs, first %q)", i+1, e.Kind, len(e.Pairs), first)
}

// errAbort is what a step after the one under test fails with.
var errAbort = errors.New("steptest: a later step failed")
