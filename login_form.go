package ginjwt

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"html/template"
	"net/http"

	"github.com/gin-gonic/gin"
)

// loginPage is the built-in login form: plain HTML and CSS, no scripts and
// nothing fetched from elsewhere, readable on a phone.
var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Log in</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f4f5;color:#18181b}
main{max-width:22rem;margin:10vh auto;padding:1.5rem;background:#fff;border:1px solid #d4d4d8;border-radius:.5rem}
h1{font-size:1.25rem;margin:0 0 1rem}
label{display:block;margin:.75rem 0 .25rem}
input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:.5rem;font:inherit;border:1px solid #a1a1aa;border-radius:.25rem}
button{margin-top:1rem;width:100%;padding:.6rem;font:inherit;border:0;border-radius:.25rem;background:#1d4ed8;color:#fff}
.error{background:#fee2e2;color:#991b1b;padding:.5rem;border-radius:.25rem}
</style>
</head>
<body>
<main>
<h1>Log in</h1>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}" id="login-form">
<input type="hidden" name="{{.CSRFField}}" value="{{.CSRFToken}}">
<input type="hidden" name="next" value="{{.Next}}">
<label for="username">Username or e-mail</label>
<input type="text" id="username" name="username" value="{{.Username}}" autocomplete="username" required autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Log in</button>
</form>
</main>
</body>
</html>
`))

// loginForm is GET {LoginForm}: the form, with a CSRF token for the login
// itself (another site must not log the browser in as someone else).
func (a *Auth) loginForm(c *gin.Context) {
	next := c.Query("next")
	if !localPath(next) {
		next = ""
	}
	a.renderLogin(c, http.StatusOK, LoginPage{Next: next})
}

// renderLogin answers with the login form, its CSRF cookie set.
func (a *Auth) renderLogin(c *gin.Context, status int, p LoginPage) {
	p.Action, p.CSRFField, p.CSRFToken = a.loginFormPath, CSRFField, a.loginCSRF(c)
	page := a.cfg.SessionLogin.Page
	if page == nil {
		page = loginPage
	}
	if status == http.StatusServiceUnavailable {
		c.Header("Retry-After", retryAfterUnavailable)
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Status(status)
	if err := page.Execute(c.Writer, p); err != nil {
		_ = c.Error(err)
	}
	c.Abort()
}

// loginCSRF is the CSRF token of a form shown to a visitor who may have no
// session: the CSRF cookie's value when it holds one (so a session's
// token stays as it is), or a new random one, set as the cookie.
func (a *Auth) loginCSRF(c *gin.Context) string {
	name := a.cfg.Transport.Cookies.CSRFName
	if v := cookieValue(c.Request, name); len(v) >= 32 && len(v) <= 64 {
		return v
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	a.setCookie(c, name, v, "/", a.sessionTTL(), false)
	return v
}

// checkFormCSRF checks a form posted by a visitor who may have no session:
// it comes from this site, and its CSRF field equals the CSRF cookie.
func (a *Auth) checkFormCSRF(r *http.Request, field string) error {
	if err := a.checkOrigin(r, true); err != nil {
		return err
	}
	cookie := cookieValue(r, a.cfg.Transport.Cookies.CSRFName)
	if field == "" || subtle.ConstantTimeCompare([]byte(field), []byte(cookie)) != 1 {
		return withDetail(ErrCSRFFailed, "the form's CSRF token does not match its cookie")
	}
	return nil
}

// loginFormSubmit is POST {LoginForm}: a login by the form, throttled as
// the login endpoint is; on success a session cookie and a redirect (303)
// to the form's next page.
func (a *Auth) loginFormSubmit(c *gin.Context) {
	f, err := a.bodyFields(c, "username", "password", "next", CSRFField)
	if err != nil {
		a.renderLogin(c, statusOf(err), LoginPage{Error: classify(err).message})
		return
	}
	p := LoginPage{Username: f["username"], Next: f["next"]}
	if !localPath(p.Next) {
		p.Next = ""
	}
	if err := a.checkFormCSRF(c.Request, f[CSRFField]); err != nil {
		p.Error = "The form had expired. Please log in again."
		a.renderLogin(c, statusOf(err), p)
		return
	}
	if p.Username == "" || f["password"] == "" {
		p.Error = "Enter your username and password."
		a.renderLogin(c, http.StatusBadRequest, p)
		return
	}
	if err := a.formLogin(c, p.Username, f["password"]); err != nil {
		if classify(err).err == nil {
			a.log.ErrorContext(c.Request.Context(), "ginjwt: login form", "error", err)
		}
		p.Error = classify(err).message
		a.renderLogin(c, statusOf(err), p)
		return
	}
	next := p.Next
	if next == "" {
		next = a.cfg.SessionLogin.Redirect
	}
	c.Redirect(http.StatusSeeOther, next)
}

// formLogin checks the credentials and starts the session: here, or at the
// central auth service when Config.SessionLogin.Obtain says where.
func (a *Auth) formLogin(c *gin.Context, login, password string) error {
	if is := a.cfg.SessionLogin.Issuer; is != nil {
		access, refresh, err := is.Obtain(c, login, password)
		if err != nil {
			return err
		}
		if err := a.StartSession(c, access, refresh); err != nil {
			if lerr := is.Logout(c, refresh); lerr != nil {
				a.log.ErrorContext(c.Request.Context(), "ginjwt: ending a session that could not be stored", "error", lerr)
			}
			return err
		}
		return nil
	}
	if a.users == nil {
		return withDetail(ErrUnavailable, "no user store is configured")
	}
	u, err := a.checkPassword(c, login, password)
	if err != nil {
		return err
	}
	return a.SessionLogin(c, u)
}

// logoutForm is POST {LogoutForm}: ends the session (see
// [Auth.SessionLogout]) and redirects (303) to Config.SessionLogin.Redirect.
// The form must carry the CSRF token; a session already revoked or expired
// can still log out.
func (a *Auth) logoutForm(c *gin.Context) {
	f, err := a.bodyFields(c, CSRFField)
	if err == nil {
		err = a.checkFormCSRF(c.Request, f[CSRFField])
	}
	if err == nil {
		err = a.SessionLogout(c)
	}
	if err != nil {
		a.renderLogin(c, statusOf(err), LoginPage{Error: classify(err).message})
		return
	}
	c.Redirect(http.StatusSeeOther, a.cfg.SessionLogin.Redirect)
}

// statusOf is the HTTP status err is answered with.
func statusOf(err error) int { return classify(err).status }
