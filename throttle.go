package ginjwt

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	limiter "github.com/ginjwt/ginjwt/internal/throttle"
	"github.com/ginjwt/ginjwt/throttle"
	"github.com/ginjwt/ginjwt/users"
)

// AccountKeyer is an optional [UserStore] method that lets the login
// throttle count an account's failures against one limit whatever name is
// typed for it (a username and an e-mail). [users.Store] implements it.
type AccountKeyer interface {
	// AccountKey returns a stable key of the account that login names for
	// Authenticate (such as its user ID), or "" when it names none. It
	// must not check a password, should cost one indexed read, and must
	// fail only when the store cannot answer (wrapping ErrUnavailable, or
	// a driver error, when the database is down): the login is then
	// answered with that error and counted nowhere.
	AccountKey(ctx context.Context, login string) (string, error)
}

// Throttle limits failed logins, per account and per client IP, over a
// sliding window. A refused login is answered 429 too_many_requests with
// Retry-After, before any password is checked.
//
// A login may start while its account's (and its IP's) failures plus the
// logins of it still in flight are below the limit. When failures alone
// reach the limit, it is refused. When logins in flight fill the rest, it
// waits (at most MaxWait) for their outcomes and decides again: a success
// clears the account's failures, so concurrent correct logins all pass,
// while a parallel guesser still gets at most PerAccount guesses. A login
// that ends without checking the password (the database is unavailable, no
// hashing slot in time, the client went away) counts as nothing.
//
// An account is the user that the name typed resolves to, when the user
// store implements [AccountKeyer] (users.Store does): its username and its
// e-mail share one limit. Each name typed also keeps a limit of its own,
// so that a name's throttling does not depend on whether it exists.
// The counts are kept in Store. Several instances sharing one store allow,
// together, the guesses one instance allows: an attempt is admitted by
// the store atomically with every other instance's. In this process's
// memory (no PostgreSQL, or Local), memory is bounded: past 65536 names
// and IPs in a window, further ones share hashed counters, which may
// refuse early but never let a login through uncounted. A store that
// cannot answer makes logins answer 503 unavailable with Retry-After —
// never a login let through uncounted — until it answers again.
type Throttle struct {
	// Disabled turns throttling off (MaxWait still bounds the hashing).
	Disabled bool
	// PerAccount is how many failed logins one account (and one name
	// typed) may have in Window. Default 10. A success clears the count of
	// that account and name.
	PerAccount int
	// PerIP is how many failed logins one client IP may have in Window.
	// Default 50. An IPv6 client is its /64.
	PerIP int
	// Window is the period the counts cover. Default 15 minutes.
	Window time.Duration
	// MaxWait bounds how long a login waits before its password check
	// starts: for the outcomes of the logins ahead of it on the same
	// account or IP (past it: 429 with Retry-After: 1), for the lookup of
	// its account and for a slot of the password hasher (past it: 503
	// unavailable with Retry-After, counted as nothing). A flood is thus
	// answered within MaxWait plus one password check and the token's
	// registration, instead of having its connections closed by the
	// server's WriteTimeout: keep MaxWait well under it. It applies with
	// Disabled too, and is also given to the hasher of a users.Store
	// (through [users.Hasher.SetMaxWait], for its other callers) unless the
	// application has set one of its own. Default 3 seconds.
	MaxWait time.Duration
	// Store keeps the counts where every instance sees them. Default: with
	// Config.DB on PostgreSQL and the registry on, throttle.NewSQL(DB),
	// whose tables Migrate makes; otherwise this process's memory (SQLite
	// is one process). Package throttle/redisstore keeps them in Redis.
	// An attempt whose outcome never reaches the store (its instance died
	// or lost the store) counts as a failure once its lease, MaxWait + 30
	// seconds, has passed.
	Store throttle.Store
	// Local keeps the counts in this process's memory even on PostgreSQL:
	// each instance then counts its own, and N instances allow N times the
	// guesses. Setting Store and Local is an error.
	Local bool
}

// defaultThrottleStore sets the default store: the SQL store when the
// registry's database is PostgreSQL. It fails when the store's tables are
// missing (Migrate has not run since they were added), which would
// otherwise refuse every login with 503.
func (a *Auth) defaultThrottleStore() error {
	t := &a.cfg.Limits.Throttle
	db := a.cfg.DB
	if t.Disabled || t.Store != nil || t.Local || db == nil || a.cfg.Registry.Disabled || db.Dialector.Name() != "postgres" {
		return nil
	}
	if !db.Migrator().HasTable(&throttle.Failure{}) || !db.Migrator().HasTable(&throttle.Flight{}) {
		return errors.New("ginjwt: Config.Limits.Throttle: the login throttle's tables are missing on PostgreSQL; run ginjwt.Migrate (or set Limits.Throttle.Local)")
	}
	t.Store = throttle.NewSQL(db)
	return nil
}

// newLimiter builds the throttle of t: in t.Store, or in memory.
func (t Throttle) newLimiter(now func() time.Time, log func(error)) *limiter.Throttle {
	if t.Store == nil {
		return limiter.New(t.limits(), now)
	}
	return limiter.NewShared(t.limits(), now, limiter.Shared{Store: t.Store, Lease: t.MaxWait + 30*time.Second, OnError: log})
}

// resolve fills t's defaults from def and checks its values.
func (t *Throttle) resolve(def Throttle) error {
	if t.Store != nil && t.Local {
		return errors.New("ginjwt: Config.Limits.Throttle: set Store or Local, not both")
	}
	if err := positive("Limits.Throttle.PerAccount", &t.PerAccount, def.PerAccount); err != nil {
		return err
	}
	if err := positive("Limits.Throttle.PerIP", &t.PerIP, def.PerIP); err != nil {
		return err
	}
	if err := positive("Limits.Throttle.Window", &t.Window, def.Window); err != nil {
		return err
	}
	if t.Window < time.Second {
		return fmt.Errorf("ginjwt: Config.Limits.Throttle.Window must be at least one second, got %v", t.Window)
	}
	return positive("Limits.Throttle.MaxWait", &t.MaxWait, def.MaxWait)
}

// limits are the counting limits of t, for the throttle's machinery.
func (t Throttle) limits() limiter.Config {
	return limiter.Config{PerAccount: t.PerAccount, PerIP: t.PerIP, Window: t.Window}
}

// throttled is the refusal of a login: ErrTooManyRequests, to be tried
// again after retryAfter.
type throttled struct{ retryAfter time.Duration }

func (e *throttled) Error() string { return ErrTooManyRequests.Error() }
func (e *throttled) Unwrap() error { return ErrTooManyRequests }

// refusal maps the throttle's refusal of a login to a *throttled; any other
// error, and nil, are returned as they are.
func refusal(err error) error {
	var r *limiter.Refused
	if errors.As(err, &r) {
		return &throttled{retryAfter: r.RetryAfter}
	}
	return err
}

// admitLogin runs the throttle for a login of login by the client of facts:
// it resolves the account when the user store can, and waits for the turn
// of the attempt until turn ends (then 429, or 503 when the request itself
// ended). It returns the attempt (nil when throttling is off), or why the
// login may not be tried now (a 429 with Retry-After set on c).
func (a *Auth) admitLogin(turn context.Context, c *gin.Context, login string, facts RequestFacts) (*limiter.Attempt, error) {
	if a.throttle == nil {
		return nil, nil
	}
	ctx := c.Request.Context()
	err := refusal(a.throttle.Check(turn, login, facts.ClientIP))
	account := ""
	if k, ok := a.users.(AccountKeyer); ok && err == nil {
		if account, err = k.AccountKey(turn, login); err != nil {
			err = noOutcome(turn, err)
		}
	}
	var at *limiter.Attempt
	if err == nil {
		at, err = a.throttle.Begin(turn, login, account, facts.ClientIP)
		err = refusal(err)
		switch {
		case errors.Is(err, throttle.ErrUnavailable):
			// The store did not answer (in time): never a bypass.
		case err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded):
			// The attempts ahead took all of MaxWait: try again shortly.
			err = &throttled{retryAfter: time.Second}
		case err != nil:
			err = noOutcome(turn, err)
		}
	}
	if errors.Is(err, throttle.ErrUnavailable) && !errors.Is(err, ErrUnavailable) {
		err = fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if err == nil {
		return at, nil
	}
	var th *throttled
	if errors.As(err, &th) {
		c.Header("Retry-After", strconv.Itoa(max(1, int(math.Ceil(th.retryAfter.Seconds())))))
		a.events.emit(ctx, Event{Kind: LoginFailed, Time: a.now(), Login: login, Request: facts, Reason: "throttled", Err: ErrTooManyRequests})
	}
	return nil, err
}

// noOutcome is the error of a login that ended without checking the
// password for a reason of the server's or the client's: a login whose
// context ended (the client went away, MaxWait passed before a hashing slot
// or the account's lookup) is answered 503 unavailable like a database
// outage, not 500.
func noOutcome(ctx context.Context, err error) error {
	if ctx.Err() != nil && !errors.Is(err, ErrUnavailable) && !errors.Is(err, ErrTooManyRequests) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

// boundHashWait gives the hashing of the user store (when it exposes its
// [users.Hasher], as users.Store does) the wait bound d, unless the
// application has set one of its own with SetMaxWait.
func boundHashWait(s UserStore, d time.Duration) {
	hs, ok := s.(interface{ Hasher() *users.Hasher })
	if !ok {
		return
	}
	if h := hs.Hasher(); h != nil && h.MaxWait() == 0 {
		h.SetMaxWait(d)
	}
}
