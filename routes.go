package ginjwt

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt/pipeline"
	"github.com/ginjwt/ginjwt/registry"
	"github.com/ginjwt/ginjwt/users"
)

// RegisterRoutes registers the endpoints on r under Config.Routes.Prefix. Mount
// calls it; call it yourself only when you install the middleware yourself.
// On a *gin.Engine it also installs [Auth.Unmatched], so that requests
// under the prefix that match no route are answered in JSON (404, or 405
// with Allow).
//
//	POST   {prefix}/token           obtain a pair from {"username", "password"}
//	POST   {prefix}/token/refresh   new access token from a refresh token
//	POST   {prefix}/token/update    new refresh + access (Config.Tokens.AllowRefreshUpdate)
//	POST   {prefix}/token/verify    {"token"}: 200 if valid, 401 with the reason if not
//	POST   {prefix}/token/logout    end the session of the refresh token presented
//	DELETE {prefix}/token/logout    the same, and clear the cookies (cookie modes)
//	POST   {prefix}/token/expire    force-expire a token and its subtree (registry)
//	GET    {prefix}/sessions        the caller's active sessions (registry)
//	DELETE {prefix}/sessions        log out everywhere (?keep=current: all others)
//	DELETE {prefix}/sessions/:id    revoke one of the caller's sessions
//	GET    {prefix}/jwks.json       the public keys
//	GET    {prefix}/revocations     the revocation feed (registry, Config.Service.Credentials)
//	GET    {prefix}/users/me        the caller's own user
//	GET    {prefix}/users/:id       the same, by ID; another user's is 403
func (a *Auth) RegisterRoutes(r gin.IRouter) {
	if b, ok := r.(interface{ BasePath() string }); ok {
		a.setBase(b.BasePath())
	}
	g := r.Group(a.cfg.Routes.Prefix, a.limitBody)
	p, h := a.cfg.Routes.Paths, a.cfg.Routes.Handlers
	var registered []endpoint
	route := func(method, path string, wrap Handler, builtin gin.HandlerFunc) {
		if path == "-" {
			return
		}
		if wrap != nil {
			builtin = wrap(builtin)
		}
		g.Handle(method, path, builtin)
		registered = append(registered, endpoint{method, strings.TrimSuffix(g.BasePath(), "/") + path})
	}
	defer func() {
		a.routes.add(g.BasePath(), registered)
		if e, ok := r.(*gin.Engine); ok {
			e.Use(a.unmatched)
		}
	}()
	route(http.MethodPost, p.Obtain, h.Obtain, a.obtain)
	route(http.MethodPost, p.Refresh, h.Refresh, a.refresh)
	if a.cfg.Tokens.AllowRefreshUpdate {
		route(http.MethodPost, p.Update, h.Update, a.update)
	}
	route(http.MethodPost, p.Verify, h.Verify, a.verify)
	route(http.MethodPost, p.Logout, h.Logout, a.logout)
	if a.cookieMode() {
		route(http.MethodDelete, p.Logout, h.Logout, a.logoutAndClear)
	}
	if a.registry != nil {
		route(http.MethodPost, p.Expire, h.Expire, a.expire)
	}
	// The sessions endpoints need the registry, unless the application's
	// handlers serve them (a client service's proxies, package remote).
	if p.Sessions != "-" {
		for _, e := range []struct {
			method, path string
			wrap         Handler
			builtin      gin.HandlerFunc
		}{
			{http.MethodGet, p.Sessions, h.Sessions, a.sessions},
			{http.MethodDelete, p.Sessions, h.RevokeSessions, a.revokeSessions},
			{http.MethodDelete, p.Sessions + "/:id", h.RevokeSession, a.revokeSessionByID},
		} {
			switch {
			case a.registry != nil:
				route(e.method, e.path, e.wrap, e.builtin)
			case e.wrap != nil:
				// Without a registry the built-in has nothing to list or
				// revoke: a wrapper that calls it gets 404.
				route(e.method, e.path, e.wrap, func(c *gin.Context) { AbortWithError(c, ErrNotFound) })
			}
		}
	}
	route(http.MethodGet, p.JWKS, h.JWKS, a.jwks)
	if a.registry != nil && a.service != nil {
		route(http.MethodGet, p.Revocations, h.Revocations, a.revocations)
	}
	if p.Users != "-" {
		route(http.MethodGet, p.Users+"/me", h.Me, a.me)
		route(http.MethodGet, p.Users+"/:id", h.User, a.user)
	}
	if a.cfg.SessionLogin.on() {
		route(http.MethodGet, p.LoginForm, nil, a.loginForm)
		route(http.MethodPost, p.LoginForm, nil, a.loginFormSubmit)
		route(http.MethodPost, p.LogoutForm, nil, a.logoutForm)
	}
}

// setBase records the path of the router the routes hang from, and from it
// the refresh cookie's Path: the segments the refresh, update and logout
// paths share, so the cookie goes where it is used and nowhere else.
func (a *Auth) setBase(base string) {
	p := a.cfg.Routes.Paths
	var common []string
	first := true
	paths := []string{p.Refresh, p.Logout}
	if a.cfg.Tokens.AllowRefreshUpdate {
		paths = append(paths, p.Update)
	}
	for _, path := range paths {
		if path == "-" {
			continue
		}
		segs := strings.Split(strings.Trim(path, "/"), "/")
		if first {
			common, first = segs, false
			continue
		}
		n := 0
		for n < len(common) && n < len(segs) && common[n] == segs[n] {
			n++
		}
		common = common[:n]
	}
	dir := strings.TrimSuffix(base, "/") + a.cfg.Routes.Prefix
	if len(common) > 0 {
		dir += "/" + strings.Join(common, "/")
	}
	if dir == "" {
		dir = "/"
	}
	a.refreshPath = dir
	a.loginFormPath = strings.TrimSuffix(base, "/") + strings.TrimSuffix(a.cfg.Routes.Prefix, "/") + p.LoginForm
}

// obtain is POST /token: credentials in, a session's tokens out.
func (a *Auth) obtain(c *gin.Context) {
	if a.csrfOn() {
		// Login CSRF: another site must not log the browser in as someone else.
		if err := a.checkOrigin(c.Request, false); err != nil {
			AbortWithError(c, err)
			return
		}
	}
	f, err := a.bodyFields(c, "username", "password")
	if err != nil {
		AbortWithError(c, err)
		return
	}
	login, err := f.require("username")
	if err != nil {
		AbortWithError(c, err)
		return
	}
	password, err := f.require("password")
	if err != nil {
		AbortWithError(c, err)
		return
	}
	u, err := a.checkPassword(c, login, password)
	if err != nil {
		AbortWithError(c, err)
		return
	}
	pair, err := a.Login(c, u)
	if err != nil {
		AbortWithError(c, err)
		return
	}
	a.writePair(c, pair)
}

// checkPassword returns the active user whose login and password these
// are, throttled: ErrInvalidCredentials (a failure the throttle counts),
// ErrTooManyRequests (with Retry-After set on c), or, when the check could
// not be made, ErrUnavailable (no failure counted). The login form and
// the login endpoint share it.
func (a *Auth) checkPassword(c *gin.Context, login, password string) (*users.User, error) {
	ctx := c.Request.Context()
	facts := a.proxies.facts(c)
	// turn bounds the wait before the password check starts (the attempts
	// ahead, the account's lookup, a hashing slot), not the check itself.
	turn, cancel := context.WithTimeout(ctx, a.cfg.Limits.Throttle.MaxWait)
	defer cancel()
	// The attempt is in flight until its outcome: a wrong password counts
	// as a failure, a right one clears the account's failures, and any
	// other end (a database outage, no hashing slot in time, the client
	// gone) counts nothing.
	attempt, err := a.admitLogin(turn, c, login, facts)
	if err != nil {
		return nil, err
	}
	defer attempt.Abandon()
	u, err := a.users.Authenticate(turn, login, password)
	if err != nil {
		if errors.Is(err, users.ErrInvalidCredentials) {
			attempt.Fail()
			a.events.emit(ctx, Event{Kind: LoginFailed, Time: a.now(), Login: login, Request: facts, Reason: "invalid credentials", Err: ErrInvalidCredentials})
			return nil, ErrInvalidCredentials
		}
		return nil, noOutcome(turn, err)
	}
	attempt.Succeed()
	return u, nil
}

// presentedRefresh reads and verifies the refresh token of a refresh,
// update or logout request. With Config.Tokens.Sliding it is the sliding token,
// which may have expired as long as its refresh_exp has not.
func (a *Auth) presentedRefresh(c *gin.Context) (*Claims, error) {
	_, claims, err := a.presentedRefreshToken(c)
	return claims, err
}

// presentedRefreshToken is presentedRefresh that also returns the token.
func (a *Auth) presentedRefreshToken(c *gin.Context) (string, *Claims, error) {
	if a.csrfOn() {
		// Whatever carries the token, the answer sets cookies: another
		// site must not plant a session of its choosing (login CSRF).
		if err := a.checkOrigin(c.Request, false); err != nil {
			return "", nil, err
		}
	}
	token, fromCookie, err := a.refreshToken(c)
	if err != nil {
		return "", nil, err
	}
	claims, err := a.parse(token)
	if claims != nil && fromCookie && a.csrfOn() {
		if err := a.checkCSRF(c.Request, claims.SessionID); err != nil {
			return "", nil, err
		}
	}
	if a.cfg.Tokens.Sliding && errors.Is(err, ErrTokenExpired) && claims.Type == SlidingToken {
		if !a.now().Before(claims.RefreshExpiresAt.Add(a.cfg.Tokens.Leeway)) {
			return "", nil, withDetail(ErrTokenExpired, "the sliding token can no longer be refreshed")
		}
		err = nil
	}
	if err != nil {
		return "", nil, err
	}
	want := RefreshToken
	if a.cfg.Tokens.Sliding {
		want = SlidingToken
	}
	if err := requireType(claims, want); err != nil {
		return "", nil, err
	}
	return token, claims, nil
}

// reloadUser fetches the token's user again, so that a refresh carries
// current perms and a deactivated or deleted user cannot refresh. Without a
// user store the token's own user claims are reused (nil, nil).
func (a *Auth) reloadUser(c *gin.Context, claims *Claims) (*users.User, error) {
	if a.users == nil {
		return nil, nil
	}
	u, err := a.users.Find(c.Request.Context(), claims.UserID)
	if errors.Is(err, users.ErrNotFound) || (err == nil && !u.IsActive) {
		return nil, withDetail(ErrTokenRevoked, "the account is inactive or gone")
	}
	return u, err
}

// refresh is POST /token/refresh: a refresh token in, an access token out
// (and a new refresh token, with Config.RotateRefresh).
func (a *Auth) refresh(c *gin.Context) {
	a.renewHandler(c, AccessRefreshed, a.cfg.rotate)
}

// update is POST /token/update: a refresh token in, a new refresh and
// access pair out.
func (a *Auth) update(c *gin.Context) {
	a.renewHandler(c, RefreshUpdated, true)
}

func (a *Auth) renewHandler(c *gin.Context, kind EventKind, newRefresh bool) {
	rc, err := a.presentedRefresh(c)
	if err != nil {
		AbortWithError(c, err)
		return
	}
	pair, err := a.renewSession(c, rc, kind, newRefresh)
	if err != nil {
		AbortWithError(c, err)
		return
	}
	a.deliver(c, pair)
	a.writePair(c, pair)
}

// renewSession renews the session of the verified refresh (or sliding)
// token rc for the request c: the refresh endpoint's work, which a cookie
// session's renewal shares. The user is reloaded, so the new tokens carry
// the account as it is now.
func (a *Auth) renewSession(c *gin.Context, rc *Claims, kind EventKind, newRefresh bool) (*Issued, error) {
	ctx := c.Request.Context()
	// A rotated-out token is revoked by jti; whether presenting it again is
	// a replay within the grace window or theft, the registry decides.
	if why, revoked, err := a.revoked(ctx, rc); err != nil {
		return nil, err
	} else if revoked && why != registry.KindToken {
		return nil, ErrTokenRevoked
	}
	u, err := a.reloadUser(c, rc)
	if err != nil {
		return nil, err
	}
	facts := a.proxies.facts(c)
	pair, err := a.renewRecorded(ctx, rc, u, newRefresh, facts)
	if err != nil {
		return nil, err
	}
	e := Event{Time: pair.AccessClaims.issuedAt(), UserID: rc.UserID, Username: pair.AccessClaims.Username,
		SessionID: rc.SessionID, Token: rc, Pairs: pair.pairs(rc), Request: facts}
	if err := a.tokensIssued(ctx, kind, e); err != nil {
		return nil, err
	}
	return pair, nil
}

// renewRecorded renews rc. With the registry it goes through the
// registry's transaction, on every refresh: the token's row, its session
// and its user's cut-off generation are read from the database, so every
// instance refuses at once a refresh token revoked or cut off anywhere,
// whatever its memory has heard yet; the new tokens are recorded
// atomically with the decision; a replay within the grace window gets the
// same child again; and a reused token revokes its session.
func (a *Auth) renewRecorded(ctx context.Context, rc *Claims, u *users.User, newRefresh bool, facts RequestFacts) (*Issued, error) {
	if a.registry == nil {
		return a.renew(ctx, rc, u, newRefresh)
	}
	policy := registry.RotatePolicy{
		Rotate: newRefresh && rc.Type == RefreshToken,
		Grace:  max(a.cfg.Tokens.ReuseGrace, 0),
		// Without RotateRefresh, the refresh endpoint does not detect reuse:
		// a token /token/update replaced must be revoked, or it would keep
		// issuing access tokens.
		RevokeRotated: a.cfg.Registry.RevokeRotated || (newRefresh && !a.cfg.rotate),
		ExpireOthers:  a.cfg.Registry.RevokeOthersOnRefresh,
	}
	var pair *Issued
	outcome, err := a.registry.Rotate(ctx, rc.pipelineToken(), rc.UserID, policy, func(o registry.Outcome, parent pipeline.Token) ([]pipeline.Pair, error) {
		var err error
		if o == registry.Replayed {
			pair, err = a.reissue(ctx, rc, parent, u)
		} else {
			pair, err = a.renew(ctx, rc, u, newRefresh)
		}
		if err != nil {
			return nil, err
		}
		return pair.pairs(rc), nil
	})
	if err != nil {
		return nil, err
	}
	switch outcome {
	case registry.Refused:
		return nil, ErrTokenRevoked
	case registry.Reused:
		now := a.now()
		a.events.emit(ctx, Event{Kind: RefreshReuseDetected, Time: now, UserID: rc.UserID, Username: rc.Username,
			SessionID: rc.SessionID, Token: rc, Request: facts, Reason: registry.ReasonReuse})
		a.events.emit(ctx, Event{Kind: SessionRevoked, Time: now, UserID: rc.UserID, Username: rc.Username,
			SessionID: rc.SessionID, Token: rc, Request: facts, Reason: registry.ReasonReuse})
		return nil, withDetail(ErrTokenRevoked, "this refresh token was already used; its session is revoked")
	}
	return pair, nil
}

// verifyBody is the answer of the verify endpoint.
type verifyBody struct {
	TokenType TokenType `json:"token_type"`
	ExpiresAt jsonTime  `json:"expires_at"`
}

// verify is POST /token/verify: {"token"} → 200 when valid, 401 with the
// reason when not. Any token type verifies.
func (a *Auth) verify(c *gin.Context) {
	f, err := a.bodyFields(c, "token")
	if err != nil {
		AbortWithError(c, err)
		return
	}
	token := f["token"]
	if token == "" && a.cookieMode() {
		// A browser asks whether its own cookies still hold a session.
		token, err = a.accessFromCookies(c.Request)
		if err == nil && token == "" {
			err = ErrTokenMissing
		}
	} else if token == "" {
		err = withDetail(ErrBadRequest, "token is required")
	}
	if err != nil {
		AbortWithError(c, err)
		return
	}
	claims, err := a.parse(token)
	if err == nil {
		err = a.verifyRevocation(c.Request.Context(), token, claims)
	}
	if err != nil {
		AbortWithError(c, err)
		return
	}
	a.events.emit(c.Request.Context(), Event{Kind: TokenValidated, Time: a.now(), UserID: claims.UserID,
		Username: claims.Username, SessionID: claims.SessionID, Token: claims, Request: a.proxies.facts(c)})
	c.JSON(http.StatusOK, verifyBody{TokenType: claims.Type, ExpiresAt: jsonTime{claims.ExpiresAt}})
}

// verifyRevocation is the registry's answer for the verify endpoint: from
// memory for access tokens, as the middleware decides; from the database
// for refresh and sliding tokens, as a refresh would.
func (a *Auth) verifyRevocation(ctx context.Context, token string, claims *Claims) error {
	if a.cfg.Service.Revocations != nil {
		return a.checkRevocations(ctx, token, claims)
	}
	if a.registry == nil {
		return nil
	}
	if claims.Type == AccessToken {
		if _, revoked, err := a.revoked(ctx, claims); err != nil {
			return err
		} else if revoked {
			return ErrTokenRevoked
		}
		return nil
	}
	t := claims.pipelineToken()
	revoked, err := a.registry.RevokedInDB(ctx, &t)
	if err != nil {
		return err
	}
	if revoked {
		return ErrTokenRevoked
	}
	return nil
}

// logout is POST /token/logout: ends the session of the token presented.
// It answers 200 whether or not the token could end a session (RFC 7009
// §2.2); 400 when there is no token at all.
func (a *Auth) logout(c *gin.Context) {
	if err := a.logoutRequest(c); err != nil {
		AbortWithError(c, err)
		return
	}
	c.JSON(http.StatusOK, loggedOut)
}

// logoutAndClear is DELETE /token/logout in the cookie modes: it ends the
// session of the token presented, if it is authentic, and clears every
// auth cookie even when the token is missing, broken or revoked, so a
// browser with stale cookies can be reset. A failed CSRF check still
// refuses it, changing nothing.
func (a *Auth) logoutAndClear(c *gin.Context) {
	if err := a.logoutRequest(c); err != nil && err != errLogoutNoToken {
		AbortWithError(c, err)
		return
	}
	a.clearCookies(c)
	c.JSON(http.StatusOK, loggedOut)
}

// loggedOut is the answer of the logout endpoints.
var loggedOut = ResultBody{Result: ResultLoggedOut, Message: "logged out", Detail: "logged out"}

// jwks is GET /jwks.json: the public keys, for services that verify tokens.
func (a *Auth) jwks(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=300")
	c.JSON(http.StatusOK, a.JWKS())
}
