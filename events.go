package ginjwt

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ginjwt/ginjwt/device"
	"github.com/ginjwt/ginjwt/pipeline"
)

// EventKind names what happened.
type EventKind uint8

// The events ginjwt emits. Subscribe to them with [Auth.Subscribe].
const (
	// AnyEvent subscribes to every kind.
	AnyEvent EventKind = iota
	// LoggedIn: a user logged in (login endpoint or Auth.Login).
	LoggedIn
	// LoginFailed: a login was refused: wrong credentials (Err wraps
	// ErrInvalidCredentials) or throttled (ErrTooManyRequests). Login holds
	// the login name tried.
	LoginFailed
	// TokenObtained: a new session's tokens were issued. Pairs lists them.
	TokenObtained
	// AccessRefreshed: a refresh token (or a sliding token) issued a new
	// access token. Pairs lists the new tokens.
	AccessRefreshed
	// RefreshUpdated: a refresh token was traded for a new refresh and
	// access pair at the update endpoint.
	RefreshUpdated
	// TokenValidated: the verify endpoint found a token valid. (The
	// middleware does not emit it: that would be one event per request.)
	TokenValidated
	// TokenRevoked: a token was force-expired.
	TokenRevoked
	// SessionRevoked: a whole session was revoked.
	SessionRevoked
	// RefreshReuseDetected: a rotated-out refresh token was presented again;
	// its session was revoked.
	RefreshReuseDetected
	// LoggedOut: a session ended by logout.
	LoggedOut
	// RegistrationFailed: the registration pipeline failed for good on
	// tokens issued in the background (Err says why). The tokens work; the
	// registry does not know them until they are presented to a refresh.
	RegistrationFailed
	// NewDevice: a user logged in from a client (User-Agent) they had not
	// logged in from before, with the device registry on. Device describes
	// it; for "new sign-in" e-mails. Emitted by the registration pipeline:
	// in the background with Registry.Async.
	NewDevice
	numEventKinds
)

var eventNames = [numEventKinds]string{
	"any", "logged_in", "login_failed", "token_obtained", "access_refreshed", "refresh_updated",
	"token_validated", "token_revoked", "session_revoked", "refresh_reuse_detected", "logged_out",
	"registration_failed", "new_device",
}

// String returns the event's snake_case name, as in logs.
func (k EventKind) String() string {
	if k < numEventKinds {
		return eventNames[k]
	}
	return fmt.Sprintf("EventKind(%d)", uint8(k))
}

// Event is one thing that happened, as subscribers receive it. Fields that
// do not apply to the kind are zero.
type Event struct {
	Kind EventKind
	Time time.Time
	// UserID and Username are the user concerned.
	UserID, Username string
	// SessionID is the session concerned (the sid claim).
	SessionID string
	// Login is the login name of a LoginFailed event.
	Login string
	// Token is the token presented, when one was.
	Token *Claims
	// Pairs are the tokens issued, each with its parent, for TokenObtained,
	// AccessRefreshed and RefreshUpdated.
	Pairs []pipeline.Pair
	// Request holds the client's address and User-Agent.
	Request RequestFacts
	// Device is the client of a NewDevice event.
	Device *device.Interlocutor
	// Reason says why, for failures and revocations.
	Reason string
	// Err is the error behind a failure.
	Err error
}

// subscriber is one subscription; its identity is its pointer.
type subscriber struct {
	fn func(context.Context, Event)
}

// bus delivers events to subscribers, synchronously, in the order they
// subscribed. The lists are copy-on-write, so emitting takes no lock and an
// event nobody listens to costs one atomic load.
type bus struct {
	mu   sync.Mutex
	subs [numEventKinds]atomic.Pointer[[]*subscriber]
	log  *slog.Logger
}

// slowSubscriber is how long a subscriber may run before a warning is logged.
const slowSubscriber = 100 * time.Millisecond

// Subscribe calls fn for every event of kind (AnyEvent for all) and returns
// a function that ends the subscription; calling it again does nothing.
//
// Subscribers run synchronously, in the goroutine of the request that caused
// the event, in the order they subscribed, with the request's context. A
// subscriber that panics is recovered and logged and never breaks the
// request; one that takes longer than 100 ms is logged as slow. Hand long
// work to a goroutine or a queue of your own.
func (a *Auth) Subscribe(kind EventKind, fn func(ctx context.Context, e Event)) (unsubscribe func()) {
	if kind >= numEventKinds {
		panic(fmt.Sprintf("ginjwt: Subscribe to unknown %v", kind))
	}
	if fn == nil {
		panic("ginjwt: Subscribe with a nil function")
	}
	s := &subscriber{fn: fn}
	b := &a.events
	b.mu.Lock()
	defer b.mu.Unlock()
	b.store(kind, append(b.load(kind), s))
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			b.store(kind, slices.DeleteFunc(b.load(kind), func(x *subscriber) bool { return x == s }))
		})
	}
}

// load returns a copy of kind's list, for writers holding mu.
func (b *bus) load(kind EventKind) []*subscriber {
	if p := b.subs[kind].Load(); p != nil {
		return slices.Clone(*p)
	}
	return nil
}

func (b *bus) store(kind EventKind, list []*subscriber) { b.subs[kind].Store(&list) }

// emit delivers e to the subscribers of its kind, then to those of AnyEvent.
func (b *bus) emit(ctx context.Context, e Event) {
	for _, k := range [2]EventKind{e.Kind, AnyEvent} {
		p := b.subs[k].Load()
		if p == nil {
			continue
		}
		for _, s := range *p {
			b.deliver(ctx, s, e)
		}
	}
}

func (b *bus) deliver(ctx context.Context, s *subscriber, e Event) {
	start := time.Now()
	defer func() {
		if r := recover(); r != nil {
			b.log.ErrorContext(ctx, "ginjwt: event subscriber panicked", "event", e.Kind.String(), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
		if d := time.Since(start); d > slowSubscriber {
			b.log.WarnContext(ctx, "ginjwt: slow event subscriber", "event", e.Kind.String(), "duration", d)
		}
	}()
	s.fn(ctx, e)
}
