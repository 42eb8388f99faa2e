package remote

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/ginjwt/ginjwt"
)

// IssuerConfig configures an [Issuer]: another issuer (an OIDC provider
// such as Keycloak or Auth0) whose access tokens a ginjwt service accepts.
// A zero field means its documented default; [NewIssuer] checks the whole
// configuration once and names the first field that is wrong.
type IssuerConfig struct {
	// JWKSURL is where the issuer publishes its public keys: Keycloak's
	// "https://sso.example.com/realms/<realm>/protocol/openid-connect/certs",
	// Auth0's "https://<tenant>.auth0.com/.well-known/jwks.json". Required.
	// http:// is refused except to a loopback address unless InsecureHTTP.
	JWKSURL string
	// InsecureHTTP allows an http:// JWKSURL to a host that is not a
	// loopback address: ANYONE ON THE NETWORK PATH CAN THEN HAND OUT KEYS
	// OF THEIR OWN and mint tokens for any user. NewIssuer logs a warning
	// when it is set.
	InsecureHTTP bool
	// Issuer is the iss claim of the issuer's tokens, compared exactly:
	// Keycloak's "https://sso.example.com/realms/<realm>", Auth0's
	// "https://<tenant>.auth0.com/" (with its trailing slash). Required.
	Issuer string
	// Audience are the aud values accepted: a token must name one of them,
	// compared exactly (Keycloak: this service's client ID, added to access
	// tokens by an audience mapper; Auth0: the API's identifier).
	// Required, one or more.
	Audience []string
	// AuthorizedParties, when set, are the azp values accepted: a token
	// must carry one of them, compared exactly (the OIDC client the token
	// was issued to; Keycloak writes it in every access token). Default
	// none: azp is not checked.
	AuthorizedParties []string
	// UserClaim is the claim that holds the user's ID (Claims.UserID): a
	// string, or a number written in decimal. Default "sub".
	UserClaim string
	// UsernameClaim is the claim that holds the username (Claims.Username);
	// absent is allowed. Default "preferred_username".
	UsernameClaim string
	// PermsClaim is where the user's permissions (Claims.Perms, for
	// ginjwt.RequirePerms) are: a dotted path to an array of strings, such
	// as Keycloak's "realm_access.roles" or
	// "resource_access.<client>.roles", or to a space-separated string, such
	// as "scope" (or Auth0's "permissions", an array). Default none: no
	// permissions.
	PermsClaim string
	// Algorithms are the signing algorithms accepted, an allow-list: a
	// token of another algorithm is refused, and keys of the JWKS with
	// another alg are ignored (a key without alg is taken for the one its
	// type implies: RS256 for RSA, ES256/384/512 by curve, EdDSA for
	// Ed25519). Default the asymmetric ones of
	// [ginjwt.Algorithms]; HMAC algorithms and "none" are refused here (a
	// JWKS holds no secrets).
	Algorithms []string
	// Leeway is the clock skew tolerated on exp, nbf and iat. Default 0;
	// at most 5 minutes.
	Leeway time.Duration
	// KeyRefresh is how often the JWKS is fetched again, so keys removed
	// at the issuer stop verifying here. Default 5 minutes.
	KeyRefresh time.Duration
	// KeyCooldown is the least time between two fetches of the JWKS caused
	// by tokens naming unknown keys: a flood of random kids costs one fetch
	// per cooldown, and concurrent ones share it. Default 30 seconds.
	KeyCooldown time.Duration
	// RootCAs are the certificate authorities that may sign the JWKS
	// server's TLS certificate. Default the system's.
	RootCAs *x509.CertPool
	// Proxy chooses the HTTP proxy of the JWKS requests, as
	// http.Transport.Proxy. Default none, whatever HTTP_PROXY says.
	Proxy func(*http.Request) (*url.URL, error)
	// Timeout bounds each JWKS request. Default 10 seconds.
	Timeout time.Duration
	// MaxResponseBytes bounds the JWKS answer. Default 1 MiB.
	MaxResponseBytes int64
	// Logger receives the logs. Default slog.Default().
	Logger *slog.Logger
	// Clock tells the time. Default time.Now.
	Clock func() time.Time
}

// Issuer verifies the access tokens of another issuer with the keys of its
// JWKS: it is a [ginjwt.TokenVerifier], for Config.Tokens.Issuers of
// ginjwt.Mount and Config.Issuers of [Mount]. The keys are fetched as a
// client service fetches the auth service's ([Config.KeyRefresh],
// [Config.KeyCooldown], the last good set kept on failure). It is safe for
// concurrent use; [Issuer.Close] stops its background fetches.
type Issuer struct {
	cfg    IssuerConfig
	keys   *keySource
	parser *jwt.Parser

	mu     sync.RWMutex
	byKID  map[string]ginjwt.Key // the current set; nil before the first fetch
	notify []func()

	cancel context.CancelFunc
	done   chan struct{}
}

// NewIssuer checks cfg and returns an Issuer. It fetches the JWKS once; when
// that fails (the issuer down at start), it logs a warning and still
// returns: the keys are fetched when the first token arrives (at most once
// per KeyCooldown) and every KeyRefresh, and until a fetch succeeds its
// tokens are answered 503 unavailable, not 401, so clients keep them. It
// starts the periodic fetch; call Close to stop it.
func NewIssuer(cfg IssuerConfig) (*Issuer, error) {
	if err := cfg.resolve(); err != nil {
		return nil, err
	}
	is := &Issuer{cfg: cfg, done: make(chan struct{})}
	hc := httpClient(cfg.RootCAs, false, cfg.Proxy, cfg.Timeout)
	if u, _ := url.Parse(cfg.JWKSURL); u.Scheme == "http" && !loopback(u.Hostname()) {
		cfg.Logger.Warn("ginjwt remote: IssuerConfig.InsecureHTTP is set: the JWKS of an issuer is fetched over plain http://, and anyone on the network path can replace its keys", "jwks_url", cfg.JWKSURL, "issuer", cfg.Issuer)
	}
	is.keys = &keySource{
		get: func(ctx context.Context) (*answer, error) {
			return do(ctx, hc, cfg.MaxResponseBytes, http.MethodGet, cfg.JWKSURL, nil, nil)
		},
		install:    is.install,
		algs:       cfg.Algorithms,
		algsName:   "IssuerConfig.Algorithms",
		impliedAlg: true,
		timeout:    cfg.Timeout,
		cooldown:   cfg.KeyCooldown,
		every:      cfg.KeyRefresh,
		clock:      cfg.Clock,
		log:        cfg.Logger,
		what:       "the JWKS of issuer " + strconv.Quote(cfg.Issuer),
	}
	is.parser = jwt.NewParser(
		jwt.WithValidMethods(cfg.Algorithms),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audience...),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithTimeFunc(cfg.Clock),
		jwt.WithJSONNumber(),
		jwt.WithStrictDecoding(),
	)
	is.keys.mu.Lock()
	if _, err := is.keys.refresh(context.Background()); err != nil {
		cfg.Logger.Warn("ginjwt remote: fetching the JWKS of an issuer failed; its tokens are refused with 503 until a fetch succeeds", "issuer", cfg.Issuer, "error", err)
	}
	is.keys.mu.Unlock()
	bg, stop := context.WithCancel(context.Background())
	is.cancel = stop
	go func() {
		defer close(is.done)
		is.keys.loop(bg)
	}()
	return is, nil
}

// Issuer returns IssuerConfig.Issuer.
func (is *Issuer) Issuer() string { return is.cfg.Issuer }

// NotifyKeyChange registers fn, called after the key set changed (see
// [ginjwt.KeyChangeNotifier]).
func (is *Issuer) NotifyKeyChange(fn func()) {
	is.mu.Lock()
	is.notify = append(is.notify, fn)
	is.mu.Unlock()
}

// JWKSFetches is how many times the JWKS was requested, for metrics.
func (is *Issuer) JWKSFetches() int64 { return is.keys.fetches.Load() }

// Close stops the periodic fetch of the JWKS, and waits for it or for ctx.
func (is *Issuer) Close(ctx context.Context) error {
	is.cancel()
	select {
	case <-is.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("remote: close issuer: %w", ctx.Err())
	}
}

// install takes a changed key set (keySource's install).
func (is *Issuer) install(keys []ginjwt.Key) error {
	m := make(map[string]ginjwt.Key, len(keys))
	for _, k := range keys {
		m[k.ID] = k
	}
	is.mu.Lock()
	is.byKID = m
	notify := slices.Clone(is.notify)
	is.mu.Unlock()
	for _, fn := range notify {
		fn()
	}
	return nil
}

// key returns the key of kid, and whether any set is installed.
func (is *Issuer) key(kid string) (k ginjwt.Key, found, have bool) {
	is.mu.RLock()
	defer is.mu.RUnlock()
	k, found = is.byKID[kid]
	return k, found, is.byKID != nil
}

// errNoKeys is the answer while no JWKS fetch has succeeded.
var errNoKeys = fmt.Errorf("%w: the issuer's keys could not be fetched yet", ginjwt.ErrUnavailable)

// Verify checks token as a ginjwt.TokenVerifier: a JWS in compact form
// of at most 8 KiB, without a crit header, with a typ header of "JWT", "at+jwt", "application/at+jwt" or none; an
// algorithm of Algorithms; a kid of the JWKS (an unknown kid causes at
// most one fetch per KeyCooldown) whose key has that algorithm and
// verifies the signature; iss equal to Issuer, aud naming one of Audience,
// exp present and not passed, nbf and iat not in the future (with Leeway);
// a typ claim, if any, of "Bearer" (Keycloak writes "ID" and "Refresh" in
// its other tokens); a user ID in UserClaim. A refusal wraps
// ginjwt.ErrTokenInvalid, ErrTokenExpired, ErrTokenNotYetValid or
// ErrTokenTypeInvalid; before the first successful fetch of the JWKS,
// ginjwt.ErrUnavailable.
func (is *Issuer) Verify(ctx context.Context, token string) (*ginjwt.Claims, error) {
	if len(token) > maxIssuerToken {
		return nil, fmt.Errorf("%w: the token is over %d bytes", ginjwt.ErrTokenInvalid, maxIssuerToken)
	}
	var noKeys bool
	t, err := is.parser.Parse(token, func(t *jwt.Token) (any, error) {
		if _, ok := t.Header["crit"]; ok {
			return nil, errors.New("the token has critical header extensions, which are not understood here")
		}
		if typ, ok := t.Header["typ"]; ok {
			s, _ := typ.(string)
			switch strings.ToLower(s) {
			case "jwt", "at+jwt", "application/at+jwt":
			default:
				return nil, errWrongTyp
			}
		}
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("the token names no key (kid)")
		}
		k, found, have := is.key(kid)
		if !found && is.keys.missing() {
			k, found, have = is.key(kid)
		}
		if !found {
			noKeys = !have
			return nil, errors.New("the token's key (kid) is not in the issuer's JWKS")
		}
		if k.Algorithm != t.Method.Alg() {
			return nil, errors.New("the token's algorithm is not its key's")
		}
		return k.Public, nil
	})
	if err != nil {
		if noKeys {
			return nil, errNoKeys
		}
		return nil, jwtRefusal(err)
	}
	return is.claims(t.Claims.(jwt.MapClaims))
}

// maxIssuerToken bounds the tokens Verify reads: ginjwt's middleware
// takes no longer token either.
const maxIssuerToken = 8 << 10

var errWrongTyp = errors.New("the token's typ header is not JWT or at+jwt")

// jwtRefusal maps an error of golang-jwt to ginjwt's: the claims that make a
// token invalid come before the times.
func jwtRefusal(err error) error {
	switch {
	case errors.Is(err, errWrongTyp):
		return fmt.Errorf("%w: %w", ginjwt.ErrTokenTypeInvalid, err)
	case errors.Is(err, jwt.ErrTokenMalformed), errors.Is(err, jwt.ErrTokenUnverifiable),
		errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenInvalidAudience),
		errors.Is(err, jwt.ErrTokenInvalidIssuer), errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return fmt.Errorf("%w: %w", ginjwt.ErrTokenInvalid, err)
	case errors.Is(err, jwt.ErrTokenExpired):
		return fmt.Errorf("%w: %w", ginjwt.ErrTokenExpired, err)
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return fmt.Errorf("%w: %w", ginjwt.ErrTokenNotYetValid, err)
	}
	return fmt.Errorf("%w: %w", ginjwt.ErrTokenInvalid, err)
}

// claims maps a verified token's claims to ginjwt's.
func (is *Issuer) claims(m jwt.MapClaims) (*ginjwt.Claims, error) {
	if typ, ok := m["typ"]; ok {
		if s, _ := typ.(string); !strings.EqualFold(s, "Bearer") {
			return nil, fmt.Errorf("%w: the token's typ claim is %q, not Bearer", ginjwt.ErrTokenTypeInvalid, s)
		}
	}
	if len(is.cfg.AuthorizedParties) > 0 {
		if azp, _ := m["azp"].(string); !slices.Contains(is.cfg.AuthorizedParties, azp) {
			return nil, fmt.Errorf("%w: the token's azp is not an authorized party", ginjwt.ErrTokenInvalid)
		}
	}
	c := &ginjwt.Claims{Type: ginjwt.AccessToken, Issuer: is.cfg.Issuer}
	var ok bool
	if c.UserID, ok = idString(m[is.cfg.UserClaim]); !ok || c.UserID == "" {
		return nil, fmt.Errorf("%w: the token has no user ID in claim %q", ginjwt.ErrTokenInvalid, is.cfg.UserClaim)
	}
	c.Username, _ = m[is.cfg.UsernameClaim].(string)
	c.Subject, _ = m["sub"].(string)
	c.ID, _ = m["jti"].(string)
	c.SessionID, _ = m["sid"].(string)
	c.Audience, _ = m.GetAudience()
	for _, f := range []struct {
		t   *time.Time
		get func() (*jwt.NumericDate, error)
	}{{&c.ExpiresAt, m.GetExpirationTime}, {&c.IssuedAt, m.GetIssuedAt}, {&c.NotBefore, m.GetNotBefore}} {
		if d, err := f.get(); err == nil && d != nil {
			*f.t = d.Time
		}
	}
	if is.cfg.PermsClaim != "" {
		c.Perms = perms(m, is.cfg.PermsClaim)
	}
	return c, nil
}

// idString is a user ID claim as a string: a string, or an integer.
func idString(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return strconv.FormatInt(i, 10), true
		}
		if f, err := v.Float64(); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return strconv.FormatInt(int64(f), 10), true
		}
	}
	return "", false
}

// perms reads the permissions at a dotted path: an array (its strings) or
// a space-separated string.
func perms(m map[string]any, path string) []string {
	var v any = m
	for _, part := range strings.Split(path, ".") {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = obj[part]
	}
	switch v := v.(type) {
	case string:
		return strings.Fields(v)
	case []any:
		out := make([]string, 0, len(v))
		for _, p := range v {
			if s, ok := p.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// resolve fills defaults and checks every field.
func (c *IssuerConfig) resolve() error {
	u, err := url.Parse(c.JWKSURL)
	if c.JWKSURL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("remote: IssuerConfig.JWKSURL must be an http(s) URL, got %q", c.JWKSURL)
	}
	if u.Scheme == "http" && !c.InsecureHTTP && !loopback(u.Hostname()) {
		return fmt.Errorf("remote: IssuerConfig.JWKSURL %q is http:// to a host that is not a loopback address: anyone on the path could replace the keys; use https:// (or set IssuerConfig.InsecureHTTP)", c.JWKSURL)
	}
	if c.Issuer == "" {
		return errors.New("remote: IssuerConfig.Issuer is required: the iss of the issuer's tokens, exactly")
	}
	if len(c.Audience) == 0 {
		return errors.New("remote: IssuerConfig.Audience is required: the aud values this service accepts")
	}
	for i, aud := range c.Audience {
		if aud == "" {
			return fmt.Errorf("remote: IssuerConfig.Audience[%d] is empty", i)
		}
	}
	c.Audience = slices.Clone(c.Audience)
	for i, azp := range c.AuthorizedParties {
		if azp == "" {
			return fmt.Errorf("remote: IssuerConfig.AuthorizedParties[%d] is empty", i)
		}
	}
	c.AuthorizedParties = slices.Clone(c.AuthorizedParties)
	if c.UserClaim == "" {
		c.UserClaim = "sub"
	}
	if c.UsernameClaim == "" {
		c.UsernameClaim = "preferred_username"
	}
	if len(c.Algorithms) == 0 {
		for _, alg := range ginjwt.Algorithms() {
			if !strings.HasPrefix(alg, "HS") {
				c.Algorithms = append(c.Algorithms, alg)
			}
		}
	}
	c.Algorithms = slices.Clone(c.Algorithms)
	for i, alg := range c.Algorithms {
		if strings.HasPrefix(alg, "HS") || !slices.Contains(ginjwt.Algorithms(), alg) {
			return fmt.Errorf("remote: IssuerConfig.Algorithms[%d]: %q is not an asymmetric algorithm ginjwt verifies", i, alg)
		}
	}
	if c.Leeway < 0 || c.Leeway > 5*time.Minute {
		return fmt.Errorf("remote: IssuerConfig.Leeway must be between 0 and 5m, got %v", c.Leeway)
	}
	if err := durations("IssuerConfig", []duration{
		{"Timeout", &c.Timeout, 10 * time.Second},
		{"KeyRefresh", &c.KeyRefresh, 5 * time.Minute},
		{"KeyCooldown", &c.KeyCooldown, 30 * time.Second},
	}); err != nil {
		return err
	}
	if c.MaxResponseBytes < 0 {
		return fmt.Errorf("remote: IssuerConfig.MaxResponseBytes must be positive, got %d", c.MaxResponseBytes)
	}
	if c.MaxResponseBytes == 0 {
		c.MaxResponseBytes = 1 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	return nil
}
