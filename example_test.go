package ginjwt_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/database"
	_ "github.com/ginjwt/ginjwt/database/sqlite" // links SQLite into database.Open
	"github.com/ginjwt/ginjwt/users"
)

// setup opens an in-memory database with one user, alice, who holds perm1.
func setup() *users.Store {
	db, err := database.Open("sqlite::memory:")
	if err != nil {
		panic(err)
	}
	if err := ginjwt.Migrate(context.Background(), db); err != nil {
		panic(err)
	}
	store := users.NewStore(db)
	alice := users.NewUser("alice")
	alice.Perms = users.Perms{"perm1"}
	if err := store.Create(context.Background(), alice, "correct horse battery staple"); err != nil {
		panic(err)
	}
	return store
}

// call sends one request to r and returns the status and body.
func call(r http.Handler, method, path, body, token string) (int, string) {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	return w.Code, strings.TrimSpace(w.Body.String())
}

func ExampleMount() {
	store := setup()
	r := gin.New()
	_, err := ginjwt.Mount(r, ginjwt.Config{
		SigningKey: []byte("an example secret of 32+ bytes!!"), // use 32 random bytes
		Users:      store,
	})
	if err != nil {
		panic(err)
	}
	r.GET("/api/hello", ginjwt.RequireLogin(), func(c *gin.Context) {
		claims, _ := ginjwt.ClaimsFrom(c)
		c.JSON(http.StatusOK, gin.H{"user": claims.Username})
	})

	_, body := call(r, "POST", "/auth/token", `{"username":"alice","password":"correct horse battery staple"}`, "")
	var pair struct{ Access, Refresh string }
	_ = json.Unmarshal([]byte(body), &pair)

	fmt.Println(call(r, "GET", "/api/hello", "", pair.Access))
	fmt.Println(call(r, "GET", "/api/hello", "", ""))
	// Output:
	// 200 {"user":"alice"}
	// 401 {"error":"token_missing","message":"no token was presented"}
}

func ExampleRequirePerms() {
	store := setup()
	r := gin.New()
	auth, err := ginjwt.Mount(r, ginjwt.Config{
		SigningKey: []byte("an example secret of 32+ bytes!!"),
		Users:      store,
	})
	if err != nil {
		panic(err)
	}
	r.GET("/reports", ginjwt.RequirePerms("perm1"), func(c *gin.Context) { c.String(http.StatusOK, "reports") })
	r.GET("/admin", ginjwt.RequirePerms("admin"), func(c *gin.Context) { c.String(http.StatusOK, "admin") })

	// Login issues tokens for a user an application checked itself.
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest("POST", "/my-login", nil)
	alice, err := store.FindByUsername(c.Request.Context(), "alice")
	if err != nil {
		panic(err)
	}
	pair, err := auth.Login(c, alice)
	if err != nil {
		panic(err)
	}

	fmt.Println(call(r, "GET", "/reports", "", pair.Access))
	fmt.Println(call(r, "GET", "/admin", "", pair.Access))
	// Output:
	// 200 reports
	// 403 {"error":"permission_denied","message":"you do not have permission to do this"}
}

func ExampleAuth_Subscribe() {
	r := gin.New()
	auth, err := ginjwt.Mount(r, ginjwt.Config{
		SigningKey: []byte("an example secret of 32+ bytes!!"),
		Users:      setup(),
	})
	if err != nil {
		panic(err)
	}
	auth.Subscribe(ginjwt.LoginFailed, func(ctx context.Context, e ginjwt.Event) {
		fmt.Printf("failed login for %q from %s\n", e.Login, e.Request.ClientIP)
	})
	unsubscribe := auth.Subscribe(ginjwt.LoggedIn, func(ctx context.Context, e ginjwt.Event) {
		fmt.Printf("%s logged in\n", e.Username)
	})
	defer unsubscribe()

	call(r, "POST", "/auth/token", `{"username":"alice","password":"guess"}`, "")
	call(r, "POST", "/auth/token", `{"username":"alice","password":"correct horse battery staple"}`, "")
	// Output:
	// failed login for "alice" from 192.0.2.1
	// alice logged in
}
