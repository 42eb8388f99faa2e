// Command auth-service is the auth service of examples/microservices:
// users, passwords and access groups live here; client services trust it.
//
//	go run ./examples/microservices/auth-service                 # serve on 127.0.0.1:8000
//	go run ./examples/microservices/auth-service user alice staff # create a user (password on stdin)
//
// Its database is its own (default auth-service.db); its EdDSA signing key
// is kept in .auth-service-key.pem beside it, and the client service's
// credential in .ginjwt-service-credential (or $GINJWT_SERVICE_CREDENTIAL).
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/database"
	_ "github.com/ginjwt/ginjwt/database/sqlite"
	"github.com/ginjwt/ginjwt/examples/internal/demo"
	"github.com/ginjwt/ginjwt/examples/microservices/internal/shared"
	"github.com/ginjwt/ginjwt/users"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8000", "listen address")
	dsn := flag.String("db", "sqlite:auth-service.db", "database")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if flag.Arg(0) == "user" {
		err = createUser(ctx, *dsn, flag.Arg(1), flag.Arg(2))
	} else {
		err = serve(ctx, *addr, *dsn)
	}
	if err != nil {
		log.Fatal(err)
	}
}

func open(ctx context.Context, dsn string) (*gorm.DB, error) {
	db, err := database.Open(dsn)
	if err != nil {
		return nil, err
	}
	if err := ginjwt.Migrate(ctx, db); err != nil {
		return nil, err
	}
	return db, db.WithContext(ctx).AutoMigrate(&shared.AccessGroup{})
}

// createUser creates a user in an access group, the password read from
// stdin, and the registry's cut-offs wired as the server has them.
func createUser(ctx context.Context, dsn, name, group string) error {
	if name == "" || group == "" {
		return errors.New("usage: auth-service user NAME GROUP (the password on stdin)")
	}
	db, err := open(ctx, dsn)
	if err != nil {
		return err
	}
	defer demo.Close(nil, db)
	pw, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && pw == "" {
		return fmt.Errorf("reading the password from stdin: %w", err)
	}
	u := users.NewUser(name)
	return db.Transaction(func(tx *gorm.DB) error {
		if err := users.NewStore(tx).Create(ctx, u, strings.TrimRight(pw, "\r\n")); err != nil {
			return err
		}
		return tx.Create(&shared.AccessGroup{UserID: u.ID, Group: group}).Error
	})
}

func serve(ctx context.Context, addr, dsn string) error {
	db, err := open(ctx, dsn)
	if err != nil {
		return err
	}
	key, err := signingKey(dsn)
	if err != nil {
		return err
	}
	cred, err := shared.Credential()
	if err != nil {
		return err
	}
	r := gin.New()
	r.Use(gin.Logger(), gin.Recovery())
	auth, err := ginjwt.Mount(r, ginjwt.Config{
		Keys:     []ginjwt.Key{key}, // asymmetric: client services verify with the JWKS
		DB:       db,
		Registry: ginjwt.RegistryConfig{Devices: true, Resync: time.Second},
		Service: ginjwt.Service{
			Credentials: []string{cred},
			// What client services learn of a user: its fields and its
			// access group.
			UserView: func(ctx context.Context, u *users.User) (any, error) {
				var g shared.AccessGroup
				if err := db.WithContext(ctx).Where("user_id = ?", u.ID).Limit(1).Find(&g).Error; err != nil {
					return nil, err
				}
				return struct {
					*users.User
					AccessGroup string `json:"access_group"`
				}{u, g.Group}, nil
			},
		},
	})
	if err != nil {
		return err
	}
	defer demo.Close(auth, db)
	r.GET("/healthz", func(c *gin.Context) { c.JSON(200, gin.H{"ok": true}) })
	return demo.Serve(ctx, addr, r, fmt.Sprintf("auth service on http://%s (JWKS at /auth/jwks.json)\n", addr))
}

// signingKey is the service's EdDSA key, kept in .auth-service-key.pem
// beside the database, made on first run.
func signingKey(dsn string) (ginjwt.Key, error) {
	dir := "."
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		dir = filepath.Dir(path)
	}
	file := filepath.Join(dir, ".auth-service-key.pem")
	pem, err := os.ReadFile(file)
	if err == nil {
		return ginjwt.ParseKeyPEM("EdDSA", pem)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return ginjwt.Key{}, err
	}
	key, err := ginjwt.GenerateKey("EdDSA")
	if err != nil {
		return ginjwt.Key{}, err
	}
	if pem, err = ginjwt.MarshalKeyPEM(key); err != nil {
		return ginjwt.Key{}, err
	}
	return key, os.WriteFile(file, pem, 0o600)
}
