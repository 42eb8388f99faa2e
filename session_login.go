package ginjwt

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-contrib/sessions"
	"github.com/gin-contrib/sessions/cookie"
	"github.com/gin-gonic/gin"
	"github.com/gorilla/securecookie"
	gsessions "github.com/gorilla/sessions"

	"github.com/ginjwt/ginjwt/registry"
	"github.com/ginjwt/ginjwt/users"
)

// SessionLogin configures login by a cookie session, for server-rendered
// pages: a login form at {Prefix}{Paths.LoginForm}, [Auth.SessionLogin] and
// [Auth.SessionLogout] for login views of the application's own, and the
// authentication middleware accepting the session wherever it accepts a
// token — [RequireLogin], [RequirePerms], [ClaimsFrom] and [UserFrom] see a
// session's request as they see a token's.
//
// A session is a registry session like any other. Logging in issues a
// session's tokens as the login endpoint does (registered, with its
// device); the session store keeps them, and each request is authenticated
// by the access token, with a token's checks: the session is listed in GET
// /sessions, revoked by the same calls, cut off by a password change, a
// deactivation or "log out everywhere" on its next request. When the access
// token expires, the session is renewed as the refresh endpoint renews
// (the user reloaded: a permission taken away shows within
// Config.Tokens.AccessTTL), without rotating its refresh token: the session
// ends when that expires, Config.Tokens.RefreshTTL after the login.
//
// Unsafe requests (POST, …) authenticated by the session always pass the
// CSRF check of the cookie modes, whatever Transport.CSRF.Disabled says:
// their Origin, and the token [Auth.CSRFToken] gives, sent back in the
// form field [CSRFField] (of a form within Limits.MaxBodyBytes) or the CSRF
// header.
//
// The default cookie store holds both tokens in a cookie of at most 4 KB:
// tokens with many claims (dozens of permissions) need a server-side
// store. Its keys are derived from Transport.CSRF.Secret, or from the first
// signing key when that is not set: set it so that rotating the key does
// not end every session.
type SessionLogin struct {
	// Enabled turns session login on. Setting Store turns it on too.
	Enabled bool
	// Store keeps the sessions: any github.com/gin-contrib/sessions store.
	// Default: a cookie store (the session lives in the cookie, signed and
	// encrypted with keys derived from the CSRF secret, so every instance
	// with the same keys reads it). ginjwt sets the store's cookie options
	// (Path /, HttpOnly, Secure and SameSite as Transport.Cookies, Max-Age
	// the refresh lifetime): give it a store of its own.
	Store sessions.Store
	// CookieName is the session's cookie. Default "__Host-ginjwt_session"
	// ("ginjwt_session" with Transport.Cookies.Insecure, "__Secure-…" with
	// a Domain).
	CookieName string
	// Redirect is where a login through the form goes when it names no
	// next page, and where a logout goes. Default "/".
	Redirect string
	// Page renders the login form instead of the built-in page. It is
	// executed with a [LoginPage].
	Page *template.Template
	// Issuer issues, renews and ends the sessions elsewhere instead of
	// here: package remote sets it to the central auth service. Default
	// nil: this Auth issues them, checking the form against Config.Users.
	Issuer SessionIssuer
}

// SessionIssuer is where a client service's cookie sessions come from and
// end: the central auth service (package remote implements it). Its errors
// are answered as the login endpoint's.
type SessionIssuer interface {
	// Obtain checks the credentials and returns the tokens of the session
	// they open.
	Obtain(c *gin.Context, login, password string) (access, refresh string, err error)
	// Refresh renews the session of refresh: a new access token, and a new
	// refresh token when it rotated ("" when not).
	Refresh(c *gin.Context, refresh string) (access, newRefresh string, err error)
	// Logout ends the session of refresh.
	Logout(c *gin.Context, refresh string) error
}

// LoginPage is what the login form's template is given.
type LoginPage struct {
	// Action is the URL the form posts to; Next the page to go to after
	// the login (a path of this site).
	Action, Next string
	// CSRFField and CSRFToken are the hidden field the form must carry.
	CSRFField, CSRFToken string
	// Username is the login last typed; Error what went wrong ("" at first).
	Username, Error string
}

// CSRFField is the form field that carries the CSRF token of a request
// authenticated by cookies, as an alternative to the CSRF header.
const CSRFField = "csrf_token"

// sessionTokensKey is the session value holding the session's tokens,
// packed (see packTokens): its current access token, which authenticates
// it, and its refresh (or sliding) token, which renews it.
const sessionTokensKey = "ginjwt.tokens"

// setTokens stores the session's tokens in sess.
func setTokens(sess *gsessions.Session, access, refresh string) error {
	packed, err := packTokens(access, refresh)
	if err != nil {
		return err
	}
	sess.Values = map[any]any{sessionTokensKey: packed}
	return nil
}

// tokensOf returns the tokens sess holds; "" and "" when it holds none.
// A store that keeps its values as JSON gives the packed bytes back as
// base64 text.
func tokensOf(sess *gsessions.Session) (access, refresh string) {
	var packed []byte
	switch v := sess.Values[sessionTokensKey].(type) {
	case []byte:
		packed = v
	case string:
		packed, _ = base64.StdEncoding.DecodeString(v)
	}
	if len(packed) == 0 {
		return "", ""
	}
	tokens, err := unpackTokens(packed, 2)
	if err != nil {
		return "", ""
	}
	return tokens[0], tokens[1]
}

// on reports whether session login is configured.
func (s *SessionLogin) on() bool { return s.Enabled || s.Store != nil }

// resolve fills the defaults of an enabled SessionLogin.
func (s *SessionLogin) resolve(ck *Cookies) error {
	if !s.on() {
		return nil
	}
	if s.CookieName == "" {
		s.CookieName = "ginjwt_session"
		if !ck.Insecure {
			s.CookieName = hostPrefix + s.CookieName
			if ck.Domain != "" {
				s.CookieName = securePrefix + "ginjwt_session"
			}
		}
	}
	if err := checkCookieName(s.CookieName, true, ck); err != nil {
		return fmt.Errorf("ginjwt: Config.SessionLogin.CookieName: %s", err)
	}
	orDefault(&s.Redirect, "/")
	if !localPath(s.Redirect) {
		return fmt.Errorf("ginjwt: Config.SessionLogin.Redirect must be a path of this site (\"/…\"), got %q", s.Redirect)
	}
	return nil
}

// startSessions gives session login its store, with ginjwt's cookie
// options. key is the CSRF secret the default cookie store's keys are
// derived from.
func (a *Auth) startSessions(key []byte) {
	s := &a.cfg.SessionLogin
	if !s.on() {
		return
	}
	if s.Store == nil {
		s.Store = cookie.NewStore(deriveKey("ginjwt session mac", key), deriveKey("ginjwt session aes", key))
	}
	ck := a.cfg.Transport.Cookies
	s.Store.Options(sessions.Options{
		Path: "/", Domain: ck.Domain, MaxAge: int(a.sessionTTL() / time.Second),
		Secure: !ck.Insecure, HttpOnly: true, SameSite: ck.SameSite,
	})
}

// deriveKey derives a 32-byte key for purpose from secret.
func deriveKey(purpose string, secret []byte) []byte {
	sum := sha256.Sum256(append([]byte(purpose+"\x00"), secret...))
	return sum[:]
}

// sessionTTL is how long a session lives: its refresh (or sliding
// refresh) lifetime.
func (a *Auth) sessionTTL() time.Duration {
	if a.cfg.Tokens.Sliding {
		return a.cfg.Tokens.SlidingRefreshTTL
	}
	return a.cfg.Tokens.RefreshTTL
}

// errNoSessionLogin is the error of the session helpers when session login
// is off.
var errNoSessionLogin = errors.New("ginjwt: session login is off (set Config.SessionLogin.Enabled)")

// errSessionTooLarge is a session the store cannot hold.
var errSessionTooLarge = errors.New("ginjwt: the session's tokens do not fit the session cookie (about 4 KB): give Config.SessionLogin.Store a server-side store, or make the tokens' claims smaller")

// SessionLogin logs u in with a cookie session: it issues the session's
// tokens as [Auth.Login] does (registered, with events) and keeps them in
// the session store instead of handing them to the client. A session the
// browser had before is ended first (revoked, its stored record deleted),
// so a session ID planted in the browser never becomes the user's. The
// CSRF cookie is set for the session's forms. An inactive user is refused
// with ErrInvalidCredentials.
func (a *Auth) SessionLogin(c *gin.Context, u *users.User) error {
	if !a.cfg.SessionLogin.on() {
		return errNoSessionLogin
	}
	issued, err := a.login(c, u)
	if err != nil {
		return err
	}
	refresh := issued.Refresh
	if refresh == "" {
		refresh = issued.Access // sliding tokens: the one token renews itself
	}
	err = a.StartSession(c, issued.Access, refresh)
	if err != nil {
		// Nobody holds the tokens: do not leave a live session behind.
		if rerr := a.revokeIssued(c, issued.AccessClaims); rerr != nil {
			a.log.ErrorContext(c.Request.Context(), "ginjwt: revoking a session that could not be stored", "error", rerr)
		}
	}
	return err
}

// revokeIssued revokes the session of claims, when there is a registry.
func (a *Auth) revokeIssued(c *gin.Context, claims *Claims) error {
	if a.registry == nil {
		return nil
	}
	return a.revokeSession(c.Request.Context(), Event{UserID: claims.UserID, Username: claims.Username,
		SessionID: claims.SessionID, Request: a.proxies.facts(c), Reason: registry.ReasonLogout})
}

// StartSession starts a cookie session holding the tokens of a session
// issued elsewhere — by the central auth service of a client service
// (package remote), say: access authenticates its requests until it
// expires, refresh (the refresh token, or the sliding token) renews it.
// Both must verify and be unrevoked. A session the browser had before is
// ended first.
func (a *Auth) StartSession(c *gin.Context, access, refresh string) error {
	if !a.cfg.SessionLogin.on() {
		return errNoSessionLogin
	}
	now := a.now()
	ac, err := a.parseAt(access, now)
	if err == nil {
		err = requireType(ac, a.authTypes()...)
	}
	if err != nil {
		return err
	}
	rc, err := a.sessionClaims(refresh, now)
	if err == nil && rc.SessionID != ac.SessionID {
		err = withDetail(ErrTokenInvalid, "the access and refresh tokens are of different sessions")
	}
	if err == nil {
		err = a.checkRevoked(c.Request, refresh, rc)
	}
	if err != nil {
		return err
	}
	if err := a.endBrowserSession(c); err != nil {
		return err
	}
	s := a.cfg.SessionLogin
	sess, err := s.Store.New(c.Request, s.CookieName)
	if err != nil && sess == nil {
		return fmt.Errorf("%w: starting a session: %w", ErrUnavailable, err)
	}
	if err := setTokens(sess, access, refresh); err != nil {
		return err
	}
	if err := a.saveSession(c, sess); err != nil {
		return err
	}
	a.setCookie(c, a.cfg.Transport.Cookies.CSRFName, a.csrfToken(rc.SessionID), "/", a.until(rc), false)
	return nil
}

// saveSession writes sess to its store and its cookie to the answer.
func (a *Auth) saveSession(c *gin.Context, sess *gsessions.Session) error {
	err := sess.Save(c.Request, c.Writer)
	// securecookie reports a value over its codec's length limit (4096
	// bytes, a browser's cookie size) with an error of no type of its own.
	if err != nil && strings.Contains(err.Error(), "value is too long") {
		return fmt.Errorf("%w (%w)", errSessionTooLarge, err)
	}
	if err != nil {
		return fmt.Errorf("%w: saving the session: %w", ErrUnavailable, err)
	}
	return nil
}

// endBrowserSession ends the session the request's cookie names, if any:
// it is revoked (here, or at the issuer), its record deleted from the
// store, and the cookie left out of the request, so that a store which
// reuses the record a cookie names (as server-side stores do on Save)
// starts a new one.
func (a *Auth) endBrowserSession(c *gin.Context) error {
	s := a.cfg.SessionLogin
	if firstCookie(c.Request, s.CookieName) == "" {
		return nil
	}
	sess, err := s.Store.Get(c.Request, s.CookieName)
	if err == nil && !sess.IsNew {
		if _, refresh := tokensOf(sess); refresh != "" {
			// An expired session still names its session: revoke it all the same.
			claims, err := a.sessionClaims(refresh, a.now())
			if claims != nil && (err == nil || errors.Is(err, ErrTokenExpired)) {
				if err := a.endSession(c, claims, refresh); err != nil {
					return err
				}
			}
		}
		sess.Values = map[any]any{}
		sess.Options.MaxAge = -1
		if err := sess.Save(c.Request, c.Writer); err != nil {
			return fmt.Errorf("%w: deleting the session: %w", ErrUnavailable, err)
		}
	}
	dropCookie(c.Request, s.CookieName)
	return nil
}

// dropCookie removes the cookies named name from r's Cookie headers.
func dropCookie(r *http.Request, name string) {
	lines := r.Header["Cookie"]
	if len(lines) == 0 {
		return
	}
	kept := make([]string, 0, len(lines))
	for _, line := range lines {
		var parts []string
		for _, part := range strings.Split(line, ";") {
			n, _, _ := strings.Cut(trimCookieSpace(part), "=")
			if trimCookieSpace(n) != name { // "name =value" is name's too, to net/http
				parts = append(parts, part)
			}
		}
		if len(parts) > 0 {
			kept = append(kept, strings.TrimSpace(strings.Join(parts, ";")))
		}
	}
	r.Header["Cookie"] = kept
}

// until is how long the session of the renewing token c has left.
func (a *Auth) until(c *Claims) time.Duration {
	end := c.ExpiresAt
	if c.Type == SlidingToken {
		end = c.RefreshExpiresAt
	}
	return end.Sub(a.now())
}

// SessionLogout ends the request's cookie session: its session is revoked
// (with the registry here, or at Config.SessionLogin.Issuer), and the
// session's record and cookie and the CSRF cookie are deleted. A request
// without a session succeeds and changes nothing; a revocation that cannot
// be written is an error wrapping ErrUnavailable (or ErrRemoteUnavailable),
// and the session stays.
func (a *Auth) SessionLogout(c *gin.Context) error {
	if !a.cfg.SessionLogin.on() {
		return errNoSessionLogin
	}
	if err := a.endBrowserSession(c); err != nil {
		return err
	}
	a.setCookie(c, a.cfg.Transport.Cookies.CSRFName, "", "/", 0, false)
	return nil
}

// sessionClaims verifies a session's renewing token: a refresh token, or a
// sliding token within its refresh lifetime. On ErrTokenExpired the claims
// are returned too.
func (a *Auth) sessionClaims(token string, now time.Time) (*Claims, error) {
	claims, err := a.parseAt(token, now)
	if claims != nil && claims.Type == SlidingToken && errors.Is(err, ErrTokenExpired) && now.Before(claims.RefreshExpiresAt) {
		err = nil
	}
	if err != nil {
		return claims, err
	}
	if err := requireType(claims, RefreshToken, SlidingToken); err != nil {
		return nil, err
	}
	return claims, nil
}

// authenticateSession authenticates a request that presents no token by
// its cookie session: ErrTokenMissing when it has none. The session's
// access token authenticates it, with the checks of a token; once that has
// expired the session is renewed as a refresh would renew it — the user
// reloaded, so a permission taken away or a deactivation shows within
// Tokens.AccessTTL — and the session saved with the new token.
func (a *Auth) authenticateSession(c *gin.Context, now time.Time) (*Claims, error) {
	r := c.Request
	s := a.cfg.SessionLogin
	if firstCookie(r, s.CookieName) == "" {
		return nil, ErrTokenMissing
	}
	sess, err := s.Store.Get(r, s.CookieName)
	if err != nil {
		var sc securecookie.Error
		if errors.As(err, &sc) && sc.IsDecode() {
			return nil, withDetail(ErrTokenInvalid, "the session cookie is not valid")
		}
		return nil, fmt.Errorf("%w: reading the session: %w", ErrUnavailable, err)
	}
	access, refresh := tokensOf(sess)
	if refresh == "" || access == "" {
		// A server-side store that finds no session for the cookie (the
		// gin-contrib GORM store, say) does not say whether its database
		// failed: when the registry's cannot answer either, that is an
		// outage, not a visitor without a session.
		if a.registry != nil {
			if err := a.registry.Ping(r.Context()); err != nil {
				return nil, fmt.Errorf("%w: reading the session: %w", ErrUnavailable, err)
			}
		}
		return nil, ErrTokenMissing
	}
	claims, err := a.parseAt(access, now)
	if err == nil {
		err = requireType(claims, a.authTypes()...)
	}
	if errors.Is(err, ErrTokenExpired) {
		claims, access, err = a.renewBrowserSession(c, sess, refresh)
	}
	if err != nil {
		return nil, err
	}
	if err := a.checkRevoked(r, access, claims); err != nil {
		return nil, err
	}
	if unsafeMethod(r.Method) {
		if err := a.checkSessionCSRF(r, claims.SessionID, nil); err != nil {
			return nil, err
		}
	}
	a.touch(claims, now)
	return claims, nil
}

// renewBrowserSession renews the session whose access token expired, saves
// the new tokens in sess, and returns the new access token and its claims.
//
// Here the refresh token is not rotated: it lives in a cookie that only
// this service can read, and a rotation whose answer never reached the
// browser (a page left, a connection cut) would make its next request look
// like the reuse of a stolen token and revoke the session. The session so
// ends when its refresh token does (Tokens.RefreshTTL after the login). A
// renewal that cannot be saved (a store down, tokens grown too large for
// the cookie) still authenticates the request and is logged; the next
// request renews again.
func (a *Auth) renewBrowserSession(c *gin.Context, sess *gsessions.Session, refresh string) (*Claims, string, error) {
	rc, err := a.sessionClaims(refresh, a.now())
	if err != nil {
		return nil, "", err
	}
	var access, newRefresh string
	if is := a.cfg.SessionLogin.Issuer; is != nil {
		if err := a.checkRevoked(c.Request, refresh, rc); err != nil {
			return nil, "", err
		}
		access, newRefresh, err = is.Refresh(c, refresh)
	} else {
		var pair *Issued
		pair, err = a.renewSession(c, rc, AccessRefreshed, false)
		if pair != nil {
			access, newRefresh = pair.Access, pair.Refresh
		}
	}
	if err != nil {
		return nil, "", err
	}
	claims, err := a.parseAt(access, a.now())
	if err != nil {
		return nil, "", err
	}
	if a.cfg.Tokens.Sliding {
		newRefresh = access
	}
	if newRefresh != "" {
		refresh = newRefresh
	}
	err = setTokens(sess, access, refresh)
	if err == nil {
		err = a.saveSession(c, sess)
	}
	if err != nil {
		a.log.ErrorContext(c.Request.Context(), "ginjwt: saving a renewed session", "session", claims.SessionID, "error", err)
	}
	return claims, access, nil
}

// CSRFToken returns the CSRF token a page served to the request must send
// back with its forms (in the hidden field [CSRFField]) or its scripts' unsafe
// requests (in the CSRF header): the token bound to the request's session.
// "" when the request is not authenticated.
func (a *Auth) CSRFToken(c *gin.Context) string {
	claims, ok := ClaimsFrom(c)
	if !ok {
		return ""
	}
	return a.csrfToken(claims.SessionID)
}

// LoginURL returns the login form's URL, asking it to come back to next (a
// path of this site; anything else is dropped) after the login: where a
// page sends an anonymous visitor. "" when session login is off.
func (a *Auth) LoginURL(next string) string {
	if !a.cfg.SessionLogin.on() || a.cfg.Routes.Paths.LoginForm == "-" {
		return ""
	}
	u := a.loginFormPath
	if localPath(next) {
		u += "?next=" + url.QueryEscape(next)
	}
	return u
}

// localPath reports whether p is a path of this site that a redirect may
// go to: "/…", but not "//host" or "/\host", which browsers read as
// another site, and nothing with control characters.
func localPath(p string) bool {
	if p == "" || p[0] != '/' || len(p) > 2048 {
		return false
	}
	if len(p) > 1 && (p[1] == '/' || p[1] == '\\') {
		return false
	}
	return !strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' })
}

// Users returns the user store: Config.Users, or the default store over
// Config.DB (a *users.Store). nil without either.
func (a *Auth) Users() UserStore { return a.users }
