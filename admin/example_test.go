package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt"
	"github.com/ginjwt/ginjwt/admin"
	"github.com/ginjwt/ginjwt/database"
	"github.com/ginjwt/ginjwt/users"
)

// The admin pages behind session login: an anonymous visitor is sent to
// the login form, and back to the page afterwards.
func ExampleMount() {
	db, err := database.Open("sqlite::memory:")
	if err != nil {
		panic(err)
	}
	if err := ginjwt.Migrate(context.Background(), db); err != nil {
		panic(err)
	}
	r := gin.New()
	auth, err := ginjwt.Mount(r, ginjwt.Config{
		SigningKey:   []byte("an example secret of 32+ bytes!!"),
		DB:           db, // the default user store, a *users.Store, is the admin's too
		SessionLogin: ginjwt.SessionLogin{Enabled: true},
		Registry:     ginjwt.RegistryConfig{Devices: true},
	})
	if err != nil {
		panic(err)
	}
	defer auth.Close(context.Background())
	adm, err := admin.Mount(r, auth, admin.Config{})
	if err != nil {
		panic(err)
	}
	defer adm.Close(context.Background())

	staff := users.NewUser("root")
	staff.IsStaff = true
	if err := auth.Users().(*users.Store).Create(context.Background(), staff, "correct horse battery staple"); err != nil {
		panic(err)
	}

	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/auth/admin/users", nil))
	fmt.Println(w.Code, w.Header().Get("Location"))
	// Output: 303 /auth/login?next=%2Fauth%2Fadmin%2Fusers
}
