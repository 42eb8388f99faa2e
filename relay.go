package ginjwt

import (
	"fmt"

	"github.com/gin-gonic/gin"
)

// This file is what a service that relays another service's tokens needs
// of an Auth: package remote builds a client service's Auth with the auth
// service's public keys, and answers its proxied endpoints with these
// methods, so that every transport mode (JSON, one cookie, two cookies
// with CSRF) works on the client service as it does here.

// SetKeys replaces the whole key set with keys, as Config.Keys would set
// it: the first signs new tokens, unless no key can sign, which makes a
// set that only verifies (public keys fetched from another service's
// JWKS). Tokens of keys no longer in the set stop verifying at once. It
// fails, changing nothing, when a key is invalid.
func (a *Auth) SetKeys(keys []Key) error {
	var sks []*signingKey
	for i, k := range keys {
		sk, err := newSigningKey(k)
		if err != nil {
			return fmt.Errorf("ginjwt: SetKeys: key %d: %s", i, err)
		}
		sks = append(sks, sk)
	}
	ks, err := newKeySet(sks)
	if err != nil {
		return fmt.Errorf("ginjwt: SetKeys: %s", err)
	}
	for _, k := range a.keys.Swap(ks).byID {
		k.removed.Store(true) // tokens of a replaced key must not pass from the cache
	}
	if a.cache != nil {
		a.cache.clear()
	}
	return nil
}

// CheckKey reports why [Auth.SetKeys] (or Config.Keys) would refuse k, a
// key on its own (a duplicate ID is SetKeys' to see); nil when it would
// accept it. Package remote skips the published keys it refuses.
func CheckKey(k Key) error {
	_, err := newSigningKey(k)
	return err
}

// CheckLoginOrigin refuses, in the cookie modes, a login from another
// origin than the server's own or a trusted one (login CSRF), as the login
// endpoint does; nil in JSON mode.
func (a *Auth) CheckLoginOrigin(c *gin.Context) error {
	if !a.csrfOn() {
		return nil
	}
	return a.checkOrigin(c.Request, false)
}

// AccessTokenFrom returns the access token the request presents: in the
// Authorization header or, in the cookie modes and only without one, in
// the access cookie(s); "" when it presents none. It verifies nothing.
func (a *Auth) AccessTokenFrom(c *gin.Context) (string, error) {
	token, _, err := a.accessToken(c)
	return token, err
}

// RefreshFrom returns the refresh token a refresh request presents (in
// the body, the Authorization header or the refresh cookie) and its
// verified claims, after the refresh endpoint's checks: the origin and,
// for a token from the cookie, the CSRF token; the signature, the times
// and the type. It does not ask about revocation: the service that
// refreshes decides.
func (a *Auth) RefreshFrom(c *gin.Context) (token string, claims *Claims, err error) {
	return a.presentedRefreshToken(c)
}

// LogoutFrom returns the token whose session a logout request ends, found
// and checked as the logout endpoint does (a refresh token, or an access
// token that names its session); "" with a nil error when the request
// presents a token that can end no session (a logout answers 200 all the
// same, RFC 7009 §2.2), and an error wrapping ErrBadRequest when it
// presents none at all.
func (a *Auth) LogoutFrom(c *gin.Context) (token string, claims *Claims, err error) {
	return a.logoutToken(c)
}

// WriteTokens answers the request with a pair of tokens issued elsewhere,
// as this Auth's own login and refresh answer: in JSON mode in the body,
// in the cookie modes as cookies (with the session's CSRF token) and the
// expiry times in the body. It verifies both tokens first (signature,
// times, types); refresh may be empty (a refresh without rotation). It
// writes nothing when it fails.
func (a *Auth) WriteTokens(c *gin.Context, access, refresh string) error {
	p := &Issued{Access: access, Refresh: refresh}
	var err error
	if p.AccessClaims, err = a.ParseToken(access, a.authTypes()...); err != nil {
		return err
	}
	if refresh != "" {
		if p.RefreshClaims, err = a.ParseToken(refresh, RefreshToken); err != nil {
			return err
		}
		if p.RefreshClaims.SessionID != p.AccessClaims.SessionID {
			return withDetail(ErrTokenInvalid, "the access and refresh tokens are of different sessions")
		}
	}
	a.deliver(c, p)
	a.writePair(c, p)
	return nil
}

// ClearCookies expires every auth cookie of the cookie modes, with the
// Path and Domain they were set with; in JSON mode it does nothing.
func (a *Auth) ClearCookies(c *gin.Context) {
	if a.cookieMode() {
		a.clearCookies(c)
	}
}
