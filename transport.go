package ginjwt

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// Mode says where tokens travel between the client and the server.
type Mode uint8

// The transport modes.
const (
	// JSON: tokens in JSON bodies, access tokens in the Authorization
	// header. For mobile apps, services, and SPAs that keep tokens in memory.
	JSON Mode = iota
	// OneCookie: the access token in one HttpOnly cookie, the refresh token
	// in another scoped to the token endpoints; CSRF protection on.
	OneCookie
	// TwoCookies: the access token split in two cookies, header.payload
	// readable by scripts (a front end can show the user's name and perms
	// without an API call) and the signature HttpOnly; otherwise as OneCookie.
	TwoCookies
)

// String returns "json", "cookie" or "two-cookie".
func (m Mode) String() string {
	switch m {
	case OneCookie:
		return "cookie"
	case TwoCookies:
		return "two-cookie"
	}
	return "json"
}

// ParseMode reads "json", "cookie" (or "one-cookie") and "two-cookie" (or
// "two-cookies"), as command-line flags spell them.
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(s) {
	case "json", "":
		return JSON, nil
	case "cookie", "one-cookie", "onecookie":
		return OneCookie, nil
	case "two-cookie", "two-cookies", "twocookies":
		return TwoCookies, nil
	}
	return JSON, errors.New(`ginjwt: mode must be "json", "cookie" or "two-cookie"`)
}

// cookieMode reports whether tokens travel in cookies.
func (a *Auth) cookieMode() bool { return a.cfg.Mode != JSON }

// accessToken returns the access token a request presents, and whether it
// came from cookies; "" when it presents none. The Authorization header
// comes first: when it carries a token of ours, cookies are not looked at,
// so a header and cookies of another user are never merged. An
// Authorization header with another scheme is not ginjwt's and counts as
// none.
func (a *Auth) accessToken(c *gin.Context) (token string, fromCookie bool, err error) {
	token, ours, err := trimBearer(authorization(c.Request), a.cfg.Transport.AuthScheme)
	if ours || err != nil || !a.cookieMode() {
		return token, false, err
	}
	token, err = a.accessFromCookies(c.Request)
	return token, token != "", err
}

// authorization is the request's Authorization header (the first, if
// several), read without canonicalising the name again on the hot path.
func authorization(r *http.Request) string {
	if v := r.Header["Authorization"]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// cachedAccess returns the cache entry of the access token a request
// presents, found as accessToken finds it, and whether it came from
// cookies; nil when there is no cache, no token, or the token is not cached
// (accessToken then reads it again, with every check). It reads the
// Authorization header and the cookies unchecked (bearerCandidate,
// firstCookie), and joins no TwoCookies halves: a value equal to a cached
// token is a well-formed token and a plain cookie value of the right
// shape, so a hit is what accessToken would have found.
func (a *Auth) cachedAccess(r *http.Request, now time.Time) (*cacheEntry, bool) {
	if a.cache == nil {
		return nil, false
	}
	token, ours := bearerCandidate(authorization(r), a.cfg.Transport.AuthScheme)
	var t tokenRef
	switch {
	case ours:
		t.head = token
	case !a.cookieMode():
		return nil, false
	case a.cfg.Mode == OneCookie:
		t.head = firstCookie(r, a.cfg.Transport.Cookies.AccessName)
	default:
		t.head, t.sig = firstCookie(r, a.cfg.Transport.Cookies.PayloadName), firstCookie(r, a.cfg.Transport.Cookies.SignatureName)
		if t.head == "" || t.sig == "" || strings.IndexByte(t.sig, '.') >= 0 {
			return nil, false // accessToken says what is wrong
		}
	}
	if t.head == "" || len(t.head) > maxTokenLen || len(t.sig) > maxTokenLen {
		return nil, false
	}
	return a.cache.entry(t, now, a.cfg.Tokens.Leeway), !ours
}

// bearerCandidate is trimBearer without its checks of the token, for the
// cache lookup: ours when the header has the scheme. A token that is not
// well formed (spaces, tabs, an empty or too long header) is no cached
// token, and trimBearer says what is wrong with it.
func bearerCandidate(header, scheme string) (token string, ours bool) {
	if header == "" {
		return "", false
	}
	if len(header) > maxTokenLen+len(scheme)+8 {
		return "", true // refused whatever its scheme
	}
	s, rest, _ := strings.Cut(header, " ")
	if !strings.EqualFold(s, scheme) {
		return "", false
	}
	return strings.TrimLeft(rest, " "), true
}

// refreshField is the body field that carries a refresh token (or, with
// Config.Tokens.Sliding, the sliding token) to the refresh endpoints.
func (a *Auth) refreshField() string {
	if a.cfg.Tokens.Sliding {
		return "token"
	}
	return "refresh"
}

// refreshToken returns the refresh token a request presents to the refresh,
// update or logout endpoint: in the body ({"refresh": …}), in the
// Authorization header, or (cookie modes) in the refresh cookie, and
// whether it came from the cookie. Body and header at once is a bad
// request: the server does not pick one for the client; either comes before
// the cookie.
func (a *Auth) refreshToken(c *gin.Context) (token string, fromCookie bool, err error) {
	f, err := a.bodyFields(c, a.refreshField())
	if err != nil {
		return "", false, err
	}
	header, ours, err := trimBearer(authorization(c.Request), a.cfg.Transport.AuthScheme)
	if err != nil {
		return "", false, err
	}
	body := f[a.refreshField()]
	switch {
	case body != "" && ours:
		return "", false, withDetail(ErrBadRequest, "send the token in the body or in the Authorization header, not both")
	case body != "":
		return body, false, nil
	case ours:
		return header, false, nil
	}
	if a.cookieMode() {
		if v := cookieValue(c.Request, a.cfg.Transport.Cookies.RefreshName); v != "" {
			return v, true, nil
		}
	}
	return "", false, ErrTokenMissing
}

// pairBody is the JSON answer of a login or refresh in JSON mode.
// TokenType and ExpiresIn are RFC 6749 §5.1's token_type and expires_in,
// for OAuth-shaped clients: the Authorization scheme to send the access
// token with, and its lifetime in whole seconds from now (rounded down).
type pairBody struct {
	Access    string `json:"access,omitempty"`
	Refresh   string `json:"refresh,omitempty"`
	Token     string `json:"token,omitempty"` // sliding
	TokenType string `json:"token_type"`
	ExpiresIn int64  `json:"expires_in"`
}

// cookieBody is the JSON answer of a login or refresh in the cookie modes:
// the tokens are in cookies, never in the body.
// ExpiresIn is the access token's lifetime in whole seconds from now, as
// in JSON mode, for clients whose clock is not the server's.
type cookieBody struct {
	AccessExpiresAt  jsonTime  `json:"access_expires_at"`
	RefreshExpiresAt *jsonTime `json:"refresh_expires_at,omitempty"`
	ExpiresIn        int64     `json:"expires_in"`
	CSRFToken        string    `json:"csrf_token,omitempty"`
}

// writePair answers a login or refresh with the tokens issued: in JSON
// mode in the body; in cookie modes the tokens are in cookies (see deliver)
// and the body says when they expire.
func (a *Auth) writePair(c *gin.Context, p *Issued) {
	expiresIn := max(int64(p.AccessClaims.ExpiresAt.Sub(a.now())/time.Second), 0)
	switch {
	case a.cookieMode():
		body := cookieBody{AccessExpiresAt: jsonTime{p.AccessClaims.ExpiresAt}, ExpiresIn: expiresIn}
		if p.RefreshClaims != nil {
			body.RefreshExpiresAt = jsonTimePtr(&p.RefreshClaims.ExpiresAt)
		}
		if a.csrfOn() {
			body.CSRFToken = a.csrfToken(p.AccessClaims.SessionID)
		}
		c.JSON(http.StatusOK, body)
	case a.cfg.Tokens.Sliding:
		c.JSON(http.StatusOK, pairBody{Token: p.Access, TokenType: a.cfg.Transport.AuthScheme, ExpiresIn: expiresIn})
	default:
		c.JSON(http.StatusOK, pairBody{Access: p.Access, Refresh: p.Refresh, TokenType: a.cfg.Transport.AuthScheme, ExpiresIn: expiresIn})
	}
}
