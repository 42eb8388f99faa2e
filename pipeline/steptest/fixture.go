package steptest

import (
	"context"
	"strconv"
	"time"

	"github.com/ginjwt/ginjwt/pipeline"
)

// Fixture is a step under test, on storage of its own, and how to see what
// it wrote. Run asks for a new one for each subtest (and, for the checks
// that compare two, a second).
type Fixture struct {
	// Step is the step under test. Required.
	Step pipeline.Step
	// Before are the steps that run before Step in the pipeline, which it
	// depends on (registry.RegisterPairs before ConnectUser); the suite runs
	// them before Step on every attempt, inside Wrap, and holds Step alone
	// to the checks. Default none.
	Before []pipeline.Step
	// Wrap, when set, runs each attempt at an event's steps, as
	// pipeline.Options.Wrap does: registry.Registry.InTx for the built-in
	// steps. Default none: the steps run as they are.
	Wrap func(ctx context.Context, run func(ctx context.Context) error) error
	// State returns what the steps have written so far, in a form
	// reflect.DeepEqual compares: described by the events' values (jtis,
	// user IDs, request facts), not by surrogate keys, insertion order or
	// the time of the run (give the storage a fixed clock), so that two
	// fixtures holding the same facts have equal states. Required.
	State func(ctx context.Context) (any, error)
	// Events, when set, returns the events to run, in their order, in place
	// of the suite's ([Events]); there must be at least one, and the first
	// must be one Step does something for. Events are run as they are
	// returned, and may be changed by the suite afterwards: return new ones
	// on each call.
	Events func() []*pipeline.Event
}

// User is the user of the suite's events.
const User = "steptest-user"

// Events returns the suite's events, issued from at on: a login, a refresh
// that rotates its refresh token (from another browser, behind a proxy),
// an update of the rotated token, and a token registered by hand with no
// user and no request facts. Tokens' IDs start with "steptest-"; each call
// returns new values.
func Events(at time.Time) []*pipeline.Event {
	r1 := token("steptest-r1", "refresh", "steptest-r1", User, at, 24*time.Hour)
	a1 := token("steptest-a1", "access", "steptest-r1", User, at, 5*time.Minute)
	r2 := token("steptest-r2", "refresh", "steptest-r1", User, at.Add(time.Minute), 24*time.Hour)
	a2 := token("steptest-a2", "access", "steptest-r1", User, at.Add(time.Minute), 5*time.Minute)
	r3 := token("steptest-r3", "refresh", "steptest-r1", User, at.Add(2*time.Minute), 24*time.Hour)
	a3 := token("steptest-a3", "access", "steptest-r1", User, at.Add(2*time.Minute), 5*time.Minute)
	m1 := token("steptest-m1", "access", "steptest-m1", "", at.Add(3*time.Minute), 5*time.Minute)
	return []*pipeline.Event{
		{
			Kind: pipeline.Obtained, UserID: User, Time: at,
			Pairs:     []pipeline.Pair{{Child: r1}, {Child: a1, Parent: ptr(r1)}},
			UserAgent: chrome, ClientIP: "203.0.113.7",
		},
		{
			Kind: pipeline.Refreshed, UserID: User, Time: at.Add(time.Minute),
			Pairs:     []pipeline.Pair{{Child: r2, Parent: ptr(r1)}, {Child: a2, Parent: ptr(r2)}},
			UserAgent: firefox, ClientIP: "2001:db8::1", ForwardedFor: []string{"2001:db8::1", "198.51.100.2"},
		},
		{
			Kind: pipeline.Updated, UserID: User, Time: at.Add(2 * time.Minute),
			Pairs:     []pipeline.Pair{{Child: r3, Parent: ptr(r2)}, {Child: a3, Parent: ptr(r3)}},
			UserAgent: chrome, ClientIP: "203.0.113.8",
		},
		{Kind: pipeline.Manual, Time: at.Add(3 * time.Minute), Pairs: []pipeline.Pair{{Child: m1}}},
	}
}

// Login returns the login of a session of its own, numbered n, for user,
// issued at at: the suite's distinct concurrent events.
func Login(n int, user string, at time.Time) *pipeline.Event {
	sid := "steptest-s" + strconv.Itoa(n)
	r := token(sid, "refresh", sid, user, at, 24*time.Hour)
	a := token(sid+"-a", "access", sid, user, at, 5*time.Minute)
	return &pipeline.Event{
		Kind: pipeline.Obtained, UserID: user, Time: at,
		Pairs:     []pipeline.Pair{{Child: r}, {Child: a, Parent: ptr(r)}},
		UserAgent: chrome, ClientIP: "192.0.2." + strconv.Itoa(n%250+1),
	}
}

const (
	chrome  = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
	firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
)

func token(id, typ, sid, user string, at time.Time, ttl time.Duration) pipeline.Token {
	return pipeline.Token{ID: id, Type: typ, SessionID: sid, UserID: user, IssuedAt: at, ExpiresAt: at.Add(ttl), Generation: 1}
}

func ptr(t pipeline.Token) *pipeline.Token { return &t }
