// Package pipeline runs the registration steps ginjwt applies to every token
// it issues: on login (Obtained), on refresh (Refreshed) and on refresh
// update (Updated).
//
// # Events and steps
//
// An [Event] carries the issued tokens as plain values, each with its
// parent, and the facts of the request that issued them (User-Agent, client
// IP, time), captured when it happened: a step that runs later in the
// background sees exactly what the request saw. A [Step] is a function of
// the event; the default steps are the token registry's RegisterPairs and
// ConnectUser, and the device registry's ConnectInterlocutor. An
// application adds its own, or replaces the list; package
// pipeline/steptest is the conformance suite a step runs in its tests.
//
// # Synchronous or in the background
//
// A [Runner] runs the steps before the response by default. With
// Options.Async it queues events for a few workers instead; when the queue
// is full the event runs in the caller, so nothing is dropped, and Close
// waits until the queue is empty, so nothing is lost on a clean shutdown. A
// background event that fails is retried, then logged and reported, and
// never fails the request that issued its tokens.
//
// # By hand
//
// Tokens an application makes itself are registered by running an event
// through the same runner:
//
//	err := runner.Run(ctx, &pipeline.Event{Kind: pipeline.Manual, Pairs: pairs, UserID: id})
package pipeline
