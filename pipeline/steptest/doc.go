// Package steptest is a conformance suite for pipeline steps: a
// [pipeline.Step] of the application's, or the built-in ones
// (registry.RegisterPairs, registry.ConnectUser,
// device.ConnectInterlocutor), runs [Run] from one of its tests and learns
// whether it keeps what the [pipeline.Runner] relies on.
//
//	func TestAuditStep(t *testing.T) {
//		steptest.Run(t, func(t *testing.T) steptest.Fixture {
//			a := newAudit(t) // empty, of this subtest alone
//			return steptest.Fixture{Step: a.Record, State: a.Rows}
//		})
//	}
//
// example_test.go holds a complete in-memory step that passes the suite.
//
// # What it checks
//
// The Runner tries a background event up to Options.Attempts times, and a
// journaled Runner replays events after a crash or an outage, on any
// instance, in any order, from their JSON form; it runs the steps inside
// Options.Wrap (one database transaction for the built-in pipeline) and
// hands each step the same *Event. So, each check on fresh fixtures:
//
//   - Replay: an event run a second time, and again from its JSON form
//     (what the journal keeps), returns nil and leaves [Fixture.State]
//     as the first run left it; so does replaying every earlier event after
//     the later ones; and the first event changes State (what Fixture.Before
//     wrote aside), so State does see the step's work.
//   - Concurrent: four distinct events at once, then one event run from
//     four goroutines at once (two instances replaying one journal entry),
//     all return nil and leave the State of running each once in a fresh
//     fixture. Run with -race.
//   - Rollback, when [Fixture.Wrap] is set: an attempt that fails after the
//     step returned (a later step failed) leaves State as it was: the step
//     wrote only through the transaction Wrap put in its context.
//   - Canceled: with a context canceled before it starts, the step returns
//     an error matching context.Canceled and writes nothing.
//   - CanceledMidway: with a context canceled at its first, second, …
//     look at the context (a call of Done or Err, by the step or by the
//     database driver under it; at most 12 points per event, spread over
//     the looks a whole attempt takes), every attempt either succeeds or
//     returns an error matching context.Canceled, and leaves State either
//     as before or as complete, never half-written. Within Wrap the whole
//     attempt is held to this; without, the step alone.
//   - EventUntouched: the step leaves the event as it found it (the steps
//     after it and the journal see the same values), and does not keep it:
//     events overwritten after their run change nothing later.
//
// # The events
//
// The suite's events ([Events]) are a login (a refresh token and its access
// token, a user, a browser's User-Agent and an IPv4 address), a refresh
// that rotates that session's refresh token from another browser behind a
// proxy (IPv6, X-Forwarded-For), an update of the rotated token, and a
// token registered by hand with no user and no request. [Fixture.Events]
// replaces them.
//
// # Import graph
//
// The package imports [pipeline] and the standard library only.
package steptest
