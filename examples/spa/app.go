package main

import (
	"context"
	"embed"
	"io/fs"
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/database"
	_ "github.com/ginjwt/ginjwt/database/postgres" // -db postgres://…
	_ "github.com/ginjwt/ginjwt/database/sqlite"   // -db sqlite:PATH (the default)
	"github.com/ginjwt/ginjwt/examples/internal/demo"
)

//go:embed static
var static embed.FS

// app is the single-page example: the page, the auth endpoints in
// two-cookie mode, and a small notes API.
type app struct {
	handler http.Handler
	auth    *ginjwt.Auth
	db      *gorm.DB
	keyFrom string
	notes   *notes
}

// notes is the example's state: what the page's POST adds to.
type notes struct {
	mu   sync.Mutex
	list []string
}

func (n *notes) add(text string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.list = append(n.list, text)
	return len(n.list)
}

func (n *notes) count() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.list)
}

// newApp opens dsn and builds the example. insecure drops the Secure
// attribute of the cookies, for plain HTTP on loopback.
func newApp(ctx context.Context, dsn string, insecure bool) (*app, error) {
	db, err := database.Open(dsn)
	if err != nil {
		return nil, err
	}
	a := &app{db: db, notes: &notes{}}
	if err := ginjwt.Migrate(ctx, db); err != nil {
		a.close()
		return nil, err
	}
	secret, from, err := demo.SigningKey(dsn)
	if err != nil {
		a.close()
		return nil, err
	}
	a.keyFrom = from
	r := gin.New()
	r.Use(gin.Recovery())
	a.auth, err = ginjwt.Mount(r, ginjwt.Config{
		SigningKey: secret,
		DB:         db,
		Mode:       ginjwt.TwoCookies,
		Registry:   ginjwt.RegistryConfig{Devices: true},
		Transport:  ginjwt.Transport{Cookies: ginjwt.Cookies{Insecure: insecure}},
	})
	if err != nil {
		a.close()
		return nil, err
	}
	page, _ := fs.Sub(static, "static")
	r.GET("/", func(c *gin.Context) { c.FileFromFS("/", http.FS(page)) })
	r.GET("/app.js", func(c *gin.Context) { c.FileFromFS("app.js", http.FS(page)) })
	api := r.Group("/api", ginjwt.RequireLogin())
	api.GET("/notes", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"count": a.notes.count()}) })
	api.POST("/notes", func(c *gin.Context) {
		var body struct {
			Text string `json:"text" binding:"required,max=200"`
		}
		if err := c.ShouldBindJSON(&body); err != nil {
			ginjwt.AbortWithError(c, ginjwt.ErrBadRequest)
			return
		}
		c.JSON(http.StatusOK, gin.H{"count": a.notes.add(body.Text)})
	})
	a.handler = r
	return a, nil
}

func (a *app) close() { demo.Close(a.auth, a.db) }
