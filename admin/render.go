package admin

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt"
)

//go:embed templates/*.html static/admin.css
var assets embed.FS

// pageNames are the pages, each a template of its own over layout.html.
var pageNames = []string{
	"error", "confirm", "users", "user_new", "user", "session",
	"devices", "device", "networks", "network", "housekeeping", "archive", "audit",
}

var funcs = template.FuncMap{
	"when": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			if v.IsZero() {
				return "—"
			}
			return v.UTC().Format("2006-01-02 15:04:05 UTC")
		case *time.Time:
			if v == nil || v.IsZero() {
				return "—"
			}
			return v.UTC().Format("2006-01-02 15:04:05 UTC")
		}
		return "—"
	},
	"short": func(s string) string {
		if utf8.RuneCountInString(s) <= 12 {
			return s
		}
		r := []rune(s)
		return string(r[:12]) + "…"
	},
	"deref": func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	},
	"pathEscape": url.PathEscape,
	"sessionsView": func(base string, d deviceData) sessionsView {
		return sessionsView{Base: base, Sessions: d.Sessions, Pager: d.Pager}
	},
}

// sessionsView is what the device-sessions template receives.
type sessionsView struct {
	Base     string
	Sessions []deviceSession
	Pager    pager
}

func parsePages() (map[string]*template.Template, error) {
	pages := make(map[string]*template.Template, len(pageNames))
	for _, name := range pageNames {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("admin: templates: %w", err)
		}
		pages[name] = t
	}
	return pages, nil
}

// view is what every page template receives.
type view struct {
	Title string
	Base  string // the admin path
	CSRF  string
	Me    string // the visitor's username
	Flash string
	Nav   string // the section the page belongs to
	Data  any
}

// securityHeaders are set on every answer: no script may run, nothing is
// fetched from elsewhere, forms post here only, pages are not framed or
// cached.
func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}

// render answers status with the named page.
func (a *Admin) render(c *gin.Context, status int, name, title, nav string, data any) {
	v := view{Title: title, Base: a.cfg.Path, Nav: nav, Data: data}
	if vis := visitorOf(c); vis != nil {
		v.CSRF, v.Me = vis.csrf, vis.user.Username
	}
	if f := c.Query("done"); f != "" {
		v.Flash = flashes[f] // only known messages: nothing from the URL is shown
	}
	var buf bytes.Buffer
	if err := a.pages[name].Execute(&buf, v); err != nil {
		a.cfg.Logger.ErrorContext(c.Request.Context(), "ginjwt admin: render", "page", name, "error", err)
		securityHeaders(c)
		c.Data(http.StatusInternalServerError, "text/html; charset=utf-8", []byte("<!doctype html><title>Error</title><p>Internal error.</p>"))
		c.Abort()
		return
	}
	securityHeaders(c)
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// flashes are the messages a redirect after an action may ask for.
var flashes = map[string]string{
	"session-revoked":  "The session was revoked.",
	"logged-out":       "Every session of the user was revoked.",
	"deactivated":      "The user was deactivated and every session revoked.",
	"activated":        "The user was reactivated.",
	"password-set":     "The password was set and every session revoked.",
	"created":          "The user was created.",
	"archive-started":  "The archive run started.",
	"archive-finished": "The archive run finished.",
}

// errorData is the error page's content.
type errorData struct {
	Status  int
	Message string
}

// fail answers status with the error page and stops the request.
func (a *Admin) fail(c *gin.Context, status int, title, message string) {
	a.render(c, status, "error", title, "", errorData{Status: status, Message: message})
	c.Abort()
}

// serverError logs err and answers without details: 503 with Retry-After
// when a dependency is down (ginjwt.ErrUnavailable) or the request's
// context ended, 500 otherwise.
func (a *Admin) serverError(c *gin.Context, err error) {
	a.cfg.Logger.ErrorContext(c.Request.Context(), "ginjwt admin", "path", c.Request.URL.Path, "error", err)
	if errors.Is(err, ginjwt.ErrUnavailable) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		c.Header("Retry-After", "1")
		a.fail(c, http.StatusServiceUnavailable, "Unavailable", "The service cannot answer now; try again in a moment.")
		return
	}
	a.fail(c, http.StatusInternalServerError, "Internal error", "Something went wrong; it has been logged.")
}

func (a *Admin) badRequest(c *gin.Context, message string) {
	a.fail(c, http.StatusBadRequest, "Bad request", message)
}

func (a *Admin) notFound(c *gin.Context, what string) {
	a.fail(c, http.StatusNotFound, "Not found", "No such "+what+".")
}

// redirect answers 303 to the admin path p with a flash message. Every
// action ends here: it is logged (who, from where, what, on which page)
// for the operators' records, which outlast the revocation log's.
func (a *Admin) redirect(c *gin.Context, p, flash string) {
	if v := visitorOf(c); v != nil && flash != "" {
		a.cfg.Logger.InfoContext(c.Request.Context(), "ginjwt admin: action", "action", flash, "target", p,
			"actor_id", v.user.ID, "actor", v.user.Username, "ip", a.auth.RequestFacts(c).ClientIP)
	}
	u := a.cfg.Path + p
	if flash != "" {
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		u += sep + "done=" + url.QueryEscape(flash)
	}
	c.Redirect(http.StatusSeeOther, u)
	c.Abort()
}

// pager is a list's position for the page templates.
type pager struct {
	Page, Pages int
	Total       int64
	Prev, Next  string // links; "" at either end
}

// pageParam reads ?page=: 1 when absent, a bad request when it is not a
// number between 1 and MaxPage.
func (a *Admin) pageParam(c *gin.Context) (int, bool) {
	s, ok := c.GetQuery("page")
	if !ok {
		return 1, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxPage {
		a.badRequest(c, fmt.Sprintf("The page number must be a whole number between 1 and %d.", MaxPage))
		return 0, false
	}
	return n, true
}

// offset is the first row of page n.
func (a *Admin) offset(n int) int { return (n - 1) * a.cfg.PageSize }

// paginate returns the pager of page n of total rows, or answers 404 when
// the page lies past the last one. link builds the URL of a page.
func (a *Admin) paginate(c *gin.Context, n int, total int64, link func(page int) string) (pager, bool) {
	pages := int((total + int64(a.cfg.PageSize) - 1) / int64(a.cfg.PageSize))
	if n > max(pages, 1) {
		a.fail(c, http.StatusNotFound, "Not found", fmt.Sprintf("There is no page %d: the list has %d.", n, max(pages, 1)))
		return pager{}, false
	}
	p := pager{Page: n, Pages: max(pages, 1), Total: total}
	if n > 1 {
		p.Prev = link(n - 1)
	}
	if n < pages {
		p.Next = link(n + 1)
	}
	return p, true
}

// withPage returns the admin URL base (with its query) for page n.
func (a *Admin) withPage(p string, q url.Values, n int) string {
	v := url.Values{}
	for k, vs := range q {
		v[k] = vs
	}
	v.Set("page", strconv.Itoa(n))
	return a.cfg.Path + p + "?" + v.Encode()
}

// textParam checks a user-controlled string: valid UTF-8 without control
// characters, at most max bytes.
func textParam(s string, max int) bool {
	if len(s) > max || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// idParam reads a string ID from the path: printable, at most 64 bytes.
func (a *Admin) idParam(c *gin.Context, name string) (string, bool) {
	s := c.Param(name)
	if s == "" || !textParam(s, 64) {
		a.badRequest(c, "The "+name+" in the address is malformed.")
		return "", false
	}
	return s, true
}

// intParam reads a positive integer ID from the path.
func (a *Admin) intParam(c *gin.Context, name string) (int64, bool) {
	n, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || n <= 0 {
		a.badRequest(c, "The "+name+" in the address must be a positive whole number.")
		return 0, false
	}
	return n, true
}

func hasMediaType(ct, want string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == want
}

// css serves the style sheet.
func (a *Admin) css(c *gin.Context) {
	b, err := assets.ReadFile("static/admin.css")
	if err != nil {
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	c.Header("Cache-Control", "public, max-age=3600")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Data(http.StatusOK, "text/css; charset=utf-8", b)
}

// home sends the admin root to the users list.
func (a *Admin) home(c *gin.Context) { a.redirect(c, "/users", "") }

// postOnly answers a GET of an action's address: 405, Allow: POST.
func (a *Admin) postOnly(c *gin.Context) {
	c.Header("Allow", http.MethodPost)
	a.fail(c, http.StatusMethodNotAllowed, "Use the form", "This address takes the form on the page it belongs to; it does nothing when opened.")
}
