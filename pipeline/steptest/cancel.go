package steptest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ginjwt/ginjwt/pipeline"
)

// maxCancels bounds how many canceled attempts the suite makes per event:
// each costs a database a connection.
const maxCancels = 12

// checkCanceledMidway: a context canceled at its k-th look, for every k
// from 1 to the number of looks a whole attempt takes (or 12 of them, spread
// evenly, when there are more), each time on a fresh copy of the event:
// every attempt succeeds completely, or fails with context.Canceled and
// leaves the state as before or as complete.
func checkCanceledMidway(t *testing.T, s *suite) {
	f := s.fixture(t)
	failures := 0
	for i, template := range f.events() {
		looks := f.looks(t, describe(i, template), renamed(template, fmt.Sprintf("c%d.0-", i+1)))
		for _, k := range spread(looks, maxCancels) {
			e := renamed(template, fmt.Sprintf("c%d.%d-", i+1, k))
			what := fmt.Sprintf("%s, context canceled at its look %d of %d", describe(i, template), k, looks)
			if !f.cancelAt(t, what, e, k) {
				if failures++; failures >= 5 {
					t.Fatal("stopping after 5 failures")
				}
			}
		}
	}
}

// looks runs a whole attempt on e and returns how many times the step (and
// Before and Wrap, with Wrap) looked at the context.
func (f *fixture) looks(t *testing.T, what string, e *pipeline.Event) int {
	t.Helper()
	const never = 1 << 40
	ctx := newCountdown(never)
	defer ctx.cancel()
	var err error
	if f.Wrap != nil {
		err = f.attempt(ctx, e, nil)
	} else {
		if err := f.before(context.Background(), e); err != nil {
			t.Fatalf("%s, Before alone: %v", what, err)
		}
		err = f.Step(ctx, e)
	}
	if err != nil {
		t.Fatalf("%s, on a fresh copy of the event: %v", what, err)
	}
	return int(never - ctx.left.Load())
}

// spread returns 1…n, or max of them spread evenly from 1 to n.
func spread(n, max int) []int {
	var ks []int
	if n <= max {
		for k := 1; k <= n; k++ {
			ks = append(ks, k)
		}
		return ks
	}
	for j := range max {
		ks = append(ks, 1+j*(n-1)/(max-1))
	}
	return ks
}

// cancelAt makes one attempt on e with a context canceled at its k-th
// look, checks the outcome, and reports whether the checks passed.
func (f *fixture) cancelAt(t *testing.T, what string, e *pipeline.Event, k int) (ok bool) {
	t.Helper()
	bg := context.Background()
	ctx := newCountdown(k)
	defer ctx.cancel()
	var err error
	before := f.state()
	if f.Wrap != nil {
		err = f.attempt(ctx, e, nil)
	} else {
		// Without a transaction around them, only the step itself can be
		// held to all or nothing.
		if err := f.before(bg, e); err != nil {
			t.Fatalf("%s, Before alone: %v", what, err)
		}
		before = f.state()
		err = f.Step(ctx, e)
	}
	fired := ctx.fired.Load()
	got := f.state()
	if err != nil && !fired {
		t.Fatalf("%s: the context was not canceled, yet the attempt failed: %v", what, err)
	}
	if err := f.attempt(bg, e, nil); err != nil {
		t.Fatalf("%s, then run again: %v", what, err)
	}
	complete := f.state()
	ok = true
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("%s: %v; want an error matching context.Canceled", what, err)
		ok = false
	}
	switch {
	case err == nil && !reflect.DeepEqual(got, complete):
		t.Errorf("%s: returned nil, yet running the event again changed the state: the step stopped part way and said nothing; %s", what, stateDiff("after", got, "again", complete))
		ok = false
	case err != nil && !reflect.DeepEqual(got, before) && !reflect.DeepEqual(got, complete):
		t.Errorf("%s: failed (%v) and left the state half-written: %s; %s", what, err, stateDiff("after", got, "before", before), stateDiff("after", got, "complete", complete))
		ok = false
	}
	return ok
}

// countdown is a context canceled at its k-th look (a call of Done or
// Err), by whichever goroutine looks.
type countdown struct {
	context.Context
	cancel context.CancelFunc
	left   atomic.Int64
	fired  atomic.Bool
}

func newCountdown(k int) *countdown {
	ctx, cancel := context.WithCancel(context.Background())
	c := &countdown{Context: ctx, cancel: cancel}
	c.left.Store(int64(k))
	return c
}

func (c *countdown) look() {
	if c.left.Add(-1) == 0 {
		c.fired.Store(true)
		c.cancel()
	}
}

func (c *countdown) Done() <-chan struct{} {
	c.look()
	return c.Context.Done()
}

func (c *countdown) Err() error {
	c.look()
	return c.Context.Err()
}

// renamed returns a copy of e whose token, session and user IDs start
// with prefix, and whose User-Agent, when it has one, ends with it: the
// same event, new to the storage, down to the rows a step shares between
// events (a device registry's interlocutors).
func renamed(e *pipeline.Event, prefix string) *pipeline.Event {
	c := clone(e)
	if c.UserAgent != "" {
		c.UserAgent += " steptest/" + strings.TrimSuffix(prefix, "-")
	}
	rename := func(tok *pipeline.Token) {
		tok.ID, tok.SessionID = prefix+tok.ID, prefix+tok.SessionID
		if tok.UserID != "" {
			tok.UserID = prefix + tok.UserID
		}
	}
	for i := range c.Pairs {
		rename(&c.Pairs[i].Child)
		if c.Pairs[i].Parent != nil {
			rename(c.Pairs[i].Parent)
		}
	}
	if c.UserID != "" {
		c.UserID = prefix + c.UserID
	}
	return c
}

// checkEventUntouched: the step leaves each event as it found it, and
// events overwritten after their run change nothing of the state.
func checkEventUntouched(t *testing.T, s *suite) {
	f := s.fixture(t)
	for i, e := range f.events() {
		want := clone(e)
		f.run(describe(i, e), e)
		if diff := eventDiff(e, want); diff != "" {
			t.Errorf("%s: the step changed the event: %s", describe(i, want), diff)
		}
		scribble(e)
	}
	got := f.state()
	ref := s.fixture(t)
	for i, e := range ref.events() {
		ref.run(describe(i, e)+" in a second fixture", e)
	}
	sameState(t, "Overwriting each event after its run (compared with a fresh fixture's state)", got, ref.state())
}

// scribble overwrites e in place, as a caller that reuses its event would.
func scribble(e *pipeline.Event) {
	over := func(tok *pipeline.Token) {
		tok.ID, tok.SessionID, tok.UserID, tok.Type = "scribbled-"+tok.ID, "scribbled", "scribbled", "scribbled"
		tok.ExpiresAt = tok.IssuedAt
	}
	for i := range e.Pairs {
		over(&e.Pairs[i].Child)
		if e.Pairs[i].Parent != nil {
			over(e.Pairs[i].Parent)
		}
	}
	e.Kind, e.UserID, e.UserAgent, e.ClientIP = "scribbled", "scribbled", "scribbled", "192.0.2.255"
	for i := range e.ForwardedFor {
		e.ForwardedFor[i] = "192.0.2.254"
	}
	e.Time = e.Time.Add(-1)
}

// eventDiff says where got differs from want, "" nowhere.
func eventDiff(got, want *pipeline.Event) string {
	var diffs []string
	field := func(name string, g, w any) {
		if !reflect.DeepEqual(g, w) {
			diffs = append(diffs, fmt.Sprintf("%s is %#v, was %#v", name, g, w))
		}
	}
	field("Kind", got.Kind, want.Kind)
	field("UserID", got.UserID, want.UserID)
	field("UserAgent", got.UserAgent, want.UserAgent)
	field("ClientIP", got.ClientIP, want.ClientIP)
	field("ForwardedFor", got.ForwardedFor, want.ForwardedFor)
	field("Time", got.Time, want.Time)
	if len(got.Pairs) != len(want.Pairs) {
		diffs = append(diffs, fmt.Sprintf("%d pairs, was %d", len(got.Pairs), len(want.Pairs)))
	} else {
		for i := range got.Pairs {
			field(fmt.Sprintf("Pairs[%d].Child", i), got.Pairs[i].Child, want.Pairs[i].Child)
			field(fmt.Sprintf("Pairs[%d].Parent", i), got.Pairs[i].Parent, want.Pairs[i].Parent)
		}
	}
	return strings.Join(diffs, "; ")
}
