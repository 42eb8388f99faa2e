package ginjwt_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt"
)

// Under the prefix, a path that is no endpoint and a method an endpoint
// does not serve are answered in JSON; the application's own NoRoute keeps
// every other path.
func ExampleAuth_Unmatched() {
	r := gin.New()
	r.NoRoute(func(c *gin.Context) { c.String(http.StatusNotFound, "the application's 404") })
	_, err := ginjwt.Mount(r, ginjwt.Config{
		SigningKey: []byte("an example secret of 32+ bytes!!"),
		Users:      setup(),
	})
	if err != nil {
		panic(err)
	}
	for _, t := range []struct{ method, path string }{
		{"GET", "/auth/nope"},
		{"GET", "/auth/token"},
		{"GET", "/elsewhere"},
	} {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(t.method, t.path, nil))
		fmt.Println(t.method, t.path, w.Code, w.Header().Get("Allow"), w.Body)
	}
	// Output:
	// GET /auth/nope 404  {"error":"not_found","message":"not found"}
	// GET /auth/token 405 POST {"error":"method_not_allowed","message":"this endpoint does not serve this method"}
	// GET /elsewhere 404  the application's 404
}

// Logout, like every answer that reports an action done, is a ResultBody.
func ExampleResultBody() {
	r := gin.New()
	_, err := ginjwt.Mount(r, ginjwt.Config{
		SigningKey: []byte("an example secret of 32+ bytes!!"),
		Users:      setup(),
	})
	if err != nil {
		panic(err)
	}
	_, body := call(r, "POST", "/auth/token/logout", `{"refresh":"not a token"}`, "")
	fmt.Println(body)
	// Output:
	// {"result":"logged_out","message":"logged out","detail":"logged out"}
}
