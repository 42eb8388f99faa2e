package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/ginjwt/ginjwt"
)

// BenchmarkTransport is one authenticated request per transport: the
// access token in a Bearer header, in one cookie, or in two; a GET, and a
// POST, which in cookie modes also passes the Origin and CSRF checks.
func BenchmarkTransport(b *testing.B) {
	for _, mode := range []ginjwt.Mode{ginjwt.JSON, ginjwt.OneCookie, ginjwt.TwoCookies} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			name := "transport=bearer"
			if mode != ginjwt.JSON {
				name = "transport=" + mode.String()
			}
			b.Run(name+"/method="+method, func(b *testing.B) {
				r := gin.New()
				auth, err := ginjwt.Mount(r, ginjwt.Config{SigningKey: secret, Mode: mode, Paths: ginjwt.Paths{Obtain: "-"}})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { auth.Close(context.Background()) })
				r.Handle(method, "/hello", ginjwt.RequireLogin(), hello)

				// Log in through the helper and replay what it set.
				rec := httptest.NewRecorder()
				c, _ := gin.CreateTestContext(rec)
				c.Request = httptest.NewRequest(http.MethodPost, "/login", nil)
				pair, err := auth.Login(c, alice)
				if err != nil {
					b.Fatal(err)
				}
				req := httptest.NewRequest(method, "http://example.com/hello", nil)
				if mode == ginjwt.JSON {
					req.Header.Set("Authorization", "Bearer "+pair.Access)
				} else {
					var cookies []string
					for _, ck := range rec.Result().Cookies() {
						if ck.Path == "/" {
							cookies = append(cookies, ck.Name+"="+ck.Value)
						}
						if ck.Name == "__Host-csrftoken" { // Secure cookies: prefixed names

							req.Header.Set("X-CSRF-Token", ck.Value)
						}
					}
					req.Header.Set("Cookie", strings.Join(cookies, "; "))
					req.Header.Set("Origin", "http://example.com")
				}
				serve(b, r, req, http.StatusOK)
			})
		}
	}
}
