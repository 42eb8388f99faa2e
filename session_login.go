package ginjwt

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"html/template"
	"net/url"
	"strings"
	"time"

	"github.com/gin-contrib/sessions"
	"github.com/gin-contrib/sessions/cookie"
	"github.com/gin-gonic/gin"
	"github.com/gorilla/securecookie"

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
// device); the session store keeps the refresh token, and each request is
// authenticated by it: it is listed in GET /sessions, revoked by the same
// calls, cut off by a password change, a deactivation or "log out
// everywhere" on its next request, and it ends when the refresh token
// expires (Config.Tokens.RefreshTTL).
//
// Unsafe requests (POST, …) authenticated by the session must pass the CSRF
// check of the cookie modes: their Origin, and the token [Auth.CSRFToken]
// gives, sent back in the form field [CSRFField] or the CSRF header.
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
	// Obtain checks the login form's credentials elsewhere and returns the
	// refresh token of the session they open there, instead of the local
	// user store: package remote sets it to log in at the central auth
	// service. Its errors are answered as the login endpoint's.
	Obtain func(c *gin.Context, login, password string) (refresh string, err error)
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

// sessionTokenKey is the session value that holds the session's token.
const sessionTokenKey = "ginjwt.token"

// sessionOn reports whether session login is configured.
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

// SessionLogin logs u in with a cookie session: it issues the session's
// tokens as [Auth.Login] does (registered, with events) and keeps the
// refresh token in the session store instead of handing it to the client.
// The CSRF cookie is set for the session's forms. An inactive user is
// refused with ErrInvalidCredentials.
func (a *Auth) SessionLogin(c *gin.Context, u *users.User) error {
	if !a.cfg.SessionLogin.on() {
		return errNoSessionLogin
	}
	issued, err := a.login(c, u)
	if err != nil {
		return err
	}
	token := issued.Refresh
	if token == "" {
		token = issued.Access // sliding tokens: the one token is the session's
	}
	return a.StartSession(c, token)
}

// StartSession starts a cookie session holding token, the refresh (or
// sliding) token of a session issued elsewhere: by the central auth service
// of a client service (package remote), say. The token must verify; the
// session ends when it expires or its session is revoked.
func (a *Auth) StartSession(c *gin.Context, token string) error {
	if !a.cfg.SessionLogin.on() {
		return errNoSessionLogin
	}
	claims, err := a.sessionClaims(token, a.now())
	if err != nil {
		return err
	}
	s := a.cfg.SessionLogin
	sess, _ := s.Store.Get(c.Request, s.CookieName) // a bad old cookie: a new session
	sess.Values = map[any]any{sessionTokenKey: token}
	if err := sess.Save(c.Request, c.Writer); err != nil {
		return fmt.Errorf("%w: saving the session: %w", ErrUnavailable, err)
	}
	a.setCookie(c, a.cfg.Transport.Cookies.CSRFName, a.csrfToken(claims.SessionID), "/", a.until(claims), false)
	return nil
}

// until is how long the session of claims has left.
func (a *Auth) until(c *Claims) time.Duration {
	end := c.ExpiresAt
	if c.Type == SlidingToken {
		end = c.RefreshExpiresAt
	}
	return end.Sub(a.now())
}

// SessionLogout ends the request's cookie session: with the registry its
// session is revoked (every token of it, on every instance), and the
// session and CSRF cookies are cleared. A request without a session
// succeeds and changes nothing; a revocation the database cannot write is
// an error wrapping ErrUnavailable, and the cookies stay.
func (a *Auth) SessionLogout(c *gin.Context) error {
	if !a.cfg.SessionLogin.on() {
		return errNoSessionLogin
	}
	s := a.cfg.SessionLogin
	sess, err := s.Store.Get(c.Request, s.CookieName)
	if err != nil {
		sess, _ = s.Store.New(c.Request, s.CookieName)
	}
	if token, _ := sess.Values[sessionTokenKey].(string); token != "" {
		// An expired session still names its session: revoke it all the same.
		claims, err := a.sessionClaims(token, a.now())
		if claims != nil && (err == nil || errors.Is(err, ErrTokenExpired)) {
			if err := a.endSession(c, claims); err != nil {
				return err
			}
		}
	}
	sess.Values = map[any]any{}
	sess.Options.MaxAge = -1
	if err := sess.Save(c.Request, c.Writer); err != nil {
		return fmt.Errorf("%w: deleting the session: %w", ErrUnavailable, err)
	}
	a.setCookie(c, a.cfg.Transport.Cookies.CSRFName, "", "/", 0, false)
	return nil
}

// sessionClaims verifies a session's token: a refresh token, or a sliding
// token within its refresh lifetime. On ErrTokenExpired the claims are
// returned too.
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
// its cookie session: ErrTokenMissing when it has none.
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
	token, _ := sess.Values[sessionTokenKey].(string)
	if token == "" {
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
	claims, err := a.sessionClaims(token, now)
	if err != nil {
		return nil, err
	}
	if err := a.checkRevoked(r, token, claims); err != nil {
		return nil, err
	}
	if !a.cfg.Transport.CSRF.Disabled && unsafeMethod(r.Method) {
		if err := a.checkSessionCSRF(r, claims.SessionID, nil); err != nil {
			return nil, err
		}
	}
	a.touch(claims, now)
	return claims, nil
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
