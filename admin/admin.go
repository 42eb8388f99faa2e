package admin

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"path"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/device"
	"github.com/ginjwt/ginjwt/internal/dbkey"
	"github.com/ginjwt/ginjwt/registry"
	"github.com/ginjwt/ginjwt/users"
)

// Defaults and bounds of [Config].
const (
	// DefaultPath is where the admin pages are mounted by default.
	DefaultPath = "/auth/admin"
	// DefaultPageSize is how many rows a page lists by default.
	DefaultPageSize = 50
	// MaxPageSize bounds Config.PageSize.
	MaxPageSize = 200
	// DefaultMaxBodyBytes bounds a form's body by default.
	DefaultMaxBodyBytes = 16 << 10
	// MaxPage is the highest page number a request may ask for; a higher
	// one is a bad request.
	MaxPage = 100_000
)

// Config configures the admin pages. A zero field means its default.
type Config struct {
	// Path is where the pages are served, below the router given to
	// [Mount]: an absolute path without a trailing slash. Default
	// "/auth/admin".
	Path string
	// Perm, when set, is the permission a user must hold to enter
	// (superusers hold every permission). Default "": staff users (the
	// token's Staff claim) and superusers enter. Either way the stored
	// account must still be active and still qualify: a user demoted or
	// deactivated is refused at the next request.
	Perm string
	// PageSize is how many rows each list shows per page. Default 50; at
	// most [MaxPageSize].
	PageSize int
	// MaxBodyBytes bounds a request's body; a larger one is answered 413.
	// Default 16 KiB.
	MaxBodyBytes int64
	// Users is the user store the pages search, create and change.
	// Default: the *users.Store behind auth (auth.Users()); Mount fails
	// when auth's store is not one and Users is nil, and when Users is on
	// another database than auth's registry (its password changes and
	// deactivations would not cut tokens off).
	Users *users.Store
	// Logger receives the errors the pages answer 500 for, and the
	// archive runs' failures. Default slog.Default().
	Logger *slog.Logger
}

// Admin is the mounted admin area. Close stops its background work (an
// archive run).
type Admin struct {
	auth    *ginjwt.Auth
	reg     *registry.Registry
	devices *device.Registry // nil when the device registry is off
	users   *users.Store
	cfg     Config
	pages   map[string]*template.Template

	ctx    context.Context // background work; canceled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
	job    archiveJob
}

// Mount checks cfg and serves the admin pages on r under cfg.Path. auth
// must have the token registry (a Config.DB); the device pages need its
// device registry (Config.Registry.Devices) and say so when it is off.
// Mount returns an error naming the bad field and never panics: a route
// gin refuses (a path the application already uses) is an error too. r must be covered by auth's middleware (the
// router auth was mounted on, or a group below it).
func Mount(r gin.IRouter, auth *ginjwt.Auth, cfg Config) (*Admin, error) {
	if auth == nil {
		return nil, errors.New("admin: Mount: auth is nil")
	}
	a, err := newAdmin(auth, cfg)
	if err != nil {
		return nil, err
	}
	if err := a.routes(r); err != nil {
		a.cancel()
		return nil, err
	}
	return a, nil
}

func newAdmin(auth *ginjwt.Auth, cfg Config) (*Admin, error) {
	if err := cfg.resolve(); err != nil {
		return nil, err
	}
	reg := auth.Registry()
	if reg == nil {
		return nil, errors.New("admin: the token registry is off (set ginjwt Config.DB)")
	}
	if cfg.Users == nil {
		if cfg.Users, _ = auth.Users().(*users.Store); cfg.Users == nil {
			return nil, errors.New("admin: Config.Users is required: auth's user store is not a *users.Store")
		}
	}
	if dbkey.Of(cfg.Users.DB()) != dbkey.Of(reg.DB()) {
		return nil, errors.New("admin: Config.Users: a users.Store on another database than the token registry's would deactivate users and change passwords without cutting their tokens off")
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	a := &Admin{auth: auth, reg: reg, devices: auth.Devices(), users: cfg.Users, cfg: cfg, pages: pages}
	a.ctx, a.cancel = context.WithCancel(context.Background())
	return a, nil
}

// resolve fills in the defaults and checks every field.
func (c *Config) resolve() error {
	if c.Path == "" {
		c.Path = DefaultPath
	}
	if !strings.HasPrefix(c.Path, "/") || path.Clean(c.Path) != c.Path || c.Path == "/" ||
		strings.ContainsAny(c.Path, ":*?#%\\ ") {
		return fmt.Errorf("admin: Config.Path %q: must be a clean absolute path such as %q, without a trailing slash or wildcards", c.Path, DefaultPath)
	}
	switch {
	case c.PageSize == 0:
		c.PageSize = DefaultPageSize
	case c.PageSize < 0 || c.PageSize > MaxPageSize:
		return fmt.Errorf("admin: Config.PageSize %d: must be between 1 and %d", c.PageSize, MaxPageSize)
	}
	switch {
	case c.MaxBodyBytes == 0:
		c.MaxBodyBytes = DefaultMaxBodyBytes
	case c.MaxBodyBytes < 1024:
		return fmt.Errorf("admin: Config.MaxBodyBytes %d: must be at least 1024", c.MaxBodyBytes)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if strings.TrimSpace(c.Perm) != c.Perm {
		return fmt.Errorf("admin: Config.Perm %q: surrounding white space", c.Perm)
	}
	return nil
}

// Path returns where the pages are served.
func (a *Admin) Path() string { return a.cfg.Path }

// Close stops an archive run started from the housekeeping page and waits
// for it, or for ctx.
func (a *Admin) Close(ctx context.Context) error {
	a.job.mu.Lock()
	a.job.closed = true
	a.job.mu.Unlock()
	a.cancel()
	done := make(chan struct{})
	go func() { a.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("admin: close: %w", ctx.Err())
	}
}

// routes registers the pages on r, turning a route gin refuses into an
// error.
func (a *Admin) routes(r gin.IRouter) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("admin: Config.Path %q: gin refused a route: %v", a.cfg.Path, p)
		}
	}()
	// Other paths below the pages are theirs to answer, as a page, not
	// ginjwt's JSON 404 (the pages usually sit below its prefix).
	full := a.cfg.Path
	if b, ok := r.(interface{ BasePath() string }); ok {
		full = strings.TrimSuffix(b.BasePath(), "/") + a.cfg.Path
	}
	if err := a.auth.HandOver(full); err != nil {
		return fmt.Errorf("admin: Config.Path: %w", err)
	}
	r.GET(a.cfg.Path+"/static/admin.css", a.css)
	g := r.Group(a.cfg.Path, a.limitBody, a.gate)
	g.GET("", a.home)
	g.GET("/users", a.usersPage)
	g.GET("/users/new", a.newUserPage)
	g.POST("/users/new", a.createUser)
	g.GET("/users/:id", a.userPage)
	g.POST("/users/:id/logout-everywhere", a.logoutEverywhere)
	g.POST("/users/:id/deactivate", a.deactivate)
	g.POST("/users/:id/activate", a.activate)
	g.POST("/users/:id/password", a.setPassword)
	g.GET("/sessions/:sid", a.sessionPage)
	g.POST("/sessions/:sid/revoke", a.revokeSession)
	g.GET("/devices", a.devicesPage)
	g.GET("/devices/:id", a.devicePage)
	g.GET("/networks", a.networksPage)
	g.GET("/networks/:id", a.networkPage)
	g.GET("/housekeeping", a.housekeepingPage)
	g.POST("/housekeeping/archive", a.startArchive)
	g.GET("/housekeeping/archive", a.archivePage)
	g.GET("/audit", a.auditPage)
	// The actions' addresses opened in the browser (a bookmark, a link
	// copied from a form): 405, as a page.
	for _, p := range []string{"/users/:id/logout-everywhere", "/users/:id/deactivate", "/users/:id/activate", "/users/:id/password", "/sessions/:sid/revoke"} {
		g.GET(p, a.postOnly)
	}
	if e, ok := r.(*gin.Engine); ok {
		e.Use(a.unmatched(full))
	}
	return nil
}

// unmatched answers a request below the pages' path that no page serves:
// 404, as a page.
func (a *Admin) unmatched(prefix string) gin.HandlerFunc {
	return func(c *gin.Context) {
		p := c.Request.URL.Path
		if c.FullPath() != "" || (p != prefix && !strings.HasPrefix(p, prefix+"/")) {
			return
		}
		a.notFound(c, "page")
	}
}
