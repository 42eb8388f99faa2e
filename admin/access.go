package admin

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/registry"
	"github.com/ginjwt/ginjwt/users"
)

// visitor is the authenticated staff user of a request.
type visitor struct {
	claims *ginjwt.Claims
	user   *users.User
	csrf   string
}

// visitorOf returns the request's visitor, set by gate.
func visitorOf(c *gin.Context) *visitor {
	v, _ := c.Get("ginjwt.admin.visitor")
	vis, _ := v.(*visitor)
	return vis
}

// limitBody refuses a body declared larger than Config.MaxBodyBytes and
// cuts off any other at that size.
func (a *Admin) limitBody(c *gin.Context) {
	if c.Request.ContentLength > a.cfg.MaxBodyBytes {
		c.Header("Connection", "close")
		a.fail(c, http.StatusRequestEntityTooLarge, "Request too large", "The form sent was larger than this page accepts.")
		return
	}
	if c.Request.Body != nil {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, a.cfg.MaxBodyBytes)
	}
	c.Next()
}

// gate lets staff through: an anonymous request is sent to the login form
// (401 without one), a failed CSRF check or a user who may not enter is
// answered 403. An unsafe request must also carry the page's CSRF token.
func (a *Admin) gate(c *gin.Context) {
	claims, ok := ginjwt.ClaimsFrom(c)
	if !ok {
		// The middleware checks the CSRF token of a request authenticated
		// by a cookie (a session's): reading it may fail too.
		switch err := ginjwt.AuthError(c); {
		case errors.Is(err, ginjwt.ErrCSRFFailed):
			a.fail(c, http.StatusForbidden, "Forbidden", "The form's security token is missing or wrong: reload the page and try again.")
		case errors.Is(err, ginjwt.ErrBodyTooLarge):
			c.Header("Connection", "close")
			a.fail(c, http.StatusRequestEntityTooLarge, "Request too large", "The form sent was larger than this page accepts.")
		case errors.Is(err, ginjwt.ErrBadRequest):
			a.fail(c, http.StatusBadRequest, "Bad request", "The form could not be read.")
		case errors.Is(err, ginjwt.ErrUnavailable):
			c.Header("Retry-After", "1")
			a.fail(c, http.StatusServiceUnavailable, "Unavailable", "The service cannot answer now; try again in a moment.")
		default:
			a.anonymous(c)
		}
		return
	}
	if claims.External() {
		// Another issuer's token: its user ID is that issuer's, and may
		// equal a local account's.
		a.fail(c, http.StatusForbidden, "Forbidden", "This area is for accounts of this service.")
		return
	}
	if !a.grants(claims) {
		a.fail(c, http.StatusForbidden, "Forbidden", "This area is for staff.")
		return
	}
	u, err := a.users.Find(c.Request.Context(), claims.UserID)
	switch {
	case errors.Is(err, users.ErrNotFound):
		a.fail(c, http.StatusForbidden, "Forbidden", "This area is for staff.")
		return
	case err != nil:
		a.serverError(c, err)
		return
	case !u.IsActive || !a.grantsUser(u):
		a.fail(c, http.StatusForbidden, "Forbidden", "This area is for staff.")
		return
	}
	vis := &visitor{claims: claims, user: u, csrf: a.auth.CSRFToken(c)}
	c.Set("ginjwt.admin.visitor", vis)
	if c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead {
		if !a.readForm(c) {
			return
		}
		// Checked here whatever authenticated the request: a token in the
		// Authorization header passes no CSRF check of the middleware.
		got := c.Request.PostForm.Get(ginjwt.CSRFField)
		if got == "" || vis.csrf == "" || subtle.ConstantTimeCompare([]byte(got), []byte(vis.csrf)) != 1 {
			a.fail(c, http.StatusForbidden, "Forbidden", "The form's security token is missing or wrong: reload the page and try again.")
			return
		}
	}
	c.Next()
}

// grants reports whether the token's claims let the user in.
func (a *Admin) grants(c *ginjwt.Claims) bool {
	if a.cfg.Perm != "" {
		return c.HasPerms(a.cfg.Perm)
	}
	return c.Staff || c.Superuser
}

// grantsUser reports whether the stored account still qualifies.
func (a *Admin) grantsUser(u *users.User) bool {
	if a.cfg.Perm != "" {
		return u.HasPerms(a.cfg.Perm)
	}
	return u.IsStaff || u.IsSuperuser
}

// anonymous answers a request without a usable token: a redirect to the
// login form, back here afterwards; 401 when session login is off.
func (a *Admin) anonymous(c *gin.Context) {
	next := c.Request.URL.Path
	if c.Request.Method != http.MethodGet {
		next = a.cfg.Path + "/users" // a form cannot be replayed after the login
	} else if q := c.Request.URL.RawQuery; q != "" {
		next += "?" + q
	}
	if u := a.auth.LoginURL(next); u != "" {
		securityHeaders(c)
		c.Redirect(http.StatusSeeOther, u)
		c.Abort()
		return
	}
	a.fail(c, http.StatusUnauthorized, "Sign in required", "Sign in as a staff user to see this page.")
}

// readForm parses an URL-encoded form body; it answers 413 for a body over
// the limit and 400 for anything else it cannot read.
func (a *Admin) readForm(c *gin.Context) bool {
	r := c.Request
	if ct := r.Header.Get("Content-Type"); ct != "" && ct != "application/x-www-form-urlencoded" &&
		!hasMediaType(ct, "application/x-www-form-urlencoded") {
		a.fail(c, http.StatusBadRequest, "Bad request", "Forms must be sent URL-encoded.")
		return false
	}
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			c.Header("Connection", "close")
			a.fail(c, http.StatusRequestEntityTooLarge, "Request too large", "The form sent was larger than this page accepts.")
			return false
		}
		a.fail(c, http.StatusBadRequest, "Bad request", "The form could not be read.")
		return false
	}
	return true
}

// actorContext is the request's context carrying the visitor as the actor
// of the revocations it makes, for the audit trail.
func (a *Admin) actorContext(c *gin.Context) context.Context {
	vis := visitorOf(c)
	return registry.WithActor(c.Request.Context(), registry.Actor{UserID: vis.user.ID, IP: a.auth.RequestFacts(c).ClientIP})
}
