package ginjwt

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ginjwt/ginjwt/device"
	"github.com/ginjwt/ginjwt/internal/dbkey"
	"github.com/ginjwt/ginjwt/pipeline"
	"github.com/ginjwt/ginjwt/registry"
	"github.com/ginjwt/ginjwt/users"
)

// startRegistry builds the registry and the pipeline and loads the
// revocation log; the registry, started, cuts off the users of every
// users.Store on its database.
func (a *Auth) startRegistry() error {
	cfg := a.cfg
	// The registry sets the cut-off of every users.Store on its database
	// when it starts (users.SetDatabaseCutOff); a Store on another
	// database would change passwords without cutting tokens off.
	if s, ok := a.users.(*users.Store); ok && dbkey.Of(s.DB()) != dbkey.Of(cfg.DB) {
		return errors.New("ginjwt: Config.Users: a users.Store on another database than Config.DB would not cut tokens off when a password changes; build it with users.NewStore(cfg.DB)")
	}
	lifetime := max(cfg.Tokens.RefreshTTL, cfg.Tokens.AccessTTL)
	if cfg.Tokens.Sliding {
		lifetime = max(lifetime, cfg.Tokens.SlidingRefreshTTL)
	}
	reg, err := registry.New(cfg.DB, registry.Options{
		MaxLifetime:    lifetime + cfg.Tokens.Leeway,
		Leeway:         cfg.Tokens.Leeway,
		Resync:         cfg.Registry.Resync,
		ActivityEvery:  cfg.Registry.ActivityEvery,
		MaxRevocations: cfg.Registry.MaxRevocations,
		ArchiveEvery:   cfg.Registry.ArchiveEvery,
		ArchiveAfter:   cfg.Registry.ArchiveAfter,
		Clock:          cfg.Clock,
		Logger:         a.log,
	})
	if err != nil {
		return fmt.Errorf("ginjwt: Config.Registry: %w", err)
	}
	steps := []pipeline.Step{reg.RegisterPairs, reg.ConnectUser}
	if cfg.Registry.Devices {
		a.devices = device.New(reg, device.Options{OnNewDevice: a.newDevice, Clock: cfg.Clock})
		steps = append(steps, a.devices.ConnectInterlocutor)
	}
	if cfg.Registry.Pipeline != nil {
		steps = cfg.Registry.Pipeline(steps)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := reg.Start(ctx); err != nil {
		return fmt.Errorf("ginjwt: start the token registry (has ginjwt.Migrate run on this database?): %w", err)
	}
	a.registry = reg
	a.pipeline = pipeline.NewRunner(steps, pipeline.Options{
		Async:     cfg.Registry.Async,
		Workers:   cfg.Registry.Workers,
		QueueSize: cfg.Registry.QueueSize,
		Logger:    a.log,
		OnError:   a.registrationFailed,
		Wrap:      reg.InTx,
		// Asynchronous registrations are journaled in the database before
		// the answer: a crash or an outage delays them, never loses them.
		Journal: reg.Journal(),
		Clock:   cfg.Clock,
	})
	return nil
}

// Close stops the background work: it waits for the asynchronous pipeline
// to register every queued token, then stops the registry's resync,
// listener and archiver. It returns early with an error when ctx ends
// first. The database is the application's and stays open.
func (a *Auth) Close(ctx context.Context) error {
	var errs []error
	if a.pipeline != nil {
		errs = append(errs, a.pipeline.Close(ctx))
	}
	if a.registry != nil {
		errs = append(errs, a.registry.Close(ctx))
	}
	return errors.Join(errs...)
}

// newDevice reports a login from a device new for its user.
func (a *Auth) newDevice(ctx context.Context, d device.NewDevice) {
	i := d.Interlocutor
	e := Event{Kind: NewDevice, Time: d.Time, UserID: d.UserID, SessionID: d.SessionID, Device: &i,
		Request: RequestFacts{UserAgent: i.Raw}}
	if d.Network != nil {
		e.Request.ClientIP = d.Network.IP
		if d.Network.ForwardedFor != "" {
			e.Request.ForwardedFor = strings.Split(d.Network.ForwardedFor, ", ")
		}
	}
	a.events.emit(ctx, e)
}

// Devices returns the device registry, nil when it is off.
func (a *Auth) Devices() *device.Registry { return a.devices }

// Registry returns the token registry, nil when it is off: queries, Expire,
// Archive and the rest of its API.
func (a *Auth) Registry() *registry.Registry { return a.registry }

// Pipeline returns the registration pipeline, nil when the registry is off.
// Run tokens the application made itself through it to register them.
func (a *Auth) Pipeline() *pipeline.Runner { return a.pipeline }

// pipelineKinds maps events to the pipeline's kinds.
var pipelineKinds = map[EventKind]pipeline.EventKind{
	TokenObtained:   pipeline.Obtained,
	AccessRefreshed: pipeline.Refreshed,
	RefreshUpdated:  pipeline.Updated,
}

// tokensIssued reports newly issued tokens: it runs the registration
// pipeline (a synchronous failure fails the request), then tells the
// subscribers of kind.
func (a *Auth) tokensIssued(ctx context.Context, kind EventKind, e Event) error {
	e.Kind = kind
	if a.pipeline != nil {
		pe := &pipeline.Event{
			Kind: pipelineKinds[kind], Pairs: e.Pairs, UserID: e.UserID, Time: e.Time,
			UserAgent: e.Request.UserAgent, ClientIP: e.Request.ClientIP, ForwardedFor: e.Request.ForwardedFor,
		}
		if err := a.pipeline.Run(ctx, pe); err != nil {
			return fmt.Errorf("ginjwt: register tokens: %w", err)
		}
	}
	a.events.emit(ctx, e)
	return nil
}

// registrationFailed reports a background registration that failed for good.
func (a *Auth) registrationFailed(ctx context.Context, e *pipeline.Event, err error) {
	a.events.emit(ctx, Event{Kind: RegistrationFailed, Time: e.Time, UserID: e.UserID, Pairs: e.Pairs,
		Request: RequestFacts{ClientIP: e.ClientIP, ForwardedFor: e.ForwardedFor, UserAgent: e.UserAgent}, Err: err, Reason: "registration failed"})
}

// revoked tells whether the registry refuses a token with these claims:
// from memory, or from the revocation log for a token issued before the
// revocations memory forgot past Registry.MaxRevocations. It fails with
// ErrUnavailable when the log cannot be read: the token is then refused.
func (a *Auth) revoked(ctx context.Context, c *Claims) (registry.RevocationKind, bool, error) {
	if a.registry == nil {
		return "", false, nil
	}
	t := pipeline.Token{ID: c.ID, SessionID: c.SessionID, UserID: c.UserID, IssuedAt: c.IssuedAt, Generation: c.Generation}
	kind, revoked, err := a.registry.RevokedContext(ctx, &t)
	if err != nil {
		return "", false, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return kind, revoked, nil
}

// RevokeSession revokes every token of the session sid, at once in this
// instance and within a resync (at once with PostgreSQL's LISTEN) in
// others, and emits SessionRevoked.
func (a *Auth) RevokeSession(ctx context.Context, sid, reason string) error {
	return a.revokeSession(ctx, Event{SessionID: sid, Reason: reason})
}

// generation is the user's cut-off generation, under which a new session
// is issued: 0 without the registry.
func (a *Auth) generation(ctx context.Context, userID string) (int64, error) {
	if a.registry == nil {
		return 0, nil
	}
	return a.registry.Generation(ctx, userID)
}

// flushPending lands the user's registrations still in the asynchronous
// pipeline's journal, so that listing or revoking the user's sessions sees
// every token the user was handed.
func (a *Auth) flushPending(ctx context.Context, userID string) error {
	if a.pipeline == nil {
		return nil
	}
	err := a.pipeline.Flush(ctx, userID)
	if err != nil && !unavailable(err) {
		// An entry whose steps fail (an application's step refusing it)
		// stays journaled for the next replay; it must not lock the user
		// out of their sessions list. A database that is down is a 503.
		a.log.ErrorContext(ctx, "ginjwt: registering pending tokens before a sessions request", "user_id", userID, "error", err)
		return nil
	}
	return err
}

// revokeSession revokes e.SessionID and emits e as SessionRevoked.
func (a *Auth) revokeSession(ctx context.Context, e Event) error {
	if a.registry == nil {
		return ErrNoRegistry
	}
	if err := a.registry.RevokeSession(ctx, e.SessionID, e.Reason); err != nil {
		return err
	}
	e.Kind, e.Time = SessionRevoked, a.now()
	a.events.emit(ctx, e)
	return nil
}

// LogoutEverywhere revokes every session of the user issued before the
// cut-off commits, on every device and every instance, whatever their
// clocks: a refresh racing it cannot outrun it (see registry.Generation).
// Sessions issued afterwards are unaffected.
func (a *Auth) LogoutEverywhere(ctx context.Context, userID string) error {
	if a.registry == nil {
		return ErrNoRegistry
	}
	if err := a.registry.CutOffUser(ctx, userID); err != nil {
		return err
	}
	a.events.emit(ctx, Event{Kind: SessionRevoked, Time: a.now(), UserID: userID, Reason: registry.ReasonCutOff})
	return nil
}
