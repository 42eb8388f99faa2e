package ginjwt

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt/internal/jose"
	"github.com/ginjwt/ginjwt/pipeline"
	"github.com/ginjwt/ginjwt/registry"
	"github.com/ginjwt/ginjwt/users"
)

// Issued is what a login or a refresh issues: an access token and, when
// one was issued, a refresh token.
type Issued struct {
	// Access is the new access token (with Config.Tokens.Sliding, the sliding token).
	Access string
	// Refresh is the new refresh token; empty when none was issued (a
	// refresh without rotation, or sliding tokens).
	Refresh string
	// AccessClaims and RefreshClaims are the claims of the tokens issued.
	AccessClaims, RefreshClaims *Claims
}

// Pair is the former name of [Issued].
//
// Deprecated: use Issued. In ginjwt a pair is a token and its parent
// ([pipeline.Pair]), as the registry records them.
type Pair = Issued

// pairs lists the issued tokens as the registry sees them, each with its
// parent (nil for a session's first refresh token).
func (p *Issued) pairs(parent *Claims) []pipeline.Pair {
	tok := func(c *Claims) *pipeline.Token {
		if c == nil {
			return nil
		}
		t := c.pipelineToken()
		return &t
	}
	var out []pipeline.Pair
	access := p.AccessClaims
	if p.RefreshClaims != nil {
		out = append(out, pipeline.Pair{Child: *tok(p.RefreshClaims), Parent: tok(parent)})
		parent = p.RefreshClaims
	}
	return append(out, pipeline.Pair{Child: *tok(access), Parent: tok(parent)})
}

// newClaims starts the claims of a token of type typ in session sid.
func (a *Auth) newClaims(typ TokenType, sid string, now time.Time, ttl time.Duration) *Claims {
	id := newTokenID()
	if sid == "" {
		sid = id
	}
	// The claims hold exactly what the token will say: whole seconds,
	// rounded down, so exp is never later than configured (see
	// toNumericDate). issuedNs keeps the instant for the registry.
	return &Claims{
		ID: id, SessionID: sid, Type: typ,
		IssuedAt: now.Truncate(time.Second), NotBefore: now.Truncate(time.Second), ExpiresAt: now.Add(ttl).Truncate(time.Second),
		Issuer: a.cfg.Tokens.Issuer, Audience: slices.Clone(a.cfg.Tokens.Audience),
		issuedNs: int32(now.Nanosecond()),
	}
}

// setUser writes u's claims into c and runs the claims hook.
func (a *Auth) setUser(ctx context.Context, u *users.User, c *Claims) error {
	c.UserID, c.Subject = u.ID, u.ID
	c.Username = u.Username
	c.Perms = slices.Clone([]string(u.Perms))
	c.Staff, c.Superuser = u.IsStaff, u.IsSuperuser
	if a.cfg.Tokens.ClaimsHook != nil {
		if err := a.cfg.Tokens.ClaimsHook(ctx, u, c); err != nil {
			return fmt.Errorf("ginjwt: ClaimsHook: %w", err)
		}
	}
	return nil
}

// copyUser writes the user claims of from into c, for refreshes when no user
// store can reload the user: the application's own claims come along too.
func copyUser(from, c *Claims) error {
	c.UserID, c.Subject = from.UserID, from.Subject
	c.Username, c.Perms = from.Username, from.Perms
	c.Staff, c.Superuser = from.Staff, from.Superuser
	var all map[string]any
	if err := from.Decode(&all); err != nil {
		return err
	}
	for _, name := range jose.StandardClaims {
		delete(all, name)
	}
	if len(all) > 0 {
		c.Extra = all
	}
	return nil
}

// issueSession issues the tokens of a new session for u: a refresh token,
// whose jti becomes the session ID, and an access token (or, with
// Config.Tokens.Sliding, one sliding token).
func (a *Auth) issueSession(ctx context.Context, u *users.User) (*Issued, error) {
	// Read before the clock: a cut-off that commits after this read
	// refuses the session, one that committed before it does not.
	gen, err := a.generation(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	now := a.now()
	if a.cfg.Tokens.Sliding {
		c := a.newClaims(SlidingToken, "", now, a.cfg.Tokens.SlidingTTL)
		c.RefreshExpiresAt = now.Add(a.cfg.Tokens.SlidingRefreshTTL).Truncate(time.Second)
		c.Generation = gen
		if err := a.setUser(ctx, u, c); err != nil {
			return nil, err
		}
		tok, err := a.signClaims(c)
		if err != nil {
			return nil, err
		}
		return &Issued{Access: tok, AccessClaims: c}, nil
	}
	rc := a.newClaims(RefreshToken, "", now, a.cfg.Tokens.RefreshTTL)
	rc.Generation = gen
	if err := a.setUser(ctx, u, rc); err != nil {
		return nil, err
	}
	return a.issueAccess(ctx, rc, u, now, true)
}

// issueAccess issues an access token from the refresh token rc (and rc
// itself when fresh is set: it was just made and must be signed too). u is
// the user reloaded from the store, or nil to copy the user claims from rc.
// The access token never outlives its refresh token.
func (a *Auth) issueAccess(ctx context.Context, rc *Claims, u *users.User, now time.Time, fresh bool) (*Issued, error) {
	p := &Issued{}
	if fresh {
		tok, err := a.signClaims(rc)
		if err != nil {
			return nil, err
		}
		p.Refresh, p.RefreshClaims = tok, rc
	}
	ac := a.newClaims(AccessToken, rc.SessionID, now, a.cfg.Tokens.AccessTTL)
	ac.Generation = rc.Generation
	if ac.ExpiresAt.After(rc.ExpiresAt) {
		ac.ExpiresAt = rc.ExpiresAt
	}
	var err error
	if u != nil {
		err = a.setUser(ctx, u, ac)
	} else {
		err = copyUser(rc, ac)
	}
	if err != nil {
		return nil, err
	}
	if p.Access, err = a.signClaims(ac); err != nil {
		return nil, err
	}
	p.AccessClaims = ac
	return p, nil
}

// renew issues what a refresh token rc buys: an access token, and a new
// refresh token, child of rc in the same session, when newRefresh is set
// (rotation, or the update endpoint). A sliding token buys a new sliding
// token with the same refresh_exp.
func (a *Auth) renew(ctx context.Context, rc *Claims, u *users.User, newRefresh bool) (*Issued, error) {
	now := a.now()
	if rc.Type == SlidingToken {
		c := a.newClaims(SlidingToken, rc.SessionID, now, a.cfg.Tokens.SlidingTTL)
		c.RefreshExpiresAt, c.Generation = rc.RefreshExpiresAt, rc.Generation
		if c.ExpiresAt.After(c.RefreshExpiresAt) {
			c.ExpiresAt = c.RefreshExpiresAt
		}
		if err := a.userClaims(ctx, rc, u, c); err != nil {
			return nil, err
		}
		tok, err := a.signClaims(c)
		if err != nil {
			return nil, err
		}
		return &Issued{Access: tok, AccessClaims: c}, nil
	}
	if !newRefresh {
		return a.issueAccess(ctx, rc, u, now, false)
	}
	next := a.newClaims(RefreshToken, rc.SessionID, now, a.cfg.Tokens.RefreshTTL)
	next.Generation = rc.Generation
	if err := a.userClaims(ctx, rc, u, next); err != nil {
		return nil, err
	}
	return a.issueAccess(ctx, next, u, now, true)
}

// reissue signs again the refresh token child, which rotation already issued
// from rc, with the same jti and times, and issues a new access token from
// it: what a replay within the grace window gets, so that two requests
// racing with one refresh token end up on one branch.
func (a *Auth) reissue(ctx context.Context, rc *Claims, child pipeline.Token, u *users.User) (*Issued, error) {
	c := &Claims{
		ID: child.ID, SessionID: child.SessionID, Type: RefreshToken,
		IssuedAt: child.IssuedAt.Truncate(time.Second), NotBefore: child.IssuedAt.Truncate(time.Second), ExpiresAt: child.ExpiresAt,
		Generation: child.Generation, Issuer: a.cfg.Tokens.Issuer, Audience: slices.Clone(a.cfg.Tokens.Audience),
		issuedNs: int32(child.IssuedAt.Nanosecond()),
	}
	if err := a.userClaims(ctx, rc, u, c); err != nil {
		return nil, err
	}
	return a.issueAccess(ctx, c, u, a.now(), true)
}

// userClaims sets c's user claims from u, or from the token from when u is nil.
func (a *Auth) userClaims(ctx context.Context, from *Claims, u *users.User, c *Claims) error {
	if u != nil {
		return a.setUser(ctx, u, c)
	}
	return copyUser(from, c)
}

// Login starts a session for u, as the login endpoint does after checking a
// password: it issues the session's tokens, records them (the registration
// pipeline), emits TokenObtained and LoggedIn, and hands the tokens to the
// client the way the transport mode says. Applications with a login view of
// their own call it once they have checked the user's credentials; in JSON
// mode they answer with the returned pair themselves.
//
// An inactive user is refused with ErrInvalidCredentials, and a user without
// an ID (never saved) with an error.
func (a *Auth) Login(c *gin.Context, u *users.User) (*Issued, error) {
	pair, err := a.login(c, u)
	if err != nil {
		return nil, err
	}
	a.deliver(c, pair)
	return pair, nil
}

// login is Login without handing the tokens to the client: it issues and
// registers them and emits the events.
func (a *Auth) login(c *gin.Context, u *users.User) (*Issued, error) {
	ctx := c.Request.Context()
	if u == nil || !u.IsActive {
		return nil, ErrInvalidCredentials
	}
	if u.ID == "" {
		return nil, errors.New("ginjwt: Login: the user has no ID (save it first)")
	}
	pair, err := a.issueSession(ctx, u)
	if err != nil {
		return nil, err
	}
	facts := a.proxies.facts(c)
	e := Event{Time: pair.AccessClaims.issuedAt(), UserID: u.ID, Username: u.Username, SessionID: pair.AccessClaims.SessionID, Pairs: pair.pairs(nil), Request: facts}
	if err := a.tokensIssued(ctx, TokenObtained, e); err != nil {
		return nil, err
	}
	if a.cfg.Accounts.UpdateLastLogin {
		if t, ok := a.users.(lastLoginToucher); ok {
			if err := t.TouchLastLogin(ctx, u.ID, e.Time); err != nil {
				a.log.WarnContext(ctx, "ginjwt: recording last login", "user_id", u.ID, "error", err)
			}
		}
	}
	e.Kind, e.Pairs = LoggedIn, nil
	a.events.emit(ctx, e)
	return pair, nil
}

// Logout ends the session of the token the request presents, in the body
// ({"refresh": …}), the Authorization header or (cookie modes) a cookie: a
// refresh token, even expired, or a valid access token. With the registry
// the session is revoked — every token of it, at once — and SessionRevoked
// and LoggedOut are emitted. Logging out a session already revoked
// succeeds. As a revocation endpoint answers (RFC 7009 §2.2), a token that
// cannot end any session — malformed, forged, an expired access token —
// ends nothing and is no error either; in cookie modes the cookies are
// cleared all the same.
//
// A request with no token at all is an error wrapping ErrBadRequest (the
// token is required, RFC 7009 §2.1); a failed CSRF or Origin check one
// wrapping ErrCSRFFailed, and it changes nothing; a revocation the
// database cannot write one wrapping ErrUnavailable.
func (a *Auth) Logout(c *gin.Context) error {
	if err := a.logoutRequest(c); err != nil {
		return err
	}
	if a.cookieMode() {
		a.clearCookies(c)
	}
	return nil
}

// errLogoutNoToken is a logout that presents no token at all.
var errLogoutNoToken = withDetail(ErrBadRequest, "no token was presented: send the refresh token as for a refresh")

// logoutRequest revokes the session of the token the request presents. In
// cookie modes a token from a cookie must pass the CSRF check first. An
// unusable token is no error: there is nothing to revoke.
func (a *Auth) logoutRequest(c *gin.Context) error {
	claims, err := a.logoutClaims(c)
	if err != nil || claims == nil {
		return err
	}
	return a.endSession(c, claims, "")
}

// endSession revokes the session of claims — with the registry (one already
// revoked stays as it is), or at Config.SessionLogin.Issuer when refresh,
// its refresh token, is given — and emits SessionRevoked and LoggedOut.
func (a *Auth) endSession(c *gin.Context, claims *Claims, refresh string) error {
	ctx := c.Request.Context()
	e := Event{UserID: claims.UserID, Username: claims.Username, SessionID: claims.SessionID, Token: claims,
		Request: a.proxies.facts(c), Reason: registry.ReasonLogout}
	if is := a.cfg.SessionLogin.Issuer; is != nil && refresh != "" {
		if err := is.Logout(c, refresh); err != nil {
			return err
		}
	} else if a.registry != nil && !a.registry.SessionRevoked(claims.SessionID) {
		if err := a.revokeSession(ctx, e); err != nil {
			return err
		}
	}
	e.Kind, e.Time = LoggedOut, a.now()
	a.events.emit(ctx, e)
	return nil
}

// logoutClaims finds the token whose session a logout ends: a refresh or
// sliding token, which still names its session once expired, or a valid
// access token. It returns nil claims and no error for a token that names
// no session it may end (unparsable, forged, an expired access token), and
// errLogoutNoToken when the request has no token at all.
func (a *Auth) logoutClaims(c *gin.Context) (*Claims, error) {
	_, claims, err := a.logoutToken(c)
	return claims, err
}

// logoutToken is logoutClaims that also returns the token.
func (a *Auth) logoutToken(c *gin.Context) (string, *Claims, error) {
	if a.csrfOn() {
		if err := a.checkOrigin(c.Request, false); err != nil {
			return "", nil, err
		}
	}
	token, fromCookie, err := a.refreshToken(c)
	if errors.Is(err, ErrTokenMissing) && a.cookieMode() {
		// No refresh cookie (its Path may not cover the route of an
		// application's own logout view): the access cookie names the session.
		token, fromCookie, err = a.accessToken(c)
		if err == nil && token == "" {
			err = ErrTokenMissing
		}
	}
	switch {
	case errors.Is(err, ErrTokenMissing):
		return "", nil, errLogoutNoToken
	case tokenError(err):
		return "", nil, nil // a malformed Authorization header or cookie
	case err != nil:
		return "", nil, err // a malformed body, or a token in two places
	}
	claims, err := a.parse(token)
	if claims == nil {
		return "", nil, nil
	}
	if fromCookie && a.csrfOn() {
		if err := a.checkCSRF(c.Request, claims.SessionID); err != nil {
			return "", nil, err
		}
	}
	if claims.Type == AccessToken && err != nil {
		return "", nil, nil
	}
	return token, claims, nil
}
