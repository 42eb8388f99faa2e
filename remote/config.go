package remote

import (
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/registry"
)

// Config configures a client service. A zero field means its documented
// default; [Mount] checks the whole configuration once and names the
// first field that is wrong.
type Config struct {
	// AuthURL is the auth service's base URL, "https://auth.internal" or
	// "http://127.0.0.1:8000": where its ginjwt is mounted, without the
	// prefix. Required. http:// is refused except to a loopback address
	// (localhost, 127.0.0.0/8, ::1) unless InsecureHTTP is set.
	AuthURL string
	// InsecureHTTP allows an http:// AuthURL to a host that is not a
	// loopback address: passwords, tokens, the service credential and the
	// keys then cross the network IN CLEAR, and ANYONE ON THE NETWORK PATH
	// CAN READ THEM OR IMPERSONATE THE AUTH SERVICE. Only behind a transport
	// that encrypts already (a service mesh's mTLS sidecar). Mount logs a
	// warning when it is set.
	InsecureHTTP bool
	// Proxy chooses the HTTP proxy of the requests to the auth service, as
	// http.Transport.Proxy (http.ProxyFromEnvironment to honour
	// HTTP_PROXY and HTTPS_PROXY). Default none: the environment of the
	// process does not redirect the service credential.
	Proxy func(*http.Request) (*url.URL, error)
	// AuthPrefix and AuthPaths are the auth service's Config.Prefix and
	// Config.Paths. Defaults ginjwt's ("/auth", "/token", …,
	// "/revocations").
	AuthPrefix string
	AuthPaths  ginjwt.Paths
	// Credential is this client service's credential, one of the auth
	// service's Config.Service.Credentials. Required: it reads the
	// revocation feed and the users, and vouches for the client IP and
	// User-Agent this service forwards.
	Credential string

	// Timeout bounds each request to the auth service, connection
	// included. Default 10 seconds.
	Timeout time.Duration
	// RootCAs are the certificate authorities that may sign the auth
	// service's TLS certificate. Default the system's.
	RootCAs *x509.CertPool
	// InsecureSkipVerify turns off the verification of the auth service's
	// TLS certificate: ANYONE ON THE NETWORK PATH CAN THEN IMPERSONATE THE
	// AUTH SERVICE, read every password and hand out keys of their own.
	// Never in production; for a self-signed certificate, give its CA in
	// RootCAs instead. Mount logs a warning when it is set.
	InsecureSkipVerify bool
	// MaxResponseBytes bounds each answer of the auth service; a longer
	// one is a bad answer (502). Default 1 MiB.
	MaxResponseBytes int64

	// Algorithms are the signing algorithms accepted: JWKS keys of other
	// algorithms are ignored. Default the asymmetric ones of
	// [ginjwt.Algorithms].
	Algorithms []string
	// SharedSecret verifies tokens with the auth service's HMAC secret
	// instead of its JWKS. Weaker: every client service holding it can
	// also mint tokens for any user, and a leak on any of them compromises
	// all; prefer an asymmetric key on the auth service. Algorithm
	// SharedSecretAlgorithm (default HS256).
	SharedSecret          []byte
	SharedSecretAlgorithm string
	// KeyRefresh is how often the JWKS is fetched again, so keys removed
	// on the auth service stop verifying here. Default 5 minutes.
	KeyRefresh time.Duration
	// KeyCooldown is the least time between two fetches of the JWKS
	// caused by tokens naming unknown keys: a flood of tokens with random
	// kids costs one fetch per cooldown, and concurrent ones share it.
	// Default 30 seconds.
	KeyCooldown time.Duration

	// FeedInterval is how often the revocation feed is read. Default 2 s.
	FeedInterval time.Duration
	// MaxFeedLag is how long the feed may go unread before tokens issued
	// before the last good read are refused (503 remote_unavailable): a
	// revocation made since may be unknown here. Tokens issued after it are
	// still accepted; use RemoteVerify where that matters. Default 30 s.
	MaxFeedLag time.Duration
	// MaxRevocations bounds the revocations held in memory, as the auth
	// service's Registry.MaxRevocations bounds its own. Past it the oldest
	// tenth is forgotten, and a token issued before the latest forgotten
	// revocation is checked with the auth service (as RemoteVerify checks
	// every token), 503 remote_unavailable when it cannot answer. Default
	// 1,000,000 (about 80 MB).
	MaxRevocations int
	// RemoteVerify asks the auth service about every access token, on top
	// of the revocation feed: no revocation lag, at the cost of a round
	// trip per token and RemoteVerifyTTL. Default off.
	RemoteVerify bool
	// RemoteVerifyTTL is how long an answer of RemoteVerify is reused for
	// the same token, never past its exp. Default 5 seconds.
	RemoteVerifyTTL time.Duration

	// DB is this service's own database, which holds its copies of the
	// users (migrate it with users.Migrate, plus the tables of
	// UserMapper). Required.
	DB *gorm.DB
	// UserMapper writes the auth service's representation of a user into
	// DB. Default [DefaultUserMapper] (the users.User model).
	UserMapper UserMapper

	// Prefix and Paths are where this service serves the proxied
	// endpoints, as ginjwt's Routes.Prefix and Routes.Paths (defaults
	// "/auth", "/token", …); "-" leaves one out.
	Prefix string
	Paths  ginjwt.Paths
	// Mode and Transport are how tokens travel between this service and
	// its clients, as in [ginjwt.Config]: any mode works, whatever the
	// auth service's. In the cookie modes Transport.CSRF.Secret is required
	// (the same on every instance of this service).
	Mode      ginjwt.Mode
	Transport ginjwt.Transport
	// SessionLogin turns on login by a cookie session, as in
	// [ginjwt.Config]: its login form checks the credentials at the auth
	// service (as the proxied login endpoint does), keeps the session's
	// refresh token in the session store and writes the user's local copy,
	// so this service's server-rendered pages (an admin area) have the auth
	// service's users. Transport.CSRF.Secret is required with it. Its
	// Obtain is set by this package.
	SessionLogin ginjwt.SessionLogin
	// Leeway, Issuer and Audience check tokens as ginjwt's Tokens section
	// does: set Issuer and Audience to the auth service's.
	Leeway   time.Duration
	Issuer   string
	Audience []string
	// Issuers are other issuers (OIDC providers: Keycloak, Auth0) whose
	// access tokens this service accepts next to the auth service's, as
	// ginjwt's Config.Tokens.Issuers: build each with [NewIssuer] (and Close
	// it yourself). Their users are not fetched from the auth service, and
	// the revocation feed does not apply to them. Default none.
	Issuers []ginjwt.TokenVerifier
	// Limits bounds request bodies and sizes the verified-token cache, as
	// ginjwt's Limits (its Throttle is unused: the auth service throttles
	// logins, by the client address this service forwards).
	Limits ginjwt.Limits

	// Logger receives the logs. Default slog.Default().
	Logger *slog.Logger
	// Clock tells the time. Default time.Now.
	Clock func() time.Time
}

// resolve fills defaults and checks every field.
func (c *Config) resolve() error {
	u, err := url.Parse(c.AuthURL)
	if c.AuthURL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return fmt.Errorf("remote: Config.AuthURL must be http(s)://host[:port][/path], got %q", c.AuthURL)
	}
	if u.Scheme == "http" && !c.InsecureHTTP && !loopback(u.Hostname()) {
		return fmt.Errorf("remote: Config.AuthURL %q is http:// to a host that is not a loopback address: credentials and tokens would cross the network in clear; use https:// (or set Config.InsecureHTTP, behind a transport that encrypts)", c.AuthURL)
	}
	c.AuthURL = strings.TrimSuffix(c.AuthURL, "/")
	if c.AuthPrefix == "" {
		c.AuthPrefix = "/auth"
	}
	if !strings.HasPrefix(c.AuthPrefix, "/") {
		return fmt.Errorf("remote: Config.AuthPrefix must start with /, got %q", c.AuthPrefix)
	}
	c.AuthPrefix = strings.TrimSuffix(c.AuthPrefix, "/")
	p := &c.AuthPaths
	for _, f := range []struct {
		name string
		p    *string
		def  string
	}{
		{"Obtain", &p.Obtain, "/token"}, {"Refresh", &p.Refresh, "/token/refresh"}, {"Verify", &p.Verify, "/token/verify"},
		{"Logout", &p.Logout, "/token/logout"}, {"Sessions", &p.Sessions, "/sessions"}, {"JWKS", &p.JWKS, "/jwks.json"},
		{"Users", &p.Users, "/users"}, {"Revocations", &p.Revocations, "/revocations"},
	} {
		if *f.p == "" {
			*f.p = f.def
		}
		if !strings.HasPrefix(*f.p, "/") {
			return fmt.Errorf("remote: Config.AuthPaths.%s must start with /, got %q", f.name, *f.p)
		}
	}
	if c.Prefix == "" {
		c.Prefix = "/auth"
	}
	c.Prefix = strings.TrimSuffix(c.Prefix, "/")
	if c.Paths.Sessions == "" {
		c.Paths.Sessions = "/sessions"
	}
	if len(c.Credential) < 32 {
		return errors.New("remote: Config.Credential is required: one of the auth service's Config.Service.Credentials (32+ bytes)")
	}
	if c.DB == nil {
		return errors.New("remote: Config.DB is required: it holds this service's copies of the users")
	}
	if err := durations("Config", []duration{
		{"Timeout", &c.Timeout, 10 * time.Second},
		{"KeyRefresh", &c.KeyRefresh, 5 * time.Minute},
		{"KeyCooldown", &c.KeyCooldown, 30 * time.Second},
		{"FeedInterval", &c.FeedInterval, 2 * time.Second},
		{"MaxFeedLag", &c.MaxFeedLag, 30 * time.Second},
		{"RemoteVerifyTTL", &c.RemoteVerifyTTL, 5 * time.Second},
	}); err != nil {
		return err
	}
	if c.MaxFeedLag < c.FeedInterval {
		return fmt.Errorf("remote: Config.MaxFeedLag (%v) must not be shorter than Config.FeedInterval (%v)", c.MaxFeedLag, c.FeedInterval)
	}
	if c.MaxRevocations < 0 {
		return fmt.Errorf("remote: Config.MaxRevocations must be positive, got %d", c.MaxRevocations)
	}
	if c.MaxRevocations == 0 {
		c.MaxRevocations = registry.DefaultMaxRevocations
	}
	if c.MaxResponseBytes < 0 {
		return fmt.Errorf("remote: Config.MaxResponseBytes must be positive, got %d", c.MaxResponseBytes)
	}
	if c.MaxResponseBytes == 0 {
		c.MaxResponseBytes = 1 << 20
	}
	if len(c.Algorithms) == 0 {
		for _, alg := range ginjwt.Algorithms() {
			if !strings.HasPrefix(alg, "HS") {
				c.Algorithms = append(c.Algorithms, alg)
			}
		}
	}
	for i, alg := range c.Algorithms {
		if !slices.Contains(ginjwt.Algorithms(), alg) {
			return fmt.Errorf("remote: Config.Algorithms[%d]: unknown algorithm %q", i, alg)
		}
	}
	if len(c.SharedSecret) > 0 && c.SharedSecretAlgorithm == "" {
		c.SharedSecretAlgorithm = "HS256"
	}
	if c.UserMapper == nil {
		c.UserMapper = DefaultUserMapper
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	return nil
}

// loopback reports whether host names this machine only.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// authURL is the URL of one of the auth service's endpoints.
func (c *Config) authURL(path string) string { return c.AuthURL + c.AuthPrefix + path }

// duration is a duration field of a configuration, with its default.
type duration struct {
	name string
	d    *time.Duration
	def  time.Duration
}

// durations fills the zero durations of section ("Config") with their
// defaults and refuses negative ones, in order.
func durations(section string, ds []duration) error {
	for _, d := range ds {
		if *d.d < 0 {
			return fmt.Errorf("remote: %s.%s must be positive, got %v", section, d.name, *d.d)
		}
		if *d.d == 0 {
			*d.d = d.def
		}
	}
	return nil
}
