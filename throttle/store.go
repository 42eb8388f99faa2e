// Package throttle holds the shared state of ginjwt's login throttle: the
// [Store] interface through which several instances of an application
// count failed logins and logins in flight as one, the SQL store on the
// application's database ([NewSQL]), and the sliding-window arithmetic
// ([Decide], [RetryAfter]) that every store applies alike.
//
// ginjwt's Config.Throttle.Store chooses the store: by default the SQL
// store when the registry's database is PostgreSQL, and the process's own
// memory otherwise; package redisstore keeps the counts in Redis. Package
// storetest checks a Store against this contract.
package throttle

import (
	"context"
	"errors"
	"math"
	"time"
)

// Store keeps the login throttle's counts where every instance of an
// application sees them. A Store is safe for concurrent use by many
// goroutines and processes. Every method takes the caller's time, so that
// the instances' windows agree as far as their clocks do; a method fails
// only when the store cannot answer (unreachable, timed out, ctx ended),
// and the login is then answered 503 and counted nowhere.
type Store interface {
	// Check returns how long until the failures alone of every bucket of a
	// are below their limits at now (0 when they are already), for admin
	// pages and diagnostics. It changes nothing. (ginjwt's logins go
	// straight to Admit, which refuses as well, sparing a round trip.)
	Check(ctx context.Context, a *Attempt, now time.Time) (time.Duration, error)
	// Admit decides, atomically with every other Admit and End on the
	// same buckets, whether a may start at now. It is admitted when, for
	// every bucket, failures in the sliding window plus attempts in flight
	// are below the limit; it is then in flight until End, or until its
	// Lease passes — an attempt whose lease passed counts as one failure,
	// once, whenever the store next looks at its buckets or End reports it,
	// since its instance died or lost the store before it could report. It
	// is refused (Decision.RetryAfter > 0) when failures alone reach a
	// limit, and busy (neither) when attempts in flight fill the rest: the
	// caller waits and asks again.
	Admit(ctx context.Context, a *Attempt, now time.Time) (Decision, error)
	// End takes a out of flight and applies its outcome at now: Failed adds
	// one failure to each bucket, unless a was no longer in flight (its
	// lease passed and it was counted already); Succeeded clears the
	// failures of the buckets with ClearOnSuccess; Abandoned counts
	// nothing. Ending an attempt that is not in flight (never admitted,
	// ended already) applies only Succeeded's clearing.
	End(ctx context.Context, a *Attempt, o Outcome, now time.Time) error
}

// Attempt is one login as a store sees it.
type Attempt struct {
	// ID tells this attempt from every other in flight: 128 random bits,
	// printable, at most 64 bytes.
	ID string
	// Buckets are the counts the attempt is held to (its login name, its
	// account when known, its client address). Keys are printable, at most
	// 64 bytes.
	Buckets []Bucket
	// Window is the period the failures are counted over.
	Window time.Duration
	// Lease is how long the attempt may stay in flight without an End.
	Lease time.Duration
	// Again is set when the attempt asks Admit again after a busy answer:
	// a store may then look without locks first.
	Again bool
}

// Bucket is one count an attempt is held to.
type Bucket struct {
	Key   string
	Limit int
	// ClearOnSuccess clears the bucket's failures when a login held to it
	// succeeds: true for names and accounts, false for client addresses
	// (one good account must not reset a guesser's count).
	ClearOnSuccess bool
}

// Outcome is how an attempt ended.
type Outcome int

// The outcomes of an attempt.
const (
	// Abandoned: no password was checked (an outage, no hashing slot in
	// time, the client went away). Nothing is counted.
	Abandoned Outcome = iota
	// Failed: a wrong password, an unknown login or an inactive account.
	Failed
	// Succeeded: the password was right.
	Succeeded
)

// Decision is a store's answer to Admit: admitted, refused for RetryAfter,
// or busy (neither: attempts in flight fill the rest of a limit).
type Decision struct {
	Admitted   bool
	RetryAfter time.Duration
}

// Counts are one bucket's failures in the current and the previous fixed
// window, and its attempts in flight.
type Counts struct {
	Current, Previous int64
	InFlight          int64
}

// ErrUnavailable wraps the errors of a store that cannot answer.
var ErrUnavailable = errors.New("throttle: store unavailable")

// WindowStart is the start of the fixed window of length window that holds
// now; every instance computes the same.
func WindowStart(now time.Time, window time.Duration) time.Time { return now.Truncate(window) }

// Overlap is how much of the previous fixed window the sliding window ending
// at now still covers, from 1 at the start of the current window to 0 at
// its end.
func Overlap(now time.Time, window time.Duration) float64 {
	return 1 - float64(now.Sub(WindowStart(now, window)))/float64(window)
}

// Estimate is the sliding count of c at now: the current window's failures
// plus the previous window's weighted by its overlap.
func (c Counts) Estimate(now time.Time, window time.Duration) float64 {
	return float64(c.Current) + float64(c.Previous)*Overlap(now, window)
}

// Decide is the decision for a at now given its buckets' counts (in the
// order of a.Buckets): what every store must decide.
func Decide(a *Attempt, counts []Counts, now time.Time) Decision {
	if wait := RetryAfter(a, counts, now); wait > 0 {
		return Decision{RetryAfter: wait}
	}
	for i, b := range a.Buckets {
		if counts[i].Estimate(now, a.Window)+float64(counts[i].InFlight) >= float64(b.Limit) {
			return Decision{}
		}
	}
	return Decision{Admitted: true}
}

// RetryAfter is how long until the failures of every bucket of a are below
// their limits, 0 when they are at now.
func RetryAfter(a *Attempt, counts []Counts, now time.Time) (wait time.Duration) {
	for i, b := range a.Buckets {
		wait = max(wait, retryAfter(counts[i], b.Limit, a.Window, now))
	}
	return wait
}

func retryAfter(c Counts, limit int, window time.Duration, now time.Time) time.Duration {
	if c.Estimate(now, window) < float64(limit) {
		return 0
	}
	start := WindowStart(now, window)
	cur, prev := float64(c.Current), float64(c.Previous)
	// The count falls as the previous window slides out: solve
	// cur + prev*(1-x) < limit for the fraction x of the window elapsed.
	if cur < float64(limit) && prev > 0 {
		x := 1 - (float64(limit)-cur)/prev
		at := start.Add(time.Duration(math.Ceil(x*float64(window))) + time.Millisecond)
		if d := at.Sub(now); d > 0 {
			return d
		}
	}
	// Otherwise the current window must end and slide out in turn.
	next := start.Add(window)
	x := max(1-float64(limit)/cur, 0)
	return next.Add(time.Duration(math.Ceil(x*float64(window))) + time.Millisecond).Sub(now)
}
