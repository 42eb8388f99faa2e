package admin

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
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

// loginURLSource is ginjwt.Auth's accessor of its login form's URL.
type loginURLSource interface{ LoginURL(next string) string }

// csrfSource is ginjwt.Auth's accessor of a request's CSRF token.
type csrfSource interface{ CSRFToken(c *gin.Context) string }

// gate lets staff through: an anonymous request is sent to the login form
// (401 without one), a failed CSRF check or a user who may not enter is
// answered 403. An unsafe request must also carry the page's CSRF token.
func (a *Admin) gate(c *gin.Context) {
	claims, ok := ginjwt.ClaimsFrom(c)
	if !ok {
		err := ginjwt.AuthError(c)
		if errors.Is(err, ginjwt.ErrCSRFFailed) {
			a.fail(c, http.StatusForbidden, "Forbidden", "The form's security token is missing or wrong: reload the page and try again.")
			return
		}
		a.anonymous(c)
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
	vis := &visitor{claims: claims, user: u, csrf: a.csrfToken(c, claims)}
	c.Set("ginjwt.admin.visitor", vis)
	if c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead {
		if !a.readForm(c) {
			return
		}
		got := c.Request.PostForm.Get(ginjwtCSRFField)
		if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(vis.csrf)) != 1 {
			a.fail(c, http.StatusForbidden, "Forbidden", "The form's security token is missing or wrong: reload the page and try again.")
			return
		}
	}
	c.Next()
}

// ginjwtCSRFField is the form field of the CSRF token.
const ginjwtCSRFField = "csrf_token"

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
// login form, back here afterwards; 401 when there is no login form.
func (a *Admin) anonymous(c *gin.Context) {
	if src, ok := any(a.auth).(loginURLSource); ok {
		next := c.Request.URL.Path
		if c.Request.Method != http.MethodGet {
			next = a.cfg.Path // a form cannot be replayed after the login
		} else if q := c.Request.URL.RawQuery; q != "" {
			next += "?" + q
		}
		if u := src.LoginURL(next); u != "" {
			c.Header("Cache-Control", "no-store")
			c.Redirect(http.StatusSeeOther, u)
			c.Abort()
			return
		}
	}
	a.fail(c, http.StatusUnauthorized, "Sign in required", "Sign in as a staff user to see this page.")
}

// csrfToken is the token the request's forms carry: ginjwt's own for a
// request authenticated by cookie (its middleware checks it), otherwise
// one bound to the session of the request's token.
func (a *Admin) csrfToken(c *gin.Context, claims *ginjwt.Claims) string {
	if src, ok := any(a.auth).(csrfSource); ok {
		if t := src.CSRFToken(c); t != "" {
			return t
		}
	}
	m := hmac.New(sha256.New, a.csrfKey)
	m.Write([]byte("ginjwt admin csrf\x00" + claims.SessionID + "\x00" + claims.UserID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
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
