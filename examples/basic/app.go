package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/database"
	_ "github.com/ginjwt/ginjwt/database/postgres" // -db postgres://…
	_ "github.com/ginjwt/ginjwt/database/sqlite"   // -db sqlite:PATH (the default)
	"github.com/ginjwt/ginjwt/examples/internal/demo"
)

// options are the example's flags.
type options struct {
	addr string
	db   string
	mode string
	// noRotate turns refresh token rotation off (-rotate=false).
	noRotate bool
}

// app is the example server, ready to serve.
type app struct {
	handler http.Handler
	auth    *ginjwt.Auth
	db      *gorm.DB
	keyFrom string // where the signing key came from, for the banner
}

func newApp(ctx context.Context, opts options) (*app, error) {
	mode, err := ginjwt.ParseMode(opts.mode)
	if err != nil {
		return nil, fmt.Errorf("-mode: %w", err)
	}
	db, err := database.Open(opts.db)
	if err != nil {
		return nil, err
	}
	a := &app{db: db}
	if err := ginjwt.Migrate(ctx, db); err != nil {
		a.close()
		return nil, err
	}
	secret, from, err := demo.SigningKey(opts.db)
	if err != nil {
		a.close()
		return nil, err
	}
	a.keyFrom = from

	r := gin.New()
	r.Use(gin.Logger(), gin.Recovery())
	a.auth, err = ginjwt.Mount(r, ginjwt.Config{
		SigningKey:             secret,
		DB:                     db, // also turns on the token registry
		DisableRefreshRotation: opts.noRotate,
		UpdateLastLogin:        true,
		// The CLI revokes from another process: notice within a second.
		// Devices: GET /auth/sessions shows each session's browser and IP.
		Registry: ginjwt.RegistryConfig{Resync: time.Second, Devices: true},
		Mode:     mode,
		// Browsers keep Secure cookies from plain-http pages only on
		// localhost; behind TLS in production, leave Secure on.
		Cookies: ginjwt.Cookies{Insecure: demo.Loopback(opts.addr)},
	})
	if err != nil {
		a.close()
		return nil, err
	}
	routes(r)
	a.handler = r
	return a, nil
}

// routes are the example API.
func routes(r *gin.Engine) {
	api := r.Group("/api")
	api.GET("/public", func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"message": "anyone can read this"})
	})
	api.GET("/hello", ginjwt.RequireLogin(), func(c *gin.Context) {
		claims, _ := ginjwt.ClaimsFrom(c)
		c.JSON(http.StatusOK, gin.H{"user": claims.Username})
	})
	api.GET("/perm1", ginjwt.RequirePerms("perm1"), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"message": "you hold perm1"})
	})
	api.GET("/admin", ginjwt.RequirePerms("admin"), func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"message": "you hold admin"})
	})
	api.POST("/echo", ginjwt.RequireLogin(), func(c *gin.Context) {
		body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, 64<<10))
		if err != nil {
			ginjwt.AbortWithError(c, ginjwt.ErrBodyTooLarge)
			return
		}
		c.Data(http.StatusOK, "application/json", body)
	})
}

// close drains the registration pipeline, stops the registry's background
// work and closes the database.
func (a *app) close() { demo.Close(a.auth, a.db) }

// banner is what the example prints when it starts.
func (a *app) banner(opts options) string {
	base := "http://" + opts.addr
	return fmt.Sprintf(`ginjwt example listening on %[1]s
  database:    %[2]s
  signing key: %[3]s

Create a user (in another terminal):
  echo 'correct horse battery staple' | go run ./cmd/ginjwt user create -db %[2]s -username alice -perms perm1 -password-stdin

Log in and call the API:
  curl -s -X POST %[1]s/auth/token -H 'Content-Type: application/json' \
       -d '{"username":"alice","password":"correct horse battery staple"}'
  curl -s %[1]s/api/hello -H "Authorization: Bearer $ACCESS"

`, base, opts.db, a.keyFrom)
}
