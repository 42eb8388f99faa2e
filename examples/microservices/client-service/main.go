// Command client-service is a client service of examples/microservices: it
// has no passwords, logs users in through the auth service, verifies their
// tokens locally and keeps copies of them, with their access group, in its
// own database.
//
//	go run ./examples/microservices/client-service   # serve on 127.0.0.1:8001
//
// It needs the auth service running (default http://127.0.0.1:8000) and
// the same service credential (.ginjwt-service-credential in the working
// directory, or $GINJWT_SERVICE_CREDENTIAL).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/database"
	_ "github.com/ginjwt/ginjwt/database/sqlite"
	"github.com/ginjwt/ginjwt/examples/internal/demo"
	"github.com/ginjwt/ginjwt/examples/microservices/internal/shared"
	"github.com/ginjwt/ginjwt/remote"
	"github.com/ginjwt/ginjwt/users"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8001", "listen address")
	dsn := flag.String("db", "sqlite:client-service.db", "database (its own: the users' copies)")
	authURL := flag.String("auth", "http://127.0.0.1:8000", "the auth service's base URL")
	mode := flag.String("mode", "json", "where tokens travel to this service's clients: json, cookie or two-cookie")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, *addr, *dsn, *authURL, *mode); err != nil {
		log.Fatal(err)
	}
}

func serve(ctx context.Context, addr, dsn, authURL, modeName string) error {
	mode, err := ginjwt.ParseMode(modeName)
	if err != nil {
		return err
	}
	db, err := database.Open(dsn)
	if err != nil {
		return err
	}
	defer demo.Close(nil, db)
	if err := users.Migrate(ctx, db); err != nil {
		return err
	}
	if err := db.WithContext(ctx).AutoMigrate(&shared.AccessGroup{}); err != nil {
		return err
	}
	cred, err := shared.Credential()
	if err != nil {
		return err
	}
	cfg := remote.Config{
		AuthURL:    authURL,
		Credential: cred,
		DB:         db,
		UserMapper: mapUser,
		Mode:       mode,
		Transport:  ginjwt.Transport{Cookies: ginjwt.Cookies{Insecure: demo.Loopback(addr)}},
	}
	if mode != ginjwt.JSON {
		// Shared by every instance of this service in production.
		cfg.Transport.CSRF.Secret = []byte(cred + " csrf")
	}
	r := gin.New()
	r.Use(gin.Logger(), gin.Recovery())
	client, err := remote.Mount(r, cfg)
	if err != nil {
		return err
	}
	defer client.Close(context.Background())

	api := r.Group("/api", ginjwt.RequireLogin())
	api.GET("/test", func(c *gin.Context) { c.JSON(200, "success") })
	// The user as this service's database has it: the copy and its group.
	api.GET("/me", func(c *gin.Context) {
		u, ok := ginjwt.UserFrom(c)
		if !ok {
			ginjwt.AbortWithError(c, ginjwt.ErrNotFound)
			return
		}
		c.JSON(200, gin.H{"id": u.ID, "username": u.Username, "access_group": groupOf(c, db, u.ID)})
	})
	api.GET("/admin", requireGroup(db, "admin"), func(c *gin.Context) { c.JSON(200, "welcome, admin") })
	return demo.Serve(ctx, addr, r, fmt.Sprintf("client service on http://%s, trusting %s\n", addr, authURL))
}

// mapUser writes the auth service's user and its access group, in the
// transaction remote runs it in: the remote record overwrites the copy.
func mapUser(ctx context.Context, tx *gorm.DB, u remote.RemoteUser) error {
	if err := remote.DefaultUserMapper(ctx, tx, u); err != nil {
		return err
	}
	var extra struct {
		AccessGroup string `json:"access_group"`
	}
	if err := json.Unmarshal(u.Raw, &extra); err != nil {
		return err
	}
	return tx.Save(&shared.AccessGroup{UserID: u.ID, Group: extra.AccessGroup}).Error
}

func groupOf(c *gin.Context, db *gorm.DB, userID string) string {
	var g shared.AccessGroup
	db.WithContext(c.Request.Context()).Where("user_id = ?", userID).Limit(1).Find(&g)
	return g.Group
}

// requireGroup lets through the users of one access group, by the local
// copy: 403 permission_denied for the others.
func requireGroup(db *gorm.DB, group string) gin.HandlerFunc {
	return func(c *gin.Context) {
		claims, _ := ginjwt.ClaimsFrom(c)
		if groupOf(c, db, claims.UserID) != group {
			ginjwt.AbortWithError(c, ginjwt.ErrPermissionDenied)
			return
		}
		c.Next()
	}
}
