package remote_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/database"
	_ "github.com/ginjwt/ginjwt/database/sqlite"
	"github.com/ginjwt/ginjwt/remote"
	"github.com/ginjwt/ginjwt/users"
)

// ExampleMount runs an auth service and a client service, each with its
// own database, and logs in through the client service.
func ExampleMount() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "remote-example")
	defer os.RemoveAll(dir)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	credential := "an example credential, 32 bytes or more"

	// The auth service: users, passwords, an asymmetric key, the registry.
	authDB, _ := database.Open("sqlite:" + filepath.Join(dir, "auth.db"))
	_ = ginjwt.Migrate(ctx, authDB)
	_ = users.NewStore(authDB).Create(ctx, users.NewUser("alice"), "correct horse battery staple")
	key, _ := ginjwt.GenerateKey("EdDSA")
	authEngine := gin.New()
	auth, err := ginjwt.Mount(authEngine, ginjwt.Config{
		Keys: []ginjwt.Key{key}, DB: authDB, Logger: quiet,
		Service: ginjwt.Service{Credentials: []string{credential}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer auth.Close(ctx)
	authSrv := httptest.NewServer(authEngine)
	defer authSrv.Close()

	// The client service: its own database, for the users' copies.
	clientDB, _ := database.Open("sqlite:" + filepath.Join(dir, "client.db"))
	_ = users.Migrate(ctx, clientDB)
	r := gin.New()
	client, err := remote.Mount(r, remote.Config{AuthURL: authSrv.URL, Credential: credential, DB: clientDB, Logger: quiet})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close(ctx)
	r.GET("/api/test", ginjwt.RequireLogin(), func(c *gin.Context) {
		u, _ := ginjwt.UserFrom(c) // the local copy
		c.String(http.StatusOK, "hello, "+u.Username)
	})
	clientSrv := httptest.NewServer(r)
	defer clientSrv.Close()

	resp, _ := http.Post(clientSrv.URL+"/auth/token", "application/json",
		strings.NewReader(`{"username":"alice","password":"correct horse battery staple"}`))
	var pair struct{ Access string }
	_ = decodeJSON(resp, &pair)
	req, _ := http.NewRequest("GET", clientSrv.URL+"/api/test", nil)
	req.Header.Set("Authorization", "Bearer "+pair.Access)
	resp, _ = http.DefaultClient.Do(req)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, string(body))
	// Output: 200 hello, alice
}
