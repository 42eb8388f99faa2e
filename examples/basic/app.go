package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/admin"
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
	mode    ginjwt.Mode
	auth    *ginjwt.Auth
	admin   *admin.Admin
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
	a := &app{db: db, mode: mode}
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
		SigningKey: secret,
		DB:         db, // also turns on the token registry
		// The CLI revokes from another process: notice within a second.
		// Devices: GET /auth/sessions shows each session's browser and IP.
		Registry: ginjwt.RegistryConfig{Resync: time.Second, Devices: true},
		Mode:     mode,
		Tokens:   ginjwt.Tokens{DisableRefreshRotation: opts.noRotate},
		Transport: ginjwt.Transport{
			// Browsers keep Secure cookies from plain-http pages only on
			// localhost; behind TLS in production, leave Secure on.
			Cookies: ginjwt.Cookies{Insecure: demo.Loopback(opts.addr)},
		},
		Accounts: ginjwt.Accounts{UpdateLastLogin: true},
		// The login form at /auth/login, for the admin pages.
		SessionLogin: ginjwt.SessionLogin{Enabled: true, Redirect: "/auth/admin"},
	})
	if err != nil {
		a.close()
		return nil, err
	}
	// Staff users see and revoke users, sessions, token trees and devices.
	if a.admin, err = admin.Mount(r, a.auth, admin.Config{}); err != nil {
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

// close drains the registration pipeline (registrations still queued are
// written, not dropped), stops the registry's background work and closes
// the database.
func (a *app) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if a.admin != nil {
		if err := a.admin.Close(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "closing the admin pages:", err)
		}
	}
	if a.auth != nil {
		if err := a.auth.Close(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "closing ginjwt:", err)
		}
	}
	if sqlDB, err := a.db.DB(); err == nil {
		_ = sqlDB.Close()
	}
}

// banner is what the example prints when it starts: how to create a user,
// then a walk-through for the mode it runs in, commands to paste in order
// (tokens travel in shell variables, never copied by hand).
func (a *app) banner(opts options) string {
	base := "http://" + opts.addr
	return fmt.Sprintf(`ginjwt example listening on %[1]s (%[4]s mode)
  database:    %[2]s
  signing key: %[3]s

Create a user (in another terminal):
  echo 'correct horse battery staple' | go run ./cmd/ginjwt user create -db %[2]s -username alice -perms perm1 -password-stdin

%[5]s
Admin pages: create a staff user, then open %[1]s/auth/admin in a browser and log in:
  echo 'another long passphrase' | go run ./cmd/ginjwt user create -db %[2]s -username admin -staff -password-stdin
`, base, opts.db, a.keyFrom, a.mode, walkthrough(base, a.mode, demo.Loopback(opts.addr)))
}

// walkthrough is the curl session of the banner for mode. In JSON mode the
// tokens come back in the body (jq picks them out); in the cookie modes a
// cookie jar carries them, and unsafe requests send the csrftoken cookie's
// value back as X-CSRF-Token.
func walkthrough(base string, mode ginjwt.Mode, insecure bool) string {
	login := `'{"username":"alice","password":"correct horse battery staple"}'`
	if mode == ginjwt.JSON {
		return fmt.Sprintf(`Log in, call the API, refresh, log out (curl and jq):
  BASE=%[1]s
  LOGIN=$(curl -s -X POST $BASE/auth/token -H 'Content-Type: application/json' -d %[2]s)
  ACCESS=$(echo "$LOGIN" | jq -r .access); REFRESH=$(echo "$LOGIN" | jq -r .refresh)
  curl -s $BASE/api/hello -H "Authorization: Bearer $ACCESS"
  curl -s $BASE/auth/sessions -H "Authorization: Bearer $ACCESS"
  PAIR=$(curl -s -X POST $BASE/auth/token/refresh -H 'Content-Type: application/json' -d "{\"refresh\":\"$REFRESH\"}")
  ACCESS=$(echo "$PAIR" | jq -r .access); REFRESH=$(echo "$PAIR" | jq -r --arg old "$REFRESH" '.refresh // $old')
  curl -s -X POST $BASE/auth/token/logout -H "Authorization: Bearer $REFRESH"
  curl -s $BASE/api/hello -H "Authorization: Bearer $ACCESS"
`, base, login)
	}
	csrf := "__Host-csrftoken"
	if insecure {
		csrf = "csrftoken"
	}
	return fmt.Sprintf(`Log in, call the API, refresh, log out (curl; the tokens stay in the cookie jar):
  BASE=%[1]s; JAR=$(mktemp)
  curl -s -c $JAR -X POST $BASE/auth/token -H 'Content-Type: application/json' -d %[2]s
  CSRF=$(awk '$6 == "%[3]s" {print $7}' $JAR)
  curl -s -b $JAR $BASE/api/hello
  curl -s -b $JAR -X POST $BASE/api/echo -H "X-CSRF-Token: $CSRF" -H 'Content-Type: application/json' -d '{"ping":1}'
  curl -s -b $JAR -c $JAR -X POST $BASE/auth/token/refresh -H "X-CSRF-Token: $CSRF"
  curl -s -b $JAR -c $JAR -X DELETE $BASE/auth/token/logout -H "X-CSRF-Token: $CSRF"
  curl -s -b $JAR $BASE/api/hello
`, base, login, csrf)
}
