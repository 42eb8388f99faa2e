package ginjwt

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt/internal/clientip"
	"github.com/ginjwt/ginjwt/pipeline"
	"github.com/ginjwt/ginjwt/registry"
	"github.com/ginjwt/ginjwt/users"
)

// Config configures ginjwt. A zero field means its default: [DefaultConfig]
// holds them all. [New] and [Mount] check the whole configuration once and
// name the first field that is wrong, in the order the fields are written
// here; they never change the values the application passed.
//
// The settings are grouped in sections: Tokens (lifetimes, claims,
// rotation), Transport (headers and cookies), Routes, Registry, Accounts and
// Limits. The fields at the end of the struct are the flat settings of
// earlier versions, kept so that existing programs compile.
type Config struct {
	// SigningKey is shorthand for one HS256 key with this secret (at least 32
	// random bytes). Set Keys or SigningKey, not both.
	SigningKey []byte
	// Keys sign and verify tokens. The first key signs new tokens; the others
	// only verify, so a key can be rotated out without logging anyone out:
	// put the new key first, keep the old one until its last token expires,
	// then remove it (see also [Auth.RotateKey]). Required unless SigningKey
	// is set.
	Keys []Key
	// Mode is where tokens travel: JSON (default) in bodies and the
	// Authorization header; OneCookie or TwoCookies in cookies, with CSRF
	// protection (see Transport).
	Mode Mode
	// DB is the application's database. When set, the default user store is
	// users.NewStore(DB) and the token registry is on.
	DB *gorm.DB
	// Users finds and checks accounts. Default users.NewStore(DB) (see
	// Accounts). Required for the login endpoint; without it only tokens
	// issued by Auth.Login and parsed by the middleware work.
	Users UserStore

	// Tokens: what tokens say and how long they live.
	Tokens Tokens
	// Transport: how tokens travel, and whom to believe about the client.
	Transport Transport
	// Routes: where the endpoints are, and the application's own handlers.
	Routes Routes
	// Registry: the token registry, on by default when DB is set.
	Registry RegistryConfig
	// Accounts: the default user store built from DB.
	Accounts Accounts
	// Limits: body sizes, login throttling and the verified-token cache.
	Limits Limits
	// Service: the client services (package remote) that trust this auth
	// service, and what they are told.
	Service Service
	// SessionLogin: login by a cookie session for server-rendered pages,
	// off by default.
	SessionLogin SessionLogin

	// Logger receives ginjwt's logs. Default slog.Default().
	Logger *slog.Logger
	// Clock tells the time. Default time.Now. For tests.
	Clock func() time.Time

	// The flat settings of earlier versions. Each is moved to its section
	// (setting both to different values is an error), so programs written
	// for them keep working.

	// Deprecated: use Tokens.AccessTTL.
	AccessTTL time.Duration
	// Deprecated: use Tokens.RefreshTTL.
	RefreshTTL time.Duration
	// Deprecated: use Tokens.Leeway.
	Leeway time.Duration
	// Deprecated: use Tokens.Issuer.
	Issuer string
	// Deprecated: use Tokens.Audience.
	Audience []string
	// Deprecated: use Tokens.RefuseLegacyTyp.
	RefuseLegacyTyp bool
	// Deprecated: use Tokens.Sliding.
	Sliding bool
	// Deprecated: use Tokens.SlidingTTL.
	SlidingTTL time.Duration
	// Deprecated: use Tokens.SlidingRefreshTTL.
	SlidingRefreshTTL time.Duration
	// Deprecated: use Tokens.DisableRefreshRotation.
	DisableRefreshRotation bool
	// RotateRefresh turned rotation on when it was off by default.
	//
	// Deprecated: rotation is on by default; set
	// Tokens.DisableRefreshRotation to turn it off. Setting RotateRefresh
	// changes nothing (with DisableRefreshRotation, or sliding tokens, it is
	// an error).
	RotateRefresh bool
	// Deprecated: use Tokens.AllowRefreshUpdate.
	AllowRefreshUpdate bool
	// Deprecated: use Tokens.ReuseGrace.
	ReuseGrace time.Duration
	// Deprecated: use Tokens.ClaimsHook.
	ClaimsHook func(ctx context.Context, u *users.User, c *Claims) error
	// Deprecated: use Registry.RevokeRotated.
	BlacklistAfterRotation bool
	// Deprecated: use Registry.RevokeOthersOnRefresh.
	ExpireOnRefresh bool
	// Deprecated: use Registry.ExpireAnyPerm.
	ExpireAnyPerm string
	// Deprecated: use Transport.Cookies.
	Cookies Cookies
	// Deprecated: use Transport.CSRF.
	CSRF CSRF
	// Deprecated: use Transport.AuthScheme.
	AuthScheme string
	// Deprecated: use Transport.TrustedProxies.
	TrustedProxies []string
	// Deprecated: use Routes.Prefix.
	Prefix string
	// Deprecated: use Routes.Paths.
	Paths Paths
	// Deprecated: use Routes.Handlers.
	Handlers Handlers
	// Deprecated: use Accounts.Hasher.
	Hasher *users.Hasher
	// Deprecated: use Accounts.UpdateLastLogin.
	UpdateLastLogin bool
	// Deprecated: use Limits.MaxBodyBytes.
	MaxBodyBytes int64
	// Deprecated: use Limits.Throttle.
	Throttle Throttle
	// Deprecated: use Limits.Cache.
	Cache Cache
}

// Tokens configures the tokens: their lifetimes, their standard claims,
// sliding tokens, and what a refresh does.
type Tokens struct {
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

	// Sliding switches to sliding tokens: login answers {"token": ...}, one
	// token that authenticates until exp (SlidingTTL) and that the refresh
	// endpoint exchanges for a new one until refresh_exp (SlidingRefreshTTL).
	// JSON mode only.
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
	// ReuseGrace is how long after a rotation the same refresh token may be
	// presented again without counting as theft: it gets the same new
	// refresh token again, so two tabs refreshing at once stay logged in and
	// the session still has one branch. Default 5 seconds; a negative value
	// disables the grace (0 means the default).
	ReuseGrace time.Duration
	// AllowRefreshUpdate registers POST {Prefix}/token/update, which trades a
	// valid refresh token for a new refresh and access pair, extending the
	// session. Default off (the route does not exist).
	AllowRefreshUpdate bool

	// Issuers are other issuers (OIDC providers: Keycloak, Auth0) whose
	// access tokens the middleware accepts next to this service's own, as
	// Bearer tokens: [RequireLogin], [RequirePerms] and [ClaimsFrom] work
	// for them; [UserFrom] does not load a user for them, ginjwt's own
	// endpoints refuse them ([Claims.External]), and the token registry
	// cannot revoke them, so keep their lifetime short at the issuer. See
	// [TokenVerifier]; remote.NewIssuer builds one from a JWKS URL. Each
	// Issuer() must be set, distinct, and not this service's Issuer.
	// Default none.
	Issuers []TokenVerifier

	// ClaimsHook is called on every token issued to a user, after the
	// default user claims (user_id, username, perms, staff, superuser) are
	// set, to change them or add claims of the application's own through
	// Claims.Extra. An error fails the login or refresh.
	ClaimsHook func(ctx context.Context, u *users.User, c *Claims) error
}

// Transport configures how tokens travel between the client and the server
// (the Mode is Config.Mode), and whom to believe about the client's address.
type Transport struct {
	// Cookies configures the cookies of the cookie modes.
	Cookies Cookies
	// CSRF configures the CSRF protection of the cookie modes.
	CSRF CSRF
	// AuthScheme is the Authorization scheme of access tokens, compared
	// without regard to case. Default "Bearer".
	AuthScheme string
	// TrustedProxies are the addresses or CIDR ranges of reverse proxies
	// whose X-Forwarded-For and X-Real-IP headers are believed, as gin's
	// SetTrustedProxies. Default none: the peer address is the client.
	//
	// Given a *gin.Engine, Mount follows the engine instead, so that
	// ginjwt and c.ClientIP() always agree: its trusted proxies,
	// TrustedPlatform and RemoteIPHeaders. Set the proxies in one place:
	// either here (Mount then applies the list to an engine still at gin's
	// trust-everyone default) or with the engine's SetTrustedProxies (and
	// leave this empty); both is an error. An engine left at gin's default
	// with this empty is not followed: ginjwt then believes no forwarding
	// header and logs a warning. With New, or a *gin.RouterGroup, this
	// list alone decides.
	TrustedProxies []string
}

// Routes configures the endpoints: where they are and who handles them.
type Routes struct {
	// Prefix is the path of the route group, below the router Mount is
	// given. Default "/auth".
	Prefix string
	// Paths are the endpoints' paths below Prefix; "-" leaves one out.
	Paths Paths
	// Handlers replace or wrap built-in endpoint handlers.
	Handlers Handlers
}

// Accounts configures the default user store, the one Mount builds from
// Config.DB when Config.Users is not set (it is ignored otherwise).
type Accounts struct {
	// Hasher hashes and checks passwords. Default
	// users.NewHasher(users.DefaultParams, GOMAXPROCS): argon2id at
	// m=19 MiB, t=2, p=1, at most one hash per CPU at a time, so a flood of
	// logins queues instead of exhausting memory. For a memory budget:
	// users.NewHasher(p, users.ConcurrencyFor(p, budget)).
	Hasher *users.Hasher
	// MinPasswordLen is the shortest password, in characters, that the
	// store's Create and SetPassword accept. Default
	// users.DefaultMinPasswordLen (8).
	MinPasswordLen int
	// UpdateLastLogin records the time of each login on the user, when the
	// user store supports it (users.Store does). Default off. It applies to
	// an application's own Config.Users as well.
	UpdateLastLogin bool
}

// Limits bounds what a client can make ginjwt spend.
type Limits struct {
	// MaxBodyBytes limits request bodies on the auth endpoints; a longer body
	// is answered 413 body_too_large. It also bounds how much of a form the
	// middleware reads for its CSRF field (a longer form must send the CSRF
	// header). Default 64 KiB.
	MaxBodyBytes int64
	// Throttle limits failed logins.
	Throttle Throttle
	// Cache configures the verified-token cache of access tokens.
	Cache Cache
}

// DefaultConfig returns the defaults of every setting that has one, in one
// place. A zero field of the Config given to [New] or [Mount] takes the
// value it has here. Three defaults depend on other settings and are left
// empty here: the cookie names (see [Cookies]), the user store
// (users.NewStore(DB)) and its Hasher.
func DefaultConfig() Config {
	return Config{
		Mode: JSON,
		Tokens: Tokens{
			AccessTTL:         5 * time.Minute,
			RefreshTTL:        24 * time.Hour,
			SlidingTTL:        5 * time.Minute,
			SlidingRefreshTTL: 24 * time.Hour,
			ReuseGrace:        5 * time.Second,
		},
		Transport: Transport{
			CSRF:       CSRF{HeaderName: "X-CSRF-Token"},
			Cookies:    Cookies{SameSite: http.SameSiteLaxMode},
			AuthScheme: "Bearer",
		},
		Routes: Routes{
			Prefix: "/auth",
			Paths: Paths{
				Obtain:      "/token",
				Refresh:     "/token/refresh",
				Update:      "/token/update",
				Verify:      "/token/verify",
				Logout:      "/token/logout",
				Expire:      "/token/expire",
				Sessions:    "/sessions",
				JWKS:        "/jwks.json",
				Users:       "/users",
				Revocations: "/revocations",
				LoginForm:   "/login",
				LogoutForm:  "/logout",
			},
		},
		Registry: RegistryConfig{
			Resync:         5 * time.Second,
			Workers:        2,
			QueueSize:      1024,
			ActivityEvery:  time.Minute,
			ArchiveAfter:   240 * time.Hour,
			ExpireAnyPerm:  "ginjwt.expire_any",
			MaxRevocations: registry.DefaultMaxRevocations,
		},
		Accounts: Accounts{MinPasswordLen: users.DefaultMinPasswordLen},
		Limits: Limits{
			MaxBodyBytes: 64 << 10,
			Throttle: Throttle{
				PerAccount: 10,
				PerIP:      50,
				Window:     15 * time.Minute,
				MaxWait:    3 * time.Second,
			},
			Cache: Cache{MaxEntries: 10_000, MaxBytes: 16 << 20},
		},
		Service: Service{FeedPageSize: 1000},
		Logger:  slog.Default(),
		Clock:   time.Now,
	}
}

// resolved is a checked Config with every default filled in: what an Auth
// runs on.
type resolved struct {
	Config
	// rotate says whether a refresh rotates the refresh token: on unless
	// Tokens.DisableRefreshRotation or sliding tokens (which have none).
	rotate bool
	// proxies resolves clients' addresses through Transport.TrustedProxies.
	proxies *clientip.Resolver
}

// resolve checks c and returns it with its defaults filled in. The
// sections are checked in the order Config declares them, and the fields
// of each in their order, so the error names the first wrong field. c's
// slices are copied, never written.
func (c Config) resolve() (*resolved, error) {
	names, err := c.adoptFlat()
	if err != nil {
		return nil, err
	}
	r := &resolved{Config: c}
	d := DefaultConfig()
	for _, step := range []func(*resolved, *Config) error{
		resolveKeys, resolveTokens, resolveTransport, resolveRoutes,
		resolveRegistry, resolveAccounts, resolveLimits, resolveService, resolveSessionLogin,
	} {
		if err := step(r, &d); err != nil {
			return nil, names.rename(err)
		}
	}
	orDefault(&r.Logger, d.Logger)
	if r.Clock == nil {
		r.Clock = d.Clock
	}
	return r, nil
}

// orDefault sets *v to def when *v is the zero value.
func orDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// positive checks that d is not negative and fills it from def when zero.
func positive[T int | int64 | time.Duration](name string, v *T, def T) error {
	if *v < 0 {
		return fmt.Errorf("ginjwt: Config.%s must be positive, got %v", name, *v)
	}
	if *v == 0 {
		*v = def
	}
	return nil
}

func resolveKeys(r *resolved, _ *Config) error {
	switch {
	case len(r.SigningKey) > 0 && len(r.Keys) > 0:
		return errors.New("ginjwt: set Config.Keys or Config.SigningKey, not both")
	case len(r.SigningKey) > 0:
		if len(r.SigningKey) < sha256.Size {
			return fmt.Errorf("ginjwt: Config.SigningKey is %d bytes; HS256 needs at least %d random bytes", len(r.SigningKey), sha256.Size)
		}
		r.Keys = []Key{{Algorithm: "HS256", Secret: r.SigningKey}}
	case len(r.Keys) == 0:
		return errors.New("ginjwt: Config.SigningKey or Config.Keys is required (an HMAC key of at least 32 random bytes, or an asymmetric key)")
	default:
		r.Keys = slices.Clone(r.Keys)
	}
	return nil
}

func resolveTokens(r *resolved, d *Config) error {
	t, def := &r.Tokens, d.Tokens
	if err := lifetimes("AccessTTL", "RefreshTTL", &t.AccessTTL, &t.RefreshTTL, def.AccessTTL, def.RefreshTTL); err != nil {
		return err
	}
	if t.Leeway < 0 || t.Leeway > 5*time.Minute {
		return fmt.Errorf("ginjwt: Config.Tokens.Leeway must be between 0 and 5m, got %v", t.Leeway)
	}
	t.Audience = slices.Clone(t.Audience)
	for i, aud := range t.Audience {
		if aud == "" {
			return fmt.Errorf("ginjwt: Config.Tokens.Audience[%d] is empty", i)
		}
	}
	t.Issuers = slices.Clone(t.Issuers)
	seen := map[string]bool{}
	for i, v := range t.Issuers {
		if v == nil {
			return fmt.Errorf("ginjwt: Config.Tokens.Issuers[%d] is nil", i)
		}
		switch iss := v.Issuer(); {
		case iss == "":
			return fmt.Errorf("ginjwt: Config.Tokens.Issuers[%d].Issuer() is empty", i)
		case iss == t.Issuer:
			return fmt.Errorf("ginjwt: Config.Tokens.Issuers[%d].Issuer() is this service's own Config.Tokens.Issuer %q", i, iss)
		case seen[iss]:
			return fmt.Errorf("ginjwt: Config.Tokens.Issuers[%d]: a second verifier of issuer %q", i, iss)
		default:
			seen[iss] = true
		}
	}
	if t.Sliding && r.Mode != JSON {
		return errors.New("ginjwt: Config.Tokens.Sliding works in JSON mode only")
	}
	if err := lifetimes("SlidingTTL", "SlidingRefreshTTL", &t.SlidingTTL, &t.SlidingRefreshTTL, def.SlidingTTL, def.SlidingRefreshTTL); err != nil {
		return err
	}
	if t.Sliding && t.AllowRefreshUpdate {
		return errors.New("ginjwt: Config.Tokens.AllowRefreshUpdate does not apply to sliding tokens (Config.Tokens.Sliding), which have no refresh tokens")
	}
	r.rotate = !t.DisableRefreshRotation && !t.Sliding
	orDefault(&t.ReuseGrace, def.ReuseGrace)
	return nil
}

// lifetimes checks two token lifetimes of Config.Tokens, short and the long
// one that must outlive it, filling each from its default when zero.
func lifetimes(shortName, longName string, short, long *time.Duration, defShort, defLong time.Duration) error {
	if err := lifetime(shortName, short, defShort); err != nil {
		return err
	}
	if err := lifetime(longName, long, defLong); err != nil {
		return err
	}
	if *long < *short {
		return fmt.Errorf("ginjwt: Config.Tokens.%s (%v) must not be shorter than Config.Tokens.%s (%v)", longName, *long, shortName, *short)
	}
	return nil
}

// lifetime checks a token lifetime of Config.Tokens: at least a second,
// def when zero.
func lifetime(name string, v *time.Duration, def time.Duration) error {
	if err := positive("Tokens."+name, v, def); err != nil {
		return err
	}
	if *v < time.Second {
		return fmt.Errorf("ginjwt: Config.Tokens.%s must be at least one second, got %v", name, *v)
	}
	return nil
}

func resolveTransport(r *resolved, d *Config) error {
	if r.Mode > TwoCookies {
		return fmt.Errorf("ginjwt: Config.Mode: unknown mode %d", r.Mode)
	}
	t, def := &r.Transport, d.Transport
	if err := t.Cookies.resolve(def.Cookies); err != nil {
		return err
	}
	if err := t.CSRF.resolve(def.CSRF); err != nil {
		return err
	}
	orDefault(&t.AuthScheme, def.AuthScheme)
	if strings.ContainsAny(t.AuthScheme, " \t") {
		return fmt.Errorf("ginjwt: Config.Transport.AuthScheme must be one word, got %q", t.AuthScheme)
	}
	t.TrustedProxies = slices.Clone(t.TrustedProxies)
	var err error
	if r.proxies, err = clientip.New(t.TrustedProxies); err != nil {
		return fmt.Errorf("ginjwt: Config.Transport.TrustedProxies: %w", err)
	}
	return nil
}

func resolveRoutes(r *resolved, d *Config) error {
	rt := &r.Routes
	orDefault(&rt.Prefix, d.Routes.Prefix)
	if !strings.HasPrefix(rt.Prefix, "/") {
		return fmt.Errorf("ginjwt: Config.Routes.Prefix must start with /, got %q", rt.Prefix)
	}
	rt.Prefix = strings.TrimSuffix(rt.Prefix, "/")
	return rt.Paths.resolve(d.Routes.Paths, r.SessionLogin.on())
}

func resolveRegistry(r *resolved, d *Config) error {
	g, def := &r.Registry, d.Registry
	on := r.DB != nil && !g.Disabled
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"RevokeRotated", g.RevokeRotated},
		{"RevokeOthersOnRefresh", g.RevokeOthersOnRefresh},
		{"Async", g.Async},
		{"Devices", g.Devices},
	} {
		if f.set && !on {
			return fmt.Errorf("ginjwt: Config.Registry.%s needs the token registry (Config.DB, and Config.Registry.Disabled off)", f.name)
		}
	}
	if r.Tokens.Sliding && (g.RevokeRotated || g.RevokeOthersOnRefresh) {
		return errors.New("ginjwt: Config.Registry.RevokeRotated and RevokeOthersOnRefresh do not apply to sliding tokens (Config.Tokens.Sliding), which have no refresh tokens")
	}
	for _, f := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"Resync", &g.Resync, def.Resync},
		{"ActivityEvery", &g.ActivityEvery, def.ActivityEvery},
		{"ArchiveEvery", &g.ArchiveEvery, 0},
		{"ArchiveAfter", &g.ArchiveAfter, def.ArchiveAfter},
	} {
		if err := positive("Registry."+f.name, f.v, f.def); err != nil {
			return err
		}
	}
	if err := positive("Registry.Workers", &g.Workers, def.Workers); err != nil {
		return err
	}
	if err := positive("Registry.QueueSize", &g.QueueSize, def.QueueSize); err != nil {
		return err
	}
	if err := positive("Registry.MaxRevocations", &g.MaxRevocations, def.MaxRevocations); err != nil {
		return err
	}
	orDefault(&g.ExpireAnyPerm, def.ExpireAnyPerm)
	return nil
}

func resolveAccounts(r *resolved, d *Config) error {
	a := &r.Accounts
	if err := positive("Accounts.MinPasswordLen", &a.MinPasswordLen, d.Accounts.MinPasswordLen); err != nil {
		return err
	}
	if r.Users == nil && r.DB != nil {
		r.Users = users.NewStore(r.DB, users.WithHasher(a.Hasher), users.WithMinPasswordLen(a.MinPasswordLen))
	}
	return nil
}

func resolveLimits(r *resolved, d *Config) error {
	l, def := &r.Limits, d.Limits
	if err := positive("Limits.MaxBodyBytes", &l.MaxBodyBytes, def.MaxBodyBytes); err != nil {
		return err
	}
	if err := l.Throttle.resolve(def.Throttle); err != nil {
		return err
	}
	l.Cache.resolve(def.Cache)
	return nil
}

func resolveService(r *resolved, d *Config) error {
	r.Service.Credentials = slices.Clone(r.Service.Credentials)
	return r.Service.resolve(d.Service)
}

func resolveSessionLogin(r *resolved, _ *Config) error {
	return r.SessionLogin.resolve(&r.Transport.Cookies)
}

// resolve fills the default paths from def and checks the others: each
// starts with / (or is "-"), and no two endpoints share a path. The login
// form's paths count only with session login (forms).
func (p *Paths) resolve(def Paths, forms bool) error {
	fields := []struct {
		name string
		p    *string
		def  string
	}{
		{"Obtain", &p.Obtain, def.Obtain},
		{"Refresh", &p.Refresh, def.Refresh},
		{"Update", &p.Update, def.Update},
		{"Verify", &p.Verify, def.Verify},
		{"Logout", &p.Logout, def.Logout},
		{"Expire", &p.Expire, def.Expire},
		{"Sessions", &p.Sessions, def.Sessions},
		{"JWKS", &p.JWKS, def.JWKS},
		{"Users", &p.Users, def.Users},
		{"Revocations", &p.Revocations, def.Revocations},
		{"LoginForm", &p.LoginForm, def.LoginForm},
		{"LogoutForm", &p.LogoutForm, def.LogoutForm},
	}
	seen := make(map[string]string, len(fields))
	for _, f := range fields {
		orDefault(f.p, f.def)
		if *f.p == "-" || (!forms && (f.p == &p.LoginForm || f.p == &p.LogoutForm)) {
			continue
		}
		if !strings.HasPrefix(*f.p, "/") {
			return fmt.Errorf("ginjwt: Config.Routes.Paths.%s must start with / (or be \"-\"), got %q", f.name, *f.p)
		}
		if other, dup := seen[*f.p]; dup {
			return fmt.Errorf("ginjwt: Config.Routes.Paths.%s and Config.Routes.Paths.%s are both %q", other, f.name, *f.p)
		}
		seen[*f.p] = f.name
	}
	return nil
}

// Paths are the endpoints' paths below Config.Routes.Prefix. A zero field is the
// default shown; "-" leaves the endpoint out.
type Paths struct {
	Obtain   string // "/token"
	Refresh  string // "/token/refresh"
	Update   string // "/token/update" (only with Config.Tokens.AllowRefreshUpdate)
	Verify   string // "/token/verify"
	Logout   string // "/token/logout"
	Expire   string // "/token/expire" (with the registry)
	Sessions string // "/sessions": GET, DELETE /sessions and DELETE /sessions/:id (with the registry)
	JWKS     string // "/jwks.json"
	Users    string // "/users": GET /users/me and /users/:id
	// Revocations is the revocation feed of client services (with the
	// registry and Config.Service.Credentials).
	Revocations string // "/revocations"
	// LoginForm is the session login form, GET and POST, and LogoutForm
	// its logout, POST (with Config.SessionLogin).
	LoginForm  string // "/login"
	LogoutForm string // "/logout"
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
	// MaxRevocations bounds the revocations each instance holds in memory
	// (revoked tokens, revoked sessions, users' cut-offs; ~70 bytes each).
	// Past it the oldest tenth is forgotten, never silently: a token issued
	// before the latest forgotten revocation (plus 5 minutes of clock
	// margin) is checked against the revocation log in the database, one
	// indexed query per request, and refused with 503 unavailable when the
	// database cannot answer. Default 1,000,000 (~70 MB).
	MaxRevocations int

	// RevokeRotated revokes a refresh token once it has been rotated. Reuse
	// detection works without it: a rotated-out token that comes back
	// revokes its session either way.
	RevokeRotated bool
	// RevokeOthersOnRefresh revokes, on every refresh, every other live
	// token of the session: only the new pair stays valid (a replay within
	// Tokens.ReuseGrace adds its own access token).
	RevokeOthersOnRefresh bool
	// ExpireAnyPerm is the permission that lets a user force-expire other
	// users' tokens at the expire endpoint. Default "ginjwt.expire_any".
	ExpireAnyPerm string
}
