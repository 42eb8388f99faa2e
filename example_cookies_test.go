package ginjwt_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt"
)

// In two-cookie mode, for single-page apps, a login sets the access token's
// header and payload in a cookie scripts can read, its signature in an
// HttpOnly one, the refresh token in an HttpOnly cookie scoped to the token
// endpoints, and the CSRF token that unsafe requests send back in
// X-CSRF-Token. Cookies are Secure by default, so their names carry the
// __Host- prefix (__Secure- for the refresh cookie, whose Path is not /).
func ExampleMount_twoCookies() {
	r := gin.New()
	_, err := ginjwt.Mount(r, ginjwt.Config{
		SigningKey: []byte("an example secret of 32+ bytes!!"),
		Users:      setup(),
		Mode:       ginjwt.TwoCookies,
	})
	if err != nil {
		panic(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/auth/token",
		strings.NewReader(`{"username":"alice","password":"correct horse battery staple"}`))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	fmt.Println(w.Code)
	for _, c := range w.Result().Cookies() {
		fmt.Printf("%s HttpOnly=%v Path=%s\n", c.Name, c.HttpOnly, c.Path)
	}
	// Unordered output:
	// 200
	// __Host-jwt_access_payload HttpOnly=false Path=/
	// __Host-jwt_access_signature HttpOnly=true Path=/
	// __Secure-jwt_refresh HttpOnly=true Path=/auth/token
	// __Host-csrftoken HttpOnly=false Path=/
}
