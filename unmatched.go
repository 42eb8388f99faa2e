package ginjwt

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"
)

// unmatchedRoutes is what [Auth.Unmatched] knows of the endpoints: the
// prefixes ginjwt owns and every method and path pattern registered under
// them, as RegisterRoutes registered them (one set per router it was
// given).
type unmatchedRoutes struct {
	mu       sync.RWMutex
	prefixes []string
	routes   []endpoint
	// handedOver are prefixes below ginjwt's that another package serves
	// (see Auth.HandOver).
	handedOver []string
}

// endpoint is one registered endpoint: its method and its full path
// pattern ("/auth/sessions/:id").
type endpoint struct {
	method, path string
}

func (u *unmatchedRoutes) add(prefix string, routes []endpoint) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if !slices.Contains(u.prefixes, prefix) {
		u.prefixes = append(u.prefixes, prefix)
	}
	u.routes = append(u.routes, routes...)
}

// lookup says whether path lies under a prefix ginjwt owns, and which
// methods ginjwt serves at path (sorted), if any.
func (u *unmatchedRoutes) lookup(path string) (owned bool, allow []string) {
	u.mu.RLock()
	defer u.mu.RUnlock()
	for _, p := range u.handedOver {
		if under(path, p) {
			return false, nil
		}
	}
	for _, p := range u.prefixes {
		// A prefix of "/" (Config.Routes.Prefix "/" on the engine) would own
		// every path of the application: ginjwt then claims only its own
		// endpoints' paths, for 405.
		if p != "/" && under(path, p) {
			owned = true
		}
	}
	for _, r := range u.routes {
		if matchRoute(r.path, path) && !slices.Contains(allow, r.method) {
			allow = append(allow, r.method)
		}
	}
	slices.Sort(allow)
	return owned, allow
}

// under reports whether path is prefix or below it.
func under(path, prefix string) bool {
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

// HandOver leaves the paths at and below prefix (a full path, such as
// "/auth/admin") to another package that serves them, such as package
// admin: [Auth.Unmatched] answers nothing there, so that package's own
// answers (or the engine's NoRoute) apply. A prefix that covers one of
// ginjwt's own endpoints ("/", "/auth", "/auth/token") is an error: their
// 404 and 405 answers stay ginjwt's.
func (a *Auth) HandOver(prefix string) error {
	prefix = strings.TrimSuffix(prefix, "/")
	if !strings.HasPrefix(prefix, "/") {
		return fmt.Errorf("ginjwt: HandOver(%q): a path below the root is needed", prefix)
	}
	a.routes.mu.Lock()
	defer a.routes.mu.Unlock()
	for _, r := range a.routes.routes {
		if under(r.path, prefix) {
			return fmt.Errorf("ginjwt: HandOver(%q) would cover ginjwt's %s %s", prefix, r.method, r.path)
		}
	}
	if !slices.Contains(a.routes.handedOver, prefix) {
		a.routes.handedOver = append(a.routes.handedOver, prefix)
	}
	return nil
}

// matchRoute reports whether path matches a gin path pattern of static
// segments and :params (a :param matches one segment that is not empty).
func matchRoute(pattern, path string) bool {
	for {
		ps, prest, pmore := strings.Cut(pattern, "/")
		s, rest, more := strings.Cut(path, "/")
		switch {
		case strings.HasPrefix(ps, ":"):
			if s == "" {
				return false
			}
		case ps != s:
			return false
		}
		if pmore != more {
			return false
		}
		if !more {
			return true
		}
		pattern, path = prest, rest
	}
}

// Unmatched returns the middleware that answers requests under
// Config.Routes.Prefix for which gin found no route in ginjwt's JSON error shape:
// 405 method_not_allowed, with an Allow header, when one of ginjwt's
// endpoints has that path with another method (HEAD included: the GET
// endpoints do not serve it), and 404 not_found otherwise. It acts on
// nothing else: a request gin routed runs as usual, and one outside the
// prefix goes on to the engine's own NoRoute and NoMethod handlers, set
// before or after Mount, which ginjwt never replaces. A CORS preflight
// (OPTIONS with Access-Control-Request-Method) goes on to the handlers
// after it first, so that a CORS middleware installed after Mount answers
// it, and is answered only if none did.
//
// [Mount] and [Auth.RegisterRoutes] install it on a *gin.Engine with Use,
// which in gin also runs a middleware for unmatched requests. Given a
// *gin.RouterGroup they cannot reach the engine: install it yourself, with
// engine.Use(auth.Unmatched()), to get these answers below the group.
func (a *Auth) Unmatched() gin.HandlerFunc {
	return a.unmatched
}

func (a *Auth) unmatched(c *gin.Context) {
	if c.FullPath() != "" {
		return // gin routed it; the chain goes on
	}
	owned, allow := a.routes.lookup(c.Request.URL.Path)
	if !owned && len(allow) == 0 {
		return
	}
	if c.Request.Method == http.MethodOptions && c.Request.Header.Get("Access-Control-Request-Method") != "" {
		// A CORS preflight: a CORS middleware after this one answers it.
		c.Next()
		if c.Writer.Written() || c.IsAborted() {
			return
		}
	}
	if len(allow) > 0 {
		c.Header("Allow", strings.Join(allow, ", "))
		AbortWithError(c, ErrMethodNotAllowed)
		return
	}
	AbortWithError(c, ErrNotFound)
}
