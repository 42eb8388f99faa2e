package ginjwt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt/device"
	limiter "github.com/ginjwt/ginjwt/internal/throttle"
	"github.com/ginjwt/ginjwt/pipeline"
	"github.com/ginjwt/ginjwt/registry"
	"github.com/ginjwt/ginjwt/users"
)

// UserStore is where ginjwt finds accounts. [users.Store] (GORM) is the
// default when Config.DB is set; an application with accounts of its own
// implements these two methods and returns [users.User] values built from
// them.
type UserStore interface {
	// Authenticate returns the active user whose login (username, or e-mail)
	// and password match. Any mismatch — unknown login, wrong password,
	// inactive account — must be users.ErrInvalidCredentials, and should
	// cost the same time whichever it is.
	Authenticate(ctx context.Context, login, password string) (*users.User, error)
	// Find returns the user with this ID, or users.ErrNotFound.
	Find(ctx context.Context, id string) (*users.User, error)
}

// lastLoginToucher is the optional UserStore method behind
// Config.Accounts.UpdateLastLogin.
type lastLoginToucher interface {
	TouchLastLogin(ctx context.Context, id string, at time.Time) error
}

// Auth is a configured ginjwt: the middleware, the handlers and the helpers
// that issue and revoke tokens. It is safe for concurrent use.
type Auth struct {
	cfg      resolved
	keys     atomic.Pointer[keySet]
	users    UserStore
	events   bus
	throttle *limiter.Throttle
	proxies  proxies
	log      *slog.Logger
	// registry and pipeline are nil when the registry is off; devices when
	// the device registry is.
	registry *registry.Registry
	pipeline *pipeline.Runner
	devices  *device.Registry
	// csrfKey binds CSRF tokens to sessions; csrfMACs pools its HMACs.
	// csrfHeader is the CSRF header's name in canonical form.
	csrfKey    []byte
	csrfMACs   *sync.Pool
	csrfHeader string
	// cache holds verified access tokens; nil when disabled.
	cache *tokenCache
	// refreshPath is the refresh cookie's Path: the part the refresh,
	// update and logout paths share, below the router Mount was given.
	refreshPath string
	// service checks client services' credentials; nil without any.
	service *serviceAuth
	// loginFormPath is the session login form's full path.
	loginFormPath string
	// routes are the endpoints RegisterRoutes registered, for the JSON
	// 404 and 405 answers under the prefix (see Auth.Unmatched).
	routes unmatchedRoutes
	// issuers are the verifiers of Config.Tokens.Issuers.
	issuers []*issuerSlot
}

// New checks cfg and returns an Auth that is not attached to any router
// (with a DB, its registry is started as Mount describes):
// register its middleware and routes yourself with [Auth.Authenticate] and
// [Auth.RegisterRoutes], or call [Mount], which does both.
func New(cfg Config) (*Auth, error) {
	rc, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	a := &Auth{cfg: *rc, users: rc.Users, log: rc.Logger, proxies: proxies{Resolver: rc.proxies}}
	ks, err := loadKeys(rc.Keys)
	if err != nil {
		return nil, err
	}
	a.keys.Store(ks)
	if a.csrfKey, err = csrfSecret(rc.Transport.CSRF, (rc.Mode != JSON && !rc.Transport.CSRF.Disabled) || rc.SessionLogin.on(), rc.Keys[0]); err != nil {
		return nil, err
	}
	a.csrfMACs = newCSRFMACs(a.csrfKey)
	a.startSessions(a.csrfKey)
	a.csrfHeader = http.CanonicalHeaderKey(a.cfg.Transport.CSRF.HeaderName)
	a.setBase("")
	a.service = newServiceAuth(rc.Service.Credentials)
	a.proxies.service = a.service
	routes := rc.Routes
	if a.users == nil && routes.Paths.Obtain != "-" && routes.Handlers.Obtain == nil {
		return nil, errors.New(`ginjwt: Config.Users or Config.DB is required by the login endpoint (or set Config.Routes.Paths.Obtain to "-")`)
	}
	limits := rc.Limits
	if err := a.defaultThrottleStore(); err != nil {
		return nil, err
	}
	if !limits.Throttle.Disabled {
		a.throttle = a.cfg.Limits.Throttle.newLimiter(a.now, func(err error) {
			a.log.Error("ginjwt: login throttle", "error", err)
		})
	}
	boundHashWait(a.users, limits.Throttle.MaxWait)
	if !limits.Cache.Disabled {
		a.cache = newTokenCache(limits.Cache)
	}
	a.events.log = a.log
	a.startIssuers()
	if rc.DB != nil && !rc.Registry.Disabled {
		if err := a.startRegistry(); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// Mount configures ginjwt on r: it checks cfg, installs the authentication
// middleware on r and registers the endpoints under Config.Routes.Prefix.
// r is a *gin.Engine or a *gin.RouterGroup. Mount before registering the
// routes the middleware must cover: gin applies middleware only to routes
// added after it.
//
// With a DB, Mount also loads the revocation log and starts the registry's
// background work (resync, LISTEN on PostgreSQL, the archiver when
// configured, the asynchronous pipeline); [Auth.Close] stops it.
//
// Mount never panics on a configuration: a route gin refuses (one the
// application registered already, say) is returned as an error naming
// Config.Routes, and the registry's work is stopped again.
func Mount(r gin.IRouter, cfg Config) (*Auth, error) {
	a, err := New(cfg)
	if err != nil {
		return nil, err
	}
	if err := a.Install(r); err != nil {
		_ = a.Close(context.Background()) // New started the registry's work
		return nil, err
	}
	return a, nil
}

// Install attaches a built with [New] to r as [Mount] does: it settles the
// client-address settings with a *gin.Engine (see
// Config.Transport.TrustedProxies), installs the authentication middleware
// followed by the given middleware, and registers the endpoints. A route
// gin refuses is returned as an error, never a panic. Call it once.
func (a *Auth) Install(r gin.IRouter, middleware ...gin.HandlerFunc) (err error) {
	if e, ok := r.(*gin.Engine); ok {
		if err := a.proxies.adopt(e, a.cfg.Transport.TrustedProxies, a.log); err != nil {
			return err
		}
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("ginjwt: Config.Routes: gin refused a route: %v", p)
		}
	}()
	r.Use(append([]gin.HandlerFunc{a.Authenticate()}, middleware...)...)
	a.RegisterRoutes(r)
	return nil
}

// now is the configured clock.
func (a *Auth) now() time.Time { return a.cfg.Clock() }
