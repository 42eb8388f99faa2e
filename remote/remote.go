package remote

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/registry"
	"github.com/ginjwt/ginjwt/users"
)

// Client is a mounted client service: the auth service's endpoints
// proxied, tokens verified locally, the revocation feed followed and the
// users copied. It is safe for concurrent use.
type Client struct {
	cfg      Config
	auth     *ginjwt.Auth
	http     *http.Client
	log      *slog.Logger
	keys     *keySource
	feed     *follower
	users    *userSync
	verified *verifyCache

	cancel context.CancelFunc
	done   sync.WaitGroup
}

// Mount makes r a client service of the auth service at cfg.AuthURL. It
// checks cfg, fetches the auth service's JWKS (unless cfg.SharedSecret)
// and a snapshot of its revocation feed — it fails when it cannot, so
// start the auth service first — then installs ginjwt's authentication
// middleware (verifying with those keys and that revocation set), the
// user-copy middleware, and the endpoints: POST {Prefix}/token,
// /token/refresh, /token/verify, /token/logout (DELETE too in the cookie
// modes), GET and DELETE {Prefix}/sessions, DELETE {Prefix}/sessions/:id
// and GET {Prefix}/users/me (the local copy). As with ginjwt.Mount, mount
// before registering the routes the middleware must cover.
//
// It starts the background reads of the feed and the JWKS; [Client.Close]
// stops them.
func Mount(r gin.IRouter, cfg Config) (*Client, error) {
	if err := cfg.resolve(); err != nil {
		return nil, err
	}
	cl := &Client{cfg: cfg, log: cfg.Logger}
	cl.http = newHTTPClient(&cl.cfg)
	if cfg.InsecureSkipVerify {
		cl.log.Warn("ginjwt remote: Config.InsecureSkipVerify is set: the auth service's TLS certificate is NOT verified, and anyone on the network path can impersonate it")
	}
	if u, _ := url.Parse(cfg.AuthURL); u.Scheme == "http" && !loopback(u.Hostname()) {
		cl.log.Warn("ginjwt remote: Config.InsecureHTTP is set: the auth service is reached over plain http://, and passwords, tokens and the service credential cross the network in clear", "auth_url", cfg.AuthURL)
	}
	cl.keys = &keySource{
		get: func(ctx context.Context) (*answer, error) {
			return cl.call(ctx, http.MethodGet, cl.cfg.authURL(cl.cfg.AuthPaths.JWKS), nil, nil)
		},
		install:  func(keys []ginjwt.Key) error { return cl.auth.SetKeys(keys) },
		algs:     cfg.Algorithms,
		algsName: "Config.Algorithms",
		timeout:  cfg.Timeout,
		cooldown: cfg.KeyCooldown,
		every:    cfg.KeyRefresh,
		clock:    cfg.Clock,
		log:      cfg.Logger,
		what:     "the auth service's JWKS",
	}
	cl.feed = &follower{cl: cl}
	cl.feed.set.Store(registry.NewBoundedSet(cfg.MaxRevocations))
	cl.users = &userSync{cl: cl, seen: map[string]struct{}{}}
	cl.verified = &verifyCache{cl: cl, entries: map[string]verdict{}}

	ctx := context.Background() // each request is bounded by cfg.Timeout
	var keys []ginjwt.Key
	if len(cfg.SharedSecret) > 0 {
		keys = []ginjwt.Key{{Algorithm: cfg.SharedSecretAlgorithm, Secret: cfg.SharedSecret}}
	} else {
		var err error
		if keys, err = cl.keys.fetch(ctx); err != nil {
			return nil, fmt.Errorf("remote: fetch the auth service's JWKS: %w", err)
		}
		if cl.keys.print, err = fingerprint(keys); err != nil {
			return nil, fmt.Errorf("remote: the auth service's JWKS: %w", err)
		}
	}
	auth, err := ginjwt.New(cl.authConfig(keys))
	if err != nil {
		return nil, fmt.Errorf("remote: %w", err)
	}
	cl.auth = auth
	if err := cl.feed.sync(ctx); err != nil {
		return nil, fmt.Errorf("remote: read the auth service's revocation feed: %w", err)
	}
	// The client's address is resolved as ginjwt does, never from a header
	// any peer may forge: it is what the auth service throttles by.
	if err := auth.Install(r, cl.users.middleware); err != nil {
		return nil, fmt.Errorf("remote: %w", err)
	}

	bg, stop := context.WithCancel(context.Background())
	cl.cancel = stop
	cl.goLoop(func() { cl.feed.loop(bg) })
	if len(cfg.SharedSecret) == 0 {
		cl.goLoop(func() { cl.keys.loop(bg) })
	}
	return cl, nil
}

// authConfig is the configuration of the client service's own Auth: it
// verifies with the auth service's keys and asks this Client about
// revocations; its built-in endpoints are replaced by the proxies.
func (cl *Client) authConfig(keys []ginjwt.Key) ginjwt.Config {
	cfg := &cl.cfg
	replace := func(h gin.HandlerFunc) ginjwt.Handler { return func(gin.HandlerFunc) gin.HandlerFunc { return h } }
	paths := cfg.Paths
	paths.Update, paths.Expire, paths.JWKS, paths.Revocations = "-", "-", "-", "-"
	ac := ginjwt.Config{
		Keys:      keys,
		Mode:      cfg.Mode,
		Users:     users.NewStore(cfg.DB),
		Tokens:    ginjwt.Tokens{Leeway: cfg.Leeway, Issuer: cfg.Issuer, Audience: cfg.Audience, Issuers: cfg.Issuers},
		Transport: cfg.Transport,
		Routes: ginjwt.Routes{Prefix: cfg.Prefix, Paths: paths, Handlers: ginjwt.Handlers{
			Obtain: replace(cl.obtain), Refresh: replace(cl.refresh), Verify: replace(cl.verify), Logout: replace(cl.logout),
			Sessions: replace(withoutBody(cl.sessions)), RevokeSessions: replace(withoutBody(cl.sessions)), RevokeSession: replace(withoutBody(cl.sessions)),
		}},
		Limits:  cfg.Limits,
		Service: ginjwt.Service{Revocations: cl},
		Logger:  cfg.Logger,
		Clock:   cfg.Clock,
	}
	ac.SessionLogin = cfg.SessionLogin
	ac.SessionLogin.Issuer = sessionIssuer{cl}
	ac.Limits.Throttle.Disabled = true // the auth service throttles logins, by the client's forwarded address
	if len(cfg.SharedSecret) == 0 {
		ac.Service.KeyMissing = cl.keys.missing
	}
	return ac
}

func (cl *Client) goLoop(fn func()) {
	cl.done.Add(1)
	go func() {
		defer cl.done.Done()
		fn()
	}()
}

// Close stops the background reads of the feed and the JWKS, and waits
// for them or for ctx.
func (cl *Client) Close(ctx context.Context) error {
	if cl.cancel == nil {
		return nil
	}
	cl.cancel()
	stopped := make(chan struct{})
	go func() { cl.done.Wait(); close(stopped) }()
	select {
	case <-stopped:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("remote: close: %w", ctx.Err())
	}
}

// Auth returns the client service's ginjwt Auth: its middleware verifies
// the auth service's tokens; ginjwt.RequireLogin, RequirePerms, ClaimsFrom
// and UserFrom (the local copy) work as on the auth service.
func (cl *Client) Auth() *ginjwt.Auth { return cl.auth }

// Forgotten is how many revocations this service forgot past
// Config.MaxRevocations; the tokens they could apply to are checked with
// the auth service.
func (cl *Client) Forgotten() int64 { return cl.feed.set.Load().Forgotten() }

// Sync reads the revocation feed now, to its end.
func (cl *Client) Sync(ctx context.Context) error { return cl.feed.sync(ctx) }

// LastSync is when the last complete read of the feed began: every
// revocation committed on the auth service before it is known here.
func (cl *Client) LastSync() time.Time { return time.Unix(0, cl.feed.lastGood.Load()) }

// JWKSFetches is how many times the JWKS was requested, for metrics.
func (cl *Client) JWKSFetches() int64 { return cl.keys.fetches.Load() }

// SyncUser fetches the user from the auth service and writes the local
// copy now, as a login here does.
func (cl *Client) SyncUser(ctx context.Context, id string) error { return cl.users.sync(ctx, id) }

// revokedHere applies a logout to this service's set at once, before the
// feed brings it: the session's tokens are refused here from now on.
func (cl *Client) revokedHere(c *ginjwt.Claims) {
	if c == nil {
		return
	}
	now := cl.cfg.Clock()
	until := now.Add(24 * time.Hour)
	if c.ExpiresAt.After(until) {
		until = c.ExpiresAt
	}
	cl.feed.set.Load().Load([]registry.Revocation{{Kind: registry.KindSession, Subject: c.SessionID, At: now, Until: until}}, 0, now)
}

func urlPathEscape(s string) string  { return url.PathEscape(s) }
func urlQueryEscape(s string) string { return url.QueryEscape(s) }
