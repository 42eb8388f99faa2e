package ginjwt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/device"
	"github.com/ginjwt/ginjwt/internal/clientip"
	"github.com/ginjwt/ginjwt/internal/throttle"
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
// Config.UpdateLastLogin.
type lastLoginToucher interface {
	TouchLastLogin(ctx context.Context, id string, at time.Time) error
}

// Config configures ginjwt. A zero field means its documented default;
// [New] and [Mount] check the whole configuration once and name the first
// field that is wrong.
type Config struct {
	// Keys sign and verify tokens. The first key signs new tokens; the others
	// only verify, so a key can be rotated out without logging anyone out:
	// put the new key first, keep the old one until its last token expires,
	// then remove it (see also [Auth.RotateKey]). Required unless SigningKey
	// is set.
	Keys []Key
	// SigningKey is shorthand for one HS256 key with this secret (at least 32
	// random bytes). Set Keys or SigningKey, not both.
	SigningKey []byte

	// AccessTTL is the lifetime of access tokens. Default 5 minutes.
	AccessTTL time.Duration
	// RefreshTTL is the lifetime of refresh tokens. Default 24 hours.
	RefreshTTL time.Duration
	// Leeway is the clock skew tolerated on exp, nbf and iat. Default 0;
	// at most 5 minutes.
	Leeway time.Duration
	// Issuer, when set, is written as iss into every token, and tokens with
	// another iss are refused.
	Issuer string
	// Audience, when set, is written as aud into every token, and tokens
	// whose aud names none of these are refused.
	Audience []string
	// RefuseLegacyTyp refuses tokens whose header says typ "JWT", as every
	// token ginjwt issued did before access tokens were typed at+jwt and
	// refresh tokens refresh+jwt. Default false: such tokens are accepted
	// until they expire, their token_type claim saying what they are, so an
	// upgrade (or a rolling deploy, while old instances still issue them)
	// logs nobody out. Set it once the longest refresh lifetime has passed
	// since the last instance was upgraded.
	RefuseLegacyTyp bool

	// Mode is where tokens travel: JSON (default) in bodies and the
	// Authorization header; OneCookie or TwoCookies in cookies, with CSRF
	// protection.
	Mode Mode
	// Cookies configures the cookies of the cookie modes.
	Cookies Cookies
	// CSRF configures the CSRF protection of the cookie modes.
	CSRF CSRF

	// Sliding switches to sliding tokens: login answers {"token": ...}, one
	// token that authenticates until exp (SlidingTTL) and that the refresh
	// endpoint exchanges for a new one until refresh_exp (SlidingRefreshTTL).
	Sliding bool
	// SlidingTTL is how long a sliding token authenticates. Default 5 minutes.
	SlidingTTL time.Duration
	// SlidingRefreshTTL is how long after login a sliding token can still be
	// exchanged. Default 24 hours.
	SlidingRefreshTTL time.Duration

	// DisableRefreshRotation turns refresh token rotation off: the refresh
	// endpoint then returns only a new access token, and a refresh token
	// stolen once mints access tokens until it expires, unnoticed. Default
	// off: every refresh also returns a new refresh token, child of the one
	// presented, and a rotated-out token presented again after ReuseGrace
	// revokes its session (reuse detection, with the registry), as RFC 9700
	// §4.14.2 asks of public clients.
	DisableRefreshRotation bool
	// RotateRefresh turned rotation on when it was off by default.
	//
	// Deprecated: rotation is on by default; set DisableRefreshRotation to
	// turn it off. Setting RotateRefresh changes nothing (with
	// DisableRefreshRotation it is an error); New sets it in its copy of
	// the Config to whether rotation is on.
	RotateRefresh bool
	// AllowRefreshUpdate registers POST {Prefix}/token/update, which trades a
	// valid refresh token for a new refresh and access pair, extending the
	// session. Default off (the route does not exist).
	AllowRefreshUpdate bool
	// BlacklistAfterRotation revokes a refresh token once it has been
	// rotated. Reuse detection works without it: a rotated-out token that
	// comes back revokes its session either way. Needs the registry.
	BlacklistAfterRotation bool
	// ExpireOnRefresh revokes, on every refresh, every other live token of
	// the session: only the new pair stays valid (a replay within
	// ReuseGrace adds its own access token). Needs the registry.
	ExpireOnRefresh bool
	// ReuseGrace is how long after a rotation the same refresh token may be
	// presented again without counting as theft: it gets the same new
	// refresh token again, so two tabs refreshing at once stay logged in and
	// the session still has one branch. Default 5 seconds; a negative value
	// disables the grace (0 means the default).
	ReuseGrace time.Duration
	// ExpireAnyPerm is the permission that lets a user force-expire other
	// users' tokens at the expire endpoint. Default "ginjwt.expire_any".
	ExpireAnyPerm string

	// DB is the application's database. When set, the default user store is
	// users.NewStore(DB).
	DB *gorm.DB
	// Registry configures the token registry: on by default when DB is set.
	Registry RegistryConfig
	// Hasher hashes and checks the passwords of the default user store
	// (built from DB; ignored when Users is set). Default
	// users.NewHasher(users.DefaultParams, GOMAXPROCS): argon2id at
	// m=19 MiB, t=2, p=1, at most one hash per CPU at a time, so a flood of
	// logins queues instead of exhausting memory. For a memory budget:
	// users.NewHasher(p, users.ConcurrencyFor(p, budget)).
	Hasher *users.Hasher
	// Users finds and checks accounts. Default users.NewStore(DB). Required
	// for the login endpoint; without it only tokens issued by Auth.Login
	// and parsed by the middleware work.
	Users UserStore
	// ClaimsHook is called on every token issued to a user, after the
	// default user claims (user_id, username, perms, staff, superuser) are
	// set, to change them or add claims of the application's own through
	// Claims.Extra. An error fails the login or refresh.
	ClaimsHook func(ctx context.Context, u *users.User, c *Claims) error
	// UpdateLastLogin records the time of each login on the user, when the
	// user store supports it (users.Store does). Default off.
	UpdateLastLogin bool

	// Prefix is the path of the route group, below the router Mount is
	// given. Default "/auth".
	Prefix string
	// Paths are the endpoints' paths below Prefix; "-" leaves one out.
	Paths Paths
	// Handlers replace or wrap built-in endpoint handlers.
	Handlers Handlers
	// MaxBodyBytes limits request bodies on the auth endpoints; a longer body
	// is answered 413 body_too_large without being read. Default 64 KiB.
	MaxBodyBytes int64
	// Throttle limits failed logins.
	Throttle Throttle
	// Cache configures the verified-token cache of access tokens.
	Cache Cache
	// TrustedProxies are the addresses or CIDR ranges of reverse proxies
	// whose X-Forwarded-For and X-Real-IP headers are believed, as gin's
	// SetTrustedProxies. Default none: the peer address is the client. Mount
	// applies the same list to a *gin.Engine it is given, so c.ClientIP()
	// agrees with ginjwt.
	TrustedProxies []string
	// AuthScheme is the Authorization scheme of access tokens, compared
	// without regard to case. Default "Bearer".
	AuthScheme string

	// Logger receives ginjwt's logs. Default slog.Default().
	Logger *slog.Logger
	// Clock tells the time. Default time.Now. For tests.
	Clock func() time.Time

	// Service configures the remote mode: client services (package
	// remote) that trust this auth service, and what they are told.
	Service Service
}

// Paths are the endpoints' paths below Config.Prefix. A zero field is the
// default shown; "-" leaves the endpoint out.
type Paths struct {
	Obtain   string // "/token"
	Refresh  string // "/token/refresh"
	Update   string // "/token/update" (only with Config.AllowRefreshUpdate)
	Verify   string // "/token/verify"
	Logout   string // "/token/logout"
	Expire   string // "/token/expire" (with the registry)
	Sessions string // "/sessions": GET, DELETE /sessions and DELETE /sessions/:id (with the registry)
	JWKS     string // "/jwks.json"
	Users    string // "/users": GET /users/me and /users/:id
	// Revocations is the revocation feed of client services (with the
	// registry and Config.Service.Credentials).
	Revocations string // "/revocations"
}

// Handler wraps a built-in endpoint handler: it receives the built-in and
// returns the handler to register, which may call the built-in, act before
// or after it, or replace it outright.
type Handler func(builtin gin.HandlerFunc) gin.HandlerFunc

// Handlers replace or wrap the built-in endpoint handlers. A nil field keeps
// the built-in one.
type Handlers struct {
	Obtain, Refresh, Update, Verify, Logout, Expire, Sessions, RevokeSession, RevokeSessions, JWKS, Me, User, Revocations Handler
}

// RegistryConfig configures the token registry and the registration
// pipeline that feeds it.
type RegistryConfig struct {
	// Disabled keeps tokens stateless even with a DB: nothing is recorded
	// and nothing can be revoked before it expires.
	Disabled bool
	// Resync is how often each instance catches up with revocations made
	// elsewhere (the CLI, another instance without LISTEN). Default 5 s.
	Resync time.Duration
	// Pipeline adjusts the registration steps: it receives the defaults
	// (registry.RegisterPairs, registry.ConnectUser, and with Devices
	// device.ConnectInterlocutor) and returns the
	// steps to run, with the application's own added, or others instead.
	Pipeline func(defaults []pipeline.Step) []pipeline.Step
	// Async registers tokens in the background: login and refresh answer
	// without waiting for the database. Revocation is unaffected (it never
	// waits for registration). Default off.
	Async bool
	// Workers and QueueSize size the background pipeline. Defaults 2 and
	// 1024; a full queue makes the request run its registration itself.
	Workers, QueueSize int
	// Devices turns on the device registry: the browser, OS and IP of every
	// session, shown by GET /sessions, and the NewDevice event. Default off.
	Devices bool
	// ActivityEvery is how often sessions' last-used times are written: at
	// most one write per session per interval, off the request path.
	// Default 1 minute.
	ActivityEvery time.Duration
	// ArchiveEvery runs the archiver in the background this often,
	// deleting tokens expired for more than ArchiveAfter (default 240 h).
	// Default off: run `ginjwt archive` or Registry().Archive instead.
	ArchiveEvery, ArchiveAfter time.Duration
}

// Auth is a configured ginjwt: the middleware, the handlers and the helpers
// that issue and revoke tokens. It is safe for concurrent use.
type Auth struct {
	cfg      Config
	keys     atomic.Pointer[keySet]
	users    UserStore
	events   bus
	throttle *throttle.Throttle
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
	// routes are the endpoints RegisterRoutes registered, for the JSON
	// 404 and 405 answers under the prefix (see Auth.Unmatched).
	routes unmatchedRoutes
}

// New checks cfg and returns an Auth that is not attached to any router
// (with a DB, its registry is started as Mount describes):
// register its middleware and routes yourself with [Auth.Authenticate] and
// [Auth.RegisterRoutes], or call [Mount], which does both.
func New(cfg Config) (*Auth, error) {
	if err := cfg.resolve(); err != nil {
		return nil, err
	}
	a := &Auth{cfg: cfg, users: cfg.Users, log: cfg.Logger}
	var keys []*signingKey
	for i, k := range cfg.Keys {
		sk, err := newSigningKey(k)
		if err != nil {
			return nil, fmt.Errorf("ginjwt: Config.Keys[%d]: %s", i, err)
		}
		keys = append(keys, sk)
	}
	ks, err := newKeySet(keys)
	if err != nil {
		return nil, fmt.Errorf("ginjwt: Config.Keys: %s", err)
	}
	a.keys.Store(ks)
	if a.csrfKey, err = csrfSecret(&a.cfg, cfg.Keys[0]); err != nil {
		return nil, err
	}
	a.csrfMACs = newCSRFMACs(a.csrfKey)
	a.csrfHeader = http.CanonicalHeaderKey(a.cfg.CSRF.HeaderName)
	a.setBase("")
	if a.proxies.Resolver, err = clientip.New(cfg.TrustedProxies); err != nil {
		return nil, fmt.Errorf("ginjwt: Config.TrustedProxies: %w", err)
	}
	a.service = newServiceAuth(cfg.Service.Credentials)
	a.proxies.service = a.service
	if a.users == nil && cfg.Paths.Obtain != "-" && cfg.Handlers.Obtain == nil {
		return nil, errors.New(`ginjwt: Config.Users or Config.DB is required by the login endpoint (or set Config.Paths.Obtain to "-")`)
	}
	if !cfg.Throttle.Disabled {
		a.throttle = throttle.New(cfg.Throttle.limits(), a.now)
	}
	boundHashWait(cfg.Users, cfg.Throttle.MaxWait)
	if !cfg.Cache.Disabled {
		a.cache = newTokenCache(cfg.Cache)
	}
	a.events.log = a.log
	if cfg.DB != nil && !cfg.Registry.Disabled {
		if err := a.startRegistry(); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// Mount configures ginjwt on r: it checks cfg, installs the authentication
// middleware on r and registers the endpoints under cfg.Prefix. r is a
// *gin.Engine or a *gin.RouterGroup. Mount before registering the routes the
// middleware must cover: gin applies middleware only to routes added after
// it.
//
// With a DB, Mount also loads the revocation log and starts the registry's
// background work (resync, LISTEN on PostgreSQL, the archiver when
// configured, the asynchronous pipeline); [Auth.Close] stops it.
func Mount(r gin.IRouter, cfg Config) (*Auth, error) {
	a, err := New(cfg)
	if err != nil {
		return nil, err
	}
	if e, ok := r.(*gin.Engine); ok {
		if err := e.SetTrustedProxies(a.cfg.TrustedProxies); err != nil {
			_ = a.Close(context.Background()) // New started the registry's work
			return nil, fmt.Errorf("ginjwt: Config.TrustedProxies: %w", err)
		}
	}
	r.Use(a.Authenticate())
	a.RegisterRoutes(r)
	return a, nil
}

// resolve fills defaults and checks every field.
func (c *Config) resolve() error {
	if len(c.SigningKey) > 0 && len(c.Keys) > 0 {
		return errors.New("ginjwt: set Config.Keys or Config.SigningKey, not both")
	}
	if len(c.SigningKey) > 0 {
		c.Keys = []Key{{Algorithm: "HS256", Secret: c.SigningKey}}
	}
	if len(c.Keys) == 0 {
		return errors.New("ginjwt: Config.SigningKey or Config.Keys is required (an HMAC key of at least 32 random bytes, or an asymmetric key)")
	}
	durations := []struct {
		name string
		d    *time.Duration
		def  time.Duration
	}{
		{"AccessTTL", &c.AccessTTL, 5 * time.Minute},
		{"RefreshTTL", &c.RefreshTTL, 24 * time.Hour},
		{"SlidingTTL", &c.SlidingTTL, 5 * time.Minute},
		{"SlidingRefreshTTL", &c.SlidingRefreshTTL, 24 * time.Hour},
		{"Throttle.Window", &c.Throttle.Window, 15 * time.Minute},
	}
	for _, d := range durations {
		if *d.d < 0 {
			return fmt.Errorf("ginjwt: Config.%s must be positive, got %v", d.name, *d.d)
		}
		if *d.d == 0 {
			*d.d = d.def
		}
		if *d.d < time.Second {
			return fmt.Errorf("ginjwt: Config.%s must be at least one second, got %v", d.name, *d.d)
		}
	}
	if c.Leeway < 0 || c.Leeway > 5*time.Minute {
		return fmt.Errorf("ginjwt: Config.Leeway must be between 0 and 5m, got %v", c.Leeway)
	}
	if c.RefreshTTL < c.AccessTTL {
		return fmt.Errorf("ginjwt: Config.RefreshTTL (%v) must not be shorter than Config.AccessTTL (%v)", c.RefreshTTL, c.AccessTTL)
	}
	if c.SlidingRefreshTTL < c.SlidingTTL {
		return fmt.Errorf("ginjwt: Config.SlidingRefreshTTL (%v) must not be shorter than Config.SlidingTTL (%v)", c.SlidingRefreshTTL, c.SlidingTTL)
	}
	if c.Mode > TwoCookies {
		return fmt.Errorf("ginjwt: Config.Mode: unknown mode %d", c.Mode)
	}
	if err := c.Cookies.resolve(); err != nil {
		return err
	}
	if err := c.CSRF.resolve(); err != nil {
		return err
	}
	if c.Sliding && c.Mode != JSON {
		return errors.New("ginjwt: Config.Sliding works in JSON mode only")
	}
	if c.Sliding && (c.RotateRefresh || c.AllowRefreshUpdate || c.BlacklistAfterRotation || c.ExpireOnRefresh) {
		return errors.New("ginjwt: Config.Sliding has no refresh tokens: RotateRefresh, AllowRefreshUpdate, BlacklistAfterRotation and ExpireOnRefresh do not apply")
	}
	if c.RotateRefresh && c.DisableRefreshRotation {
		return errors.New("ginjwt: Config.RotateRefresh and Config.DisableRefreshRotation contradict each other (RotateRefresh is deprecated: rotation is on by default)")
	}
	// From here on, RotateRefresh is the one place that says whether
	// refreshes rotate: sliding tokens have no refresh tokens to rotate.
	c.RotateRefresh = !c.DisableRefreshRotation && !c.Sliding
	if c.ReuseGrace == 0 {
		c.ReuseGrace = 5 * time.Second
	}
	if c.ExpireAnyPerm == "" {
		c.ExpireAnyPerm = "ginjwt.expire_any"
	}
	if c.DB == nil || c.Registry.Disabled {
		for name, on := range map[string]bool{"BlacklistAfterRotation": c.BlacklistAfterRotation, "ExpireOnRefresh": c.ExpireOnRefresh, "Registry.Async": c.Registry.Async} {
			if on {
				return fmt.Errorf("ginjwt: Config.%s needs the token registry (Config.DB, and Registry.Disabled off)", name)
			}
		}
	}
	if c.Registry.Devices && (c.DB == nil || c.Registry.Disabled) {
		return errors.New("ginjwt: Config.Registry.Devices needs the token registry (Config.DB, and Registry.Disabled off)")
	}
	if c.Registry.Workers < 0 || c.Registry.QueueSize < 0 || c.Registry.Resync < 0 || c.Registry.ArchiveEvery < 0 || c.Registry.ArchiveAfter < 0 || c.Registry.ActivityEvery < 0 {
		return errors.New("ginjwt: Config.Registry values must be positive")
	}
	if c.Prefix == "" {
		c.Prefix = "/auth"
	}
	if !strings.HasPrefix(c.Prefix, "/") {
		return fmt.Errorf("ginjwt: Config.Prefix must start with /, got %q", c.Prefix)
	}
	c.Prefix = strings.TrimSuffix(c.Prefix, "/")
	if err := c.Paths.resolve(); err != nil {
		return err
	}
	if c.MaxBodyBytes < 0 {
		return fmt.Errorf("ginjwt: Config.MaxBodyBytes must be positive, got %d", c.MaxBodyBytes)
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 64 << 10
	}
	if c.Throttle.PerAccount < 0 || c.Throttle.PerIP < 0 {
		return errors.New("ginjwt: Config.Throttle limits must be positive")
	}
	if c.Throttle.PerAccount == 0 {
		c.Throttle.PerAccount = 10
	}
	if c.Throttle.PerIP == 0 {
		c.Throttle.PerIP = 50
	}
	if c.Throttle.MaxWait < 0 {
		return fmt.Errorf("ginjwt: Config.Throttle.MaxWait must be positive, got %v", c.Throttle.MaxWait)
	}
	if c.Throttle.MaxWait == 0 {
		c.Throttle.MaxWait = 3 * time.Second
	}
	c.Cache.resolve()
	if err := c.Service.resolve(); err != nil {
		return err
	}
	if c.AuthScheme == "" {
		c.AuthScheme = "Bearer"
	}
	if strings.ContainsAny(c.AuthScheme, " \t") {
		return fmt.Errorf("ginjwt: Config.AuthScheme must be one word, got %q", c.AuthScheme)
	}
	for i, aud := range c.Audience {
		if aud == "" {
			return fmt.Errorf("ginjwt: Config.Audience[%d] is empty", i)
		}
	}
	if c.Users == nil && c.DB != nil {
		c.Users = users.NewStore(c.DB, users.WithHasher(c.Hasher))
	}

	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	return nil
}

// resolve fills the default paths and checks the others.
func (p *Paths) resolve() error {
	fields := []struct {
		name string
		p    *string
		def  string
	}{
		{"Obtain", &p.Obtain, "/token"},
		{"Refresh", &p.Refresh, "/token/refresh"},
		{"Update", &p.Update, "/token/update"},
		{"Verify", &p.Verify, "/token/verify"},
		{"Logout", &p.Logout, "/token/logout"},
		{"Expire", &p.Expire, "/token/expire"},
		{"Sessions", &p.Sessions, "/sessions"},
		{"JWKS", &p.JWKS, "/jwks.json"},
		{"Users", &p.Users, "/users"},
		{"Revocations", &p.Revocations, "/revocations"},
	}
	for _, f := range fields {
		switch {
		case *f.p == "":
			*f.p = f.def
		case *f.p == "-":
		case !strings.HasPrefix(*f.p, "/"):
			return fmt.Errorf("ginjwt: Config.Paths.%s must start with / (or be \"-\"), got %q", f.name, *f.p)
		}
	}
	return nil
}

// now is the configured clock.
func (a *Auth) now() time.Time { return a.cfg.Clock() }

// RotateKey makes k the key that signs new tokens. The keys already in the
// set keep verifying until [Auth.RemoveKey]. It fails, changing nothing,
// when k is invalid, cannot sign, or has the ID of a key in the set.
func (a *Auth) RotateKey(k Key) error {
	sk, err := newSigningKey(k)
	if err != nil {
		return fmt.Errorf("ginjwt: RotateKey: %s", err)
	}
	for {
		old := a.keys.Load()
		next, err := newKeySet(append([]*signingKey{sk}, old.ordered()...))
		if err != nil {
			return fmt.Errorf("ginjwt: RotateKey: %s", err)
		}
		if a.keys.CompareAndSwap(old, next) {
			return nil
		}
	}
}

// RemoveKey removes the key with this ID: tokens it signed stop verifying at
// once. The key that signs new tokens cannot be removed; rotate first.
func (a *Auth) RemoveKey(id string) error {
	for {
		old := a.keys.Load()
		if old.byID[id] == nil {
			return fmt.Errorf("ginjwt: RemoveKey: no key %q", id)
		}
		if old.current.id == id {
			return fmt.Errorf("ginjwt: RemoveKey: %q signs new tokens; rotate to another key first", id)
		}
		var keep []*signingKey
		for _, k := range old.ordered() {
			if k.id != id {
				keep = append(keep, k)
			}
		}
		next, err := newKeySet(keep)
		if err != nil {
			return fmt.Errorf("ginjwt: RemoveKey: %s", err)
		}
		if a.keys.CompareAndSwap(old, next) {
			if a.cache != nil {
				a.cache.clear() // tokens the key signed must not pass from the cache
			}
			return nil
		}
	}
}

// KeyIDs returns the IDs of the keys in the set, the signing key first.
func (a *Auth) KeyIDs() []string {
	var ids []string
	for _, k := range a.keys.Load().ordered() {
		ids = append(ids, k.id)
	}
	return ids
}

// JWKS returns the public keys of the set as a JSON Web Key Set, for
// services that verify ginjwt's tokens without its secrets. HMAC keys are
// never published.
func (a *Auth) JWKS() JWKS { return a.keys.Load().jwks() }
